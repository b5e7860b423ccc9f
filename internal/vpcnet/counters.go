package vpcnet

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// InterfaceCounters are traffic counters, cumulative since the interfaces
// were made; Rx is what came in.
type InterfaceCounters struct {
	RxBytes, TxBytes, RxPackets, TxPackets uint64
}

// NamespaceCounters sums the counters of the interfaces in the namespace
// (a path, or a name under NamespaceDir), loopback left out: an instance's
// traffic on its ENIs, as CloudWatch's NetworkIn/Out count it.
func NamespaceCounters(ns string) (InterfaceCounters, error) {
	var c InterfaceCounters
	err := withNS(namedPath(ns), func(h *netlink.Handle, _ netns.NsHandle) error {
		links, err := RetryDump(h.LinkList)
		if err != nil {
			return err
		}
		for _, l := range links {
			a := l.Attrs()
			if a.Flags&net.FlagLoopback != 0 || a.Statistics == nil {
				continue
			}
			c.RxBytes += a.Statistics.RxBytes
			c.TxBytes += a.Statistics.TxBytes
			c.RxPackets += a.Statistics.RxPackets
			c.TxPackets += a.Statistics.TxPackets
		}
		return nil
	})
	if err != nil {
		return InterfaceCounters{}, fmt.Errorf("vpcnet: counters of %s: %w", ns, err)
	}
	return c, nil
}
