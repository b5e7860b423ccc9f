package ssm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

const (
	testAccount = "111122223333"
	testRegion  = "eu-west-1"
	coreDoc     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:UpdateInstanceInformation","ssmmessages:*","ec2messages:*"],"Resource":"*"}]}`
	partialDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:UpdateInstanceInformation"],"Resource":"*"}]}`
)

// fakeWorld is EC2, IAM and the instances' network as the agents
// controller sees them.
type fakeWorld struct {
	mu        sync.Mutex
	instances map[string]Instance
	// policies are the role's policy documents, by role name.
	policies map[string]string
	// reachable are the instances that reach Systems Manager.
	reachable map[string]bool
}

func (w *fakeWorld) Instance(_ context.Context, account, region, id string) (Instance, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, ok := w.instances[id]
	return i, ok && i.Account == account && i.Region == region, nil
}

func (w *fakeWorld) InstanceKeys(context.Context) ([]reconcile.Key, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []reconcile.Key
	for _, i := range w.instances {
		out = append(out, reconcile.Key{Scope: state.Scope{Account: i.Account, Region: i.Region}, ID: i.ID})
	}
	return out, nil
}

func (w *fakeWorld) ProfileByName(_ context.Context, account, name string) (iamport.Profile, bool, error) {
	return iamport.Profile{Name: name, ARN: "arn:aws:iam::" + account + ":instance-profile/" + name,
		Role: iamport.Role{Name: name, ID: "AROA" + strings.ToUpper(name), ARN: "arn:aws:iam::" + account + ":role/" + name}}, true, nil
}

func (w *fakeWorld) PoliciesFor(_ context.Context, p iampolicy.Principal) (iampolicy.PolicySet, map[string]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := p.RoleARN[strings.LastIndexByte(p.RoleARN, '/')+1:]
	doc, ok := w.policies[name]
	if !ok {
		return iampolicy.PolicySet{}, nil, nil
	}
	pol, err := iampolicy.Parse(doc, iampolicy.Identity)
	return iampolicy.PolicySet{Identity: []*iampolicy.Policy{pol}}, nil, err
}

func (w *fakeWorld) reach(_ context.Context, inst Instance, host string, port int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.reachable[inst.ID] || host != "ssm."+inst.Region+".amazonaws.com" || port != 443 {
		return errors.New("i/o timeout")
	}
	return nil
}

func (w *fakeWorld) set(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

// hostAgent runs commands with the test's own shell: it stands for the
// instance runtime, whose Exec the data-plane tests cover.
type hostAgent struct{}

type hostProcess struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr io.Reader
	once           sync.Once
	code           int
	err            error
}

func (hostAgent) Exec(ctx context.Context, t agentport.Target, spec agentport.Spec) (agentport.Process, error) {
	if t.InstanceID == "i-0000000000000dead" {
		return nil, agentport.ErrNotRunning
	}
	cmd := exec.CommandContext(ctx, spec.Argv[0], spec.Argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append([]string{"INSTANCE=" + t.InstanceID}, spec.Env...)
	p := &hostProcess{cmd: cmd}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if p.stderr, err = cmd.StderrPipe(); err != nil {
		return nil, err
	}
	return p, cmd.Start()
}

func (hostAgent) Dial(context.Context, agentport.Target, string, string) (net.Conn, error) {
	return nil, errors.New("no network")
}

func (p *hostProcess) Stdin() io.WriteCloser             { return p.stdin }
func (p *hostProcess) Stdout() io.Reader                 { return p.stdout }
func (p *hostProcess) Stderr() io.Reader                 { return p.stderr }
func (p *hostProcess) Resize(agentport.WindowSize) error { return errors.New("no terminal") }
func (p *hostProcess) Signal(sig syscall.Signal) error   { return syscall.Kill(-p.cmd.Process.Pid, sig) }
func (p *hostProcess) Close() error                      { _ = p.Signal(syscall.SIGKILL); _, _ = p.Wait(); return nil }
func (p *hostProcess) Wait() (int, error) {
	p.once.Do(func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = 128 + int(ws.Signal())
			}
		case err != nil:
			p.err = err
		}
	})
	return p.code, p.err
}

