package ec2

import (
	"net/netip"
	"testing"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

func TestACLEvaluate(t *testing.T) {
	ports := func(f, t int32) *ec2api.PortRange { return &ec2api.PortRange{From: new(f), To: new(t)} }
	e := func(n int32, egress bool, proto, action, cidr string, pr *ec2api.PortRange) ec2api.NetworkAclEntry {
		x := aclEntry(egress, n, proto, action, cidr, "")
		if cidr == "::/0" {
			x = aclEntry(egress, n, proto, action, "", cidr)
		}
		x.PortRange = pr
		return x
	}
	icmp := e(90, false, "1", "allow", "0.0.0.0/0", nil)
	icmp.IcmpTypeCode = &ec2api.IcmpTypeCode{Type: new(int32(8)), Code: new(int32(-1))}
	acl := &networkACLRecord{NetworkAcl: ec2api.NetworkAcl{Entries: []ec2api.NetworkAclEntry{
		// Deliberately out of order: evaluation sorts by rule number.
		e(200, false, "6", "allow", "0.0.0.0/0", ports(22, 22)),
		e(100, false, "6", "deny", "10.9.0.0/16", ports(22, 22)),
		e(110, false, "-1", "allow", "10.9.1.0/24", nil),
		e(300, false, "17", "allow", "0.0.0.0/0", ports(1000, 2000)),
		icmp,
		e(400, false, "-1", "allow", "::/0", nil),
		e(100, true, "-1", "allow", "0.0.0.0/0", nil),
		e(aclDenyRule, false, "-1", "deny", "0.0.0.0/0", nil),
		e(aclDenyRule, true, "-1", "deny", "0.0.0.0/0", nil),
	}}}
	ip := netip.MustParseAddr
	cases := []struct {
		name   string
		egress bool
		proto  int
		port   int
		ip     string
		want   bool
	}{
		{"ssh from anywhere", false, 6, 22, "1.2.3.4", true},
		{"ssh from denied range: 100 before 200", false, 6, 22, "10.9.1.5", false},
		{"other port from denied range hits 110", false, 6, 80, "10.9.1.5", true},
		{"other port from elsewhere in denied range", false, 6, 80, "10.9.2.5", false},
		{"tcp 80 from anywhere falls to *", false, 6, 80, "1.2.3.4", false},
		{"udp in range", false, 17, 1500, "1.2.3.4", true},
		{"udp out of range", false, 17, 2001, "1.2.3.4", false},
		{"udp low edge", false, 17, 1000, "1.2.3.4", true},
		{"icmp echo", false, 1, 8, "1.2.3.4", true},
		{"icmp other type", false, 1, 0, "1.2.3.4", false},
		{"ipv6 any", false, 6, 443, "2001:db8::1", true},
		{"egress all", true, 6, 443, "1.2.3.4", true},
		{"mapped v4", false, 6, 22, "::ffff:1.2.3.4", true},
	}
	for _, c := range cases {
		if got := aclEvaluate(acl, c.egress, c.proto, c.port, ip(c.ip)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// A custom ACL with only the * rules denies everything.
	custom := &networkACLRecord{NetworkAcl: ec2api.NetworkAcl{Entries: []ec2api.NetworkAclEntry{
		e(aclDenyRule, false, "-1", "deny", "0.0.0.0/0", nil), e(aclDenyRule, true, "-1", "deny", "0.0.0.0/0", nil)}}}
	for _, egress := range []bool{false, true} {
		if aclEvaluate(custom, egress, 6, 22, ip("1.2.3.4")) {
			t.Errorf("custom ACL allowed (egress=%v)", egress)
		}
	}
	// No entries at all: denied.
	if aclEvaluate(&networkACLRecord{}, false, 6, 22, ip("1.2.3.4")) {
		t.Error("empty ACL allowed")
	}
}
