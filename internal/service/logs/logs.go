package logs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/state"
)

// Config is what the service is built from.
type Config struct {
	// Dir keeps the log events ("" = memory only, --ephemeral).
	Dir string
	// State keeps groups, streams, filters and queries (state.db).
	State state.Store
	// Metrics takes what metric filters extract (CloudWatch's publisher);
	// nil drops it.
	Metrics metricport.Publisher
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
	// SweepInterval is how often expired events are deleted (0: a minute).
	SweepInterval time.Duration
}

// Service is CloudWatch Logs.
type Service struct {
	cfg    Config
	state  state.Store
	events *eventStore
	// queries run Insights queries in the background (queries.go).
	queries *queryRunner

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// New opens the event store in cfg.Dir.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.State == nil {
		cfg.State = state.NewMemory()
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	es, err := openEventStore(cfg.Dir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	s := &Service{cfg: cfg, state: cfg.State, events: es}
	s.queries = newQueryRunner(s)
	return s, nil
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return logsapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return logsapi.Info }

// Writer is the service as minicloud's own components write to it.
func (s *Service) Writer() logport.Writer { return writer{s} }

// Groups is the service as a logport.Groups.
func (s *Service) Groups() logport.Groups { return writer{s} }

// Start runs the sweep: retention, and queries older than 7 days.
func (s *Service) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.cfg.SweepInterval)
		defer t.Stop()
		for {
			if err := s.Expire(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("logs: retention sweep", "err", err)
			}
			if err := s.PruneQueries(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("logs: query prune", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the sweep and the queries and closes the event files.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
			select {
			case <-s.done:
			case <-ctx.Done():
			}
		}
		s.queries.stop()
		err = s.events.close()
	})
	return err
}

// Reset deletes every event (POST /_minicloud/reset; the records go with
// the state store's reset).
func (s *Service) Reset(ctx context.Context) error { return s.events.reset(ctx) }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func nowMillis(t time.Time) int64 { return t.UnixMilli() }

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

// Errors, in AWS's codes.

func errInvalid(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func errNotFound(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ResourceNotFoundException", format, args...)
}

func errExists(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", format, args...)
}

func errLimit(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "LimitExceededException", format, args...)
}

var (
	errNoGroup  = errNotFound("The specified log group does not exist.")
	errNoStream = errNotFound("The specified log stream does not exist.")
)

// required checks that a required member is present, in the message
// AWS's request validation gives.
func required(v *string, member string) error {
	if v == nil {
		return errInvalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	return nil
}

// checkName checks a required name member against the model's length and
// pattern (valid reports whether a rune may appear).
func checkName(v *string, member string, maxLen int, valid func(rune) bool) error {
	if err := required(v, member); err != nil {
		return err
	}
	n := len([]rune(*v))
	if n < 1 || n > maxLen {
		return errInvalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and %d", *v, member, maxLen)
	}
	if strings.IndexFunc(*v, func(r rune) bool { return !valid(r) }) >= 0 {
		return errInvalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", *v, member, patternOf(member))
	}
	return nil
}

func patternOf(member string) string {
	if member == "logGroupName" || member == "logGroupNamePrefix" {
		return `[\.\-_/#A-Za-z0-9]+`
	}
	return `[^:*]*`
}

// groupNameRune is the model's [\.\-_/#A-Za-z0-9].
func groupNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/#", r)
}

// plainRune is the model's [^:*] (stream and filter names).
func plainRune(r rune) bool { return r != ':' && r != '*' }

func checkGroupName(v *string) error { return checkName(v, "logGroupName", 512, groupNameRune) }

func checkStreamName(v *string) error { return checkName(v, "logStreamName", 512, plainRune) }

// checkLimit checks an optional page size against [1, max].
func checkLimit(v *int32, member string, maxV int32) error {
	if v != nil && (*v < 1 || *v > maxV) {
		return errInvalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value %s", *v, member, limitRule(*v, maxV))
	}
	return nil
}

func limitRule(v, maxV int32) string {
	if v < 1 {
		return "greater than or equal to 1"
	}
	return fmt.Sprintf("less than or equal to %d", maxV)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// untokenOffset is a listing's token that holds an offset into its
// listing: tokens are only base64, so a client can forge one, and a
// negative or non-numeric offset is an invalid token, not an index.
func untokenOffset(kind string, t *string) (int, error) {
	v, err := untoken(kind, t)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalid("The specified nextToken is invalid.")
	}
	return n, nil
}

// untoken is a listing's api.ParsePageToken with the logs API's error for
// a token that is not one of kind's.
func untoken(kind string, t *string) (string, error) {
	if v, ok := api.ParsePageToken(kind, t); ok {
		return v, nil
	}
	return "", errInvalid("The specified nextToken is invalid.")
}
