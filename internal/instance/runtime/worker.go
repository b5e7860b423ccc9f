package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/workload"
)

// Instance states, as ec2.InstanceSpec.State names them.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
)

// Launch failures are retried (the network controller may not have built
// the subnet yet) for this long before the launch is reported failed.
const launchRetryWindow = 30 * time.Second

// worker is what the runtime holds of one instance between reconciles;
// the reconcile package never runs two reconciles of one instance at once,
// so only the one running touches its fields.
type worker struct {
	r   *Runtime
	key instKey
	log *slog.Logger

	vm          *vm
	enis        []ec2.InterfaceSpec // attached ENIs
	rebootsSeen bool
	reboots     int // RebootRequests handled
	failures    int
	firstFail   time.Time
	crashes     int
	requeue     time.Duration     // when to converge again (retryIn); 0: on the next event
	ebsUp       bool              // Dir/<id>/ebs is mounted (shared)
	mounted     map[string]string // device → data volume mounted there
}

func newWorker(r *Runtime, k instKey) *worker {
	return &worker{r: r, key: k, log: r.log.With("instance", k.id, "account", k.account, "region", k.region)}
}

// retryIn asks for the instance to be converged again after d (the last
// call of a reconcile counts).
func (w *worker) retryIn(d time.Duration) { w.requeue = d }

// result is the reconcile's Result: the retry asked for, if any.
func (w *worker) result() reconcile.Result {
	d := w.requeue
	w.requeue = 0
	return reconcile.Requeue(d)
}

// converge re-reads the instance and moves it towards its desired state;
// it returns true when nothing of the instance runs any more and the
// worker may go.
func (w *worker) converge(ctx context.Context) (bool, error) {
	for range 8 {
		if ctx.Err() != nil {
			return false, nil
		}
		spec, found, err := w.r.ctl.Instance(ctx, w.key.account, w.key.region, w.key.id)
		if err != nil {
			return false, fmt.Errorf("read instance: %w", err)
		}
		if !found {
			w.destroy(nil)
			return true, nil
		}
		if !w.rebootsSeen {
			w.reboots, w.rebootsSeen = spec.RebootRequests, true
		}
		rep, finished := w.step(ctx, &spec)
		if rep == nil {
			return finished, nil
		}
		rep.Generation = spec.Generation
		err = w.r.ctl.ReportInstance(ctx, w.key.account, w.key.region, w.key.id, *rep)
		switch {
		case err == nil:
			w.log.Info("instance state reported", "state", rep.State)
			if finished {
				return true, nil
			}
		case errors.Is(err, ec2.ErrStaleReport):
			// The desired state moved on: re-read and converge again.
		case errors.Is(err, ec2.ErrUnknownInstance):
			w.destroy(nil)
			return true, nil
		default:
			return false, fmt.Errorf("report instance state %s: %w", rep.State, err)
		}
	}
	w.retryIn(100 * time.Millisecond)
	return false, nil
}

func (w *worker) alive() bool { return w.vm != nil && !w.vm.exited() }

// step does what spec's state asks and returns what to report.
func (w *worker) step(ctx context.Context, spec *ec2.InstanceSpec) (*ec2.InstanceReport, bool) {
	switch spec.State {
	case statePending:
		w.reboots = max(w.reboots, spec.RebootRequests)
		if !w.alive() {
			w.halt()
			if err := w.boot(ctx, spec); err != nil {
				return w.bootFailed(spec, err)
			}
		}
		w.syncRunning(ctx, spec)
		return &ec2.InstanceReport{State: stateRunning, LaunchTime: w.vm.launched}, false
	case stateRunning:
		if w.vm != nil && w.vm.exited() {
			if w.vm.poweroff.Load() {
				w.log.Info("the guest powered itself off")
				w.halt()
				w.releaseNet(spec)
				return &ec2.InstanceReport{State: stateStopped, ReasonCode: "Client.InstanceInitiatedShutdown",
					ReasonMessage: "Client.InstanceInitiatedShutdown: Instance initiated shutdown"}, false
			}
			w.log.Warn("instance init exited unexpectedly; booting it again", "err", w.vm.proc.Err())
			if time.Since(w.vm.launched) < 10*time.Second {
				w.crashes++
			} else {
				w.crashes = 0
			}
			w.halt()
			if w.crashes > 3 {
				w.crashes = 0
				w.retryIn(5 * time.Second)
				return nil, false
			}
		}
		if spec.RebootRequests > w.reboots {
			w.reboots = spec.RebootRequests
			if w.alive() {
				w.log.Info("rebooting")
				w.halt()
			}
		}
		if !w.alive() {
			// After a minicloud restart (or a reboot): boot again; the
			// cloud-init semaphores in the root volume keep user data
			// from running again.
			if err := w.boot(ctx, spec); err != nil {
				w.log.Error("boot", "err", err)
				w.halt()
				w.retryIn(2 * time.Second)
				return nil, false
			}
		}
		w.syncRunning(ctx, spec)
		return nil, false
	case stateStopping:
		w.halt()
		w.releaseNet(spec)
		return &ec2.InstanceReport{State: stateStopped}, false
	case stateStopped:
		w.halt()
		w.releaseNet(spec)
		return nil, true
	case stateShuttingDown:
		w.destroy(spec)
		return &ec2.InstanceReport{State: stateTerminated}, true
	case stateTerminated:
		w.destroy(spec)
		return nil, true
	}
	w.log.Warn("unknown instance state", "state", spec.State)
	return nil, false
}

