package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakePart records its starts and stops in a shared log; failStart and
// failStop make them fail.
type fakePart struct {
	name                string
	log                 *[]string
	failStart, failStop error
	stopCtx             context.Context // the context its last Stop got
	stopCtxErr          error           // and its error then
}

func (f *fakePart) Start(context.Context) error {
	*f.log = append(*f.log, "start "+f.name)
	return f.failStart
}

func (f *fakePart) Stop(ctx context.Context) error {
	*f.log = append(*f.log, "stop "+f.name)
	f.stopCtx, f.stopCtxErr = ctx, ctx.Err()
	return f.failStop
}

// stopOnly has nothing to start but something to release, as the store.
type stopOnly struct{ f *fakePart }

func (s stopOnly) Stop(ctx context.Context) error { return s.f.Stop(ctx) }

// reporter has health and no lifecycle.
type reporter map[string]any

func (r reporter) Health() map[string]any { return r }

func TestStartStopOrder(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		// parts: name → failStart, failStop; "store" is stop-only and
		// "api" has no lifecycle; parts named l… are listeners.
		failStart, failStop map[string]error
		wantNew             string // log of starting the parts
		wantNewErr          []string
		wantListen          string // log of starting the listeners
		wantListenErr       []string
		wantClose           string // log of Close
		wantCloseErr        []string
	}{
		{
			name:       "in order, stopped in reverse",
			wantNew:    "start net,start runtime,start rds",
			wantListen: "start ldns,start lhttp",
			wantClose:  "stop lhttp,stop ldns,stop rds,stop runtime,stop net,stop store",
		},
		{
			name:       "a failed start stops what started",
			failStart:  map[string]error{"rds": boom},
			wantNew:    "start net,start runtime,start rds,stop runtime,stop net,stop store",
			wantNewErr: []string{"start rds: boom"},
		},
		{
			name:       "the rollback's failures are reported too",
			failStart:  map[string]error{"runtime": boom},
			failStop:   map[string]error{"net": errors.New("busy")},
			wantNew:    "start net,start runtime,stop net,stop store",
			wantNewErr: []string{"start runtime: boom", "stop net: busy"},
		},
		{
			name:          "a listener that fails stops the listeners only",
			failStart:     map[string]error{"lhttp": boom},
			wantNew:       "start net,start runtime,start rds",
			wantListen:    "start ldns,start lhttp,stop ldns",
			wantListenErr: []string{"start lhttp: boom"},
			wantClose:     "stop rds,stop runtime,stop net,stop store",
		},
		{
			name:         "every stop runs though some fail",
			failStop:     map[string]error{"rds": boom, "store": errors.New("disk")},
			wantNew:      "start net,start runtime,start rds",
			wantListen:   "start ldns,start lhttp",
			wantClose:    "stop lhttp,stop ldns,stop rds,stop runtime,stop net,stop store",
			wantCloseErr: []string{"stop rds: boom", "stop store: disk"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			fake := func(name string) *fakePart {
				return &fakePart{name: name, log: &log, failStart: tc.failStart[name], failStop: tc.failStop[name]}
			}
			parts := []*part{
				{name: "store", it: stopOnly{fake("store")}},
				{name: "net", it: fake("net"), dataPlane: true},
				{name: "runtime", it: fake("runtime"), dataPlane: true},
				{name: "api", it: reporter{}},
				{name: "rds", it: fake("rds")},
				{name: "ldns", it: fake("ldns"), listener: true},
				{name: "lhttp", it: fake("lhttp"), listener: true},
			}
			step := func(what, want string, wantErr []string, run func() error) {
				t.Helper()
				log = nil
				err := run()
				if got := strings.Join(log, ","); got != want {
					t.Errorf("%s: %s, want %s", what, got, want)
				}
				checkErr(t, what, err, wantErr)
				if len(wantErr) > 0 && !errors.Is(err, boom) && !errors.Is(err, tc.failStop["store"]) {
					t.Errorf("%s: %v does not wrap the part's own error", what, err)
				}
			}
			ctx := context.Background()
			step("New", tc.wantNew, tc.wantNewErr, func() error { return startParts(ctx, parts, false) })
			if len(tc.wantNewErr) > 0 {
				return
			}
			step("Start", tc.wantListen, tc.wantListenErr, func() error { return startParts(ctx, parts, true) })
			step("Close", tc.wantClose, tc.wantCloseErr, func() error { return stopParts(ctx, parts) })
			step("second Close", "", nil, func() error { return stopParts(ctx, parts) })
		})
	}
}

func checkErr(t *testing.T, what string, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: no error, want %q", what, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

// TestDataPlaneStopBudget checks that the data plane's parts stop within a
// budget of their own, shared between them, even when Close's context is
// spent (a slow HTTP shutdown), while the other parts get Close's context.
func TestDataPlaneStopBudget(t *testing.T) {
	var log []string
	net, rt, rds := &fakePart{name: "net", log: &log}, &fakePart{name: "runtime", log: &log}, &fakePart{name: "rds", log: &log}
	parts := []*part{{name: "net", it: net, dataPlane: true}, {name: "runtime", it: rt, dataPlane: true}, {name: "rds", it: rds}}
	if err := startParts(context.Background(), parts, false); err != nil {
		t.Fatal(err)
	}
	spent, cancel := context.WithCancel(context.Background())
	cancel()
	before := time.Now()
	if err := stopParts(spent, parts); err != nil {
		t.Fatal(err)
	}
	if rds.stopCtxErr == nil {
		t.Error("rds got a context other than Close's")
	}
	for _, p := range []*fakePart{net, rt} {
		dl, ok := p.stopCtx.Deadline()
		if p.stopCtxErr == nil && ok && dl.Sub(before) > dataPlaneStopBudget-time.Second && dl.Sub(before) <= dataPlaneStopBudget+time.Second {
			continue
		}
		t.Errorf("%s stopped with a context that is not the data plane's budget (err %v, deadline %v)", p.name, p.stopCtxErr, dl)
	}
	if net.stopCtx != rt.stopCtx {
		t.Error("the data plane's parts got separate budgets; they share one")
	}
	if net.stopCtx.Err() == nil {
		t.Error("the data plane's budget outlived Close")
	}
}

func TestPartsHealth(t *testing.T) {
	parts := []*part{
		{name: "state store", health: "state", it: reporter{"backend": "memory"}},
		{name: "rds", it: reporter{"engine": "postgres"}},
		{name: "sts", it: &fakePart{}},
	}
	h := partsHealth(parts)
	if len(h) != 2 || h["state"].(map[string]any)["backend"] != "memory" || h["rds"].(map[string]any)["engine"] != "postgres" {
		t.Errorf("health %v, want state and rds only, under their keys", h)
	}
}
