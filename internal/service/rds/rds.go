package rds

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/controller"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Subnets reads EC2 subnets for DB subnet groups.
type Subnets interface {
	// Subnet returns the subnet's VPC, availability zone and CIDR block;
	// ok is false when the subnet does not exist in the account and region.
	Subnet(ctx context.Context, account, region, id string) (vpcID, az, cidr string, ok bool, err error)
}

// Config configures the service.
type Config struct {
	// StateDir holds the instances' data (<StateDir>/rds/…); empty means a
	// temporary directory removed by Stop.
	StateDir string
	Subnets  Subnets
	Logger   *slog.Logger
	// Net, ENIs and Sync place DB instances that have a DB subnet group in
	// their VPC (controller/placement.go): the data plane's network, EC2's
	// interfaces and a pass of the network controller. Without Net, every
	// server listens on loopback only.
	Net  *vpcnet.Network
	ENIs ENIs
	Sync func(context.Context) error
	// BinDir overrides the discovery of PostgreSQL's binaries (tests).
	BinDir string
	// MariaDBBinDir overrides the discovery of mariadbd and
	// mariadb-install-db (tests).
	MariaDBBinDir string
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
}

// New returns the RDS service over store; Start runs the engine controller.
func New(store state.Store, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, cfg: cfg, log: cfg.Logger, dirs: records.NewDataDirs(cfg.StateDir)}
	s.engines = engine.NewRegistry(postgres.New(cfg.BinDir), mariadb.New(cfg.MariaDBBinDir))
	return s
}

// ENIs creates and deletes the DB instances' network interfaces in EC2
// (controller.ENIs).
type ENIs = controller.ENIs

// PublicIPs gives DB instances' network interfaces public IPs
// (controller.PublicIPs). Config.ENIs implements it when the host routes a
// public range (the data plane).
type PublicIPs = controller.PublicIPs

// PlacedENI is a DB instance's network interface (records.PlacedENI).
type PlacedENI = records.PlacedENI

// Start runs the controller, which makes every DB instance a real server,
// and publishes the endpoint names to DNS.
func (s *Service) Start(ctx context.Context) error {
	c := controller.New(controller.Config{Store: s.store, Logger: s.log, Engines: s.engines, Dirs: s.dirs,
		Net: s.cfg.Net, ENIs: s.cfg.ENIs, Sync: s.cfg.Sync})
	c.Start()
	s.ctl.Store(c)
	s.startEndpoints()
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
