package acm

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// Config is what the service is built from.
type Config struct {
	// CA issues the certificates RequestCertificate asks for.
	CA *pki.Authority
	// Zones are Route 53's hosted zones (route53.Service.Source), where
	// the validation CNAMEs are looked up; nil: requests never validate.
	Zones dnszone.Source
	// CheckInterval is how often a pending certificate's CNAMEs are looked
	// up again besides when a zone changes (default 5 s).
	CheckInterval time.Duration
	// Now is the clock (tests move it past the 72-hour timeout).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is ACM.
type Service struct {
	store state.Store
	cfg   Config
	ctl   *validator
}

// New returns ACM over store. Nothing runs until Start.
func New(store state.Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 5 * time.Second
	}
	if cfg.CA == nil {
		cfg.CA = pki.New("")
	}
	s := &Service{store: store, cfg: cfg}
	s.ctl = newValidator(s)
	return s
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return acmapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return acmapi.Info }

// Start starts the validation controller.
func (s *Service) Start(ctx context.Context) error { return s.ctl.start(ctx) }

// Stop stops the validation controller, waiting for a check in flight
// within ctx's deadline.
func (s *Service) Stop(ctx context.Context) error { return s.ctl.stop(ctx) }

// Health is the CA's state and the validation controller's counters, with
// how many certificates wait for their validation records.
func (s *Service) Health() map[string]any {
	v := s.ctl.status()
	v["pending"] = len(s.ctl.pendingKeys())
	return map[string]any{"ca": s.cfg.CA.Status(), "validation": v}
}

// CheckValidation looks up a pending certificate's validation records now
// and returns once that check is done (issued, if they all answer); a
// certificate that is not pending is left as it is. Tests use it to know
// that a change of the zones has been seen.
func (s *Service) CheckValidation(ctx context.Context, account, region, arn string) error {
	sc := state.Scope{Account: account, Region: region}
	id, err := certID(sc, arn)
	if err != nil {
		return err
	}
	return s.ctl.ctl.Sync(ctx, reconcile.Key{Scope: sc, ID: id})
}

// CA is the certificate authority that issues the requested certificates.
func (s *Service) CA() *pki.Authority { return s.cfg.CA }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

// Errors.

func errNotFound(arn, account string) error {
	return api.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Could not find certificate %s in account %s.", arn, account)
}

func errInvalidARN(arn string) error {
	return api.Errorf(http.StatusBadRequest, "InvalidArnException", "%s is not a valid ARN.", arn)
}

func errInvalidParameter(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

// certID is the certificate ID an ARN names in sc: InvalidArnException when
// it is not an ACM certificate ARN, ResourceNotFoundException when it
// names another account or region (whose certificates the caller cannot
// see).
func certID(sc state.Scope, arn string) (string, error) {
	a, err := state.ParseARN(arn)
	if err != nil || a.Service != "acm" {
		return "", errInvalidARN(arn)
	}
	id, ok := strings.CutPrefix(a.Resource, "certificate/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", errInvalidARN(arn)
	}
	if a.Account != sc.Account || a.Region != sc.Region || a.Partition != state.PartitionOf(sc.Region) {
		return "", errNotFound(arn, sc.Account)
	}
	return id, nil
}

// get loads the certificate arn names in sc.
func get(tx state.Tx, sc state.Scope, arn string) (*certRecord, error) {
	id, err := certID(sc, arn)
	if err != nil {
		return nil, err
	}
	r, ok, err := certs.Get(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound(arn, sc.Account)
	}
	return &r, nil
}

// view reads the certificate arn names in the caller's scope.
func (s *Service) view(ctx context.Context, arn *string, fn func(r *certRecord) error) error {
	sc, err := arnScope(ctx, arn)
	if err != nil {
		return err
	}
	return s.store.View(ctx, func(tx state.Tx) error {
		r, err := get(tx, sc, *arn)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// update changes the certificate arn names in the caller's scope, in one
// write transaction.
func (s *Service) update(ctx context.Context, arn *string, fn func(tx state.Tx, r *certRecord) error) error {
	sc, err := arnScope(ctx, arn)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx state.Tx) error {
		r, err := get(tx, sc, *arn)
		if err != nil {
			return err
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		return certs.Put(tx, sc, r.ID, *r)
	})
}

// arnScope checks a request's certificate ARN member and returns the
// caller's scope.
func arnScope(ctx context.Context, arn *string) (state.Scope, error) {
	var v violations
	v.arn(arn, "certificateArn")
	return scopeOf(ctx), v.Err()
}

// newID is a certificate ID: a random UUID, as ACM's.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// arnOf is the ARN of certificate id in sc.
func arnOf(sc state.Scope, id string) string {
	return state.NewARN(sc, "acm", "certificate/"+id).String()
}