// bootFailed retries a failed launch for launchRetryWindow, then reports
// it failed (terminated, Server.InternalError, as EC2 does).
func (w *worker) bootFailed(spec *ec2.InstanceSpec, err error) (*ec2.InstanceReport, bool) {
	w.halt()
	if ie := (*imageError)(nil); errors.As(err, &ie) {
		// Retrying cannot fix the image: fail the launch now, saying why
		// on the console.
		w.log.Error("launch failed", "err", err)
		w.failures = 0
		w.destroy(spec)
		return &ec2.InstanceReport{State: stateTerminated, ReasonCode: "Server.InternalError",
			ReasonMessage: "Server.InternalError: Internal error on launch",
			ConsoleOutput: "minicloud: cannot boot: " + err.Error() + "\n"}, true
	}
	if w.failures == 0 {
		w.firstFail = time.Now()
	}
	w.failures++
	if time.Since(w.firstFail) < launchRetryWindow {
		d := min(250*time.Millisecond<<min(w.failures, 5), 5*time.Second)
		w.log.Warn("launch failed; retrying", "err", err, "in", d)
		w.retryIn(d)
		return nil, false
	}
	w.log.Error("launch failed", "err", err)
	w.failures = 0
	w.destroy(spec)
	return &ec2.InstanceReport{State: stateTerminated, ReasonCode: "Server.InternalError",
		ReasonMessage: "Server.InternalError: Internal error on launch"}, true
}

// boot plugs the instance's network in and starts its init.
func (w *worker) boot(ctx context.Context, spec *ec2.InstanceSpec) error {
	if len(spec.NetworkInterfaces) == 0 {
		return errors.New("the instance has no network interface")
	}
	// The image first: extracting or copying it may take a while, and a
	// broken image is not worth plugging the network in for.
	var prep lineWriter
	lowers, err := w.r.imageLowers(spec.Image, 0, &prep)
	if err != nil {
		return &imageError{err}
	}
	// AWS never runs an instance without its security groups: Place
	// returns once the network controller has applied them.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	pl, err := w.place(pctx, spec)
	cancel()
	if err != nil {
		return err
	}
	primary := primaryENI(spec)
	ip, _ := netip.ParseAddr(first(primary.PrivateIPs))
	cidrs, err := w.r.vpcCIDRs(primary.VpcID)
	if err != nil {
		w.log.Warn("read the VPC's CIDR blocks", "err", err)
	}
	if err := w.r.imds.set(spec, cidrs); err != nil {
		w.log.Warn("metadata service", "err", err)
	}
	var caPEM []byte
	if w.r.cfg.CACert != nil {
		if caPEM, err = w.r.cfg.CACert(); err != nil {
			w.log.Warn("minicloud's CA for the instance", "err", err)
		}
	}
	if err := prepareRoot(w.r.instanceDir(spec.InstanceID), spec, ip, resolverFor(cidrs, ip), caPEM, lowers); err != nil {
		return err
	}
	// The ebs mount the volumes go below; startVM mounts those attached at
	// boot before the user data runs.
	if err := w.ebsPrepare(); err != nil {
		return fmt.Errorf("volumes: %w", err)
	}
	v, err := w.r.startVM(w, spec, pl.NS, lowers, layersName(spec.Image, len(lowers)), prep.lines)
	if err != nil {
		return err
	}
	v.agent.resolver = resolverFor(cidrs, ip)
	w.vm = v
	w.failures = 0
	w.r.pids.Store(spec.InstanceID, v.pid)
	w.r.agents.Store(w.key, v.agent)
	w.r.meter.running(w.key, spec)
	return nil
}

// place puts the instance on its ENIs (idempotent; interfaces detached
// since are unplugged) and waits for their security groups.
func (w *worker) place(ctx context.Context, spec *ec2.InstanceSpec) (*workload.Placement, error) {
	var enis []workload.ENI
	for _, ni := range spec.NetworkInterfaces {
		ip, err := netip.ParseAddr(first(ni.PrivateIPs))
		if err != nil {
			return nil, fmt.Errorf("ENI %s: no private IPv4 address", ni.NetworkInterfaceID)
		}
		var mac net.HardwareAddr
		if ni.MacAddress != "" {
			mac, _ = net.ParseMAC(ni.MacAddress)
		}
		enis = append(enis, workload.ENI{ID: ni.NetworkInterfaceID, VPCID: ni.VpcID, SubnetID: ni.SubnetID,
			MAC: mac, IP: ip, DeviceIndex: int(ni.DeviceIndex)})
	}
	pl, err := w.r.wl.Place(ctx, spec.InstanceID, enis)
	if err != nil {
		return nil, err
	}
	w.enis = slices.Clone(spec.NetworkInterfaces)
	return pl, nil
}

