// Package nodes runs Application Load Balancers on the VPC network: it is
// the data plane the ELBv2 controller drives (controller.Dataplane). Each
// node of a load balancer — one per enabled subnet, on the network
// interface the controller made there — is a workload placement (a network
// namespace of its own with that interface, its security groups applied by
// the kernel like any instance's) in which an internal/lb node listens on
// the listeners' ports and from which it dials the targets. Clients reach
// a node at its private IP, or at its public IP through the VPC's NAT like
// an instance's; targets see connections from the node's private IP, so
// their security groups decide, as on AWS, whether the load balancer's
// group may reach them.
//
// It converts the controller's View to lb.Config (attributes to their
// typed settings, security policies to TLS versions and ciphers through
// sslpolicy), serves HTTPS listeners' certificates from ACM (certport),
// gives the nodes of one load balancer one stickiness-cookie key, and
// merges the nodes' health checks into the one view DescribeTargetHealth
// and the DNS name's health show. It publishes the nodes' counters as
// CloudWatch's AWS/ApplicationELB metrics through a metricport.Publisher
// (metrics.go).
//
// It must not read the store nor know the API: the View is everything.
package nodes

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/lb"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
	"github.com/minicloud/minicloud/internal/service/elbv2/sslpolicy"
	"github.com/minicloud/minicloud/internal/workload"
)

// Workloads is what the nodes need of the workload runtime
// (*workload.Runtime): a namespace per node with its interface attached.
type Workloads interface {
	Place(ctx context.Context, name string, enis []workload.ENI) (*workload.Placement, error)
	Unplace(ctx context.Context, name string, also ...workload.ENI) error
}

// Config is what the data plane is built on.
type Config struct {
	Workloads Workloads
	// Certs is ACM; nil: HTTPS listeners find no certificate.
	Certs  certport.Port
	Logger *slog.Logger
	// MaxConnections caps each node's concurrent client connections
	// (default DefaultMaxConnections): each holds two descriptors of
	// minicloud's, its own and its target's.
	MaxConnections int
	// Metrics is where the nodes' counters are published as CloudWatch's
	// AWS/ApplicationELB metrics (metrics.go); nil publishes nothing.
	Metrics metricport.Publisher
	// MetricsInterval is how often (metricport.Interval: a minute unless
	// a test shortens it).
	MetricsInterval time.Duration
}

// DefaultMaxConnections is a node's default connection cap: enough for any
// test or demo, and a flood from one client stops there rather than at
// minicloud's descriptor limit.
const DefaultMaxConnections = 2048

// closeBudget is how long a node that goes away lets requests in flight
// finish.
const closeBudget = 5 * time.Second

// certTTL is how long a certificate read from ACM serves handshakes
// before it is read again (ACM may have renewed or reimported it).
const certTTL = 10 * time.Second

// Dataplane runs load balancers' nodes. It implements controller.Dataplane.
type Dataplane struct {
	cfg Config
	log *slog.Logger

	mu  sync.Mutex
	lbs map[string]*balancer // by load balancer ARN

	pub    metricport.Loop
	deltas metricport.Deltas[string] // guarded by pub: one reading at a time
}

var _ controller.Dataplane = (*Dataplane)(nil)

// balancer is one load balancer's running nodes.
type balancer struct {
	account, region string
	// cookieKey seals stickiness cookies on every node of the load
	// balancer, so a client can move between them. It lives as long as the
	// process: after a restart of minicloud earlier cookies are ignored
	// (the client is balanced again), as after an ALB's key rotation.
	cookieKey []byte
	// busy serializes what changes the nodes (Apply, Remove, Stop).
	busy sync.Mutex
	// nodes and groups are guarded by the Dataplane's mu.
	nodes  map[string]*node // by ENI ID
	groups []string         // the target groups of the last View
	certs  sync.Map         // ARN → *cachedCert
}

// node is one node: its interface and the lb node serving in the
// namespace placed on it.
type node struct {
	eni workload.ENI
	az  string // its subnet's zone, CloudWatch's AvailabilityZone
	lb  *lb.Node
}

