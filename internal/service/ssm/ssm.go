package ssm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/iamport"
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
	// Instances, Profiles and Policies are EC2's instances, IAM's
	// instance profiles and IAM's policies, which decide the managed
	// instances (agent.go); nil Instances: none is managed.
	Instances Instances
	Profiles  iamport.Profiles
	Policies  Policies
	// Agent runs processes in instances and connects from inside them
	// (the instance runtime); nil (no data plane): no instance reaches
	// Systems Manager and no command runs.
	Agent agentport.Agent
	// AgentEnv is the agent daemon's environment in every instance, which
	// the commands it runs inherit (minicloud's CA for the AWS SDKs).
	AgentEnv []string
	// Reach replaces the agent's connection check (resolve host with the
	// VPC's resolver and connect to port, from inside the instance):
	// tests give their own. Nil: that check through Agent, or none
	// without it.
	Reach func(ctx context.Context, inst Instance, host string, port int) error
	// CheckInterval is how often each running instance is checked
	// (default 30 s); ConnectionLostAfter how long after its last ping an
	// agent shows ConnectionLost (default 5 minutes).
	CheckInterval, ConnectionLostAfter time.Duration
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is AWS Systems Manager.
type Service struct {
	store  state.Store
	cfg    Config
	keys   *keyring
	agents *agents
	runner *runner
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
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 30 * time.Second
	}
	if cfg.ConnectionLostAfter <= 0 {
		cfg.ConnectionLostAfter = 5 * time.Minute
	}
	if cfg.Reach == nil && cfg.Agent != nil {
		d := cfg.Agent
		cfg.Reach = func(ctx context.Context, inst Instance, host string, port int) error {
			return reach(ctx, d, inst, host, port)
		}
	}
	s := &Service{store: store, cfg: cfg, keys: newKeyring(cfg.KeyDir)}
	s.agents = newAgents(s)
	s.runner = newRunner(s)
	return s
}

// Start records the commands a stop interrupted as failed and starts the
// managed-instance controller.
func (s *Service) Start(ctx context.Context) error {
	if err := s.runner.recoverInterrupted(ctx); err != nil {
		return fmt.Errorf("ssm: commands interrupted by the last stop: %w", err)
	}
	return s.agents.ctl.Start(ctx)
}

// Stop kills the commands that run (the next start records them as
// failed) and stops the managed-instance controller, waiting for what is
// in flight within ctx's deadline.
func (s *Service) Stop(ctx context.Context) error {
	return errors.Join(s.runner.stop(ctx), s.agents.ctl.Stop(ctx))
}

// Health is the managed-instance controller's counters and how many
// agents are registered and online.
func (s *Service) Health() map[string]any {
	s.agents.mu.RLock()
	registered, online := len(s.agents.status), 0
	for _, st := range s.agents.status {
		if st.online {
			online++
		}
	}
	s.agents.mu.RUnlock()
	return map[string]any{"managedInstances": map[string]any{"registered": registered, "online": online}, "agents": s.agents.ctl.Status()}
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

// opt is an optional string member: nil when empty.
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
