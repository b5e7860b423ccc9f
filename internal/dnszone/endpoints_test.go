package dnszone

import (
	"net/netip"
	"slices"
	"testing"
)

func TestEndpointAddrsFrom(t *testing.T) {
	ips := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	pub := Endpoint{VPC: "vpc-a", PrivateIPs: ips("10.0.0.5"), PublicIPs: ips("198.18.0.5")}
	priv := Endpoint{VPC: "vpc-a", PrivateIPs: ips("10.0.0.6")}
	// A load balancer: one address per node, the public ones everywhere.
	lb := Endpoint{VPC: "vpc-a", PrivateIPs: ips("10.0.1.7", "10.0.2.7"), PublicIPs: ips("198.18.1.7", "198.18.2.7"), PublicInVPC: true}
	internal := Endpoint{VPC: "vpc-a", PrivateIPs: ips("10.0.1.8", "10.0.2.8"), PublicInVPC: true}
	for _, tc := range []struct {
		desc string
		e    Endpoint
		from string
		want []netip.Addr
	}{
		{"public, from its VPC", pub, "vpc-a", ips("10.0.0.5")},
		{"public, from another VPC", pub, "vpc-b", ips("198.18.0.5")},
		{"public, from outside", pub, "", ips("198.18.0.5")},
		{"private, from its VPC", priv, "vpc-a", ips("10.0.0.6")},
		{"private, from outside", priv, "", ips("10.0.0.6")},
		{"stopped", Endpoint{}, "", nil},
		{"stopped, from a VPC", Endpoint{}, "vpc-a", nil},
		{"internet-facing load balancer, from its VPC", lb, "vpc-a", ips("198.18.1.7", "198.18.2.7")},
		{"internet-facing load balancer, from outside", lb, "", ips("198.18.1.7", "198.18.2.7")},
		{"internal load balancer, from its VPC", internal, "vpc-a", ips("10.0.1.8", "10.0.2.8")},
		{"internal load balancer, from outside", internal, "", ips("10.0.1.8", "10.0.2.8")},
	} {
		if got := tc.e.AddrsFrom(tc.from); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.desc, got, tc.want)
		}
	}
}

func TestNewEndpointSet(t *testing.T) {
	set := NewEndpointSet(RDSDomain, []Endpoint{
		{Name: "db1.abcdefghijkl.us-east-1.rds.amazonaws.com."},
		{Name: "db.example.com."}, // outside the domain: left out
	})
	for _, tc := range []struct {
		name          string
		known, parent bool
		covered       bool
	}{
		{"db1.abcdefghijkl.us-east-1.rds.amazonaws.com.", true, false, true},
		{"abcdefghijkl.us-east-1.rds.amazonaws.com.", false, true, true},
		{"us-east-1.rds.amazonaws.com.", false, true, true},
		{"rds.amazonaws.com.", false, false, true},
		{"db2.abcdefghijkl.us-east-1.rds.amazonaws.com.", false, false, true},
		{"db.example.com.", false, false, false},
		{"xrds.amazonaws.com.", false, false, false},
	} {
		_, known := set.Names[tc.name]
		if known != tc.known || set.Parents[tc.name] != tc.parent || set.Covers(tc.name) != tc.covered {
			t.Errorf("%s: known %v parent %v covered %v, want %v %v %v", tc.name, known, set.Parents[tc.name], set.Covers(tc.name), tc.known, tc.parent, tc.covered)
		}
	}
}

// Every service's set answers the names of its own domain, the most
// specific domain winning; a source without a set yet is skipped.
func TestEndpointSetsFor(t *testing.T) {
	rdsSet := NewEndpointSet(RDSDomain, nil)
	elb := NewEndpointSet("elb.amazonaws.com.", nil)
	nested := NewEndpointSet("internal.elb.amazonaws.com.", nil)
	sets := EndpointSources{fixed{rdsSet}, fixed{nil}, fixed{elb}, fixed{nested}}.Sets()
	if len(sets) != 3 {
		t.Fatalf("%d sets, want 3 (the nil one skipped)", len(sets))
	}
	for _, tc := range []struct {
		name string
		want *EndpointSet
	}{
		{"db.abcdefghijkl.us-east-1.rds.amazonaws.com.", rdsSet},
		{"rds.amazonaws.com.", rdsSet},
		{"lb-1.us-east-1.elb.amazonaws.com.", elb},
		{"lb-2.internal.elb.amazonaws.com.", nested},
		{"example.com.", nil},
		{"xrds.amazonaws.com.", nil},
	} {
		if got := sets.For(tc.name); got != tc.want {
			t.Errorf("For(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

type fixed struct{ set *EndpointSet }

func (f fixed) Endpoints() *EndpointSet { return f.set }

// A rotating endpoint's answers start with each address in turn, holding
// all of them; others keep their order. TTL 0 is EndpointTTL.
func TestEndpointAnswer(t *testing.T) {
	a, b, c := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.2.5"), netip.MustParseAddr("10.0.3.5")
	for _, tc := range []struct {
		desc      string
		e         Endpoint
		wantFirst int // distinct first addresses over 3 answers
		wantTTL   uint32
	}{
		{"rotating", Endpoint{PrivateIPs: []netip.Addr{a, b, c}, Rotate: true, TTL: 1}, 3, 1},
		{"fixed", Endpoint{PrivateIPs: []netip.Addr{a, b, c}}, 1, EndpointTTL},
		{"rotating, one address", Endpoint{PrivateIPs: []netip.Addr{a}, Rotate: true}, 1, EndpointTTL},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			first := map[netip.Addr]bool{}
			for range 3 {
				got := tc.e.Answer("")
				if len(got) != len(tc.e.PrivateIPs) {
					t.Fatalf("answer %v, want all of %v", got, tc.e.PrivateIPs)
				}
				first[got[0]] = true
				sorted := slices.Clone(got)
				slices.SortFunc(sorted, netip.Addr.Compare)
				if !slices.Equal(sorted, tc.e.PrivateIPs) {
					t.Fatalf("answer %v, want a rotation of %v", got, tc.e.PrivateIPs)
				}
			}
			if len(first) != tc.wantFirst {
				t.Errorf("%d distinct first addresses, want %d", len(first), tc.wantFirst)
			}
			if got := tc.e.AnswerTTL(); got != tc.wantTTL {
				t.Errorf("TTL %d, want %d", got, tc.wantTTL)
			}
		})
	}
}

// Two rotating endpoints asked in turn each alternate their first address:
// one's answers do not turn the other's order.
func TestEndpointAnswerRotatesPerName(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("10.0.2.5")
	one := Endpoint{Name: "one.cluster-ro-x.", PrivateIPs: []netip.Addr{a, b}, Rotate: true}
	two := Endpoint{Name: "two.cluster-ro-x.", PrivateIPs: []netip.Addr{a, b}, Rotate: true}
	first := map[string]map[netip.Addr]int{one.Name: {}, two.Name: {}}
	for range 4 {
		for _, e := range []Endpoint{one, two} {
			first[e.Name][e.Answer("")[0]]++
		}
	}
	for name, n := range first {
		if n[a] != 2 || n[b] != 2 {
			t.Errorf("%s: first addresses %v over 4 answers, want each twice", name, n)
		}
	}
}
