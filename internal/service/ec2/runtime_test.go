package ec2_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/server"
	svc "github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/state"
)

// instTestRuntime is an instance runtime for tests, written against the
// runtime contract only (ec2.Runtime, ec2.Controller) on the reconcile
// package: it watches instance records and, a few milliseconds later,
// reports pending→running, stopping→stopped and shutting-down→terminated.
type instTestRuntime struct {
	delay time.Duration
	q     *reconcile.Controller[reconcile.Key]

	mu      sync.Mutex
	ctl     svc.Controller
	reboots map[string]int // instance → RebootRequests handled
}

func instNewTestRuntime() *instTestRuntime {
	return &instTestRuntime{delay: 5 * time.Millisecond, reboots: map[string]int{}}
}

func (r *instTestRuntime) Name() string                   { return "test" }
func (r *instTestRuntime) Available() (bool, string)      { return true, "" }
func (r *instTestRuntime) Stop(ctx context.Context) error { return r.q.Stop(ctx) }

func (r *instTestRuntime) Start(c svc.Controller) error {
	r.mu.Lock()
	r.ctl = c
	r.mu.Unlock()
	r.q = reconcile.New("test-runtime", reconcile.Func[reconcile.Key](r.reconcile), reconcile.Options[reconcile.Key]{
		Store:   c.Store(),
		Sources: []reconcile.Source[reconcile.Key]{reconcile.Objects("ec2", "instance")},
		List: func(ctx context.Context) ([]reconcile.Key, error) {
			specs, err := c.Instances(ctx)
			keys := make([]reconcile.Key, 0, len(specs))
			for _, s := range specs {
				keys = append(keys, reconcile.Key{Scope: state.Scope{Account: s.Account, Region: s.Region}, ID: s.InstanceID})
			}
			return keys, err
		},
	})
	return r.q.Start(context.Background())
}

// reconcile converges one instance, after the runtime's delay.
func (r *instTestRuntime) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	spec, ok, err := r.ctl.Instance(ctx, k.Account, k.Region, k.ID)
	if err != nil || !ok {
		return reconcile.Result{}, err
	}
	var rep svc.InstanceReport
	switch spec.State {
	case "pending":
		rep = svc.InstanceReport{State: "running", Reachable: aws.Bool(true), LaunchTime: spec.LaunchTime,
			ConsoleOutput: "minicloud test runtime: booted " + k.ID + " (" + spec.InstanceType + ")\n"}
	case "stopping":
		rep = svc.InstanceReport{State: "stopped", ConsoleOutput: "reboot: Power down\n"}
	case "shutting-down":
		rep = svc.InstanceReport{State: "terminated"}
	case "running":
		r.mu.Lock()
		reboot := spec.RebootRequests > r.reboots[k.ID]
		r.reboots[k.ID] = spec.RebootRequests
		r.mu.Unlock()
		if !reboot {
			return reconcile.Result{}, nil
		}
		rep = svc.InstanceReport{ConsoleOutput: "reboot: Restarting system\n"}
	default:
		return reconcile.Result{}, nil
	}
	rep.Generation = spec.Generation
	select {
	case <-ctx.Done():
		return reconcile.Result{}, nil
	case <-time.After(r.delay):
	}
	err = r.ctl.ReportInstance(ctx, k.Account, k.Region, k.ID, rep)
	if errors.Is(err, svc.ErrStaleReport) || errors.Is(err, svc.ErrUnknownInstance) {
		return reconcile.Result{}, nil // the next event says what now
	}
	return reconcile.Result{}, err
}

// instUnavailableRuntime is a runtime that cannot run instances on this
// host, as the netns runtime without root under --data-plane on: EC2
// leaves instances pending with minicloud.NoRuntime.
type instUnavailableRuntime struct{}

func (instUnavailableRuntime) Name() string { return "unavailable" }
func (instUnavailableRuntime) Available() (bool, string) {
	return false, "this test's runtime runs nothing"
}
func (instUnavailableRuntime) Start(svc.Controller) error { return nil }
func (instUnavailableRuntime) Stop(context.Context) error { return nil }

// newEnvWithRuntime is newEnv with an instance runtime (nil: one that is
// unavailable, so that nothing moves an instance on; newEnv has the
// API-only runtime); dir, when set, makes the state durable there. The env
// is closed at the end of the test, or earlier with env.close.
func newEnvWithRuntime(t *testing.T, dir string, rt svc.Runtime) *testEnv {
	t.Helper()
	if rt == nil {
		rt = instUnavailableRuntime{}
	}
	srv, err := server.New(server.Config{Ephemeral: dir == "", StateDir: dir, EC2Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	var once sync.Once
	closeFn := func() {
		once.Do(func() {
			hs.Close()
			_ = srv.Close(context.Background())
		})
	}
	t.Cleanup(closeFn)
	client := ec2Client(hs.URL, "us-east-1", "test")
	env := &testEnv{srv: srv, url: hs.URL, ec2: client, ctx: context.Background()}
	instEnvClosers.Store(env, closeFn)
	return env
}

var instEnvClosers sync.Map // *testEnv → func()

// instCloseEnv stops an env made by newEnvWithRuntime before the test ends.
func instCloseEnv(env *testEnv) {
	if f, ok := instEnvClosers.LoadAndDelete(env); ok {
		f.(func())()
	}
}

// instWaitState polls DescribeInstances until the instance is in state.
func instWaitState(t *testing.T, env *testEnv, id, state string) types.Instance {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		inst := instDescribe(t, env, id)
		if string(inst.State.Name) == state {
			return inst
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is %s, want %s", id, inst.State.Name, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// instDescribe returns one instance by ID.
func instDescribe(t *testing.T, env *testEnv, id string) types.Instance {
	t.Helper()
	out, err := env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %+v", id, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

// instReport reports a state of an instance as the runtime would.
func instReport(rt *instTestRuntime, id, state, code, msg string) error {
	rt.mu.Lock()
	c := rt.ctl
	rt.mu.Unlock()
	specs, err := c.Instances(context.Background())
	if err != nil {
		return err
	}
	for _, s := range specs {
		if s.InstanceID == id {
			return c.ReportInstance(context.Background(), s.Account, s.Region, id, svc.InstanceReport{State: state, Generation: s.Generation, ReasonCode: code, ReasonMessage: msg})
		}
	}
	return svc.ErrUnknownInstance
}

// instRuntimeHealth is /_minicloud/health's "instances" entry.
type instRuntimeHealth struct {
	Runtime   string `json:"runtime"`
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
}

// instHealth reads the instance runtime's health entry; body is the whole
// answer, for messages.
func instHealth(t *testing.T, env *testEnv) (h instRuntimeHealth, body string) {
	t.Helper()
	resp, err := http.Get(env.url + "/_minicloud/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var all struct {
		Instances instRuntimeHealth `json:"instances"`
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("health: %v: %s", err, b)
	}
	return all.Instances, string(b)
}
