package netctl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcdns"
	"github.com/minicloud/minicloud/internal/vpcnet"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
)

// Timing of the controller; variables so that tests may shorten them
// (New reads them).
var (
	// Debounce is how long events are collected before a pass.
	Debounce = 20 * time.Millisecond
	// Tick is the period of the safety pass, and the longest back-off of
	// a failed one.
	Tick = 2 * time.Second
	// FullEvery is the period of full passes (every object re-ensured).
	FullEvery = 30 * time.Second
	// PassTimeout bounds one pass.
	PassTimeout = 30 * time.Second
)

// DesiredNetworker is the EC2 control plane as the controller sees it;
// *ec2.Service implements it.
type DesiredNetworker interface {
	DesiredNetwork(ctx context.Context) (*ec2.NetworkSpec, error)
}

// Controller converges the VPC data plane towards the desired network.
type Controller struct {
	src   DesiredNetworker
	net   *vpcnet.Network
	fw    *firewall.Firewall
	log   *slog.Logger
	names vpcnet.Names
	q     *reconcile.Controller[network]

	// needFull asks the next pass to be a full one (the first pass, after
	// lost events, after a failed full pass).
	needFull atomic.Bool

	mu     sync.Mutex // guards status
	status status

	dnsOn        bool
	dnsUpstreams []netip.AddrPort
	dnsZones     dnszone.Source
	dnsStats     vpcdns.Stats // what every resolver's limits refused
	dnsEndpoints dnszone.EndpointSources
	// dnsVPCEndpoints gives a VPC's own endpoint sets (EnableVPCEndpoints).
	dnsVPCEndpoints func(vpcID string) dnszone.EndpointSets

	// Owned by the pass (the reconcile package runs one at a time) and,
	// once the last pass returned, by the stop.
	dns      map[string]*vpcDNS
	vpcs     map[string]*vpcState
	enis     map[string]*eniState
	lastFull time.Time
}

// network is the controller's one key: a pass converges the whole
// network, which is cheap where nothing changed (see doc.go).
type network struct{}

func (network) String() string { return "network" }

// status is what the last pass applied, beside the reconcile counters.
type status struct {
	lastChanges int
	vpcs        []string
	enis        int
}

// vpcState is what the controller applied to one VPC.
type vpcState struct {
	cidrs    []netip.Prefix
	subnets  map[string]*subnetState
	igw      bool
	nats     map[string]netip.Addr // NAT gateway ID → public IP
	mappings map[netip.Addr]netip.Addr
}

type subnetState struct {
	cidr      netip.Prefix
	routes    []vpcnet.Route
	routesSet bool
	acl       *firewall.NetworkACL
}

// eniState is what the controller applied to one ENI.
type eniState struct {
	vpcID  string
	ns     string // namespace path
	nsID   string // its device:inode, to notice a replaced namespace
	iface  string
	groups []firewall.SecurityGroup
	exempt []netip.Prefix
}

// New returns a controller; nothing happens until Start.
func New(ec2svc DesiredNetworker, store state.Store, net *vpcnet.Network, fw *firewall.Firewall, logger *slog.Logger) *Controller {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{
		src: ec2svc, net: net, fw: fw,
		log:   logger.With("component", "netctl"),
		names: net.Names(),
		dns:   map[string]*vpcDNS{},
		vpcs:  map[string]*vpcState{},
		enis:  map[string]*eniState{},
	}
	c.needFull.Store(true)
	c.q = reconcile.New("netctl", reconcile.Func[network](c.pass), reconcile.Options[network]{
		Logger: logger,
		Store:  store,
		// Any EC2 record may change the desired network.
		Sources:  []reconcile.Source[network]{reconcile.Map("ec2", "", func(reconcile.Object) []network { return []network{{}} })},
		List:     func(context.Context) ([]network, error) { return []network{{}}, nil },
		Resync:   Tick,
		Debounce: Debounce,
		// A failed pass is retried soon: 100 ms doubling up to Tick.
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: Tick,
		EventsLost: func() { c.needFull.Store(true) },
		// The resolvers' sockets would keep router namespaces alive.
		OnStop: func() {
			for _, id := range sortedKeys(c.dns) {
				c.stopDNS(id)
			}
		},
	})
	return c
}

