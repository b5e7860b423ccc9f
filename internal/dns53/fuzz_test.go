package dns53

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// FuzzHandler feeds arbitrary messages to the query handler (no
// upstreams: nothing leaves the process) and checks it neither panics nor
// returns a message that cannot be packed.
func FuzzHandler(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA},
		{"alias.example.com.", dns.TypeA},
		{"x.y.wild.example.com.", dns.TypeANY},
		{"big.example.com.", dns.TypeTXT},
		{"host.deleg.example.com.", dns.TypeA},
		{"w.example.com.", dns.TypeA},
		{"alias-fo.example.com.", dns.TypeA},
		{"loop1.example.com.", dns.TypeA},
		{"example.test.", dns.TypeA},
	} {
		m := new(dns.Msg).SetQuestion(q.name, q.qtype)
		b, _ := m.Pack()
		f.Add(b, false)
		m.SetEdns0(1400, true)
		b, _ = m.Pack()
		f.Add(b, true)
	}
	src := testSource()
	s := New(Config{Source: src,
		ClientRegion:   func(netip.Addr) string { return "us-east-1" },
		ClientLocation: func(netip.Addr) *dnszone.GeoLocation { return &dnszone.GeoLocation{CountryCode: "DE"} },
	})
	client := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return
		}
		resp := s.handle(context.Background(), req, client, tcp)
		if resp == nil {
			return
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("unpackable response to %v: %v\n%v", req, err, resp)
		}
		// The same question through the exported entry point.
		if len(req.Question) == 1 {
			if r, owned := Answer(src, nil, req, ClientInfo{}); owned {
				if _, err := r.Pack(); err != nil {
					t.Fatalf("Answer: unpackable response: %v", err)
				}
			}
		}
	})
}
