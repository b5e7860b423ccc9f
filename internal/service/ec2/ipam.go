package ec2

import (
	"math/big"
	"math/rand/v2"
	"net/netip"

	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// DefaultPublicPool is where minicloud's public IPv4 addresses (EIPs,
// auto-assigned public IPs) come from unless configured (WithPublicPool):
// 198.18.0.0/15, the benchmarking range (RFC 2544), so no address minicloud
// hands out is ever a real internet address.
var DefaultPublicPool = netip.MustParsePrefix("198.18.0.0/15")

// publicIPs records every public address in use, across all accounts and
// regions: they share the host's one network, so they must be unique.
var (
	publicIPs     = state.Table[publicIPOwner]{Service: "ec2", Kind: "public-ip"}
	publicIPScope = state.Scope{Account: "any", Region: state.GlobalRegion}
)

// publicIPOwner says who holds a public address.
type publicIPOwner struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Owner is the allocation ID of an EIP, or the ENI ID of an
	// auto-assigned public IP.
	Owner string `json:"owner"`
}

// allocatePublicIP reserves a free address of the pool for owner.
func allocatePublicIP(t *rtx, owner string) (netip.Addr, error) {
	size := 1 << (32 - t.publicPool.Bits())
	base := t.publicPool.Addr().As4()
	start := rand.IntN(size)
	// The pool's last /28 holds AWS's public service addresses, which
	// minicloud serves its API on (vpcnet.ServiceRange).
	reserved := vpcnet.ServiceRange(t.publicPool)
	for i := 0; i < size; i++ {
		n := (start + i) % size
		// Skip the network's first and last address of each /24, which some
		// tools treat as network and broadcast addresses.
		if n%256 == 0 || n%256 == 255 {
			continue
		}
		a := addrAdd(netip.AddrFrom4(base), n)
		if reserved.Contains(a) {
			continue
		}
		_, used, err := publicIPs.Get(t.tx, publicIPScope, a.String())
		if err != nil {
			return netip.Addr{}, err
		}
		if !used {
			err := publicIPs.Put(t.tx, publicIPScope, a.String(), publicIPOwner{Account: t.scope.Account, Region: t.scope.Region, Owner: owner})
			return a, err
		}
	}
	return netip.Addr{}, errAddressLimit()
}

// releasePublicIP frees an address of the pool.
func releasePublicIP(t *rtx, ip string) error {
	if ip == "" {
		return nil
	}
	return publicIPs.Delete(t.tx, publicIPScope, ip)
}

func errAddressLimit() error {
	return errInvalidParam("The public address pool 198.18.0.0/15 is exhausted.")
}

// addrAdd returns a + n.
func addrAdd(a netip.Addr, n int) netip.Addr {
	b := new(big.Int).SetBytes(a.AsSlice())
	b.Add(b, big.NewInt(int64(n)))
	bs := b.Bytes()
	out := make([]byte, len(a.AsSlice()))
	copy(out[len(out)-len(bs):], bs)
	r, _ := netip.AddrFromSlice(out)
	return r
}

// prefixSize is the number of addresses in p (capped for IPv6).
func prefixSize(p netip.Prefix) int {
	bits := p.Addr().BitLen() - p.Bits()
	if bits > 30 {
		return 1 << 30
	}
	return 1 << bits
}

// subnetReserved reports whether a is one of the five addresses AWS reserves
// in every subnet: network, VPC router (+1), DNS (+2), future use (+3), and
// the last (broadcast).
func subnetReserved(p netip.Prefix, a netip.Addr) bool {
	p = p.Masked()
	first := p.Addr()
	for i := 0; i < 4; i++ {
		if a == addrAdd(first, i) {
			return true
		}
	}
	return a == addrAdd(first, prefixSize(p)-1)
}

// ipBlocks calls fn for each /24 block of p with the block's usable
// addresses [lo, hi) (the subnet's five reserved ones left out) and the
// number of addresses ENIs hold in it, read from the address index's
// counters: the cost depends on the subnet's size, not on the ENIs.
// (uint64: the arithmetic must not wrap at the top of the address space.)
func ipBlocks(t *rtx, subnetID string, p netip.Prefix, fn func(block string, lo, hi uint64, used int) (bool, error)) error {
	first := uint64(ipUint(p.Masked().Addr()))
	end := first + uint64(prefixSize(p)) - 1 // the reserved last address
	for blk := first &^ 255; blk < end; blk += 256 {
		lo, hi := max(blk, first+4), min(blk+256, end)
		if lo >= hi {
			continue
		}
		block := subnetID + "/" + ipKey(uint32Addr(uint32(blk)))[:6]
		used, err := networkInterfaces.table.Count(t.tx, t.scope, eniByIP, block)
		if err != nil {
			return err
		}
		if more, err := fn(block, lo, hi, used); err != nil || !more {
			return err
		}
	}
	return nil
}

// allocatePrivateIP picks the requested address (which must be in the subnet,
// not reserved and free) or the lowest free one.
func allocatePrivateIP(t *rtx, subnet *subnetRecord, requested string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(deref(subnet.CidrBlock))
	if err != nil {
		return netip.Addr{}, err
	}
	subnetID := deref(subnet.SubnetId)
	if requested != "" {
		a, err := netip.ParseAddr(requested)
		if err != nil || !a.Is4() {
			return netip.Addr{}, errInvalidParam("Invalid value '%s' for IP address.", requested)
		}
		if !p.Contains(a) {
			return netip.Addr{}, errInvalidParam("Address %s does not fall within the subnet's address range", requested)
		}
		if subnetReserved(p, a) {
			return netip.Addr{}, errInvalidParam("Address %s is in subnet's reserved address range", requested)
		}
		holders, err := networkInterfaces.table.Lookup(t.tx, t.scope, eniByIP, subnetID+"/"+ipKey(a))
		if err != nil {
			return netip.Addr{}, err
		}
		if len(holders) > 0 {
			return netip.Addr{}, apiErr("InvalidIPAddress.InUse", "Address %s is in use.", requested)
		}
		return a, nil
	}
	// The lowest free address is in the first block that is not full, after
	// the addresses in use at its start (the entries come in address order).
	var found netip.Addr
	err = ipBlocks(t, subnetID, p, func(block string, lo, hi uint64, used int) (bool, error) {
		if uint64(used) >= hi-lo {
			return true, nil
		}
		next := lo
		err := networkInterfaces.table.ScanIndex(t.tx, t.scope, eniByIP, block, func(v, _ string) error {
			a, ok := ipFromKey(v[len(subnetID)+1:])
			switch n := uint64(ipUint(a)); {
			case !ok || n < next:
				return nil
			case n == next:
				next++
				return nil
			}
			return state.ErrStop
		})
		if err != nil || next >= hi {
			return err == nil, err
		}
		found = uint32Addr(uint32(next))
		return false, nil
	})
	if err != nil {
		return netip.Addr{}, err
	}
	if found.IsValid() {
		return found, nil
	}
	return netip.Addr{}, apiErr("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", subnetID)
}

// availableIPCount is AvailableIpAddressCount: the subnet's size less the
// five reserved addresses and those in use.
func availableIPCount(t *rtx, subnet *subnetRecord) (int32, error) {
	p, err := netip.ParsePrefix(deref(subnet.CidrBlock))
	if err != nil {
		return 0, err
	}
	used := 0
	err = ipBlocks(t, deref(subnet.SubnetId), p, func(_ string, _, _ uint64, n int) (bool, error) {
		used += n
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	return int32(prefixSize(p) - 5 - used), nil
}