type cachedCert struct {
	cert *tls.Certificate
	at   time.Time
}

// New returns a data plane that runs nothing until Apply.
func New(cfg Config) *Dataplane {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	return &Dataplane{cfg: cfg, log: cfg.Logger.With("component", "lb-nodes"), lbs: map[string]*balancer{}}
}

// Apply implements controller.Dataplane: it places the View's nodes that
// do not run yet, gives every node the View's configuration, and stops
// nodes the View no longer has.
//
// d.mu is never held while a node is placed, updated or stopped: placing
// waits for a pass of the network controller, which reads the store, and
// the API reads TargetHealth inside store transactions.
func (d *Dataplane) Apply(ctx context.Context, v controller.View) error {
	cfg, err := Convert(v)
	if err != nil {
		return err
	}
	groups := make([]string, 0, len(v.TargetGroups))
	for _, tg := range v.TargetGroups {
		groups = append(groups, tg.ARN)
	}
	d.mu.Lock()
	b := d.lbs[v.ARN]
	if b == nil {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		b = &balancer{account: v.Account, region: v.Region, cookieKey: key, nodes: map[string]*node{}}
		d.lbs[v.ARN] = b
	}
	b.groups = groups
	d.mu.Unlock()

	b.busy.Lock()
	defer b.busy.Unlock()
	var errs []error
	for _, vn := range v.Nodes {
		n := d.nodeOf(b, vn.ENIID)
		if n == nil {
			if n, err = d.start(ctx, b, v, vn); err != nil {
				errs = append(errs, err)
				continue
			}
			d.mu.Lock()
			b.nodes[vn.ENIID] = n
			d.mu.Unlock()
		}
		if err := n.lb.Update(ctx, cfg); err != nil {
			errs = append(errs, fmt.Errorf("node %s of %s: %w", vn.ENIID, v.Name, err))
		}
	}
	d.mu.Lock()
	var gone []*node
	for id, n := range b.nodes {
		if !slices.ContainsFunc(v.Nodes, func(x controller.Node) bool { return x.ENIID == id }) {
			gone = append(gone, n)
		}
	}
	d.mu.Unlock()
	for _, n := range gone {
		if err := d.stop(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		d.mu.Lock()
		delete(b.nodes, n.eni.ID)
		d.mu.Unlock()
	}
	return errors.Join(errs...)
}

// nodeOf is b's node on interface eni, or nil.
func (d *Dataplane) nodeOf(b *balancer, eni string) *node {
	d.mu.Lock()
	defer d.mu.Unlock()
	return b.nodes[eni]
}

// start places a node on its interface and starts its lb node there.
func (d *Dataplane) start(ctx context.Context, b *balancer, v controller.View, vn controller.Node) (*node, error) {
	eni := eniOf(vn, v.VPCID)
	pl, err := d.cfg.Workloads.Place(ctx, vn.ENIID, []workload.ENI{eni})
	if err != nil {
		return nil, fmt.Errorf("place node %s of %s: %w", vn.ENIID, v.Name, err)
	}
	ns := pl.NS
	n, err := lb.New(lb.Options{
		Listen: func(_ context.Context, port int) (net.Listener, error) {
			return workload.ListenIn(ns, "tcp", net.JoinHostPort(vn.PrivateIP.String(), strconv.Itoa(port)))
		},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			timeout := 10 * time.Second
			if dl, ok := ctx.Deadline(); ok {
				timeout = time.Until(dl)
			}
			return workload.DialIn(ns, network, addr, timeout)
		},
		Certificate: func(ctx context.Context, arn string) (*tls.Certificate, error) {
			return d.certificate(ctx, b, arn)
		},
		Logger:         d.log.With("loadBalancer", v.ARN, "node", vn.ENIID),
		CookieKey:      b.cookieKey,
		MaxConnections: d.cfg.MaxConnections,
	})
	if err != nil {
		_ = d.cfg.Workloads.Unplace(context.WithoutCancel(ctx), vn.ENIID, eni)
		return nil, fmt.Errorf("node %s of %s: %w", vn.ENIID, v.Name, err)
	}
	return &node{eni: eni, az: vn.AvailabilityZone, lb: n}, nil
}

