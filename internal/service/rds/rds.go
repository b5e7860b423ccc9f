// Package rds implements Amazon RDS's control plane for the postgres engine:
// DB subnet groups, DB instances and DB parameter groups, with AWS's
// validation and error codes.
//
// Every DB instance is a real PostgreSQL server on this host, run by the
// engine controller (controller.go) that watches the store, level-triggered
// like minicloud's other controllers: handlers only record desired state
// (status creating, stopping, starting, rebooting, deleting…) and the
// controller converges the processes to it and reports statuses back.
//
// Networking: each server is reachable on 127.0.0.1 on a free port that
// minicloud chooses and records (the "loopback port", reported by
// /_minicloud/health under "rds" and by Service.Loopback). With the data
// plane on, an instance with a DB subnet group is also placed in its VPC
// (placement.go): it listens on the private IP of a requester-managed ENI
// ("RDSNetworkInterface") behind its VPC security groups, and the loopback
// port is a proxy to it. Describe returns AWS's endpoint name,
// <id>.<12 random chars>.<region>.rds.amazonaws.com, and the instance's
// Port, but that name does not resolve yet (the VPC resolver answers only
// names under the region's private zone). New VpcSecurityGroupIds reach a
// running instance's ENI live (ENIs.ModifyENIGroups, then a network
// controller pass); memberships show "adding" until they have.
//
// Modifications (modify.go) follow AWS's table of which settings apply at
// once and which wait for the maintenance window; minicloud does not
// simulate that window, so deferred values stay in PendingModifiedValues
// until a ModifyDBInstance with ApplyImmediately=true. DB parameter groups
// (paramgroups.go) list the host engine's own parameters (postgres
// --describe-config); the controller writes an instance's group into an
// include file of its postgresql.conf and reloads for values applied
// immediately, and the others take effect at the next reboot
// (paramsapply.go); a value the engine refuses keeps the instance in
// pending-reboot, and a start that fails on it leaves the instance in
// incompatible-parameters until the group is fixed and the instance
// rebooted. DescribeOrderableDBInstanceOptions (orderable.go)
// offers the host's engine version with the classes CreateDBInstance
// accepts; a class is recorded, not enforced as CPU or memory limits.
//
// PostgreSQL refuses to run as root: when minicloud runs as root, the
// servers run as the Debian "postgres" user if it exists, else as a system
// user "minicloud-db" that minicloud creates (useradd --system). Their data
// lives under <state>/rds/<account>/<region>/<id>/data; the server reaches it
// through an inherited directory descriptor (/proc/self/fd/3), so the state
// directory's ancestors (such as /root) need not be searchable by that user.
package rds

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
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
	// their VPC (placement.go): the data plane's network, EC2's interfaces
	// and a pass of the network controller. Without Net, every server
	// listens on loopback only.
	Net  *vpcnet.Network
	ENIs ENIs
	Sync func(context.Context) error
	// BinDir overrides the discovery of PostgreSQL's binaries (tests).
	BinDir string
}

// instanceRecord is a DB instance: the API shape Describe returns plus what
// AWS keeps but does not show.
type instanceRecord struct {
	rdsapi.DBInstance
	// Password is the master password the engine is to have.
	Password string `json:"password"`
	// AppliedPassword is the password the running engine has.
	AppliedPassword string `json:"appliedPassword,omitempty"`
	// RebootSeq counts RebootDBInstance calls; the controller restarts the
	// server when it has applied fewer.
	RebootSeq int `json:"rebootSeq,omitempty"`
	// LoopbackPort is where the real server listens on 127.0.0.1.
	LoopbackPort int `json:"loopbackPort,omitempty"`
	// Initialized is set once initdb and the first setup succeeded.
	Initialized bool `json:"initialized,omitempty"`
	// ENI is the instance's network interface in its VPC while it has one.
	ENI *PlacedENI `json:"eni,omitempty"`
	// Applied is the parameter group the server runs with (paramsapply.go).
	Applied *appliedParams `json:"appliedParams,omitempty"`
	// EngineError is the last failure of the engine, if any.
	EngineError string `json:"engineError,omitempty"`
}

type subnetGroupRecord struct {
	rdsapi.DBSubnetGroup
	Tags []rdsapi.Tag `json:"tags,omitempty"`
}

var (
	instances    = state.Table[instanceRecord]{Service: "rds", Kind: "dbinstance"}
	subnetGroups = state.Table[subnetGroupRecord]{Service: "rds", Kind: "dbsubnetgroup"}
)

// Service is the RDS implementation.
type Service struct {
	store   state.Store
	cfg     Config
	log     *slog.Logger
	engine  *engine
	ctl     *controller
	tempDir string
	mu      sync.Mutex
}

// New returns the RDS service over store; Start runs the engine controller.
func New(store state.Store, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, cfg: cfg, log: cfg.Logger}
	s.engine = findEngine(cfg.BinDir)
	return s
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return rdsapi.Handlers(s) }

// dataRoot is <state>/rds.
func (s *Service) dataRoot() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.StateDir != "" {
		return s.cfg.StateDir + "/rds", nil
	}
	if s.tempDir == "" {
		d, err := os.MkdirTemp("", "minicloud-rds-")
		if err != nil {
			return "", err
		}
		s.tempDir = d
	}
	return s.tempDir + "/rds", nil
}

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

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomLower(n int) string {
	b := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(b) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < 252 && len(b) < n {
				b = append(b, lowerAlnum[int(c)%len(lowerAlnum)])
			}
		}
	}
	return string(b)
}

func deref[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
