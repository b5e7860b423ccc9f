package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/workload"
)

// Config configures a Runtime.
type Config struct {
	// Net is the VPC data plane the instances' ENIs are plugged into.
	Net *vpcnet.Network
	// Workloads places and supervises the instances (their namespaces,
	// ENIs, init processes and cgroups); nil makes one from Net, Sync,
	// Trigger, Prefix and Logger.
	Workloads *workload.Runtime
	// Dir holds one directory per instance, Dir/<instance-id>/ (the root
	// volume's overlay upper and work directories and a mount point), e.g.
	// <state-dir>/instances. Instances never see it.
	Dir string
	// Prefix starts everything the runtime names on the host (cgroups,
	// when it makes Workloads); network namespaces are named by Net's own
	// prefix.
	Prefix string
	// VolumesDir holds the data of EBS volumes, VolumesDir/<vol-id>/
	// (created on first attach, removed with the volume); default
	// Dir/../volumes. Instances never see it, only the volumes attached
	// to them, at /mnt/ebs/<device>.
	VolumesDir string
	// ImagesDir keeps what the runtime makes of registered and created
	// images, ImagesDir/<ami-id>/ (a tarball's extracted rootfs, a
	// CreateImage source's copied layer); default Dir/../images. Instances
	// never see it.
	ImagesDir string
	// Logger; nil discards.
	Logger *slog.Logger
	// Trigger asks the network controller to reconcile (called right after
	// an instance's ENIs are attached). Nil: nothing to trigger.
	Trigger func()
	// Sync runs a network controller pass and waits for it. The runtime
	// calls it after attaching an instance's ENIs and before starting any
	// of its processes, so that no instance runs a moment without its
	// security groups. Nil: only Trigger.
	Sync func(ctx context.Context) error
	// Binary is the executable re-executed as each instance's init (it must
	// call InitMain first thing); empty means os.Executable().
	Binary string
	// OSImageCache keeps the built-in AMIs' root filesystems (package
	// hostimage), built once per machine and shared by every minicloud;
	// default /var/cache/minicloud/images.
	OSImageCache string
	// CACert gives minicloud's root CA in PEM (package pki's RootPEM),
	// for every instance, so that its SDKs trust the HTTPS of the AWS
	// endpoints minicloud serves in the VPCs (package vpcapi): written to
	// CABundlePath and named by AWS_CA_BUNDLE (CAEnvironment). It is
	// called at each boot, not at start, so that the CA is made only once
	// an instance needs it. Nil: none.
	CACert func() ([]byte, error)
	// StopGrace is how long an instance's init gets after SIGTERM before
	// it is killed (default 10s); its processes get half of it.
	StopGrace time.Duration
	// BootTimeout bounds how long a boot may take to mount the instance's
	// root and report in (default 30s).
	BootTimeout time.Duration
	// Metrics is where the running instances' AWS/EC2 metrics are
	// published (metrics.go); nil publishes nothing.
	Metrics metricport.Publisher
	// MetricsInterval is the publishing interval (metricport.Interval: a
	// minute unless a test shortens it; basic monitoring's period is five
	// of them).
	MetricsInterval time.Duration
}

// DefaultOSImageCache is where the built-in AMIs' root filesystems are
// kept unless Config.OSImageCache says otherwise.
const DefaultOSImageCache = "/var/cache/minicloud/images"

// Runtime runs EC2 instances as namespaces and processes; it implements
// ec2.Runtime.
type Runtime struct {
	cfg Config
	log *slog.Logger
	wl  *workload.Runtime

	mu      sync.Mutex
	ctl     ec2.Controller
	ctx     context.Context // ends at Stop: nothing is reported after it
	cancel  context.CancelFunc
	insts   *reconcile.Controller[instKey] // instances
	vols    *reconcile.Controller[string]  // volume IDs whose data may be garbage
	workers map[instKey]*worker            // what runs of each instance
	started bool
	stopped bool

	imgMu    sync.Mutex
	imgLocks map[string]*sync.Mutex // per image: preparing its layers

	imds *imdsHub
	pids sync.Map // instance ID → init PID (host view), for tests and debugging
	// agents holds each running instance's agent socket (instKey →
	// *agentConn), for Exec from any goroutine.
	agents sync.Map
	meter  meter

	availMu  sync.Mutex
	availAt  time.Time
	availOK  bool
	availWhy string
}

// instKey is the instances controller's key.
type instKey struct{ account, region, id string }

func (k instKey) String() string { return k.account + "/" + k.region + "/" + k.id }

