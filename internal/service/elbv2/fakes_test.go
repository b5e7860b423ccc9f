package elbv2_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/certport"
	"github.com/minicloud/minicloud/internal/reconcile"
	ec2svc "github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
)

// fakeCerts is ACM for the tests: certificates by ARN, and who uses them.
type fakeCerts struct {
	mu    sync.Mutex
	certs map[string]string          // ARN → status
	users map[string]map[string]bool // ARN → users
}

func newFakeCerts(issued ...string) *fakeCerts {
	f := &fakeCerts{certs: map[string]string{}, users: map[string]map[string]bool{}}
	for _, a := range issued {
		f.certs[a] = "ISSUED"
	}
	return f
}

func (f *fakeCerts) Certificate(_ context.Context, _, _, arn string) (certport.Cert, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.certs[arn]
	return certport.Cert{ARN: arn, Status: st}, ok, nil
}

func (f *fakeCerts) Use(_ context.Context, _, _, arn, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users[arn] == nil {
		f.users[arn] = map[string]bool{}
	}
	f.users[arn][user] = true
	return nil
}

func (f *fakeCerts) Unuse(_ context.Context, _, _, arn, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users[arn], user)
	return nil
}

// inUseBy is the certificate's InUseBy, sorted.
func (f *fakeCerts) inUseBy(arn string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u := range f.users[arn] {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// fakeDataplane records what the controller asks of the data plane and
// answers health checks from a table the test fills.
type fakeDataplane struct {
	mu      sync.Mutex
	views   map[string]controller.View // by load balancer ARN, the last applied
	applies map[string]int
	removed []string
	health  map[string]map[controller.TargetKey]controller.Health // by target group ARN
	fail    error
}

func newFakeDataplane() *fakeDataplane {
	return &fakeDataplane{views: map[string]controller.View{}, applies: map[string]int{},
		health: map[string]map[controller.TargetKey]controller.Health{}}
}

func (f *fakeDataplane) Apply(_ context.Context, v controller.View) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.views[v.ARN] = v
	f.applies[v.ARN]++
	return nil
}

// Remove forgets the nodes given; the last one gone, the load balancer
// (its ARN joins removed).
func (f *fakeDataplane) Remove(_ context.Context, _, _, arn string, nodes []controller.Node) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.views[arn]
	if ok {
		v.Nodes = slices.DeleteFunc(slices.Clone(v.Nodes), func(n controller.Node) bool {
			return slices.ContainsFunc(nodes, func(x controller.Node) bool { return x.ENIID == n.ENIID })
		})
		f.views[arn] = v
	}
	if !ok || len(v.Nodes) == 0 {
		delete(f.views, arn)
		f.removed = append(f.removed, arn)
	}
	return nil
}

func (f *fakeDataplane) TargetHealth(_, _, tg string) map[controller.TargetKey]controller.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[controller.TargetKey]controller.Health{}
	for k, v := range f.health[tg] {
		out[k] = v
	}
	return out
}

func (f *fakeDataplane) setHealth(tg, id string, port int32, h controller.Health) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.health[tg] == nil {
		f.health[tg] = map[controller.TargetKey]controller.Health{}
	}
	f.health[tg][controller.TargetKey{ID: id, Port: port}] = h
}

func (f *fakeDataplane) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// view is the last View applied for arn.
func (f *fakeDataplane) view(arn string) (controller.View, int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.views[arn]
	return v, f.applies[arn], ok
}

func (f *fakeDataplane) wasRemoved(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.removed, arn)
}

// waitFor polls cond for up to 10 s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// testRuntime is an instance runtime that completes every transition at
// once: instances run, stop and terminate as the API asks.
type testRuntime struct {
	q   *reconcile.Controller[reconcile.Key]
	ctl ec2svc.Controller
}

func (r *testRuntime) Name() string                   { return "test" }
func (r *testRuntime) Available() (bool, string)      { return true, "" }
func (r *testRuntime) Stop(ctx context.Context) error { return r.q.Stop(ctx) }

func (r *testRuntime) Start(c ec2svc.Controller) error {
	r.ctl = c
	r.q = reconcile.New("test-runtime", reconcile.Func[reconcile.Key](r.reconcile), reconcile.Options[reconcile.Key]{
		Store:   c.Store(),
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Objects("ec2", "instance")},
	})
	return r.q.Start(context.Background())
}

func (r *testRuntime) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	spec, ok, err := r.ctl.Instance(ctx, k.Account, k.Region, k.ID)
	if err != nil || !ok {
		return reconcile.Result{}, err
	}
	next := map[string]string{"pending": "running", "stopping": "stopped", "shutting-down": "terminated"}[spec.State]
	if next == "" {
		return reconcile.Result{}, nil
	}
	err = r.ctl.ReportInstance(ctx, k.Account, k.Region, k.ID, ec2svc.InstanceReport{State: next, Generation: spec.Generation})
	if errors.Is(err, ec2svc.ErrStaleReport) {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, err
}
