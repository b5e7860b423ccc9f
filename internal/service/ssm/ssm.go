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

// Images is EC2 as Parameter Store sees it: the aws:ec2:image data type
// names an image the account can launch, and the public parameters under
// /aws/service/ name the built-in images.
type Images interface {
	// ImageExists reports whether account may launch image id in region.
	ImageExists(ctx context.Context, account, region, id string) (bool, error)
	// PublicImageParameters are the public parameters of region: name →
	// AMI ID.
	PublicImageParameters(region string) map[string]string
}

// Config is what the service is built from.
type Config struct {
	// KeyDir keeps the account keys that encrypt SecureString values
	// ("" = memory only, --ephemeral).
	KeyDir string
	// Images answers aws:ec2:image values and the public AMI parameters;
	// nil: no image exists and there are no public parameters.
	Images Images
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is AWS Systems Manager.
type Service struct {
	store state.Store
	cfg   Config
	keys  *keyring
	// sessionCfg serves Session Manager (sessions.go, SetSessions).
	sessionCfg SessionConfig
}

// New returns Systems Manager over store. Nothing runs until Start.
func New(store state.Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Images == nil {
		cfg.Images = noImages{}
	}
	return &Service{store: store, cfg: cfg, keys: newKeyring(cfg.KeyDir)}
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return ssmapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return ssmapi.Info }

// now is the clock at the millisecond, the precision AWS's dates have.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

// noImages is Images without EC2.
type noImages struct{}

func (noImages) ImageExists(context.Context, string, string, string) (bool, error) { return false, nil }
func (noImages) PublicImageParameters(string) map[string]string                    { return nil }

// Errors. Systems Manager's are all client faults (400) with their own
// codes; the messages are AWS's where they are known.

func clientError(code, format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

func errValidation(format string, args ...any) error {
	return clientError("ValidationException", format, args...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