var _ ec2.Runtime = (*Runtime)(nil)

// validPrefix reports whether p matches ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$,
// byte by byte: it is checked at every start, where compiling the regexp cost
// 30 KiB of heap.
func validPrefix(p string) bool {
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }
	ok := len(p) >= 1 && len(p) <= 32 && alnum(p[0])
	for i := 1; ok && i < len(p); i++ {
		ok = alnum(p[i]) || p[i] == '_' || p[i] == '.' || p[i] == '-'
	}
	return ok
}

// New returns a Runtime; it does nothing until Start.
func New(cfg Config) *Runtime {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	if cfg.BootTimeout <= 0 {
		cfg.BootTimeout = 30 * time.Second
	}
	if cfg.Dir != "" {
		cfg.Dir = realPath(cfg.Dir)
		if cfg.VolumesDir == "" {
			cfg.VolumesDir = filepath.Join(filepath.Dir(cfg.Dir), "volumes")
		}
		if cfg.ImagesDir == "" {
			cfg.ImagesDir = filepath.Join(filepath.Dir(cfg.Dir), "images")
		}
	}
	if cfg.VolumesDir != "" {
		cfg.VolumesDir = realPath(cfg.VolumesDir)
	}
	if cfg.ImagesDir != "" {
		cfg.ImagesDir = realPath(cfg.ImagesDir)
	}
	if cfg.OSImageCache == "" {
		cfg.OSImageCache = DefaultOSImageCache
	}
	r := &Runtime{cfg: cfg, log: cfg.Logger.With("component", "instance-runtime"), workers: map[instKey]*worker{}}
	r.wl = cfg.Workloads
	if r.wl == nil {
		r.wl = workload.New(workload.Config{Net: cfg.Net, Sync: cfg.Sync, Trigger: cfg.Trigger, CgroupPrefix: cfg.Prefix, Logger: cfg.Logger})
	}
	r.imds = newIMDSHub(r)
	return r
}

// Name is the runtime's name in /_minicloud/health.
func (r *Runtime) Name() string { return "netns" }

// Available reports whether this host can run instances, and why not. The
// answer is cached for a few seconds: health checks and Describe calls ask.
func (r *Runtime) Available() (bool, string) {
	r.availMu.Lock()
	defer r.availMu.Unlock()
	if time.Since(r.availAt) > 5*time.Second {
		r.availOK, r.availWhy = r.available()
		r.availAt = time.Now()
	}
	return r.availOK, r.availWhy
}

func (r *Runtime) available() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "the netns instance runtime needs root (mount, PID, UTS, IPC and network namespaces, overlayfs, cgroups)"
	}
	if r.cfg.Net == nil {
		return false, "no VPC data plane (vpcnet) is configured"
	}
	if !validPrefix(r.cfg.Prefix) {
		return false, fmt.Sprintf("invalid runtime prefix %q", r.cfg.Prefix)
	}
	if r.cfg.Dir == "" {
		return false, "no instance directory is configured"
	}
	for _, ns := range []string{"net", "mnt", "pid", "uts", "ipc"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			return false, "kernel without " + ns + " namespaces: " + err.Error()
		}
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false, "cannot read /proc/filesystems: " + err.Error()
	}
	if !hasFilesystem(string(fs), "overlay") {
		return false, "the kernel does not support overlayfs (not in /proc/filesystems; try modprobe overlay)"
	}
	if ok, why := r.cfg.Net.Available(); !ok {
		return false, "VPC networking unavailable: " + why
	}
	if _, err := r.binary(); err != nil {
		return false, "cannot find the minicloud binary to run as instance init: " + err.Error()
	}
	return true, ""
}

func hasFilesystem(list, name string) bool {
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == name {
			return true
		}
	}
	return false
}

func (r *Runtime) binary() (string, error) {
	if r.cfg.Binary != "" {
		if _, err := os.Stat(r.cfg.Binary); err != nil {
			return "", err
		}
		return r.cfg.Binary, nil
	}
	return os.Executable()
}

