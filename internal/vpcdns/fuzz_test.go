package vpcdns

import (
	"context"
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer feeds arbitrary messages to the query handler (no upstreams:
// nothing leaves the process) and checks it neither panics nor returns a
// message that cannot be packed.
func FuzzAnswer(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"ip-10-0-1-23.ec2.internal.", dns.TypeA},
		{"23.1.0.10.in-addr.arpa.", dns.TypePTR},
		{"ec2-198-18-0-5.compute-1.amazonaws.com.", dns.TypeA},
		{"www.corp.example.", dns.TypeA},
		{"x.wild.corp.example.", dns.TypeANY},
		{"big.corp.example.", dns.TypeTXT},
		{"example.test.", dns.TypeA},
	} {
		m := new(dns.Msg).SetQuestion(q.name, q.qtype)
		b, _ := m.Pack()
		f.Add(b, false)
		m.SetEdns0(1400, true)
		b, _ = m.Pack()
		f.Add(b, true)
	}
	s := testServer("us-east-1", true)
	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return
		}
		resp := s.answer(context.Background(), req, tcp)
		if resp == nil {
			return
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("unpackable response to %v: %v\n%v", req, err, resp)
		}
	})
}
