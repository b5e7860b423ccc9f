// Package nftset adds nftables sets with IDs of minicloud's own.
//
// google/nftables numbers a set that has no ID from a package-level counter
// it increments without synchronization (set.go, allocSetID), so two
// connections adding sets at once — the NAT tables and the security
// groups' tables, written by the network controller's concurrent passes —
// race on it. A set's ID only has to be unique within one batch; taking
// every ID from this one atomic counter keeps the library's off the path.
package nftset

import (
	"sync/atomic"

	"github.com/google/nftables"
)

var lastID atomic.Uint32

// Add queues s with its elements on c (nftables.Conn.AddSet), giving it
// an ID when it has none.
func Add(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	if s.ID == 0 {
		s.ID = lastID.Add(1)
	}
	return c.AddSet(s, elems)
}
