package vpcdns

import (
	"net/netip"
	"testing"
)

func TestNames(t *testing.T) {
	ip := netip.MustParseAddr("10.0.1.23")
	pub := netip.MustParseAddr("198.18.0.5")
	for _, tc := range []struct {
		region, private, public string
	}{
		{"us-east-1", "ip-10-0-1-23.ec2.internal", "ec2-198-18-0-5.compute-1.amazonaws.com"},
		{"us-west-2", "ip-10-0-1-23.us-west-2.compute.internal", "ec2-198-18-0-5.us-west-2.compute.amazonaws.com"},
		{"eu-west-1", "ip-10-0-1-23.eu-west-1.compute.internal", "ec2-198-18-0-5.eu-west-1.compute.amazonaws.com"},
		{"ap-southeast-2", "ip-10-0-1-23.ap-southeast-2.compute.internal", "ec2-198-18-0-5.ap-southeast-2.compute.amazonaws.com"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			if got := PrivateName(tc.region, ip); got != tc.private {
				t.Errorf("PrivateName = %q, want %q", got, tc.private)
			}
			if got := PublicName(tc.region, pub); got != tc.public {
				t.Errorf("PublicName = %q, want %q", got, tc.public)
			}
			for _, n := range []string{tc.private, tc.private + ".", upper(tc.private)} {
				if got, ok := ParsePrivateName(tc.region, n); !ok || got != ip {
					t.Errorf("ParsePrivateName(%q) = %v, %v", n, got, ok)
				}
			}
			if got, ok := ParsePublicName(tc.region, tc.public+"."); !ok || got != pub {
				t.Errorf("ParsePublicName = %v, %v", got, ok)
			}
			// A name of another region, or the other kind, is not ours.
			if _, ok := ParsePrivateName(tc.region, tc.public); ok {
				t.Error("public name parsed as private")
			}
			other := "us-east-1"
			if tc.region == other {
				other = "eu-central-1"
			}
			if _, ok := ParsePrivateName(other, tc.private); ok {
				t.Errorf("%s parsed in %s", tc.private, other)
			}
		})
	}
	if PrivateName("us-east-1", netip.MustParseAddr("fd00::1")) != "" || PublicName("us-east-1", netip.Addr{}) != "" {
		t.Error("non-IPv4 addresses have names")
	}
	if got := PrivateName("us-east-1", netip.MustParseAddr("::ffff:10.1.2.3")); got != "ip-10-1-2-3.ec2.internal" {
		t.Errorf("mapped address: %q", got)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestParseNameInvalid(t *testing.T) {
	for _, n := range []string{
		"ip-10-0-1.ec2.internal",
		"ip-10-0-1-2-3.ec2.internal",
		"ip-10-0-1-256.ec2.internal",
		"ip-10-0-01-2.ec2.internal",
		"ip-10-0--2.ec2.internal",
		"ip-10-0-+1-2.ec2.internal",
		"ip-10-0-1-2x.ec2.internal",
		"ip10-0-1-2.ec2.internal",
		"x.ip-10-0-1-2.ec2.internal",
		"ip-10-0-1-2.ec2.internal.example",
		"ip-10-0-1-2.compute.internal",
		"ec2.internal",
		"",
	} {
		if a, ok := ParsePrivateName("us-east-1", n); ok {
			t.Errorf("ParsePrivateName(%q) = %v, want invalid", n, a)
		}
	}
	if _, ok := ParsePublicName("us-east-1", "ip-1-2-3-4.compute-1.amazonaws.com"); ok {
		t.Error("ip- prefix accepted as public name")
	}
}

func TestReverse(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // prefix, "" for invalid
	}{
		{"23.1.0.10.in-addr.arpa.", "10.0.1.23/32"},
		{"1.0.10.in-addr.arpa.", "10.0.1.0/24"},
		{"0.10.in-addr.arpa.", "10.0.0.0/16"},
		{"10.in-addr.arpa.", "10.0.0.0/8"},
		{"in-addr.arpa.", ""},
		{"1.23.1.0.10.in-addr.arpa.", ""},
		{"023.1.0.10.in-addr.arpa.", ""},
		{"0/25.1.0.10.in-addr.arpa.", ""},
		{"256.1.0.10.in-addr.arpa.", ""},
		{"23.1.0.10.ip6.arpa.", ""},
	} {
		p, ok := parseReverse(tc.name)
		if tc.want == "" {
			if ok {
				t.Errorf("parseReverse(%q) = %v, want invalid", tc.name, p)
			}
			continue
		}
		if !ok || p != netip.MustParsePrefix(tc.want) {
			t.Errorf("parseReverse(%q) = %v, %v; want %s", tc.name, p, ok, tc.want)
			continue
		}
		if got := reverseName(p.Addr(), p.Bits()); got != tc.name {
			t.Errorf("reverseName(%v) = %q, want %q", p, got, tc.name)
		}
	}
}

func TestResolverAddress(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/16":    "10.0.0.2",
		"172.31.0.0/16":  "172.31.0.2",
		"10.1.2.0/24":    "10.1.2.2",
		"10.1.2.77/24":   "10.1.2.2",
		"192.168.0.0/28": "192.168.0.2",
	} {
		if got := ResolverAddress(netip.MustParsePrefix(in)); got != netip.MustParseAddr(want) {
			t.Errorf("ResolverAddress(%s) = %v, want %s", in, got, want)
		}
	}
	if ResolverAddress(netip.Prefix{}).IsValid() || ResolverAddress(netip.MustParsePrefix("fd00::/64")).IsValid() {
		t.Error("resolver for an invalid or IPv6 prefix")
	}
}
