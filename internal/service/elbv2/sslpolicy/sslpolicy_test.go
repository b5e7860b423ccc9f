package sslpolicy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"
)

// TestTable checks entries of the table against AWS's page: the number of
// ciphers and the protocols of several policies, and that every cipher of
// every policy is one of the table's suites with its code point.
func TestTable(t *testing.T) {
	cases := []struct {
		name      string
		ciphers   int
		protocols []string
	}{
		{"ELBSecurityPolicy-2016-08", 18, []string{TLS12, TLS11, TLS10}},
		{"ELBSecurityPolicy-TLS13-1-2-2021-06", 11, []string{TLS13, TLS12}},
		{"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", 7, []string{TLS13, TLS12}},
		{"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", 15, []string{TLS13, TLS12}},
		{"ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", 21, []string{TLS13, TLS12}},
		{"ELBSecurityPolicy-TLS13-1-3-2021-06", 3, []string{TLS13}},
		{"ELBSecurityPolicy-TLS-1-2-2017-01", 12, []string{TLS12}},
		{"ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", 2, []string{TLS13}},
		{"ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", 14, []string{TLS13, TLS12}},
		{"ELBSecurityPolicy-FS-1-2-Res-2020-10", 4, []string{TLS12}},
		{"ELBSecurityPolicy-FS-2018-06", 12, []string{TLS12, TLS11, TLS10}},
	}
	for _, c := range cases {
		p, ok := Lookup(c.name)
		if !ok {
			t.Errorf("%s: not in the table", c.name)
			continue
		}
		if len(p.Ciphers) != c.ciphers || !slices.Equal(p.Protocols, c.protocols) {
			t.Errorf("%s: %d ciphers %v, want %d %v", c.name, len(p.Ciphers), p.Protocols, c.ciphers, c.protocols)
		}
	}
	if _, ok := Lookup(Default); !ok {
		t.Errorf("the default %s is not in the table", Default)
	}
	if _, ok := Lookup("elbsecuritypolicy-2016-08"); ok {
		t.Error("a policy name matched in another letter case")
	}
	seen := map[string]bool{}
	for _, p := range All() {
		if seen[p.Name] {
			t.Errorf("%s twice", p.Name)
		}
		seen[p.Name] = true
		names := map[string]bool{}
		for _, c := range p.Ciphers {
			if names[c.Name] {
				t.Errorf("%s lists %s twice", p.Name, c.Name)
			}
			names[c.Name] = true
		}
	}
}

// TestTLSConfig checks the tls.Config of policies: versions from the
// lowest to the highest protocol, the TLS 1.2 ciphers Go implements in
// AWS's order and TLS 1.3's left to Go.
func TestTLSConfig(t *testing.T) {
	p, _ := Lookup("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
	c := p.TLSConfig()
	if c.MinVersion != tls.VersionTLS12 || c.MaxVersion != tls.VersionTLS13 {
		t.Errorf("versions %x..%x, want TLS 1.2..1.3", c.MinVersion, c.MaxVersion)
	}
	want := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	if !slices.Equal(c.CipherSuites, want) {
		t.Errorf("cipher suites %x, want %x", c.CipherSuites, want)
	}
	old, _ := Lookup(Default)
	oc := old.TLSConfig()
	if oc.MinVersion != tls.VersionTLS10 || oc.MaxVersion != tls.VersionTLS12 {
		t.Errorf("%s: versions %x..%x, want TLS 1.0..1.2", old.Name, oc.MinVersion, oc.MaxVersion)
	}
	var missing []string
	for _, u := range old.Unsupported() {
		missing = append(missing, u.Name)
	}
	if wantMissing := []string{"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "AES256-SHA256"}; !slices.Equal(missing, wantMissing) {
		t.Errorf("%s: unsupported %v, want %v", old.Name, missing, wantMissing)
	}
	if len(oc.CipherSuites) != 18-3 {
		t.Errorf("%s: %d suites, want 15", old.Name, len(oc.CipherSuites))
	}
}

// TestHandshake runs TLS handshakes against servers configured from
// policies: a client limited to TLS 1.1 is refused by a TLS 1.2 policy and
// accepted by ELBSecurityPolicy-2016-08; a TLS 1.3 client is refused by
// the 2016-08 policy, which stops at TLS 1.2.
func TestHandshake(t *testing.T) {
	cert := selfSigned(t)
	cases := []struct {
		policy   string
		min, max uint16
		ok       bool
	}{
		{"ELBSecurityPolicy-TLS-1-2-2017-01", tls.VersionTLS11, tls.VersionTLS11, false},
		{Default, tls.VersionTLS11, tls.VersionTLS11, true},
		{Default, tls.VersionTLS13, tls.VersionTLS13, false},
		{"ELBSecurityPolicy-TLS13-1-3-2021-06", tls.VersionTLS13, tls.VersionTLS13, true},
	}
	for _, c := range cases {
		p, _ := Lookup(c.policy)
		sc := p.TLSConfig()
		sc.Certificates = []tls.Certificate{cert}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if conn, err := ln.Accept(); err == nil {
				_ = conn.(*tls.Conn).Handshake()
				_ = conn.Close()
			}
		}()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cl := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: c.min, MaxVersion: c.max})
		err = cl.Handshake()
		_ = cl.Close()
		_ = ln.Close()
		if (err == nil) != c.ok {
			t.Errorf("%s with a client of %x..%x: handshake error %v, want ok=%v", c.policy, c.min, c.max, err, c.ok)
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"lb.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