// testService is Systems Manager over a memory store with the fake world,
// started, and a clock the test moves.
type testService struct {
	*Service
	world *fakeWorld
	ctx   context.Context
	now   *time.Time
	mu    *sync.Mutex
}

func newTestService(t *testing.T, store state.Store) *testService {
	t.Helper()
	w := &fakeWorld{instances: map[string]Instance{}, policies: map[string]string{}, reachable: map[string]bool{}}
	now, mu := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), &sync.Mutex{}
	s := New(store, Config{Instances: w, Profiles: w, Policies: w, Agent: hostAgent{}, Reach: w.reach, CheckInterval: time.Hour,
		ConnectionLostAfter: 10 * time.Minute, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: testAccount, Region: testRegion, Caller: "arn:aws:iam::" + testAccount + ":root"})
	return &testService{Service: s, world: w, ctx: ctx, now: &now, mu: mu}
}

func (ts *testService) advance(d time.Duration) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	*ts.now = ts.now.Add(d)
}

// launch adds a running instance with a profile of role (none: "").
func (ts *testService) launch(id, role string, reachable bool, tags map[string]string) {
	ts.world.set(func() {
		i := Instance{Account: testAccount, Region: testRegion, ID: id, State: "running", PrivateIP: "10.0.0.9", Hostname: "ip-10-0-0-9.eu-west-1.compute.internal",
			PlatformName: "Amazon Linux", PlatformVersion: "2023", Tags: tags}
		if role != "" {
			i.ProfileARN = "arn:aws:iam::" + testAccount + ":instance-profile/" + role
		}
		ts.world.instances[id] = i
		ts.world.reachable[id] = reachable
	})
}

