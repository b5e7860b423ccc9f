package workload

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Network is the VPC data plane as a workload sees it; *vpcnet.Network
// implements it.
type Network interface {
	// CreateInstanceNamespace creates (or finds) the namespace named after
	// id, with loopback up, and returns its path.
	CreateInstanceNamespace(ctx context.Context, id string) (string, error)
	// DeleteInstanceNamespace removes it and the veths inside.
	DeleteInstanceNamespace(ctx context.Context, id string) error
	// AttachENI plugs e into the namespace at ns (idempotent).
	AttachENI(ctx context.Context, e vpcnet.ENI, ns string) error
	// DetachENI unplugs e (found by VPCID and ID; SubnetID, IP and MAC
	// let the router forget its address); a missing one is not an error.
	DetachENI(ctx context.Context, e vpcnet.ENI) error
}

var _ Network = (*vpcnet.Network)(nil)

// Config configures a Runtime.
type Config struct {
	// Net is the VPC data plane; nil means workloads run in minicloud's own
	// network namespace only (Place fails).
	Net Network
	// Sync runs a pass of the network controller and waits for it: after
	// it, the security groups, routes and NACLs of every attached ENI are
	// in the kernel. Nil falls back to Trigger.
	Sync func(ctx context.Context) error
	// Trigger asks the network controller for a pass without waiting.
	Trigger func()
	// CgroupPrefix starts the name of every cgroup the runtime makes
	// ("<prefix>-<workload>"); it must be unique to this minicloud
	// ("" gives "wl<pid>.<n>").
	CgroupPrefix string
	// Logger; nil discards.
	Logger *slog.Logger
}

// Runtime places and supervises workloads. It is safe for concurrent use;
// callers serialize what they do to one workload (their controller's
// per-key queue does).
type Runtime struct {
	cfg Config
	log *slog.Logger
	cg  *cgroups

	ids *IDs

	mu     sync.Mutex
	placed map[string][]vpcnet.ENI // workload → ENIs attached by Place
	ns     map[string]string       // workload → its namespace's path, once placed

	// cgMu orders the set-up and the removal of one name's cgroups;
	// cgOwner is the process whose cgroups they are: the last one started
	// under the name. Only the owner's Stop empties and removes them, so
	// stopping an old process never kills a new one of the same name.
	cgMu    sync.Mutex
	cgOwner map[string]*Process
}

// unnamedRuntimes numbers the runtimes made with no CgroupPrefix.
var unnamedRuntimes atomic.Int64

// New returns a Runtime.
func New(cfg Config) *Runtime {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CgroupPrefix == "" {
		// Two runtimes must never share a cgroup: the owner's Stop ends
		// everything in it. A runtime given no prefix (a library user, a
		// test) gets one of its process's own.
		cfg.CgroupPrefix = fmt.Sprintf("wl%d.%d", os.Getpid(), unnamedRuntimes.Add(1))
	}
	return &Runtime{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "workload"),
		cg:     detectCgroups(),
		ids:    newIDs(cfg.CgroupPrefix),
		placed: map[string][]vpcnet.ENI{},
		ns:     map[string]string{},

		cgOwner: map[string]*Process{},
	}
}

// Placing reports whether the runtime can put workloads on VPCs.
func (r *Runtime) Placing() bool { return r.cfg.Net != nil }

// IDs hands out the host ID ranges of workloads' user namespaces.
func (r *Runtime) IDs() *IDs { return r.ids }

// Ports is the loopback port allocator shared by every runtime of this
// process.
func (r *Runtime) Ports() *Ports { return hostPorts }

// Cgroups reports which cgroup hierarchy limits workloads: 2, 1, or 0 when
// none is usable (workloads then run unlimited).
func (r *Runtime) Cgroups() int { return r.cg.version }

// CgroupDirs lists the cgroup directories of the workload (for tests and
// diagnostics).
func (r *Runtime) CgroupDirs(name string) []string { return r.cg.dirs(r.cgroupName(name)) }

func (r *Runtime) cgroupName(workload string) string {
	return r.cfg.CgroupPrefix + "-" + workload
}

// SyncNetwork runs a pass of the network controller and waits for it (only
// triggers one without Config.Sync): after it, changes to the desired
// network made before the call — new security groups on a workload's
// interface, say — are in the kernel.
func (r *Runtime) SyncNetwork(ctx context.Context) error { return r.applyNetwork(ctx) }

// applyNetwork runs a network controller pass and waits for it (or only
// triggers one, without Sync).
func (r *Runtime) applyNetwork(ctx context.Context) error {
	if r.cfg.Sync != nil {
		return r.cfg.Sync(ctx)
	}
	if r.cfg.Trigger != nil {
		r.cfg.Trigger()
	}
	return nil
}

// Usage is what a workload has used, cumulative: what CloudWatch's
// CPUUtilization and NetworkIn/Out are made of.
type Usage struct {
	// CPU is its processes' CPU time since its cgroup was made.
	CPU time.Duration
	// Net is the traffic of its namespace's interfaces (zero when it is
	// not placed).
	Net vpcnet.InterfaceCounters
	// Memory is the memory its processes hold and the kernel cannot
	// reclaim (anonymous memory: the page cache is left out, as it is of
	// RDS's FreeableMemory), now; 0 when the cgroup does not tell.
	Memory uint64
	// IO is its block I/O, nil when the host does not account it per
	// workload (cgroup v1, whose blkio hierarchy workloads do not join).
	IO *IOCounters
}

// IOCounters are cumulative block I/O counts of a workload (cgroup v2's
// io.stat, summed over the devices).
type IOCounters struct {
	ReadBytes, WriteBytes, ReadOps, WriteOps uint64
}

// Usage reads the workload's usage.
func (r *Runtime) Usage(name string) (Usage, error) {
	cpu, err := r.cg.cpuTime(r.cgroupName(name))
	if err != nil {
		return Usage{}, fmt.Errorf("workload %s: CPU time: %w", name, err)
	}
	u := Usage{CPU: cpu, Memory: r.cg.memory(r.cgroupName(name)), IO: r.cg.io(r.cgroupName(name))}
	r.mu.Lock()
	ns := r.ns[name]
	r.mu.Unlock()
	if ns != "" {
		if u.Net, err = vpcnet.NamespaceCounters(ns); err != nil {
			return Usage{}, fmt.Errorf("workload %s: %w", name, err)
		}
	}
	return u, nil
}
