package ssm

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Config is what the service is built from.
type Config struct {
	// KeyDir keeps the account keys that encrypt SecureString values
	// ("" = memory only, --ephemeral).
	KeyDir string
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is AWS Systems Manager.
type Service struct {
	store state.Store
	cfg   Config
}

// New returns Systems Manager over store. Nothing runs until Start.
func New(store state.Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, cfg: cfg}
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return ssmapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return ssmapi.Info }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

// notYet answers an operation whose handler is listed but not built yet,
// as the gateway answers an operation with no handler.
func notYet(op string) error {
	return api.Errorf(http.StatusNotImplemented, "NotImplemented",
		"minicloud does not implement ssm %s yet. See the status table in minicloud's README for what is implemented.", op)
}