// Start subscribes to the store and reconciles in its own goroutines until
// Stop or ctx ends. It returns at once.
func (c *Controller) Start(ctx context.Context) error { return c.q.Start(ctx) }

// Stop ends reconciling and waits for the pass in progress, within ctx. The
// data plane stays as it is: a shutdown is not a deletion.
func (c *Controller) Stop(ctx context.Context) error { return c.q.Stop(ctx) }

// Trigger asks for a pass soon (after Debounce); it never blocks.
func (c *Controller) Trigger() { c.q.Enqueue(network{}) }

// Sync runs a pass that starts after the call and returns its error.
func (c *Controller) Sync(ctx context.Context) error { return c.q.Sync(ctx, network{}) }

// Status is the controller's health: VPCs applied, ENIs filtered, passes,
// the last pass's time and changes, and its error if it failed.
func (c *Controller) Status() map[string]any {
	st := c.q.Status()
	out := st.Map()
	c.mu.Lock()
	defer c.mu.Unlock()
	out["vpcs"] = slices.Clone(c.status.vpcs)
	out["enis"] = c.status.enis
	if !st.LastPass.IsZero() {
		out["lastChanges"] = c.status.lastChanges
	}
	if c.dnsOn {
		out["resolverLimits"] = c.dnsStats.Map()
	}
	return out
}

// pass reads the desired network and converges towards it.
func (c *Controller) pass(ctx context.Context, _ network) (reconcile.Result, error) {
	full := c.needFull.Swap(false) || time.Since(c.lastFull) >= FullEvery
	ctx, cancel := context.WithTimeout(ctx, PassTimeout)
	defer cancel()
	start := time.Now()
	changes := 0
	err := c.reconcile(ctx, full, &changes)
	switch {
	case err != nil && full:
		c.needFull.Store(true)
	case err == nil && full:
		c.lastFull = start
	}
	if err == nil && changes > 0 {
		c.log.Debug("network reconciled", "changes", changes, "full", full, "took", time.Since(start))
	}
	c.mu.Lock()
	c.status.lastChanges = changes
	c.status.vpcs = sortedKeys(c.vpcs)
	c.status.enis = len(c.enis)
	c.mu.Unlock()
	return reconcile.Result{}, err
}

