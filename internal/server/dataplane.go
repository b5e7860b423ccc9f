package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/guestlimit"
	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/netctl"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
	"github.com/minicloud/minicloud/internal/workload"
)

// Data-plane modes (--data-plane).
const (
	DataPlaneOff  = "off"
	DataPlaneAuto = "auto" // on when this host can run it, else off with the reason in health
	DataPlaneOn   = "on"   // on, or fail to start
)

// dataPlane is the VPC network, its controller, the workload runtime every
// data plane runs its processes with, and the instance runtime.
type dataPlane struct {
	net     *vpcnet.Network
	fw      *firewall.Firewall
	ctl     atomic.Pointer[netctl.Controller]
	wl      *workload.Runtime
	rt      *instruntime.Runtime
	tempDir string // removed on close (ephemeral state)
	reason  string // why it is off, when it is
	// next is the network controller wire built, which Start starts and
	// then publishes in ctl.
	next *netctl.Controller
}

// Prefix is the short name every host object of a minicloud carries:
// derived from its state directory, so that a restart finds its own objects
// and two minicloud processes on one host never share any.
func Prefix(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return "mc" + hex.EncodeToString(sum[:])[:5]
}

// newDataPlane builds the data plane for cfg, or returns one that is off
// with its reason.
func newDataPlane(cfg Config, metrics metricport.Publisher, ca *pki.Authority) (*dataPlane, error) {
	dp := &dataPlane{}
	mode := cfg.DataPlane
	if mode == "" {
		mode = DataPlaneOff
	}
	if mode == DataPlaneOff {
		dp.reason = "the data plane is off (--data-plane=off)"
		return dp, nil
	}
	dir := cfg.StateDir
	if cfg.Ephemeral {
		d, err := os.MkdirTemp("", "minicloud-")
		if err != nil {
			return nil, fmt.Errorf("data plane: %w", err)
		}
		dir, dp.tempDir = d, d
	}
	prefix := Prefix(dir)
	n, err := vpcnet.New(vpcnet.Config{Prefix: prefix, PublicCIDR: cfg.PublicCIDR, Logger: cfg.Logger})
	if err == nil {
		if ok, why := n.Available(); !ok {
			err = errors.New(why)
		}
	}
	if err != nil {
		dp.close()
		if mode == DataPlaneOn {
			return nil, fmt.Errorf("data plane: %w", err)
		}
		return &dataPlane{reason: "the data plane cannot run on this host: " + err.Error()}, nil
	}
	if err := n.GuardPublicRange(context.Background()); err != nil {
		_ = n.Close()
		dp.close()
		if mode == DataPlaneOn {
			return nil, fmt.Errorf("data plane: %w", err)
		}
		return &dataPlane{reason: "the data plane cannot run on this host: " + err.Error()}, nil
	}
	dp.net = n
	dp.fw = firewall.New(prefix)
	// Read RLIMIT_NOFILE now, at start, rather than at the first guest's
	// connection.
	guestlimit.Process()
	trigger := func() {
		if c := dp.ctl.Load(); c != nil {
			c.Trigger()
		}
	}
	dp.wl = workload.New(workload.Config{Net: n, Sync: dp.sync, Trigger: trigger, CgroupPrefix: prefix, Logger: cfg.Logger})
	dp.rt = instruntime.New(instruntime.Config{
		Net:             n,
		Workloads:       dp.wl,
		Dir:             filepath.Join(dir, "instances"),
		Prefix:          prefix,
		Logger:          cfg.Logger,
		Trigger:         trigger,
		Sync:            dp.sync,
		Metrics:         metrics,
		MetricsInterval: cfg.MetricsInterval,
		CACert:          ca.RootPEM,
	})
	return dp, nil
}

// sync runs a pass of the network controller and waits for it.
func (dp *dataPlane) sync(ctx context.Context) error {
	if c := dp.ctl.Load(); c != nil {
		return c.Sync(ctx)
	}
	return errors.New("the network controller is not running")
}

