package route53

import (
	"context"
	"fmt"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/state"
)

// benchZone creates a zone of n A record sets (and its SOA and NS) and
// returns its ID.
func benchZone(b *testing.B, ctx context.Context, s *Service, n int) string {
	b.Helper()
	hz, err := s.CreateHostedZone(ctx, &route53api.CreateHostedZoneRequest{Name: new("bench.test"), CallerReference: new(fmt.Sprint("bench-", n))})
	if err != nil {
		b.Fatal(err)
	}
	id := deref(hz.HostedZone.Id)
	for lo := 0; lo < n; lo += 1000 {
		if _, err := s.ChangeResourceRecordSets(ctx, batchOf("CREATE", id, lo, min(lo+1000, n), 0)); err != nil {
			b.Fatal(err)
		}
	}
	return id
}

// batchOf is a change batch of action for host-lo … host-(hi-1), whose
// values depend on gen.
func batchOf(action, zoneID string, lo, hi, gen int) *route53api.ChangeResourceRecordSetsRequest {
	changes := make([]route53api.Change, 0, hi-lo)
	for i := lo; i < hi; i++ {
		changes = append(changes, route53api.Change{Action: new(action), ResourceRecordSet: &route53api.ResourceRecordSet{
			Name: new(fmt.Sprintf("host-%05d.bench.test.", i)), Type: new("A"), TTL: new(int64(300)),
			ResourceRecords: []route53api.ResourceRecord{{Value: new(fmt.Sprintf("198.18.%d.%d", gen%256, i%256))}},
		}})
	}
	return &route53api.ChangeResourceRecordSetsRequest{HostedZoneId: new(zoneID), ChangeBatch: &route53api.ChangeBatch{Changes: changes}}
}

// BenchmarkChangeBatch is one ChangeResourceRecordSets of 100 UPSERTs
// (each a new value for an existing record set) in zones of 100 and 10,000
// record sets, on the service with the memory store: validation, the
// transaction and the next DNS snapshot, without HTTP and the codec. A
// batch costs what it changes: the two sizes take about the same time.
func BenchmarkChangeBatch(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("zone=%d", n), func(b *testing.B) {
			s := New(state.NewMemory())
			ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
			id := benchZone(b, ctx, s, n)
			reqs := [2]*route53api.ChangeResourceRecordSetsRequest{batchOf("UPSERT", id, 0, 100, 1), batchOf("UPSERT", id, 0, 100, 2)}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := s.ChangeResourceRecordSets(ctx, reqs[i%2]); err != nil {
					b.Fatal(err)
				}
			}
			if got := len(s.Source().Snapshot().Zones[0].Records); got != n+2 {
				b.Fatalf("snapshot has %d record sets, want %d", got, n+2)
			}
		})
	}
}
