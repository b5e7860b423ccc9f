package rds

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/rds/controller"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/aurora"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/workload"
)

// Config configures the service.
type Config struct {
	// StateDir holds the instances' data (<StateDir>/rds/…); empty means a
	// temporary directory removed by Stop.
	StateDir string
	// EC2 is EC2 as RDS sees it (requester amazon-rds): subnets for DB
	// subnet groups, security groups and VPCs to check, and the DB
	// instances' network interfaces and public IPs. Nil: DB subnet groups
	// cannot be made.
	EC2    ec2port.Port
	Logger *slog.Logger
	// Workloads runs the servers: placed in their VPC on their network
	// interfaces when it can place (the data plane on), else on loopback
	// only. Nil: a runtime of its own that cannot place.
	Workloads *workload.Runtime
	// BinDir overrides the discovery of PostgreSQL's binaries (tests).
	BinDir string
	// MariaDBBinDir overrides the discovery of mariadbd and
	// mariadb-install-db (tests).
	MariaDBBinDir string
	// Metrics, when set, takes the DB instances' AWS/RDS metrics every
	// MetricsInterval (a minute when zero).
	Metrics         metricport.Publisher
	MetricsInterval time.Duration
	// Logs, when set, takes the DB instances' exported logs
	// (EnabledCloudwatchLogsExports).
	Logs logport.Writer
}

// Service is the RDS implementation.
type Service struct {
	store   state.Store
	cfg     Config
	log     *slog.Logger
	engines *engine.Registry
	ctl     atomic.Pointer[controller.Controller] // set while the controller runs; HTTP handlers read it
	dirs    *records.DataDirs
	dns     endpointIndex // endpoint names for DNS (dns.go)
	sweep   func()        // stops the events' sweep (events.go)
}

// New returns the RDS service over store; Start runs the engine controller.
func New(store state.Store, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, cfg: cfg, log: cfg.Logger, dirs: records.NewDataDirs(cfg.StateDir)}
	if cfg.Workloads == nil {
		cfg.Workloads = workload.New(workload.Config{Logger: cfg.Logger})
		s.cfg.Workloads = cfg.Workloads
	}
	run := engine.Runner{Workloads: cfg.Workloads}
	pg, maria := postgres.New(cfg.BinDir, run), mariadb.New(cfg.MariaDBBinDir, run)
	s.engines = engine.NewRegistry(pg, maria, aurora.NewPostgreSQL(pg), aurora.NewMySQL(maria))
	return s
}

// PlacedENI is a DB instance's network interface (records.PlacedENI).
type PlacedENI = records.PlacedENI

// Start runs the controller, which makes every DB instance a real server,
// and publishes the endpoint names to DNS.
func (s *Service) Start(ctx context.Context) error {
	c := controller.New(controller.Config{Store: s.store, Logger: s.log, Engines: s.engines, Dirs: s.dirs,
		EC2: s.cfg.EC2, Workloads: s.cfg.Workloads, Metrics: s.cfg.Metrics, MetricsInterval: s.cfg.MetricsInterval, Logs: s.cfg.Logs})
	c.Start()
	s.ctl.Store(c)
	s.startEndpoints()
	s.sweep = s.startEventSweep()
	return nil
}

// Stop stops every server (their data stays), the controller and the
// endpoint names' updates. It returns once all have stopped: ctx is not
// consulted, as each server's stop bounds its own wait.
func (s *Service) Stop(context.Context) error {
	c := s.ctl.Load()
	if c == nil {
		return nil
	}
	s.stopEndpoints()
	s.sweep()
	c.Stop()
	s.ctl.Store(nil)
	s.dirs.RemoveTemp()
	return nil
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return rdsapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return rdsapi.Info }

func scopeOf(ctx context.Context) state.Scope {
	r := api.Request(ctx)
	return state.Scope{Account: r.Account, Region: r.Region}
}

// Errors.

func errInstanceNotFound(id string) error {
	return api.Errorf(http.StatusNotFound, "DBInstanceNotFound", "DBInstance %s not found.", id)
}

func errSubnetGroupNotFound(name string) error {
	return api.Errorf(http.StatusNotFound, "DBSubnetGroupNotFoundFault", "DBSubnetGroup %s not found.", name)
}

func errInvalidParam(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errCombination(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

func errInstanceState(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidDBInstanceState", format, args...)
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