// wire builds the network controller over what it reads: EC2's desired
// network, the store, and the names the VPC resolvers answer (Route 53's
// zones, RDS's endpoints, AWS's service names). Start starts it.
// vpcEndpoints, when set, gives each VPC's interface endpoints' private
// DNS names (vpce.Controller PrivateDNS).
func (dp *dataPlane) wire(ec2svc netctl.DesiredNetworker, store state.Store, zones dnszone.Source, endpoints dnszone.EndpointSources,
	vpcEndpoints func(vpcID string) dnszone.EndpointSets, logger *slog.Logger) {
	if dp.net == nil {
		return
	}
	c := netctl.New(ec2svc, store, dp.net, dp.fw, logger)
	c.EnableDNS(dnsUpstreams(), zones)
	c.EnableEndpoints(endpoints...)
	if vpcEndpoints != nil {
		c.EnableVPCEndpoints(vpcEndpoints)
	}
	dp.next = c
}

// Start starts the network controller, before the instance runtime, so that
// the instances it boots find their VPC's network. It fails without a
// trace: the network handles and a temporary state directory are released.
func (dp *dataPlane) Start(ctx context.Context) error {
	if dp.next == nil {
		return nil
	}
	// The controller runs until Stop, not for the length of the start.
	if err := dp.next.Start(context.WithoutCancel(ctx)); err != nil {
		dp.close()
		return err
	}
	dp.ctl.Store(dp.next)
	return nil
}

// Health reports the data plane for /_minicloud/health.
func (dp *dataPlane) Health() map[string]any {
	if dp.net == nil {
		return map[string]any{"state": "off", "reason": dp.reason}
	}
	// The descriptors guests' connections may hold, of RLIMIT_NOFILE.
	h := map[string]any{"state": "on", "prefix": dp.net.Names().Prefix, "guestBudget": guestlimit.Process().Stats()}
	if c := dp.ctl.Load(); c != nil {
		h["network"] = c.Status()
	}
	if st := dp.rt.Status(); st != nil {
		h["instanceRuntime"] = st
	}
	return h
}

// Stop stops the network controller (after the runtime has stopped the
// instances) and removes a temporary state directory. The VPC networks stay
// in the kernel for the next start, except with ephemeral state, which has
// no next start: then everything is removed.
func (dp *dataPlane) Stop(ctx context.Context) error {
	var errs []error
	if c := dp.ctl.Load(); c != nil {
		errs = append(errs, c.Stop(ctx))
	}
	if dp.net != nil && dp.tempDir != "" {
		errs = append(errs, dp.net.Cleanup(ctx))
	}
	dp.close()
	return errors.Join(errs...)
}

func (dp *dataPlane) close() {
	if dp.net != nil {
		_ = dp.net.Close()
	}
	if dp.tempDir != "" {
		_ = os.RemoveAll(dp.tempDir)
	}
}

// dnsUpstreams are the servers the VPC resolvers forward other names to:
// the host's resolvers from /etc/resolv.conf that are on loopback (such as
// systemd-resolved's 127.0.0.53). Other resolvers would make every instance
// lookup leave the host, which minicloud does not do on its own; without a
// loopback resolver, names outside the VPC get SERVFAIL.
func dnsUpstreams() []netip.AddrPort {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []netip.AddrPort
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
			out = append(out, netip.AddrPortFrom(a, 53))
		}
	}
	return out
}

// DataPlane says whether this server's VPCs are real networks and its
// instances real processes and, when they are not, why (as
// /_minicloud/health says under dataPlane).
func (s *Server) DataPlane() (on bool, reason string) {
	for _, p := range s.parts {
		if dp, ok := p.it.(*dataPlane); ok {
			return dp.net != nil, dp.reason
		}
	}
	return false, "no data plane was built"
}

// PublicCIDR is the range the server hands public IPs from.
func (s *Server) PublicCIDR() netip.Prefix { return publicCIDR(s.cfg) }
