package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// DefaultExempt are the link-local AWS service addresses security groups do
// not filter (instance metadata, Amazon Time Sync, the link-local DNS
// resolver address), IPv4 and IPv6 (Nitro) forms.
var DefaultExempt = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"),
	netip.MustParsePrefix("169.254.169.253/32"),
	netip.MustParsePrefix("169.254.169.123/32"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("fd00:ec2::253/128"),
	netip.MustParsePrefix("fd00:ec2::123/128"),
}

// Firewall programs security groups and network ACLs as nftables tables in
// network namespaces. All its tables are named with its prefix. It is safe
// for concurrent use; operations are serialised.
type Firewall struct {
	prefix string
	// Exempt lists remote addresses every ENI may always exchange traffic
	// with, as AWS does for its VPC services (see DefaultExempt). The VPC's
	// own resolver (base+2) may be appended by the caller. Change it
	// before the first Apply; ENIs pick a change up on their next apply.
	Exempt []netip.Prefix

	mu sync.Mutex
	// applied remembers the last ruleset programmed per namespace and
	// table, to turn address-only changes into set-element updates.
	applied map[string]*Ruleset
	stats   Stats
}

// Stats counts kernel transactions, for tests and metrics.
type Stats struct {
	Rebuilds       int // whole-table replacements
	ElementUpdates int // set-element-only updates
	Removals       int
}

// New returns a Firewall whose tables are all named prefix+"…". The prefix
// must be 1–32 characters of [A-Za-z0-9_.-].
func New(prefix string) *Firewall {
	return &Firewall{prefix: prefix, Exempt: append([]netip.Prefix(nil), DefaultExempt...), applied: map[string]*Ruleset{}}
}

// Prefix returns the table-name prefix.
func (f *Firewall) Prefix() string { return f.prefix }

// Stats returns the transaction counters.
func (f *Firewall) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *Firewall) checkPrefix() error {
	if f.prefix == "" || len(f.prefix) > 32 || strings.IndexFunc(f.prefix, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
	}) >= 0 {
		return fmt.Errorf("firewall: invalid prefix %q", f.prefix)
	}
	return nil
}

// ApplyENI enforces the union of groups on iface, an interface of the
// network namespace at path ns (e.g. /var/run/netns/NAME or
// /proc/PID/ns/net) — the instance side of the ENI. It is idempotent and
// replaces the previous ruleset of that interface atomically: a change of
// rules rebuilds the table in one transaction, a change of addresses only
// (CIDRs, peer IPs) replaces set elements in one transaction. Conntrack
// entries survive both, so established flows keep flowing, as in AWS.
func (f *Firewall) ApplyENI(ns, iface string, groups []SecurityGroup) error {
	rs, err := f.CompileENI(iface, groups)
	if err != nil {
		return err
	}
	return f.apply(ns, rs)
}

// RemoveENI deletes the ruleset of iface (no error if there is none).
func (f *Firewall) RemoveENI(ns, iface string) error {
	if err := checkIfName(iface); err != nil {
		return err
	}
	return f.remove(ns, f.ENITable(iface))
}

// ApplySubnetACL enforces acl on the traffic routed into and out of the
// subnet whose bridge is bridgeIface in the router namespace at path
// routerNS. Idempotent; each call replaces the ruleset in one transaction.
func (f *Firewall) ApplySubnetACL(routerNS, bridgeIface string, acl NetworkACL) error {
	rs, err := f.CompileACL(bridgeIface, acl)
	if err != nil {
		return err
	}
	return f.apply(routerNS, rs)
}

// RemoveSubnetACL deletes the ruleset of the bridge (no error if none).
func (f *Firewall) RemoveSubnetACL(routerNS, bridgeIface string) error {
	if err := checkIfName(bridgeIface); err != nil {
		return err
	}
	return f.remove(routerNS, f.ACLTable(bridgeIface))
}

// Tables lists the inet tables in ns whose name starts with the prefix.
func (f *Firewall) Tables(ns string) ([]string, error) {
	if err := f.checkPrefix(); err != nil {
		return nil, err
	}
	var out []string
	err := withConn(ns, func(c *nftables.Conn, _ string) error {
		ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if strings.HasPrefix(t.Name, f.prefix) {
				out = append(out, t.Name)
			}
		}
		return nil
	})
	return out, err
}

