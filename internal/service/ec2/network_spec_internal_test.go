package ec2

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
)

// TestNetSpecENI checks one interface's spec: secondary addresses, the
// public IPs mapped to it (none for a NAT gateway's, which its
// NATGatewaySpec carries), and only groups that exist.
func TestNetSpecENI(t *testing.T) {
	assoc := func(ip string) *ec2api.NetworkInterfaceAssociation {
		return &ec2api.NetworkInterfaceAssociation{PublicIp: new(ip)}
	}
	eni := func(typ string) *networkInterfaceRecord {
		e := testENI("eni-1", "subnet-1", "10.0.0.4", "10.0.0.5", "10.0.0.6")
		e.InterfaceType, e.MacAddress = new(typ), new("02:00:00:00:00:01")
		e.PrivateIpAddresses[0].Association = assoc("198.18.0.1")
		e.PrivateIpAddresses[2].Association = assoc("198.18.0.2")
		e.Groups = []ec2api.GroupIdentifier{{GroupId: new("sg-1")}, {GroupId: new("sg-gone")}}
		e.Attachment = &ec2api.NetworkInterfaceAttachment{InstanceId: new("i-1"), DeviceIndex: new(int32(1))}
		return e
	}
	groups := map[string]firewall.SecurityGroup{"sg-1": {ID: "sg-1"}}
	tests := []struct {
		typ        string
		wantPublic []string
	}{
		{"interface", []string{"198.18.0.1→10.0.0.4", "198.18.0.2→10.0.0.6"}},
		{"nat_gateway", nil},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			es, public := netSpecENI(eni(tc.typ), groups)
			var got []string
			for _, p := range public {
				if p.ENIID != "eni-1" {
					t.Errorf("public IP of %s", p.ENIID)
				}
				got = append(got, p.Public.String()+"→"+p.Private.String())
			}
			if !slices.Equal(got, tc.wantPublic) {
				t.Errorf("public IPs %v, want %v", got, tc.wantPublic)
			}
			if es.IP != netip.MustParseAddr("10.0.0.4") || !slices.Equal(es.SecondaryIPs, []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")}) {
				t.Errorf("addresses %v %v", es.IP, es.SecondaryIPs)
			}
			if es.MAC.String() != "02:00:00:00:00:01" || es.DeviceIndex != 1 || es.InstanceID != "i-1" || es.InterfaceType != tc.typ {
				t.Errorf("spec %+v", es)
			}
			if len(es.Groups) != 1 || es.Groups[0].ID != "sg-1" {
				t.Errorf("groups %+v", es.Groups)
			}
		})
	}
}

func TestParseIPv4CIDR(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" = refused
	}{
		{"10.0.0.0/16", "10.0.0.0/16"},
		{"10.0.0.1/16", "10.0.0.0/16"},
		{"010.001.000.000/8", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"1.2.3.4/32", "1.2.3.4/32"},
		{"10.0.0.0/33", ""},
		{"10.0.0.256/16", ""},
		{"10.0.0/16", ""},
		{"10.0.0.0.0/16", ""},
		{"10.0.0.0", ""},
		{"10.0.0.0/", ""},
		{"10.0.0.0/-1", ""},
		{"10.0.0.0/1a", ""},
		{"10.0.0.+1/16", ""},
		{"1000.0.0.0/8", ""},
		{"::/0", ""},
	} {
		p, ok := parseIPv4CIDR(tc.in)
		if got := p.String(); (tc.want == "" && ok) || (tc.want != "" && (!ok || got != tc.want)) {
			t.Errorf("parseIPv4CIDR(%q) = %s, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