// syncRunning follows changes to a running instance: ENIs attached or
// detached, metadata (tags, public IP…).
func (w *worker) syncRunning(ctx context.Context, spec *ec2.InstanceSpec) {
	if !sameENIs(w.enis, spec.NetworkInterfaces) {
		// A new interface of a running instance must not carry traffic
		// before its security groups: Place waits for them.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if _, err := w.place(pctx, spec); err != nil {
			w.log.Warn("update network interfaces", "err", err)
			w.retryIn(2 * time.Second)
		}
		cancel()
	}
	primary := primaryENI(spec)
	cidrs, _ := w.r.vpcCIDRs(primary.VpcID)
	if err := w.r.imds.set(spec, cidrs); err != nil {
		w.log.Warn("metadata service", "err", err)
	}
	w.ebsSync(spec, w.vm)
	w.r.meter.running(w.key, spec) // monitoring may have changed
}

func sameENIs(a, b []ec2.InterfaceSpec) bool {
	return slices.EqualFunc(a, b, func(x, y ec2.InterfaceSpec) bool {
		return x.NetworkInterfaceID == y.NetworkInterfaceID && x.DeviceIndex == y.DeviceIndex &&
			x.MacAddress == y.MacAddress && slices.Equal(x.PrivateIPs, y.PrivateIPs) && x.SubnetID == y.SubnetID
	})
}

// halt stops the instance's processes (keeping its network) and unmounts
// its volumes.
func (w *worker) halt() {
	if w.vm == nil {
		if w.ebsUp {
			if err := w.ebsRelease(); err != nil {
				w.log.Warn("unmount volumes", "err", err)
			}
		}
		return
	}
	w.vm.stop()
	if err := w.ebsRelease(); err != nil {
		w.log.Warn("unmount volumes", "err", err)
	}
	w.vm = nil
	w.r.pids.Delete(w.key.id)
	w.r.meter.stopped(w.key)
}

// releaseNet detaches the ENIs and deletes the instance's namespace.
func (w *worker) releaseNet(spec *ec2.InstanceSpec) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var also []workload.ENI
	for _, e := range append(slices.Clone(w.enis), specENIs(spec)...) {
		also = append(also, workload.ENI{ID: e.NetworkInterfaceID, VPCID: e.VpcID})
	}
	w.enis = nil
	if err := w.r.wl.Unplace(ctx, w.key.id, also...); err != nil {
		w.log.Warn("release the instance's network", "err", err)
	}
	w.r.imds.remove(w.key.id)
}

// specENIs is spec's interfaces (none for a nil spec).
func specENIs(spec *ec2.InstanceSpec) []ec2.InterfaceSpec {
	if spec == nil {
		return nil
	}
	return spec.NetworkInterfaces
}

// destroy leaves nothing of the instance: processes, network, cgroup and
// its directory (the root volume, unless it is not DeleteOnTermination:
// then its data becomes VolumesDir/<vol-id>); data volumes that are
// DeleteOnTermination go too.
func (w *worker) destroy(spec *ec2.InstanceSpec) {
	w.halt()
	w.releaseNet(spec)
	dir := w.r.instanceDir(w.key.id)
	// Never remove through a mount: that would delete a volume's data.
	if err := unmountAll(dir); err != nil {
		w.log.Error("instance directory still has mounts; not removing it", "err", err)
		return
	}
	w.destroyVolumes(spec)
	if err := os.RemoveAll(dir); err != nil {
		w.log.Warn("remove instance directory", "err", err)
	}
}

// shutdown is the runtime's Stop for this instance: processes and network
// go, the root volume stays, nothing is reported.
func (w *worker) shutdown() {
	if w.vm == nil && w.enis == nil {
		return
	}
	w.halt()
	w.releaseNet(nil)
}

// lineWriter keeps what is written to it as lines (for the console).
type lineWriter struct{ lines []string }

func (l *lineWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, line)
	}
	return len(p), nil
}

// layersName says, for the console, what the image's layers are.
func layersName(img ec2.ImageRoot, n int) string {
	switch {
	case img.Kind == ec2.ImageRootHost || img.Kind == "":
		return "the built-in image (this host's Debian packages)"
	case n == 1:
		return "the image's root filesystem"
	}
	return fmt.Sprintf("the image's %d layers", n)
}

func primaryENI(spec *ec2.InstanceSpec) ec2.InterfaceSpec {
	best := spec.NetworkInterfaces[0]
	for _, n := range spec.NetworkInterfaces {
		if n.DeviceIndex < best.DeviceIndex {
			best = n
		}
	}
	return best
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
