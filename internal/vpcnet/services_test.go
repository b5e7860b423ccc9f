package vpcnet

import (
	"net/netip"
	"slices"
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
