package dns53

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// fakeSource is a dnszone.Source with settable health.
type fakeSource struct {
	mu      sync.Mutex
	snap    *dnszone.Snapshot
	health  map[string]bool
	targets map[string][]netip.Addr // alias DNSName -> addresses
}

func (f *fakeSource) Snapshot() *dnszone.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) Healthy(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.health[id]
	return !ok || h
}

func (f *fakeSource) setHealth(id string, h bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health[id] = h
}

func (f *fakeSource) Resolve(a dnszone.Alias, qtype string) ([]netip.Addr, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	addrs, ok := f.targets[a.DNSName]
	h, set := f.health["target:"+a.DNSName]
	return addrs, !set || h, ok
}

func i64(v int64) *int64 { return &v }

func rec(name, typ string, ttl uint32, values ...string) *dnszone.RecordSet {
	return &dnszone.RecordSet{Name: name, Type: typ, TTL: ttl, Values: values}
}

// zoneOf is a zone with its record sets in a snapshot's order.
func zoneOf(z dnszone.Zone) *dnszone.Zone {
	dnszone.SortRecordSets(z.Records)
	return &z
}

func bigTXT() []string {
	var v []string
	for i := range 60 {
		v = append(v, fmt.Sprintf("%q", fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 96))))
	}
	return v
}

const soaValue = "ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 300"

