package ec2

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/state"
)

// Secondary indexes (state.Index) of the records a launch looks up by
// something other than their ID, so that RunInstances' cost does not grow
// with the number of instances in the region.

const (
	// eniByIP: "<subnet ID>/<address as 8 hex digits>" for every private
	// IPv4 address of an ENI, so one subnet's addresses are a range in
	// address order.
	eniByIP = "ip"
	// eniByInstance: the ID of the instance an ENI is attached to.
	eniByInstance = "instance"
	// instanceByTerminated: a terminated instance's TerminatedAt
	// (terminatedLayout), so the oldest come first.
	instanceByTerminated = "terminated"
	// instanceByTag: tagIndexValue of each of an instance's tags, so that
	// DescribeInstances with a tag:<key> filter reads only the instances
	// that have one of its values.
	instanceByTag = "tag"
)

// terminatedLayout is fixed-width, so its byte order is time order.
const terminatedLayout = "2006-01-02T15:04:05.000000000Z"

var eniIndexes = []state.Index[networkInterfaceRecord]{
	{Name: eniByIP, Values: func(e *networkInterfaceRecord) []string {
		subnet := deref(e.SubnetId)
		if subnet == "" {
			return nil
		}
		var out []string
		add := func(s string) {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return
			}
			v := subnet + "/" + ipKey(a)
			for _, o := range out {
				if o == v {
					return
				}
			}
			out = append(out, v)
		}
		add(deref(e.PrivateIpAddress))
		for _, pa := range e.PrivateIpAddresses {
			add(deref(pa.PrivateIpAddress))
		}
		return out
	}, Group: ipBlock},
	{Name: eniByInstance, Values: func(e *networkInterfaceRecord) []string {
		if e.Attachment == nil || deref(e.Attachment.InstanceId) == "" {
			return nil
		}
		return []string{deref(e.Attachment.InstanceId)}
	}},
}

var instanceIndexes = []state.Index[instanceRecord]{
	{Name: instanceByTerminated, Values: func(r *instanceRecord) []string {
		if instanceStateName(r) != stateTerminated || r.TerminatedAt.IsZero() {
			return nil
		}
		return []string{r.TerminatedAt.UTC().Format(terminatedLayout)}
	}},
	{Name: instanceByTag, Values: func(r *instanceRecord) []string {
		out := make([]string, 0, len(r.Tags))
		for _, t := range r.Tags {
			out = append(out, tagIndexValue(deref(t.Key), deref(t.Value)))
		}
		return out
	}},
}

// tagIndexValue is the instanceByTag value of a tag: key and value
// query-escaped, so that "=" separates them and no NUL is left. Each is
// first made valid UTF-8 the way the stored JSON makes it (one U+FFFD per
// invalid byte), so the value computed from a record before it is stored
// is the one computed from it read back, and a filter's value finds the
// tags EC2's rune-wise matching (state.Wildcard) would.
func tagIndexValue(key, value string) string {
	return url.QueryEscape(validUTF8(key)) + "=" + url.QueryEscape(validUTF8(value))
}

// validUTF8 is s with each invalid byte replaced by U+FFFD, as
// encoding/json and a []rune conversion replace it.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

// ipBlock is the group of an eniByIP value: its subnet and /24 block
// ("subnet-…/0a0001"), whose count tells a full block without reading it.
func ipBlock(v string) string { return v[:len(v)-2] }

// ipKey is a as 8 hex digits: fixed width, so byte order is address order.
func ipKey(a netip.Addr) string {
	b := a.As4()
	return hex.EncodeToString(b[:])
}

// ipFromKey reverses ipKey.
func ipFromKey(s string) (netip.Addr, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(b)), true
}

// ipUint is a as a number, for walking a subnet's addresses in order.
func ipUint(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// terminatedAtKey parses an instanceByTerminated value.
func terminatedAtKey(v string) (time.Time, bool) {
	t, err := time.Parse(terminatedLayout, v)
	return t, err == nil
}

// uint32Addr is the IPv4 address numbered n.
func uint32Addr(n uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}
