package dns53

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// bigSource is one public zone of 10,000 A record sets.
func bigSource() *fakeSource {
	recs := []*dnszone.RecordSet{rec("big.test.", "SOA", 900, soaValue), rec("big.test.", "NS", 172800, "ns-1.awsdns-01.org.")}
	for i := range 10000 {
		recs = append(recs, rec(fmt.Sprintf("host%d.big.test.", i), "A", 300, fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)))
	}
	return &fakeSource{snap: &dnszone.Snapshot{Zones: []*dnszone.Zone{zoneOf(dnszone.Zone{ID: "ZBIG", Name: "big.test.", Records: recs})}}, health: map[string]bool{}}
}

// BenchmarkHandler measures the handler alone (parse of the zone excluded).
func BenchmarkHandler(b *testing.B) {
	s := New(Config{Source: bigSource()})
	reqs := make([]*dns.Msg, 1024)
	for i := range reqs {
		name := fmt.Sprintf("host%d.big.test.", i*9)
		if i%8 == 0 {
			name = fmt.Sprintf("missing%d.big.test.", i)
		}
		reqs[i] = new(dns.Msg).SetQuestion(name, dns.TypeA)
	}
	client := netip.MustParseAddr("127.0.0.1")
	s.handle(context.Background(), reqs[0], client, false) // compile
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.handle(context.Background(), reqs[i%len(reqs)], client, false)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkUDP measures queries over loopback UDP, one client.
func BenchmarkUDP(b *testing.B) {
	s := startServer(b, Config{Source: bigSource()})
	c := &dns.Client{Net: "udp"}
	conn, err := c.Dial(s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m := new(dns.Msg).SetQuestion(fmt.Sprintf("host%d.big.test.", i%10000), dns.TypeA)
		if _, _, err := c.ExchangeWithConn(m, conn); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