func testSource() *fakeSource {
	ex := "example.com."
	n := func(s string) string { return s + "." + ex }
	records := []*dnszone.RecordSet{
		rec(ex, "SOA", 900, soaValue),
		rec(ex, "NS", 172800, "ns-1.awsdns-01.org.", "ns-2.awsdns-02.net."),
		rec(ex, "A", 300, "192.0.2.100"),
		rec(n("www"), "A", 300, "192.0.2.1", "192.0.2.2"),
		rec(n("www"), "AAAA", 300, "2001:db8::1"),
		rec(n("alias"), "CNAME", 60, "www.example.com."),
		rec(n("chain"), "CNAME", 60, "ALIAS.example.com."),
		rec(n("loop1"), "CNAME", 60, "loop2.example.com."),
		rec(n("loop2"), "CNAME", 60, "loop1.example.com."),
		rec(n("cross"), "CNAME", 60, "www.other.test."),
		rec(n("out"), "CNAME", 60, "www.upstream.test."),
		rec(n("gone"), "CNAME", 60, "missing.example.com."),
		rec(n("mx"), "MX", 300, "10 mail.example.com.", "20 mail2.example.com."),
		rec(n("txt"), "TXT", 300, `"hello world"`, `"v=1"`),
		rec(n("spf"), "SPF", 300, `"v=spf1 -all"`),
		rec(n("_sip._tcp"), "SRV", 300, "1 10 5060 sip.example.com."),
		rec(n("caa"), "CAA", 300, `0 issue "amazon.com"`),
		rec(n("ptr"), "PTR", 300, "host.example.com."),
		rec(n("naptr"), "NAPTR", 300, `100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`),
		rec(`\052.wild.example.com.`, "A", 30, "192.0.2.50"),
		rec(n("sub.wild"), "TXT", 30, `"sub"`),
		rec(n("deep.ent"), "A", 30, "192.0.2.60"),
		rec(n("big"), "TXT", 300, bigTXT()...),
		rec(n("deleg"), "NS", 300, "ns1.deleg.example.com."),
		rec(n("ns1.deleg"), "A", 300, "192.0.2.53"),
		{Name: n("w"), Type: "A", TTL: 60, Values: []string{"192.0.2.10"}, SetIdentifier: "a", Weight: i64(3)},
		{Name: n("w"), Type: "A", TTL: 60, Values: []string{"192.0.2.11"}, SetIdentifier: "b", Weight: i64(1)},
		{Name: n("w"), Type: "A", TTL: 60, Values: []string{"192.0.2.12"}, SetIdentifier: "c", Weight: i64(0)},
		{Name: n("fo"), Type: "A", TTL: 60, Values: []string{"192.0.2.20"}, SetIdentifier: "p", Failover: "PRIMARY", HealthCheckID: "hc-primary"},
		{Name: n("fo"), Type: "A", TTL: 60, Values: []string{"192.0.2.21"}, SetIdentifier: "s", Failover: "SECONDARY"},
		{Name: n("lat"), Type: "A", TTL: 60, Values: []string{"192.0.2.41"}, SetIdentifier: "use1", Region: "us-east-1"},
		{Name: n("lat"), Type: "A", TTL: 60, Values: []string{"192.0.2.42"}, SetIdentifier: "euw1", Region: "eu-west-1"},
		{Name: n("geo"), Type: "A", TTL: 60, Values: []string{"192.0.2.51"}, SetIdentifier: "def", GeoLocation: &dnszone.GeoLocation{CountryCode: "*"}},
		{Name: n("geo"), Type: "A", TTL: 60, Values: []string{"192.0.2.52"}, SetIdentifier: "de", GeoLocation: &dnszone.GeoLocation{CountryCode: "DE"}},
		{Name: n("geo"), Type: "A", TTL: 60, Values: []string{"192.0.2.53"}, SetIdentifier: "eu", GeoLocation: &dnszone.GeoLocation{ContinentCode: "EU"}},
		{Name: n("geo"), Type: "A", TTL: 60, Values: []string{"192.0.2.54"}, SetIdentifier: "ca", GeoLocation: &dnszone.GeoLocation{CountryCode: "US", SubdivisionCode: "CA"}},
		{Name: n("geode"), Type: "A", TTL: 60, Values: []string{"192.0.2.55"}, SetIdentifier: "de", GeoLocation: &dnszone.GeoLocation{CountryCode: "DE"}},
		{Name: n("alias-in"), Type: "A", Alias: &dnszone.Alias{HostedZoneID: "Z1", DNSName: "www.example.com."}},
		{Name: n("alias-fo"), Type: "A", SetIdentifier: "p", Failover: "PRIMARY", Alias: &dnszone.Alias{HostedZoneID: "Z1", DNSName: "dead.example.com.", EvaluateTargetHealth: true}},
		{Name: n("alias-fo"), Type: "A", TTL: 60, Values: []string{"192.0.2.61"}, SetIdentifier: "s", Failover: "SECONDARY"},
		{Name: n("dead"), Type: "A", TTL: 120, Values: []string{"192.0.2.62"}, SetIdentifier: "only", MultiValueAnswer: true, HealthCheckID: "hc-dead"},
		{Name: n("alias-lb"), Type: "A", Alias: &dnszone.Alias{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "my-lb-1.us-east-1.elb.amazonaws.com."}},
		{Name: n("alias-lb"), Type: "AAAA", Alias: &dnszone.Alias{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "my-lb-1.us-east-1.elb.amazonaws.com."}},
	}
	for i := 1; i <= 10; i++ {
		records = append(records, &dnszone.RecordSet{Name: n("mv"), Type: "A", TTL: 60, Values: []string{fmt.Sprintf("192.0.2.%d", 70+i)},
			SetIdentifier: fmt.Sprint(i), MultiValueAnswer: true, HealthCheckID: fmt.Sprintf("hc-mv%d", i)})
	}
	return &fakeSource{
		snap: &dnszone.Snapshot{Zones: []*dnszone.Zone{
			zoneOf(dnszone.Zone{ID: "Z1", Name: ex, Records: records}),
			zoneOf(dnszone.Zone{ID: "Z9", Name: ex, Private: true, VPCs: []dnszone.VPC{{Region: "us-east-1", ID: "vpc-1"}},
				Records: []*dnszone.RecordSet{rec(n("www"), "A", 60, "10.0.0.1"), rec(n("priv"), "A", 60, "10.0.0.2")}}),
			zoneOf(dnszone.Zone{ID: "Z2", Name: "other.test.", Records: []*dnszone.RecordSet{rec("www.other.test.", "A", 60, "192.0.2.99")}}),
		}},
		health: map[string]bool{"hc-mv2": false, "hc-mv5": false, "hc-mv7": false},
		targets: map[string][]netip.Addr{
			"my-lb-1.us-east-1.elb.amazonaws.com.": {netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7")},
		},
	}
}

// startServer runs a Server on a free loopback port.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// query sends one question over network ("udp"/"tcp"); edns 0 means none.
func query(t testing.TB, s *Server, network, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	if edns != 0 {
		m.SetEdns0(edns, false)
	}
	return exchange(t, s.Addr(), network, m)
}

func exchange(t testing.TB, addr, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 3 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], err)
	}
	return r
}

// values are the answer's records in presentation form without the header.
func values(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header().String()
		out = append(out, strings.TrimPrefix(rr.String(), h))
	}
	return out
}