func (c *Controller) reconcile(ctx context.Context, full bool, changes *int) error {
	spec, err := c.src.DesiredNetwork(ctx)
	if err != nil {
		return fmt.Errorf("netctl: read the desired network: %w", err)
	}
	desired := map[string]*ec2.VPCSpec{}
	for i := range spec.VPCs {
		desired[spec.VPCs[i].ID] = &spec.VPCs[i]
	}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// ENIs first when they go: their namespaces outlive VPCs.
	wantENI := map[string]bool{}
	for _, v := range spec.VPCs {
		for _, e := range v.ENIs {
			wantENI[e.ID] = true
		}
	}
	for _, id := range sortedKeys(c.enis) {
		if !wantENI[id] {
			note(c.forgetENI(id, changes))
		}
	}

	// 1. VPCs no longer desired, and (full passes) leftovers by name.
	for _, id := range sortedKeys(c.vpcs) {
		if desired[id] == nil {
			note(c.deleteVPC(ctx, id, changes))
		}
	}
	if full {
		for _, id := range c.routerNamespaces() {
			if desired[id] == nil && c.vpcs[id] == nil {
				c.log.Info("deleting leftover VPC router", "vpc", id)
				note(c.deleteVPC(ctx, id, changes))
			}
		}
	}

	// Public IPs that move released before any VPC maps one: an address
	// moving between VPCs (an Elastic IP re-associated with an instance of
	// another VPC), or between a mapping and a NAT gateway, keeps its host
	// route where it was until it is released there, so taking it first
	// failed with a conflict and the pass had to be retried. The other
	// releases wait for the end of the pass: a release deletes nftables
	// elements, which costs a grace period (10–20 ms), and a new
	// instance's mapping and security groups must not wait for the last
	// one's release.
	roles := publicRoles(spec)
	for i := range spec.VPCs {
		if st := c.vpcs[spec.VPCs[i].ID]; st != nil {
			errs = append(errs, c.releasePublic(ctx, &spec.VPCs[i], st, changes, roles)...)
		}
	}

	// 2. Desired VPCs.
	for i := range spec.VPCs {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := c.reconcileVPC(ctx, &spec.VPCs[i], full, changes); err != nil {
			note(err)
			continue
		}
		note(c.reconcileDNS(&spec.VPCs[i]))
	}

	// 3. ENIs.
	for i := range spec.VPCs {
		v := &spec.VPCs[i]
		for j := range v.ENIs {
			note(c.reconcileENI(v, &v.ENIs[j], full, changes))
		}
	}

	// 4. Everything else no longer wanted as it is.
	for i := range spec.VPCs {
		if st := c.vpcs[spec.VPCs[i].ID]; st != nil {
			errs = append(errs, c.releasePublic(ctx, &spec.VPCs[i], st, changes, nil)...)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) deleteVPC(ctx context.Context, id string, changes *int) error {
	for _, eid := range sortedKeys(c.enis) {
		if c.enis[eid].vpcID == id {
			if err := c.forgetENI(eid, changes); err != nil {
				return err
			}
		}
	}
	c.stopDNS(id)
	if err := c.net.DeleteVPC(ctx, id); err != nil {
		return fmt.Errorf("netctl: delete VPC %s: %w", id, err)
	}
	if c.vpcs[id] != nil {
		c.log.Info("deleted VPC network", "vpc", id)
	}
	delete(c.vpcs, id)
	*changes++
	return nil
}

// routerNamespaces lists the VPC IDs of the prefix's router namespaces.
func (c *Controller) routerNamespaces() []string {
	pfx := c.names.RouterNamespace("")
	names, _ := vpcnet.Namespaces(pfx)
	out := make([]string, 0, len(names))
	for _, n := range names {
		if id := strings.TrimPrefix(n, pfx); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func (c *Controller) routerPath(vpcID string) string {
	return vpcnet.NamespacePath(c.names.RouterNamespace(vpcID))
}

// vpcPass is one VPC's part of a pass: what it converges and the errors
// it meets (each step goes on past a failing object).
type vpcPass struct {
	c       *Controller
	ctx     context.Context
	v       *ec2.VPCSpec
	st      *vpcState
	force   bool // re-ensure everything (full pass, new or rebuilt router)
	router  string
	changes *int
	errs    []error
}

func (p *vpcPass) note(what string, err error) {
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("netctl: %s %s: %w", p.v.Key, what, err))
	}
}

// reconcileVPC converges one VPC: its router, its subnets, its internet
// gateway with the NAT gateways and public IPs behind it, and each subnet's
// routes and network ACL.
func (c *Controller) reconcileVPC(ctx context.Context, v *ec2.VPCSpec, full bool, changes *int) error {
	st, force, err := c.reconcileRouter(ctx, v, full, changes)
	if err != nil {
		return err
	}
	p := &vpcPass{c: c, ctx: ctx, v: v, st: st, force: force, router: c.routerPath(v.ID), changes: changes}
	p.subnets()
	p.internetGateway()
	p.subnetPolicies()
	return errors.Join(p.errs...)
}

// reconcileRouter ensures the VPC's router namespace with its CIDR blocks
// and returns what was applied to it; force is set when everything of the
// VPC must be ensured again (a full pass, a new or vanished router).
func (c *Controller) reconcileRouter(ctx context.Context, v *ec2.VPCSpec, full bool, changes *int) (st *vpcState, force bool, err error) {
	st = c.vpcs[v.ID]
	if st != nil && nsID(c.routerPath(v.ID)) == "" {
		c.log.Warn("VPC router namespace vanished; rebuilding", "vpc", v.ID)
		delete(c.vpcs, v.ID)
		st = nil
	}
	force = full || st == nil
	if force || !slices.Equal(st.cidrs, v.CIDRs) {
		if err := c.net.EnsureVPC(ctx, vpcnet.VPC{ID: v.ID, CIDRs: v.CIDRs}); err != nil {
			return nil, false, fmt.Errorf("netctl: VPC %s: %w", v.Key, err)
		}
		if st == nil {
			st = &vpcState{subnets: map[string]*subnetState{}, nats: map[string]netip.Addr{}, mappings: map[netip.Addr]netip.Addr{}}
			c.vpcs[v.ID] = st
			c.log.Info("VPC network ensured", "vpc", v.Key)
		}
		st.cidrs = slices.Clone(v.CIDRs)
		*changes++
	}
	return st, force, nil
}

// subnets deletes the subnets no longer wanted and ensures the others.
func (p *vpcPass) subnets() {
	c, v, st := p.c, p.v, p.st
	wantSub := map[string]*ec2.SubnetSpec{}
	for i := range v.Subnets {
		wantSub[v.Subnets[i].ID] = &v.Subnets[i]
	}
	for _, id := range sortedKeys(st.subnets) {
		if wantSub[id] != nil {
			continue
		}
		if err := c.fw.RemoveSubnetACL(p.router, c.names.Bridge(id)); err != nil {
			c.log.Debug("remove subnet ACL", "subnet", id, "err", err)
		}
		if err := c.net.DeleteSubnet(p.ctx, v.ID, id); err != nil {
			p.note("delete subnet "+id, err)
			continue
		}
		delete(st.subnets, id)
		*p.changes++
	}
	for _, s := range v.Subnets {
		ss := st.subnets[s.ID]
		if !p.force && ss != nil && ss.cidr == s.CIDR {
			continue
		}
		if err := c.net.EnsureSubnet(p.ctx, vpcnet.Subnet{VPCID: v.ID, ID: s.ID, CIDR: s.CIDR}); err != nil {
			p.note("subnet "+s.ID, err)
			continue
		}
		if ss == nil || ss.cidr != s.CIDR {
			ss = &subnetState{}
			st.subnets[s.ID] = ss
		}
		ss.cidr = s.CIDR
		*p.changes++
	}
}

// internetGateway ensures or removes the VPC's internet gateway and, with
// it, the NAT gateways and public IP mappings the VPC wants.
func (p *vpcPass) internetGateway() {
	c, v, st := p.c, p.v, p.st
	switch {
	case v.InternetGateway && (p.force || !st.igw):
		if err := c.net.EnsureInternetGateway(p.ctx, v.ID); err != nil {
			p.note("internet gateway", err)
		} else {
			st.igw = true
			*p.changes++
		}
	case !v.InternetGateway && st.igw:
		if err := c.net.DeleteInternetGateway(p.ctx, v.ID); err != nil {
			p.note("delete internet gateway", err)
		} else {
			st.igw = false
			*p.changes++
		}
	}
	if !st.igw {
		return
	}
	wantMap, wantNAT := wantedPublic(v)
	for _, id := range sortedKeys(wantNAT) {
		if pub, ok := st.nats[id]; ok && pub == wantNAT[id] && !p.force {
			continue
		}
		if err := c.net.EnsureNATGateway(p.ctx, vpcnet.NATGateway{ID: id, VPCID: v.ID, PublicIP: wantNAT[id]}); err != nil {
			p.note("NAT gateway "+id, err)
			continue
		}
		st.nats[id] = wantNAT[id]
		*p.changes++
	}
	p.publicIPs(wantMap)
}

// publicIPs maps the VPC's new public IPs, all in one call: vpcnet rewrites
// the NAT table once for them, not once per address.
func (p *vpcPass) publicIPs(want map[netip.Addr]netip.Addr) {
	st := p.st
	var batch []vpcnet.PublicIPMapping
	for _, pub := range sortedAddrs(want) {
		if priv, ok := st.mappings[pub]; ok && priv == want[pub] && !p.force {
			continue
		}
		batch = append(batch, vpcnet.PublicIPMapping{Public: pub, Private: want[pub]})
	}
	if len(batch) == 0 {
		return
	}
	failed, err := p.c.net.MapPublicIPs(p.ctx, p.v.ID, batch)
	if err != nil {
		p.note(fmt.Sprintf("map %d public IPs", len(batch)), err)
	}
	for _, m := range batch {
		if err == nil && failed[m.Public] == nil {
			st.mappings[m.Public] = m.Private
			*p.changes++
		} else if failed[m.Public] != nil {
			p.note("map "+m.Public.String(), failed[m.Public])
		}
	}
}

// subnetPolicies applies each ensured subnet's routes and network ACL.
func (p *vpcPass) subnetPolicies() {
	c := p.c
	for _, s := range p.v.Subnets {
		ss := p.st.subnets[s.ID]
		if ss == nil {
			continue // not ensured; noted by subnets
		}
		routes := toRoutes(s.Routes)
		if p.force || !ss.routesSet || !slices.Equal(ss.routes, routes) {
			if err := c.net.SetRoutes(p.ctx, p.v.ID, s.ID, routes); err != nil {
				p.note("routes of "+s.ID, err)
			} else {
				ss.routes, ss.routesSet = routes, true
				*p.changes++
			}
		}
		if p.force || ss.acl == nil || !reflect.DeepEqual(*ss.acl, s.ACL) {
			if err := c.fw.ApplySubnetACL(p.router, c.names.Bridge(s.ID), s.ACL); err != nil {
				p.note("network ACL of "+s.ID, err)
			} else {
				acl := s.ACL
				ss.acl = &acl
				*p.changes++
			}
		}
	}
}

// wantedPublic returns the public IP mappings (public → private) and NAT
// gateways (ID → public IP) v wants. Both need the internet gateway.
func wantedPublic(v *ec2.VPCSpec) (map[netip.Addr]netip.Addr, map[string]netip.Addr) {
	wantMap := map[netip.Addr]netip.Addr{}
	wantNAT := map[string]netip.Addr{}
	if v.InternetGateway {
		for _, p := range v.PublicIPs {
			wantMap[p.Public] = p.Private
		}
		for _, n := range v.NATGateways {
			wantNAT[n.ID] = n.PublicIP
		}
	}
	return wantMap, wantNAT
}

// publicRole is what a public IP is wanted for: a mapping or a NAT
// gateway's address, in a VPC.
type publicRole struct {
	vpcID string
	nat   bool
}

// publicRoles are the roles the desired network gives its public IPs.
func publicRoles(spec *ec2.NetworkSpec) map[netip.Addr]publicRole {
	out := map[netip.Addr]publicRole{}
	for i := range spec.VPCs {
		v := &spec.VPCs[i]
		wantMap, wantNAT := wantedPublic(v)
		for pub := range wantMap {
			out[pub] = publicRole{vpcID: v.ID}
		}
		for _, pub := range wantNAT {
			out[pub] = publicRole{vpcID: v.ID, nat: true}
		}
	}
	return out
}

// releasePublic unmaps the public IPs and deletes the NAT gateways applied
// to v that it no longer wants as they are — with moving set, only those
// whose address moving wants in another role (another VPC, or a mapping
// becoming a NAT gateway's or the reverse).
func (c *Controller) releasePublic(ctx context.Context, v *ec2.VPCSpec, st *vpcState, changes *int, moving map[netip.Addr]publicRole) []error {
	var errs []error
	note := func(what string, err error) {
		errs = append(errs, fmt.Errorf("netctl: %s %s: %w", v.Key, what, err))
	}
	elsewhere := func(pub netip.Addr, nat bool) bool {
		r, ok := moving[pub]
		return moving == nil || (ok && r != publicRole{vpcID: v.ID, nat: nat})
	}
	wantMap, wantNAT := wantedPublic(v)
	var unmap []netip.Addr
	for _, pub := range sortedAddrs(st.mappings) {
		if priv, ok := wantMap[pub]; (ok && priv == st.mappings[pub]) || !elsewhere(pub, false) {
			continue
		}
		unmap = append(unmap, pub)
	}
	if len(unmap) > 0 {
		// One NAT table write for all of them, as for mapping.
		if err := c.net.UnmapPublicIPs(ctx, v.ID, unmap); err != nil {
			note(fmt.Sprintf("unmap %d public IPs", len(unmap)), err)
		} else {
			for _, pub := range unmap {
				delete(st.mappings, pub)
				*changes++
			}
		}
	}
	for _, id := range sortedKeys(st.nats) {
		if pub, ok := wantNAT[id]; (ok && pub == st.nats[id]) || !elsewhere(st.nats[id], true) {
			continue
		}
		if err := c.net.DeleteNATGateway(ctx, v.ID, id); err != nil {
			note("delete NAT gateway "+id, err)
			continue
		}
		delete(st.nats, id)
		*changes++
	}
	return errs
}

// toRoutes converts a subnet's routes for vpcnet (local routes are
// implicit there).
func toRoutes(in []ec2.RouteSpec) []vpcnet.Route {
	out := []vpcnet.Route{}
	for _, r := range in {
		vr := vpcnet.Route{Destination: r.Destination}
		switch r.Target {
		case ec2.RouteLocal:
			continue
		case ec2.RouteIGW:
			vr.Target = vpcnet.TargetInternetGateway
		case ec2.RouteNAT:
			vr.Target, vr.NATGatewayID = vpcnet.TargetNATGateway, r.NATGatewayID
		case ec2.RouteGatewayEndpoint:
			// Down the endpoint's link once its controller (vpce) made it;
			// a blackhole until then.
			vr.Target, vr.EndpointID = vpcnet.TargetGatewayEndpoint, r.TargetID
		default:
			vr.Target = vpcnet.TargetBlackhole
		}
		out = append(out, vr)
	}
	return out
}

// eniNamespace is the path of the namespace an ENI lives in.
func (c *Controller) eniNamespace(e *ec2.ENISpec) string {
	owner := e.InstanceID
	if owner == "" {
		owner = e.ID
	}
	return vpcnet.NamespacePath(c.names.InstanceNamespace(owner))
}

func (c *Controller) reconcileENI(v *ec2.VPCSpec, e *ec2.ENISpec, full bool, changes *int) error {
	ns := c.eniNamespace(e)
	id := nsID(ns)
	iface := c.names.InstanceDevice(e.DeviceIndex)
	old := c.enis[e.ID]
	if old != nil && (old.ns != ns || old.nsID != id || old.iface != iface) {
		// Moved, re-plugged or its namespace is gone.
		if err := c.forgetENI(e.ID, changes); err != nil {
			return err
		}
		old = nil
	}
	if id == "" {
		return nil // no namespace (yet): the runtime has not plugged it in
	}
	exempt := slices.Clone(firewall.DefaultExempt)
	if v.Resolver.IsValid() {
		exempt = append(exempt, netip.PrefixFrom(v.Resolver, 32))
	}
	if !full && old != nil && slices.Equal(old.exempt, exempt) && reflect.DeepEqual(old.groups, e.Groups) {
		return nil
	}
	c.fw.Exempt = exempt
	if err := c.fw.ApplyENI(ns, iface, e.Groups); err != nil {
		return fmt.Errorf("netctl: security groups of %s in %s: %w", e.ID, ns, err)
	}
	if old == nil {
		c.log.Info("security groups applied", "eni", e.ID, "netns", ns, "iface", iface)
	}
	c.enis[e.ID] = &eniState{vpcID: v.ID, ns: ns, nsID: id, iface: iface, groups: e.Groups, exempt: exempt}
	*changes++
	return nil
}

// forgetENI removes an ENI's ruleset from its namespace if that still
// exists (it goes with the namespace otherwise) and forgets it.
func (c *Controller) forgetENI(id string, changes *int) error {
	st := c.enis[id]
	if st == nil {
		return nil
	}
	if cur := nsID(st.ns); cur != "" && cur == st.nsID {
		if err := c.fw.RemoveENI(st.ns, st.iface); err != nil {
			return fmt.Errorf("netctl: remove security groups of %s: %w", id, err)
		}
	}
	delete(c.enis, id)
	*changes++
	return nil
}

// nsID returns the device:inode of the namespace mounted at path, or ""
// when there is none.
func nsID(path string) string { return vpcnet.NamespaceID(path) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedAddrs(m map[netip.Addr]netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}