func (ts *testService) describe(t *testing.T, in *ssmapi.DescribeInstanceInformationRequest) map[string]string {
	t.Helper()
	out, err := ts.DescribeInstanceInformation(ts.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, i := range out.InstanceInformationList {
		got[*i.InstanceId] = *i.PingStatus + "/" + deref(i.IamRole)
	}
	return got
}

// TestAgents: which instances register, and how PingStatus follows their
// agent's checks.
func TestAgents(t *testing.T) {
	ts := newTestService(t, state.NewMemory())
	ts.world.set(func() { ts.world.policies["core"], ts.world.policies["partial"] = coreDoc, partialDoc })
	ts.launch("i-00000000000000001", "core", true, nil)
	ts.launch("i-00000000000000002", "", true, nil)        // no profile
	ts.launch("i-00000000000000003", "partial", true, nil) // no ssmmessages, ec2messages
	ts.launch("i-00000000000000004", "core", false, nil)   // no route
	ts.launch("i-00000000000000005", "missing", true, nil) // a role with no policy
	if err := ts.CheckInstances(ts.ctx); err != nil {
		t.Fatal(err)
	}
	if got := ts.describe(t, &ssmapi.DescribeInstanceInformationRequest{}); fmt.Sprint(got) != "map[i-00000000000000001:Online/core]" {
		t.Fatalf("managed: %v", got)
	}
	for id, want := range map[string]bool{"i-00000000000000001": true, "i-00000000000000002": false, "i-00000000000000004": false, "i-0000000000000000f": false} {
		err := ts.TargetConnected(ts.ctx, testAccount, testRegion, id)
		if (err == nil) != want || (err != nil && !isCode(err, "TargetNotConnected")) {
			t.Errorf("TargetConnected(%s) = %v, want connected %t", id, err, want)
		}
	}
	// The route goes away: Online until the window passes, then
	// ConnectionLost, and no longer a target.
	ts.world.set(func() { ts.world.reachable["i-00000000000000001"] = false })
	ts.advance(time.Minute)
	if err := ts.CheckInstances(ts.ctx); err != nil {
		t.Fatal(err)
	}
	if got := ts.describe(t, &ssmapi.DescribeInstanceInformationRequest{}); got["i-00000000000000001"] != "Online/core" {
		t.Fatalf("within the window: %v", got)
	}
	ts.advance(10 * time.Minute)
	if got := ts.describe(t, &ssmapi.DescribeInstanceInformationRequest{}); got["i-00000000000000001"] != "ConnectionLost/core" {
		t.Fatalf("past the window: %v", got)
	}
	if got := ts.describe(t, &ssmapi.DescribeInstanceInformationRequest{Filters: []ssmapi.InstanceInformationStringFilter{
		{Key: new("PingStatus"), Values: []string{"Online"}}}}); len(got) != 0 {
		t.Fatalf("Online filter: %v", got)
	}
	if err := ts.TargetConnected(ts.ctx, testAccount, testRegion, "i-00000000000000001"); !isCode(err, "TargetNotConnected") {
		t.Fatalf("lost target: %v", err)
	}
	// It comes back.
	ts.world.set(func() { ts.world.reachable["i-00000000000000001"] = true })
	if err := ts.TargetConnected(ts.ctx, testAccount, testRegion, "i-00000000000000001"); err != nil {
		t.Fatalf("back: %v", err)
	}
	// Terminated: no longer listed.
	ts.world.set(func() {
		i := ts.world.instances["i-00000000000000001"]
		i.State = "terminated"
		ts.world.instances[i.ID] = i
	})
	if err := ts.CheckInstances(ts.ctx); err != nil {
		t.Fatal(err)
	}
	if got := ts.describe(t, &ssmapi.DescribeInstanceInformationRequest{}); len(got) != 0 {
		t.Fatalf("after termination: %v", got)
	}
	for _, tc := range []struct {
		name string
		in   ssmapi.DescribeInstanceInformationRequest
		code string
	}{
		{"bad key", ssmapi.DescribeInstanceInformationRequest{Filters: []ssmapi.InstanceInformationStringFilter{{Key: new("Color"), Values: []string{"x"}}}}, "InvalidFilterKey"},
		{"bad ping status", ssmapi.DescribeInstanceInformationRequest{Filters: []ssmapi.InstanceInformationStringFilter{{Key: new("PingStatus"), Values: []string{"Up"}}}}, "InvalidInstanceInformationFilterValue"},
		{"page too small", ssmapi.DescribeInstanceInformationRequest{MaxResults: new(int32(4))}, "ValidationException"},
		{"both lists", ssmapi.DescribeInstanceInformationRequest{Filters: []ssmapi.InstanceInformationStringFilter{{Key: new("PingStatus"), Values: []string{"Online"}}},
			InstanceInformationFilterList: []ssmapi.InstanceInformationFilter{{Key: new("PingStatus"), ValueSet: []string{"Online"}}}}, "ValidationException"},
	} {
		if _, err := ts.DescribeInstanceInformation(ts.ctx, &tc.in); !isCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// TestStandardQuota: the region's 10,000 standard parameters, then
// ParameterLimitExceeded; an advanced one still fits.
func TestStandardQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("puts 10,000 parameters")
	}
	ts := newTestService(t, state.NewMemory())
	for i := range maxStandardParams {
		if _, err := ts.PutParameter(ts.ctx, &ssmapi.PutParameterRequest{Name: new(fmt.Sprintf("p%05d", i)), Value: new("v"), Type: new(typeString)}); err != nil {
			t.Fatalf("parameter %d: %v", i, err)
		}
	}
	_, err := ts.PutParameter(ts.ctx, &ssmapi.PutParameterRequest{Name: new("one-more"), Value: new("v"), Type: new(typeString)})
	if !isCode(err, "ParameterLimitExceeded") {
		t.Fatalf("one more: %v", err)
	}
	// Overwriting one that exists is no new parameter.
	if _, err := ts.PutParameter(ts.ctx, &ssmapi.PutParameterRequest{Name: new("p00001"), Value: new("w"), Overwrite: new(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.PutParameter(ts.ctx, &ssmapi.PutParameterRequest{Name: new("advanced"), Value: new("v"), Type: new(typeString), Tier: new(tierAdvanced)}); err != nil {
		t.Fatal(err)
	}
}
