package vpcdns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// EnsureAddresses brings lo up in the network namespace at nsPath and adds
// each address that no interface of the namespace holds yet to lo, as a
// /32 (/128). It returns the addresses it added, for RemoveAddresses.
func EnsureAddresses(nsPath string, addrs []netip.Addr) (added []netip.Addr, err error) {
	err = onLo(nsPath, func(h *netlink.Handle, lo netlink.Link) error {
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up: %w", err)
		}
		have, err := vpcnet.RetryDump(func() ([]netlink.Addr, error) { return h.AddrList(nil, netlink.FAMILY_ALL) })
		if err != nil {
			return fmt.Errorf("list addresses: %w", err)
		}
		present := map[netip.Addr]bool{}
		for _, a := range have {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				present[ip.Unmap()] = true
			}
		}
		for _, a := range addrs {
			a = a.Unmap()
			if present[a] {
				continue
			}
			if err := h.AddrAdd(lo, hostAddr(a)); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("add %v to lo: %w", a, err)
			}
			present[a] = true
			added = append(added, a)
		}
		return nil
	})
	if err != nil {
		return added, fmt.Errorf("vpcdns: addresses in %s: %w", nsPath, err)
	}
	return added, nil
}

// RemoveAddresses removes the /32 (/128) addresses from lo in the namespace
// at nsPath. Addresses or a namespace already gone are not errors.
func RemoveAddresses(nsPath string, addrs []netip.Addr) error {
	err := onLo(nsPath, func(h *netlink.Handle, lo netlink.Link) error {
		var errs []error
		for _, a := range addrs {
			err := h.AddrDel(lo, hostAddr(a.Unmap()))
			if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("remove %v from lo: %w", a, err))
			}
		}
		return errors.Join(errs...)
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("vpcdns: addresses in %s: %w", nsPath, err)
	}
	return nil
}

func hostAddr(a netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(a.BitLen(), a.BitLen())}}
}

// onLo runs fn with a netlink handle in the namespace and its lo.
func onLo(nsPath string, fn func(h *netlink.Handle, lo netlink.Link) error) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return fn(h, lo)
}
