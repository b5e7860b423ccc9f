// Package sslpolicy is Elastic Load Balancing's table of security
// policies for HTTPS listeners, as AWS publishes it ("Security policies for
// your Application Load Balancer"): each policy's TLS protocols and its
// ciphers in order of preference, with their IANA code points. The
// elbv2 API lists the table (DescribeSSLPolicies) and checks a listener's
// SslPolicy against it; the data plane turns a policy into a Go tls.Config
// (Policy.TLSConfig) without importing the API.
//
// It holds the TLS, FIPS and forward-secrecy (FS) policies of that page.
// The post-quantum policies AWS added in 2025 (…-PQ-2025-09) and the
// retired ELBSecurityPolicy-2015-05 and ELBSecurityPolicy-TLS-1-0-2015-04
// are not in it.
package sslpolicy

import (
	"crypto/tls"
	"slices"
)

// Default is the policy of an HTTPS listener created through the API (the
// CLI, SDKs, CloudFormation) without one; the console's default differs.
const Default = "ELBSecurityPolicy-2016-08"

// Protocol versions as DescribeSSLPolicies names them.
const (
	TLS10 = "TLSv1"
	TLS11 = "TLSv1.1"
	TLS12 = "TLSv1.2"
	TLS13 = "TLSv1.3"
)

// Cipher is a cipher suite: its OpenSSL name (AWS's Name) and IANA code
// point.
type Cipher struct {
	Name  string
	Suite uint16
}

// Policy is one security policy.
type Policy struct {
	Name string
	// Protocols are the versions it accepts, newest first.
	Protocols []string
	// Ciphers are in order of preference (DescribeSSLPolicies' Priority
	// is the position, from 1).
	Ciphers []Cipher
	// FIPS marks the policies of AWS's FIPS table.
	FIPS bool
}

// LoadBalancerTypes are the load balancer types every policy of the table
// supports (SupportedLoadBalancerTypes).
var LoadBalancerTypes = []string{"application", "network"}

// Lookup finds a policy by name (exact, as AWS matches it).
func Lookup(name string) (Policy, bool) {
	i := slices.IndexFunc(policies, func(p Policy) bool { return p.Name == name })
	if i < 0 {
		return Policy{}, false
	}
	return clone(policies[i]), true
}

// All is every policy, in the order of AWS's tables.
func All() []Policy {
	out := make([]Policy, len(policies))
	for i, p := range policies {
		out[i] = clone(p)
	}
	return out
}

func clone(p Policy) Policy {
	p.Protocols, p.Ciphers = slices.Clone(p.Protocols), slices.Clone(p.Ciphers)
	return p
}

var versions = map[string]uint16{TLS10: tls.VersionTLS10, TLS11: tls.VersionTLS11, TLS12: tls.VersionTLS12, TLS13: tls.VersionTLS13}

// TLSConfig is the policy as a server's tls.Config (certificates left to
// the caller): its lowest and highest protocol versions and, for TLS 1.2
// and older, its ciphers in AWS's order of preference. Two differences are
// Go's: TLS 1.3's cipher suites cannot be configured (Go offers its three,
// which are AWS's three, TLS_CHACHA20_POLY1305_SHA256 included even for
// the FIPS policies that leave it out), and ciphers crypto/tls does not
// implement are left out (Unsupported lists them).
func (p Policy) TLSConfig() *tls.Config {
	c := &tls.Config{}
	for _, v := range p.Protocols {
		n := versions[v]
		if c.MinVersion == 0 || n < c.MinVersion {
			c.MinVersion = n
		}
		c.MaxVersion = max(c.MaxVersion, n)
	}
	for _, cs := range p.Ciphers {
		if implemented(cs.Suite) && !isTLS13(cs.Suite) {
			c.CipherSuites = append(c.CipherSuites, cs.Suite)
		}
	}
	return c
}

// Unsupported are the policy's TLS 1.2-and-older ciphers crypto/tls does
// not implement (the CBC-SHA384 and RSA-AES256-SHA256 suites).
func (p Policy) Unsupported() []Cipher {
	var out []Cipher
	for _, cs := range p.Ciphers {
		if !implemented(cs.Suite) {
			out = append(out, cs)
		}
	}
	return out
}

// isTLS13 reports whether suite is one of TLS 1.3's (0x13xx).
func isTLS13(suite uint16) bool { return suite>>8 == 0x13 }

// implemented reports whether crypto/tls knows suite.
func implemented(suite uint16) bool {
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if s.ID == suite {
			return true
		}
	}
	return false
}