// Purge deletes every table with the prefix in ns, in one transaction
// (e.g. after a restart, when the caller no longer knows what it applied).
func (f *Firewall) Purge(ns string) error {
	names, err := f.Tables(ns)
	if err != nil || len(names) == 0 {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return withConn(ns, func(c *nftables.Conn, id string) error {
		for _, n := range names {
			c.DelTable(nftTable(n))
			delete(f.applied, id+"|"+n)
		}
		f.stats.Removals++
		return c.Flush()
	})
}

func (f *Firewall) apply(ns string, rs *Ruleset) error {
	if err := f.checkPrefix(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return withConn(ns, func(c *nftables.Conn, id string) error {
		key := id + "|" + rs.Table
		if old := f.applied[key]; old != nil && old.shape() == rs.shape() {
			n, err := queueElements(c, old, rs)
			switch {
			case err != nil:
				return err
			case n == 0:
				// Nothing to change, provided the table is still there.
				if _, err := c.ListTableOfFamily(rs.Table, nftables.TableFamilyINet); err == nil {
					f.applied[key] = rs
					return nil
				}
			default:
				if err := c.Flush(); err == nil {
					f.applied[key] = rs
					f.stats.ElementUpdates++
					return nil
				}
			}
			// The table changed behind our back (or vanished): rebuild.
		}
		delete(f.applied, key)
		// Only a table known to be absent is built without the delete: an
		// existing one must never get a second copy of its rules.
		_, lerr := c.ListTableOfFamily(rs.Table, nftables.TableFamilyINet)
		if err := queueRebuild(c, rs, !errors.Is(lerr, unix.ENOENT)); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("firewall: apply %s: %w", rs.Table, err)
		}
		f.applied[key] = rs
		f.stats.Rebuilds++
		return nil
	})
}

func (f *Firewall) remove(ns, table string) error {
	if err := f.checkPrefix(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return withConn(ns, func(c *nftables.Conn, id string) error {
		delete(f.applied, id+"|"+table)
		t := nftTable(table)
		c.AddTable(t) // makes the delete succeed when the table is absent
		c.DelTable(t)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("firewall: remove %s: %w", table, err)
		}
		f.stats.Removals++
		return nil
	})
}

// withConn opens the namespace at path and runs fn with an nftables
// connection bound to it and the namespace's identity. It refuses the
// namespace the process (or PID 1) runs in: this package only ever
// programs namespaces built for VPCs, never the host's own firewall.
func withConn(path string, fn func(c *nftables.Conn, id string) error) error {
	if path == "" {
		return errors.New("firewall: no network namespace given")
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("firewall: open netns %s: %w", path, err)
	}
	defer unix.Close(fd)
	id, err := checkForeignNS(fd, path)
	if err != nil {
		return err
	}
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return err
	}
	return fn(c, id)
}

// hostNS is the identity of the network namespace the process started in,
// taken before any goroutine could move a thread elsewhere.
var hostNS = func() string {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return ""
	}
	return nsID(&st)
}()

// hostNSPaths are, besides hostNS, namespaces never to be programmed.
var hostNSPaths = []string{"/proc/1/ns/net", "/proc/self/ns/net"}

func nsID(st *unix.Stat_t) string { return fmt.Sprintf("%d:%d", st.Dev, st.Ino) }

// checkForeignNS verifies fd is a network namespace other than the host's
// and returns its identity (device:inode).
func checkForeignNS(fd int, path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("firewall: stat netns %s: %w", path, err)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return "", fmt.Errorf("firewall: statfs netns %s: %w", path, err)
	}
	if sfs.Type != unix.NSFS_MAGIC {
		return "", fmt.Errorf("firewall: %s is not a namespace", path)
	}
	id := nsID(&st)
	if id == hostNS {
		return "", fmt.Errorf("firewall: refusing to program the host network namespace (%s is the namespace this process started in)", path)
	}
	for _, h := range hostNSPaths {
		var hs unix.Stat_t
		if err := unix.Stat(h, &hs); err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
				continue
			}
			return "", fmt.Errorf("firewall: stat %s: %w", h, err)
		}
		if nsID(&hs) == id {
			return "", fmt.Errorf("firewall: refusing to program the host network namespace (%s is %s)", path, h)
		}
	}
	return id, nil
}
