package minicloudtest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
)

// publicPool is where each Cloud's public range comes from: /24s of
// 198.19.0.0/17. minicloud's own test packages keep to 198.18.0.0/16 and
// fixed /24s above 198.19.232.0, so a Cloud never routes their addresses
// either.
var publicPool = netip.MustParsePrefix("198.19.0.0/17")

// publicRange is a /24 of publicPool that this process holds: an exclusive
// lock on a file named for it, which the kernel releases if the process
// dies, so a crashed test run leaves no range taken.
type publicRange struct {
	prefix netip.Prefix
	lock   *os.File
}

// lockDir holds the lock files, one per range, for every process of the
// host (a variable for the package's own test).
var lockDir = func() string { return filepath.Join(os.TempDir(), "minicloudtest-public-ranges") }

// claimPublicRange takes the first /24 of publicPool that no other Cloud
// on this host holds.
func claimPublicRange() (*publicRange, error) {
	dir := lockDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("public range: %w", err)
	}
	base := publicPool.Addr().As4()
	for i := range 1 << (24 - publicPool.Bits()) {
		a := base
		a[2] += byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 24)
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.%d.%d.0-24", a[0], a[1], a[2])), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return nil, fmt.Errorf("public range: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &publicRange{prefix: p, lock: f}, nil
		}
		_ = f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("public range %s: %w", p, err)
		}
	}
	return nil, fmt.Errorf("public range: every /24 of %s is held by another minicloud of this host", publicPool)
}

// release gives the range back (nil: nothing to give).
func (r *publicRange) release() {
	if r != nil && r.lock != nil {
		_ = r.lock.Close()
		r.lock = nil
	}
}
