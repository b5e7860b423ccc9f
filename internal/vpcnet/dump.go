package vpcnet

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
)

// dumpTries bounds RetryDump: an interrupted dump is a race with another
// change, so a few tries see a quiet moment even on a busy host.
const dumpTries = 20

// RetryDump runs a netlink dump (a list of links, addresses, routes,
// rules, neighbours) again while the kernel flags it interrupted
// (NLM_F_DUMP_INTR, netlink.ErrDumpInterrupted): the table changed while it
// was read — routine when other namespaces, links or routes are being made
// at the same time — and a partial list would make a caller miss, or
// remove again, what exists.
func RetryDump[T any](dump func() (T, error)) (T, error) {
	var v T
	var err error
	for range dumpTries {
		if v, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, fmt.Errorf("netlink dump interrupted %d times in a row: %w", dumpTries, err)
}
