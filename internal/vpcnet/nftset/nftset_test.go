package nftset

import (
	"sync"
	"testing"

	"github.com/google/nftables"
)

// TestConcurrentConns adds sets on two connections at once, as the NAT
// and firewall writers do: under -race, the library's own ID counter would
// be reported; every set gets an ID no other set has. Nothing is flushed,
// so nothing reaches the kernel.
func TestConcurrentConns(t *testing.T) {
	const perConn = 200
	table := &nftables.Table{Name: "nftset-test", Family: nftables.TableFamilyIPv4}
	ids := make([][]uint32, 2)
	var wg sync.WaitGroup
	for i := range ids {
		c, err := nftables.New(nftables.AsLasting())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.CloseLasting() })
		wg.Go(func() {
			for range perConn {
				s := &nftables.Set{Table: table, Name: "s", KeyType: nftables.TypeIPAddr}
				if err := Add(c, s, nil); err != nil {
					t.Error(err)
					return
				}
				ids[i] = append(ids[i], s.ID)
			}
		})
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, l := range ids {
		for _, id := range l {
			if id == 0 || seen[id] {
				t.Fatalf("set ID %d given twice (or zero)", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 2*perConn {
		t.Fatalf("%d IDs, want %d", len(seen), 2*perConn)
	}
}
