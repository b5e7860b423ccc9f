package ssm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/reconcile"
)

// Managed instances. On AWS an EC2 instance is managed when its SSM Agent
// registers and keeps pinging Systems Manager: the agent runs, the
// instance profile's role lets it call ssm:UpdateInstanceInformation,
// ssmmessages:… and ec2messages:… (what AmazonSSMManagedInstanceCore
// grants), and it reaches ssm.<region>.amazonaws.com from the instance,
// through an internet gateway, a NAT or an interface endpoint.
// minicloud plays the agent: the agents controller below checks each
// running instance as the agent would find itself, off the request path,
// every CheckInterval and when EC2 changes an instance:
//
//   - its profile's role allows the core actions, by IAM's policy engine
//     (the role's policies, boundary and all, as the agent's requests
//     would be evaluated);
//   - from inside the instance's own network namespace, the name
//     ssm.<region>.amazonaws.com resolves through the VPC's resolver
//     (169.254.169.253) and TCP port 443 of the address it answers
//     accepts a connection, with the instance's own routes and security
//     groups in the way, as they are in the agent's.
//
// An instance that passes is Online with LastPingDateTime now and is
// registered (listed by DescribeInstanceInformation from then on); one
// that stops passing keeps its last ping and becomes ConnectionLost once
// Config.ConnectionLostAfter has passed since, as AWS shows an agent that
// went silent. An instance that never passed is not listed; a terminated
// one is deregistered. What the controller learns is kept in memory:
// after a restart every instance is checked again at once.
//
// Contract: the controller only reads EC2 and IAM (through their ports)
// and writes its own table in memory; DescribeInstanceInformation only
// reads that table, and TargetConnected reads it and, for an instance
// that has not passed, asks the controller for a check now (Sync) rather
// than checking by itself.

// Instance is an EC2 instance as the agent sees its host.
type Instance struct {
	Account, Region, ID string
	// State is EC2's state name (running, stopped…).
	State string
	// ProfileARN is the instance profile's ARN ("" none).
	ProfileARN string
	PrivateIP  string
	// Hostname is the instance's private DNS name (the agent's
	// ComputerName).
	Hostname string
	// PlatformName and PlatformVersion are what the agent reads from
	// the operating system ("Amazon Linux", "2023").
	PlatformName, PlatformVersion string
	Tags                          map[string]string
}

// Instances is EC2 as the agents controller sees it.
type Instances interface {
	// Instance is one instance; found is false once EC2 forgot it.
	Instance(ctx context.Context, account, region, id string) (inst Instance, found bool, err error)
	// InstanceKeys are every instance's keys.
	InstanceKeys(ctx context.Context) ([]reconcile.Key, error)
}

// Policies answers an IAM principal's policies (iam.Service does).
type Policies interface {
	PoliciesFor(ctx context.Context, p iampolicy.Principal) (iampolicy.PolicySet, map[string]string, error)
}

// agentVersion is the SSM Agent version minicloud reports.
const agentVersion = "3.3.1142.0"

// coreActions are the agent's calls its role must allow.
var coreActions = []string{"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ec2messages:GetMessages"}

// agentStatus is what the controller knows of one instance's agent.
type agentStatus struct {
	inst       Instance
	roleName   string
	registered time.Time
	lastPing   time.Time
	// online: the last check passed.
	online bool
	// reason is why the last check failed.
	reason string
}

// agents is the managed-instance controller.
type agents struct {
	s   *Service
	ctl *reconcile.Controller[reconcile.Key]
	mu  sync.RWMutex
	// status is by instance.
	status map[reconcile.Key]*agentStatus
}

func newAgents(s *Service) *agents {
	a := &agents{s: s, status: map[reconcile.Key]*agentStatus{}}
	a.ctl = reconcile.New("ssm agents", reconcile.Func[reconcile.Key](a.reconcile), reconcile.Options[reconcile.Key]{
		Logger:  s.cfg.Logger,
		Store:   s.store,
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Objects("ec2", "instance")},
		List: func(ctx context.Context) ([]reconcile.Key, error) {
			if s.cfg.Instances == nil {
				return nil, nil
			}
			return s.cfg.Instances.InstanceKeys(ctx)
		},
		Resync:   s.cfg.CheckInterval,
		Debounce: 200 * time.Millisecond,
	})
	return a
}

// reconcile checks one instance now.
func (a *agents) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	if a.s.cfg.Instances == nil {
		return reconcile.Result{}, nil
	}
	inst, found, err := a.s.cfg.Instances.Instance(ctx, k.Account, k.Region, k.ID)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !found || inst.State == "shutting-down" || inst.State == "terminated" {
		// A terminated instance's agent is deregistered.
		a.mu.Lock()
		delete(a.status, k)
		a.mu.Unlock()
		return reconcile.Result{}, nil
	}
	role, reason := a.check(ctx, inst)
	now := a.s.cfg.Now().UTC()
	a.mu.Lock()
	st := a.status[k]
	if st == nil && reason == "" {
		st = &agentStatus{registered: now}
		a.status[k] = st
	}
	if st != nil {
		st.inst, st.online, st.reason = inst, reason == "", reason
		if reason == "" {
			st.lastPing, st.roleName = now, role
		}
	}
	a.mu.Unlock()
	if inst.State != "running" && inst.State != "pending" {
		return reconcile.Result{}, nil
	}
	return reconcile.Requeue(a.s.cfg.CheckInterval), nil
}