// eniOf is a node's interface as the workload runtime places it; vpcID
// stands in for a node recorded before nodes carried their VPC.
func eniOf(vn controller.Node, vpcID string) workload.ENI {
	mac, _ := net.ParseMAC(vn.MAC)
	return workload.ENI{ID: vn.ENIID, VPCID: cmp.Or(vn.VPCID, vpcID), SubnetID: vn.SubnetID, MAC: mac, IP: vn.PrivateIP}
}

// stop ends a node: its connections get closeBudget to finish, then its
// namespace goes.
func (d *Dataplane) stop(ctx context.Context, n *node) error {
	if n.lb != nil {
		cctx, cancel := context.WithTimeout(ctx, closeBudget)
		err := n.lb.Close(cctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			d.log.Warn("close a load balancer node", "eni", n.eni.ID, "err", err)
		}
	}
	if err := d.cfg.Workloads.Unplace(context.WithoutCancel(ctx), n.eni.ID, n.eni); err != nil {
		return fmt.Errorf("remove node %s: %w", n.eni.ID, err)
	}
	return nil
}

// Remove implements controller.Dataplane.
func (d *Dataplane) Remove(ctx context.Context, _, _, arn string, nodes []controller.Node) error {
	d.mu.Lock()
	b := d.lbs[arn]
	d.mu.Unlock()
	if b != nil {
		b.busy.Lock()
		defer b.busy.Unlock()
	}
	var errs []error
	for _, vn := range nodes {
		var n *node
		if b != nil {
			n = d.nodeOf(b, vn.ENIID)
		}
		if n == nil {
			// Placed by an earlier run of minicloud, or never: Unplace
			// needs the interface to find what is left of it.
			n = &node{eni: eniOf(vn, "")}
		}
		if err := d.stop(ctx, n); err != nil {
			errs = append(errs, err)
			continue
		}
		if b != nil {
			d.mu.Lock()
			delete(b.nodes, vn.ENIID)
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	if b != nil && len(b.nodes) == 0 && len(errs) == 0 && d.lbs[arn] == b {
		delete(d.lbs, arn)
	}
	d.mu.Unlock()
	return errors.Join(errs...)
}

// TargetHealth implements controller.Dataplane: the target group's
// targets as the nodes of every load balancer that forwards to it see
// them. Each node routes by its own checks, so a target is shown unhealthy
// only once every node that checks it has taken it out of rotation (then
// no request goes to it), healthy as soon as one node sends it traffic,
// and missing until a node has a result.
func (d *Dataplane) TargetHealth(account, region, targetGroupARN string) map[controller.TargetKey]controller.Health {
	d.mu.Lock()
	var nodes []*lb.Node
	for _, b := range d.lbs {
		if b.account != account || b.region != region || !slices.Contains(b.groups, targetGroupARN) {
			continue
		}
		for _, n := range b.nodes {
			nodes = append(nodes, n.lb)
		}
	}
	d.mu.Unlock()
	out := map[controller.TargetKey]controller.Health{}
	for _, n := range nodes {
		for _, th := range n.Health()[targetGroupARN] {
			k := controller.TargetKey{ID: th.Target.ID, Port: int32(th.Target.Port)}
			h := controller.Health{State: th.State, Reason: th.Reason, Description: th.Description}
			prev, seen := out[k]
			if !seen || rank(h.State) > rank(prev.State) {
				out[k] = h
			}
		}
	}
	return out
}

// rank orders health states for merging: the state of the node that
// still routes to a target wins over that of one that took it out.
func rank(state string) int {
	switch state {
	case lb.StateHealthy:
		return 3
	case lb.StateInitial:
		return 2
	case lb.StateUnhealthy:
		return 1
	}
	return 0
}

// Counters are the counters of every node of the load balancer arn, by
// node ENI ID (for CloudWatch).
func (d *Dataplane) Counters(arn string) map[string]lb.Counters {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.lbs[arn]
	if b == nil {
		return nil
	}
	out := make(map[string]lb.Counters, len(b.nodes))
	for id, n := range b.nodes {
		out[id] = n.lb.Counters()
	}
	return out
}

// Health is the number of load balancers and nodes running, for
// /_minicloud/health; a nil Dataplane (no data plane) is off.
func (d *Dataplane) Health() map[string]any {
	if d == nil {
		return map[string]any{"state": "off"}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, b := range d.lbs {
		n += len(b.nodes)
	}
	return map[string]any{"state": "on", "loadBalancers": len(d.lbs), "nodes": n}
}

// Stop stops every node, leaving their namespaces for the next start
// (whose Apply places the same interfaces again).
func (d *Dataplane) Stop(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.pub.Stop()
	d.mu.Lock()
	lbs := d.lbs
	d.lbs = map[string]*balancer{}
	d.mu.Unlock()
	var errs []error
	for _, b := range lbs {
		b.busy.Lock()
		for _, n := range b.nodes {
			errs = append(errs, n.lb.Close(ctx))
		}
		b.busy.Unlock()
	}
	return errors.Join(errs...)
}

// certificate is an ACM certificate as a handshake needs it, read again
// once certTTL has passed. The API lets a listener take only an issued
// certificate (CertificateNotFound otherwise); what happens to it later
// (expiry, revocation) shows to clients in the certificate itself.
func (d *Dataplane) certificate(ctx context.Context, b *balancer, arn string) (*tls.Certificate, error) {
	if c, ok := b.certs.Load(arn); ok && time.Since(c.(*cachedCert).at) < certTTL {
		return c.(*cachedCert).cert, nil
	}
	if d.cfg.Certs == nil {
		return nil, fmt.Errorf("certificate %s: no certificate manager", arn)
	}
	c, found, err := d.cfg.Certs.Certificate(ctx, b.account, b.region, arn)
	switch {
	case err != nil:
		return nil, fmt.Errorf("certificate %s: %w", arn, err)
	case !found:
		return nil, fmt.Errorf("certificate %s not found", arn)
	case len(c.CertificatePEM) == 0 || len(c.PrivateKeyPEM) == 0:
		// A listener keeps serving a certificate that expired (or was
		// revoked) since it was attached, as an ALB does: clients refuse
		// it themselves. One without material yet cannot be served.
		return nil, fmt.Errorf("certificate %s is %s", arn, c.Status)
	}
	pair, err := tls.X509KeyPair(append(append(slices.Clone(c.CertificatePEM), '\n'), c.ChainPEM...), c.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", arn, err)
	}
	b.certs.Store(arn, &cachedCert{cert: &pair, at: time.Now()})
	return &pair, nil
}

// Convert is a View as an lb node serves it.
func Convert(v controller.View) (lb.Config, error) {
	a := v.Attributes
	cfg := lb.Config{
		LoadBalancer:            v.ARN,
		IdleTimeout:             seconds(a["idle_timeout.timeout_seconds"]),
		HTTP2Disabled:           a["routing.http2.enabled"] == "false",
		DropInvalidHeaderFields: a["routing.http.drop_invalid_header_fields.enabled"] == "true",
		XFFMode:                 a["routing.http.xff_header_processing.mode"],
		XFFClientPort:           a["routing.http.xff_client_port.enabled"] == "true",
	}
	for _, l := range v.Listeners {
		ll := lb.Listener{Port: int(l.Port), Protocol: l.Protocol, Certificates: slices.Clone(l.Certificates)}
		if l.Protocol == lb.HTTPS {
			p, ok := sslpolicy.Lookup(cmp.Or(l.SSLPolicy, sslpolicy.Default))
			if !ok {
				return lb.Config{}, fmt.Errorf("listener %s: unknown security policy %q", l.ARN, l.SSLPolicy)
			}
			tc := p.TLSConfig()
			ll.TLS = &lb.TLSPolicy{MinVersion: tc.MinVersion, MaxVersion: tc.MaxVersion, CipherSuites: tc.CipherSuites}
		}
		for _, r := range l.Rules {
			actions := convertActions(r.Actions)
			if r.IsDefault {
				ll.DefaultActions = actions
				continue
			}
			rr := lb.Rule{Priority: r.Priority, Actions: actions}
			for _, c := range r.Conditions {
				cc := lb.Condition{Field: c.Field, Values: slices.Clone(c.Values), HeaderName: c.HeaderName}
				for _, kv := range c.QueryStrings {
					cc.QueryString = append(cc.QueryString, lb.KeyValue{Key: kv.Key, Value: kv.Value})
				}
				rr.Conditions = append(rr.Conditions, cc)
			}
			ll.Rules = append(ll.Rules, rr)
		}
		cfg.Listeners = append(cfg.Listeners, ll)
	}
	for _, tg := range v.TargetGroups {
		cfg.TargetGroups = append(cfg.TargetGroups, convertGroup(tg))
	}
	return cfg, nil
}

func convertActions(actions []controller.Action) []lb.Action {
	var out []lb.Action
	for _, a := range actions {
		la := lb.Action{Type: a.Type, Order: int(a.Order)}
		switch {
		case a.Forward != nil:
			for _, t := range a.Forward.TargetGroups {
				la.TargetGroups = append(la.TargetGroups, lb.WeightedTargetGroup{ARN: t.ARN, Weight: int(t.Weight)})
			}
			la.GroupStickiness = a.Forward.Stickiness
		case a.Redirect != nil:
			r := a.Redirect
			la.Redirect = &lb.Redirect{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Path: r.Path, Query: r.Query,
				StatusCode: "HTTP_" + strconv.Itoa(r.StatusCode)}
		case a.FixedResponse != nil:
			f := a.FixedResponse
			la.FixedResponse = &lb.FixedResponse{StatusCode: strconv.Itoa(f.StatusCode), ContentType: f.ContentType, MessageBody: f.Body}
		}
		out = append(out, la)
	}
	return out
}

// convertGroup is a target group with its attributes typed. Draining
// registrations are left out: the lb node drains a target that leaves its
// Config for the group's deregistration delay, and stops routing new
// requests to it at once.
func convertGroup(tg controller.TargetGroup) lb.TargetGroup {
	a := tg.Attributes
	hc := tg.HealthCheck
	g := lb.TargetGroup{ARN: tg.ARN, Protocol: tg.Protocol, Port: int(tg.Port),
		Algorithm:           a["load_balancing.algorithm.type"],
		SlowStart:           seconds(a["slow_start.duration_seconds"]),
		DeregistrationDelay: lb.DefaultDeregistrationDelay,
		HealthCheck: lb.HealthCheck{Disabled: !hc.Enabled, Protocol: hc.Protocol, Path: hc.Path, Interval: hc.Interval,
			Timeout: hc.Timeout, HealthyThreshold: int(hc.HealthyThreshold), UnhealthyThreshold: int(hc.UnhealthyThreshold),
			Matcher: hc.Matcher},
	}
	if s, ok := a["deregistration_delay.timeout_seconds"]; ok {
		g.DeregistrationDelay = seconds(s)
	}
	if p, err := strconv.Atoi(hc.Port); err == nil {
		g.HealthCheck.Port = p
	}
	if a["stickiness.enabled"] == "true" {
		st := lb.Stickiness{Type: cmp.Or(a["stickiness.type"], lb.StickyLBCookie)}
		if st.Type == lb.StickyAppCookie {
			st.Duration, st.AppCookieName = seconds(a["stickiness.app_cookie.duration_seconds"]), a["stickiness.app_cookie.cookie_name"]
		} else {
			st.Duration = seconds(a["stickiness.lb_cookie.duration_seconds"])
		}
		g.Stickiness = st
	}
	for _, t := range tg.Targets {
		if t.State == controller.Draining {
			continue
		}
		g.Targets = append(g.Targets, lb.Target{ID: t.ID, Address: addr(t.IP), Port: int(t.Port), AZ: t.AvailabilityZone,
			Stopped: t.State == controller.Invalid})
	}
	return g
}

func addr(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}

// seconds is an attribute's whole seconds as a duration; 0 when unset or
// not a number (lb's default then applies).
func seconds(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}
