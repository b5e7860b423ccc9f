package cloudwatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/metrics"
	"github.com/minicloud/minicloud/internal/state"
)

// Config is what the service is built from.
type Config struct {
	// Dir keeps the metric store ("" = memory only, --ephemeral).
	Dir string
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
	// State keeps the alarms and their history (state.db).
	State state.Store
	// EvaluationInterval is how often each alarm is evaluated: 0 is AWS's
	// minute; shorter is for tests (serve --metrics-interval).
	EvaluationInterval time.Duration
}

// Service is the CloudWatch API: metrics over a metrics.Store, alarms
// and their evaluator, dashboards and widget images over state.db.
type Service struct {
	cfg       Config
	store     *metrics.Store
	state     state.Store
	evaluator *Evaluator
	// instances runs EC2 alarm actions (SetInstanceActor).
	instances ec2port.InstanceActor
	once      sync.Once
}

// New opens the metric store in cfg.Dir.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.EvaluationInterval <= 0 {
		cfg.EvaluationInterval = DefaultEvaluationInterval
	}
	if cfg.State == nil {
		cfg.State = state.NewMemory()
	}
	st, err := metrics.Open(metrics.Options{Dir: cfg.Dir, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	s := &Service{cfg: cfg, store: st, state: cfg.State}
	s.evaluator = newEvaluator(s)
	return s, nil
}

// SetInstanceActor gives the alarms EC2's instance actions (the server
// builds CloudWatch before EC2, whose instances publish to it).
func (s *Service) SetInstanceActor(a ec2port.InstanceActor) { s.instances = a }

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return cloudwatchapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return cloudwatchapi.Info }

// Metrics is the store, for the publishers of built-in metrics.
func (s *Service) Metrics() *metrics.Store { return s.store }

// Stop closes the store (with a last snapshot when its log is long, as
// long as ctx allows).
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.once.Do(func() { err = s.store.Stop(ctx) })
	return err
}

// Reset deletes every metric (POST /_minicloud/reset). The state store's
// reset deletes the alarms; the evaluator forgets what it evaluated, or an
// alarm made again under an old name (generation 1 again) would wait for
// the old one's next evaluation.
func (s *Service) Reset(ctx context.Context) error {
	s.evaluator.forget()
	return s.store.Reset(ctx)
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func scopeOf(ctx context.Context) metrics.Scope {
	r := api.Request(ctx)
	return metrics.Scope{Account: r.Account, Region: r.Region}
}

// The common client errors, in AWS's query-compatible codes (written in
// every protocol); the operations' own errors (ResourceNotFound,
// InvalidNextToken, ValidationError…) are built where they arise.

func errValue(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errCombination(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

func errMissing(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "MissingParameter", format, args...)
}

func errTooMany(collection string, max int) error {
	return errValue("The collection %s must not have a size greater than %d.", collection, max)
}

var units = sync.OnceValue(func() []string { return cloudwatchapi.Info.Model().Shapes["StandardUnit"].Enum })

// checkUnit checks a StandardUnit member named param.
func checkUnit(u *string, param string) error {
	if u != nil && !slices.Contains(units(), *u) {
		return errValue("The value %s for parameter %s is not a valid unit.", *u, param)
	}
	return nil
}

// checkLen checks a string member's length against the model's bounds.
func checkLen(v *string, param string, min, max int) error {
	if v == nil {
		return nil
	}
	if n := len([]rune(*v)); n < min || n > max {
		return errValue("The parameter %s must be between %d and %d characters long.", param, min, max)
	}
	return nil
}

// dims converts and checks a metric's dimensions (at most 30, names
// unique), sorted as the store keys them.
func dims(in []cloudwatchapi.Dimension, param string) ([]metrics.Dim, error) {
	if len(in) > 30 {
		return nil, errTooMany(param, 30)
	}
	out := make([]metrics.Dim, 0, len(in))
	seen := map[string]bool{}
	for i, d := range in {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		if d.Name == nil {
			return nil, errMissing("The parameter %s.Name is required.", p)
		}
		if d.Value == nil {
			return nil, errMissing("The parameter %s.Value is required.", p)
		}
		if err := checkLen(d.Name, p+".Name", 1, 255); err != nil {
			return nil, err
		}
		if err := checkLen(d.Value, p+".Value", 1, 1024); err != nil {
			return nil, err
		}
		if seen[*d.Name] {
			return nil, errValue("The collection %s must not contain duplicate dimension names (%s).", param, *d.Name)
		}
		seen[*d.Name] = true
		out = append(out, metrics.Dim{Name: *d.Name, Value: *d.Value})
	}
	metrics.SortDims(out)
	return out, nil
}

func apiDims(in []metrics.Dim) []cloudwatchapi.Dimension {
	out := make([]cloudwatchapi.Dimension, len(in))
	for i, d := range in {
		out[i] = cloudwatchapi.Dimension{Name: ptr(d.Name), Value: ptr(d.Value)}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