// Start begins reconciling; it returns at once.
func (r *Runtime) Start(c ec2.Controller) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("instance runtime: already started")
	}
	if ok, why := r.Available(); !ok {
		// The control plane asks Available itself and leaves instances
		// pending with the reason; nothing to run.
		r.log.Warn("instance runtime unavailable", "reason", why)
		r.started = true
		return nil
	}
	if err := os.MkdirAll(r.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("instance runtime: %w", err)
	}
	r.started = true
	r.ctl = c
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.insts = reconcile.New("instances", reconcile.Func[instKey](r.reconcileInstance), reconcile.Options[instKey]{
		Logger: r.cfg.Logger,
		Store:  c.Store(),
		Sources: []reconcile.Source[instKey]{reconcile.Map("ec2", "", func(o reconcile.Object) []instKey {
			if account, region, id, ok := ec2.InstanceKey(o.StoreKey()); ok {
				return []instKey{{account, region, id}}
			}
			return nil
		})},
		List: r.listInstances,
		// Reading or reporting an instance failed: the store is busy or
		// closing.
		MinBackoff: time.Second,
		MaxBackoff: 10 * time.Second,
		OnStop:     r.shutdownAll,
	})
	r.vols = reconcile.New("volume-gc", reconcile.Func[string](r.reconcileVolume), reconcile.Options[string]{
		Logger:  r.cfg.Logger,
		Store:   c.Store(),
		Sources: []reconcile.Source[string]{reconcile.Map("ec2", "", volumeGone)},
		List:    r.volumeDirs,
		Workers: 1,
	})
	r.startMetrics()
	return errors.Join(r.insts.Start(r.ctx), r.vols.Start(r.ctx))
}

// listInstances is every instance of the control plane and every one the
// runtime still runs something for.
func (r *Runtime) listInstances(ctx context.Context) ([]instKey, error) {
	specs, err := r.ctl.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	keys := make([]instKey, 0, len(specs))
	for _, s := range specs {
		keys = append(keys, instKey{s.Account, s.Region, s.InstanceID})
	}
	r.mu.Lock()
	for k := range r.workers {
		keys = append(keys, k)
	}
	r.mu.Unlock()
	return keys, nil
}

// reconcileInstance re-reads one instance and converges it (the reconcile
// package never runs two for one instance); its worker holds what runs of
// it and goes once nothing does.
func (r *Runtime) reconcileInstance(ctx context.Context, k instKey) (reconcile.Result, error) {
	r.mu.Lock()
	w := r.workers[k]
	if w == nil {
		w = newWorker(r, k)
		r.workers[k] = w
	}
	r.mu.Unlock()
	finished, err := w.converge(ctx)
	if err == nil && finished && w.vm == nil && ctx.Err() == nil {
		r.mu.Lock()
		delete(r.workers, k)
		r.mu.Unlock()
	}
	return w.result(), err
}

// kick makes the instance's worker re-read and converge.
func (r *Runtime) kick(k instKey) { r.insts.Enqueue(k) }

// shutdownAll takes every instance down once the last reconcile returned
// (Stop), in parallel: a slow one does not hold the others.
func (r *Runtime) shutdownAll() {
	r.mu.Lock()
	ws := make([]*worker, 0, len(r.workers))
	for _, w := range r.workers {
		ws = append(ws, w)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.shutdown)
	}
	wg.Wait()
}

// Stop ends reconciling and shuts every instance down (without reporting:
// a minicloud shutdown is not an instance stop; Start boots them again).
func (r *Runtime) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.stopped || r.cancel == nil {
		r.stopped = true
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	r.cancel()
	r.mu.Unlock()
	r.meter.loop.Stop()
	err := errors.Join(r.vols.Stop(ctx), r.insts.Stop(ctx))
	r.imds.closeAll()
	if err != nil {
		return fmt.Errorf("instance runtime: %w", err)
	}
	return nil
}

// Status is the health of the runtime's controllers for
// /_minicloud/health; nil before Start or when instances cannot run here.
func (r *Runtime) Status() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.insts == nil {
		return nil
	}
	return map[string]any{"instances": r.insts.Status().Map(), "volumeGC": r.vols.Status().Map(), "metadataService": r.imds.status()}
}

// instanceDir is Dir/<id>.
func (r *Runtime) instanceDir(id string) string { return filepath.Join(r.cfg.Dir, id) }

// initPID is the host PID of the instance's init, 0 when none runs.
func (r *Runtime) initPID(id string) int {
	if v, ok := r.pids.Load(id); ok {
		return v.(int)
	}
	return 0
}

// realPath creates dir and returns its absolute path with symlinks
// resolved: mount points are compared with /proc/self/mountinfo, which lists
// resolved paths, and a state directory under a symlink (/home → /var/home)
// must not make a mounted volume look unmounted to the removal that follows.
func realPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	_ = os.MkdirAll(abs, 0o700)
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		return p
	}
	return abs
}
