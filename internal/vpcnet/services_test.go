package vpcnet

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestServiceAddresses(t *testing.T) {
	for _, tc := range []struct {
		public    string
		wantRange string
		want      []string
	}{
		{"198.18.0.0/15", "198.19.255.240/28", []string{"198.19.255.241", "198.19.255.242", "198.19.255.243"}},
		{"198.19.233.0/24", "198.19.233.240/28", []string{"198.19.233.241", "198.19.233.242", "198.19.233.243"}},
		{"198.19.233.0/25", "invalid Prefix", nil},
	} {
		p := netip.MustParsePrefix(tc.public)
		if got := ServiceRange(p).String(); got != tc.wantRange {
			t.Errorf("ServiceRange(%s) = %s, want %s", p, got, tc.wantRange)
		}
		var got []string
		for _, a := range ServiceAddresses(p) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ServiceAddresses(%s) = %v, want %v", p, got, tc.want)
		}
		if len(tc.want) > 0 && ServiceAddress(p, "sts").String() != tc.want[0] {
			t.Errorf("ServiceAddress(%s, sts) = %s, want the API's", p, ServiceAddress(p, "sts"))
		}
	}
}

// The service addresses are the host's (a listener binds them) on a link of
// the prefix, which RemoveServiceAddresses and Cleanup take away.
func TestEnsureServiceAddresses(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 2; i++ { // idempotent
		addrs, err := e.n.EnsureServiceAddresses(e.ctx)
		e.must(err)
		if len(addrs) != 3 || addrs[0] != ServiceAddress(DefaultPublicCIDR, ServiceAPI) {
			t.Fatalf("addresses %v", addrs)
		}
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(ServiceAddress(DefaultPublicCIDR, ServiceAPI), 0).String())
	e.must(err)
	ln.Close()
	link := e.n.Names().ServiceLink()
	if out := ipCmd(t, "-o", "addr", "show", "dev", link); !strings.Contains(out, "198.19.255.242/32") {
		t.Fatalf("%s holds:\n%s", link, out)
	}
	e.must(e.n.RemoveServiceAddresses(e.ctx))
	if _, err := ipTry("link", "show", link); err == nil {
		t.Fatalf("%s is still there", link)
	}
	e.must(e.n.RemoveServiceAddresses(e.ctx)) // idempotent
	_, err = e.n.EnsureServiceAddresses(e.ctx)
	e.must(err)
	e.must(e.n.Cleanup(e.ctx))
	assertNothingLeft(t, e.n.Names().Prefix)
}
