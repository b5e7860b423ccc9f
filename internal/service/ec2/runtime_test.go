package ec2_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/minicloud/minicloud/internal/server"
	svc "github.com/minicloud/minicloud/internal/service/ec2"
)

// instTestRuntime is an instance runtime for tests, written against the
// runtime contract only (ec2.Runtime, ec2.Controller): it watches instance
// records and, a few milliseconds later, reports pending→running,
// stopping→stopped and shutting-down→terminated.
type instTestRuntime struct {
	delay time.Duration
	stop  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	ctl     svc.Controller
	reboots map[string]int // instance → RebootRequests handled
}

func instNewTestRuntime() *instTestRuntime {
	return &instTestRuntime{delay: 5 * time.Millisecond, stop: make(chan struct{}), reboots: map[string]int{}}
}

func (r *instTestRuntime) Name() string                   { return "test" }
func (r *instTestRuntime) Available() (bool, string)      { return true, "" }
func (r *instTestRuntime) Stop(ctx context.Context) error { close(r.stop); r.wg.Wait(); return nil }

func (r *instTestRuntime) Start(c svc.Controller) error {
	r.mu.Lock()
	r.ctl = c
	r.mu.Unlock()
	ch, cancel := c.Store().Subscribe("")
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		r.resync(c)
		for {
			select {
			case <-r.stop:
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				if ev.Reset || ev.Resync {
					r.resync(c)
					continue
				}
				if acct, region, id, ok := svc.InstanceKey(ev.Key); ok && !ev.Deleted {
					r.reconcile(c, acct, region, id)
				}
			}
		}
	}()
	return nil
}

func (r *instTestRuntime) resync(c svc.Controller) {
	specs, err := c.Instances(context.Background())
	if err != nil {
		return
	}
	for _, s := range specs {
		r.reconcile(c, s.Account, s.Region, s.InstanceID)
	}
}

// reconcile converges one instance, after the runtime's delay.
func (r *instTestRuntime) reconcile(c svc.Controller, acct, region, id string) {
	spec, ok, err := c.Instance(context.Background(), acct, region, id)
	if err != nil || !ok {
		return
	}
	var rep svc.InstanceReport
	switch spec.State {
	case "pending":
		rep = svc.InstanceReport{State: "running", Reachable: aws.Bool(true), LaunchTime: spec.LaunchTime,
			ConsoleOutput: "minicloud test runtime: booted " + id + " (" + spec.InstanceType + ")\n"}
	case "stopping":
		rep = svc.InstanceReport{State: "stopped", ConsoleOutput: "reboot: Power down\n"}
	case "shutting-down":
		rep = svc.InstanceReport{State: "terminated"}
	case "running":
		r.mu.Lock()
		reboot := spec.RebootRequests > r.reboots[id]
		r.reboots[id] = spec.RebootRequests
		r.mu.Unlock()
		if !reboot {
			return
		}
		rep = svc.InstanceReport{ConsoleOutput: "reboot: Restarting system\n"}
	default:
		return
	}
	rep.Generation = spec.Generation
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		select {
		case <-r.stop:
			return
		case <-time.After(r.delay):
		}
		err := c.ReportInstance(context.Background(), acct, region, id, rep)
		if err != nil && !errors.Is(err, svc.ErrStaleReport) && !errors.Is(err, svc.ErrUnknownInstance) {
			// The store may be closing at the end of a test.
			return
		}
	}()
}

// newEnvWithRuntime is newEnv with an instance runtime (nil: none); dir,
// when set, makes the state durable there. The env is closed at the end of
// the test, or earlier with env.close.
func newEnvWithRuntime(t *testing.T, dir string, rt svc.Runtime) *testEnv {
	t.Helper()
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
