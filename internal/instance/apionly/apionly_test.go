package apionly

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
)

// TestStep pins what the runtime reports for each desired state, and that
// nothing is reported before Delay has passed since the generation was
// first seen.
func TestStep(t *testing.T) {
	const delay = 100 * time.Millisecond
	for _, tc := range []struct {
		state      string
		wantState  string // the report's State
		wantReach  bool   // the report sets Reachable
		wantOutput bool   // the report carries console output
		done       bool   // nothing to report ever: forget the key
	}{
		{state: "pending", wantState: "running", wantOutput: true},
		{state: "running", wantReach: true},
		{state: "stopping", wantState: "stopped"},
		{state: "shutting-down", wantState: "terminated"},
		{state: "stopped", done: true},
		{state: "terminated", done: true},
	} {
		t.Run(tc.state, func(t *testing.T) {
			r := New(Config{Reason: "the data plane is off (test)", Delay: delay})
			k := reconcile.Key{ID: "i-0123456789abcdef0"}
			spec := &ec2.InstanceSpec{InstanceID: k.ID, State: tc.state, Generation: 3}
			t0 := time.Now()
			rep, wait, done := r.step(k, spec, t0)
			if tc.done {
				if rep != nil || !done {
					t.Fatalf("step(%s) = %+v, done %v; want nothing, done", tc.state, rep, done)
				}
				return
			}
			if rep != nil || wait != delay || done {
				t.Fatalf("step(%s) at once = %+v, wait %v, done %v; want a wait of %v", tc.state, rep, wait, done, delay)
			}
			// Seen again later: the first sighting counts, not this one.
			if rep, wait, _ = r.step(k, spec, t0.Add(delay/2)); rep != nil || wait != delay/2 {
				t.Fatalf("step(%s) half way = %+v, wait %v", tc.state, rep, wait)
			}
			rep, _, _ = r.step(k, spec, t0.Add(delay))
			if rep == nil || rep.State != tc.wantState || (rep.Reachable != nil) != tc.wantReach || (rep.ConsoleOutput != "") != tc.wantOutput {
				t.Fatalf("step(%s) after the delay = %+v", tc.state, rep)
			}
			// A new generation (the user changed the state) starts a new wait.
			spec.Generation++
			if rep, wait, _ = r.step(k, spec, t0.Add(delay)); rep != nil || wait != delay {
				t.Fatalf("step(%s) of a new generation = %+v, wait %v", tc.state, rep, wait)
			}
		})
	}
}

// TestStepReboot: a reboot asked while running is noted on the console at
// once and only once; reboots asked before the runtime saw the instance
// (a restart) are not replayed.
func TestStepReboot(t *testing.T) {
	r := New(Config{Reason: "test", Delay: time.Hour})
	k := reconcile.Key{ID: "i-0123456789abcdef0"}
	spec := &ec2.InstanceSpec{InstanceID: k.ID, State: "running", Generation: 1, RebootRequests: 2}
	now := time.Now()
	if rep, _, _ := r.step(k, spec, now); rep != nil {
		t.Fatalf("earlier reboots replayed: %+v", rep)
	}
	spec.RebootRequests++
	rep, _, _ := r.step(k, spec, now)
	if rep == nil || rep.State != "" || rep.ConsoleOutput == "" {
		t.Fatalf("reboot: %+v", rep)
	}
	if rep, _, _ := r.step(k, spec, now); rep != nil {
		t.Fatalf("reboot reported twice: %+v", rep)
	}
}