// check is the agent's view of its instance: the role's name when it
// would register, else why not.
func (a *agents) check(ctx context.Context, inst Instance) (role, reason string) {
	if inst.State != "running" {
		return "", "the instance is " + inst.State
	}
	if inst.ProfileARN == "" || a.s.cfg.Profiles == nil {
		return "", "the instance has no instance profile"
	}
	p, found, err := iamport.ProfileByARN(ctx, a.s.cfg.Profiles, inst.Account, inst.ProfileARN)
	if err != nil {
		return "", err.Error()
	}
	if !found || p.Role.ARN == "" {
		return "", "the instance profile has no role"
	}
	principal := iampolicy.Principal{Type: iampolicy.AssumedRole, Account: inst.Account, RoleARN: p.Role.ARN,
		ARN:    fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partitionOf(inst.Region), inst.Account, p.Role.Name, inst.ID),
		UserID: p.Role.ID + ":" + inst.ID}
	if a.s.cfg.Policies == nil {
		return "", "IAM is not available"
	}
	set, tags, err := a.s.cfg.Policies.PoliciesFor(ctx, principal)
	if err != nil {
		return "", err.Error()
	}
	principal.Tags = tags
	for _, action := range coreActions {
		d := iampolicy.Evaluate(iampolicy.Request{Principal: principal, Action: action, Context: iampolicy.Context{}}, set)
		if !d.Allowed() {
			return "", fmt.Sprintf("the role %s is not allowed %s", p.Role.Name, action)
		}
	}
	if a.s.cfg.Reach == nil {
		return "", "the instance has no network (the data plane is off)"
	}
	host := "ssm." + inst.Region + ".amazonaws.com"
	if err := a.s.cfg.Reach(ctx, inst, host, 443); err != nil {
		return "", fmt.Sprintf("the agent cannot reach %s: %v", host, err)
	}
	return p.Role.Name, ""
}

// resolverAddress is the VPC resolver every instance reaches.
const resolverAddress = "169.254.169.253:53"

// probeTimeout bounds each step of a reachability check.
const probeTimeout = 3 * time.Second

// reach resolves host through the VPC resolver and connects to port,
// both from inside the instance (agentport.Dialer: the sockets are made in
// its network namespace), as the agent's own connections are made.
func reach(ctx context.Context, d agentport.Dialer, inst Instance, host string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	t := agentport.Target{Account: inst.Account, Region: inst.Region, InstanceID: inst.ID}
	udp, err := d.Dial(ctx, t, "udp", resolverAddress)
	if err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	addr, err := lookupA(ctx, udp, host)
	udp.Close()
	if err != nil {
		return err
	}
	c, err := d.Dial(ctx, t, "tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return c.Close()
}

// lookupA asks the resolver on conn for host's first IPv4 address.
func lookupA(ctx context.Context, conn net.Conn, host string) (netip.Addr, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(host), dns.TypeA)
	deadline := time.Now().Add(probeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	c := &dns.Conn{Conn: conn}
	if err := c.WriteMsg(q); err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	r, err := c.ReadMsg()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			if addr, ok := netip.AddrFromSlice(a.A.To4()); ok {
				return addr, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("resolve %s: %s, no address", host, dns.RcodeToString[r.Rcode])
}

func partitionOf(region string) string {
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	}
	return "aws"
}

// pingStatus is an agent's PingStatus now: Online while its last ping is
// within the window, ConnectionLost after.
func (a *agents) pingStatus(st *agentStatus, now time.Time) string {
	if st.online || now.Sub(st.lastPing) < a.s.cfg.ConnectionLostAfter {
		return "Online"
	}
	return "ConnectionLost"
}

// snapshot is every registered agent of a scope.
func (a *agents) snapshot(account, region string) []agentStatus {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []agentStatus
	for k, st := range a.status {
		if k.Account == account && k.Region == region {
			out = append(out, *st)
		}
	}
	return out
}

// TargetConnected reports whether instance id of account and region is a
// managed instance whose agent is Online, as StartSession and SendCommand
// need: checked now when the controller has not seen it pass yet (a
// freshly launched instance), else from the controller's last check.
// A target that is not connected is AWS's TargetNotConnected error
// ("<id> is not connected.").
func (s *Service) TargetConnected(ctx context.Context, account, region, id string) error {
	k := reconcile.Key{ID: id}
	k.Account, k.Region = account, region
	if !s.agents.online(k) {
		if err := s.agents.ctl.Sync(ctx, k); err != nil && !errors.Is(err, reconcile.ErrNotStarted) {
			return err
		}
	}
	if !s.agents.online(k) {
		return clientError("TargetNotConnected", "%s is not connected.", id)
	}
	return nil
}

func (a *agents) online(k reconcile.Key) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	st := a.status[k]
	return st != nil && a.pingStatus(st, a.s.cfg.Now().UTC()) == "Online" && st.online
}

// CheckInstances checks every instance now and returns when done: tests
// and tools use it instead of waiting for the next check.
func (s *Service) CheckInstances(ctx context.Context) error {
	if s.cfg.Instances == nil {
		return nil
	}
	keys, err := s.cfg.Instances.InstanceKeys(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		if err := s.agents.ctl.Sync(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
