package rds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
)

// The engine layer: what the API and the controller need from one RDS
// engine, so that CreateDBInstance, DescribeDBEngineVersions and converge
// stay engine-agnostic. postgres (engine.go) and mariadb (mysql.go)
// implement it over the host's server binaries. Replication and backups
// are to be added per engine as further methods (or optional interfaces
// the controller type-asserts), next to Init and Start.
type dbEngine interface {
	// Name is the RDS engine name: "postgres", "mariadb".
	Name() string
	// Available is nil when this host can run the engine, else an error
	// whose message says what to install.
	Available() error
	// Version is the host server's full version ("15.18", "10.11.19");
	// Major is RDS's major version of it ("15", "10.11").
	Version() (string, error)
	Major() string
	// Defaults are AWS's defaults and limits for the engine.
	Defaults() engineDefaults
	// Init creates a new server's files in dir (the instance directory)
	// with the master user and password, discarding a half-made attempt.
	Init(ctx context.Context, dir, master, password string) error
	// Start runs the server on dir's data: on 127.0.0.1:port, or, with
	// vpc, inside vpc's namespace with a proxy from 127.0.0.1:port.
	// settings are more engine settings (name=value); extra are files the
	// server inherits after its data directory (a replica's view of its
	// source's socket directory).
	Start(dir string, port int, vpc *vpcListen, settings []string, extra ...*os.File) (*server, error)
	// WaitReady waits until the server accepts connections.
	WaitReady(ctx context.Context, p *server, a access) error
	// CreateDatabase creates database name unless it exists.
	CreateDatabase(ctx context.Context, p *server, a access, name string) error
	// SetPassword gives the master user password.
	SetPassword(ctx context.Context, p *server, a access, password string) error
	// LogPath is the server's log file in dir.
	LogPath(dir string) string
	// Settings are the server settings rec's server starts with in dir
	// (automated backups' logs, replication), for Start.
	Settings(dir string, rec *instanceRecord) ([]string, error)
}

// access is how the controller reaches a running server: its instance
// directory and the master's credentials the server has now.
type access struct {
	dir, master, password string
}

// engineDefaults are what CreateDBInstance fills in and checks per engine.
type engineDefaults struct {
	Port           int32
	LicenseModel   string
	Family         string // DBParameterGroupFamily, e.g. postgres15, mariadb10.11
	OptionGroup    string // e.g. default:postgres-15, default:mariadb-10-11
	MaxMaster      int    // MasterUsername's length limit
	MaxPassword    int
	MaxDBName      int
	Reserved       []string // master user names the engine reserves
	Description    string   // DBEngineDescription
	LogTypes       []string // ExportableLogTypes
	ParameterGroup string   // the default DB parameter group's name
}

// engineFor returns the engine named name (lower case), nil for one
// minicloud has no implementation of.
func (s *Service) engineFor(name string) dbEngine {
	switch name {
	case "postgres":
		return pgEngine{s.engine}
	case "mariadb":
		return s.maria
	}
	return nil
}

// allEngines lists the engines in AWS's order (by name).
func (s *Service) allEngines() []dbEngine {
	return []dbEngine{s.maria, pgEngine{s.engine}}
}

// checkEngineVersion resolves the requested version against the host's: ""
// or the major version mean the host's full version.
func checkEngineVersion(eng dbEngine, want string) (string, error) {
	if eng == nil {
		return "", errCombination("Cannot find version %s", want)
	}
	if err := eng.Available(); err != nil {
		return "", errCombination("%s", err.Error())
	}
	have, err := eng.Version()
	if err != nil {
		return "", errCombination("%s", err.Error())
	}
	if want == "" || want == have || want == eng.Major() {
		return have, nil
	}
	return "", errCombination("Cannot find version %s for %s", want, eng.Name())
}

// otherEngineVersions lists the engines other than postgres that this host
// can run and that in asks for (DescribeDBEngineVersions adds postgres).
func (s *Service) otherEngineVersions(in *rdsapi.DescribeDBEngineVersionsMessage) []rdsapi.DBEngineVersion {
	var out []rdsapi.DBEngineVersion
	for _, eng := range s.allEngines() {
		if eng.Name() == "postgres" || eng.Available() != nil {
			continue
		}
		v, err := eng.Version()
		if err != nil {
			continue
		}
		d := eng.Defaults()
		if e := deref(in.Engine); e != "" && e != eng.Name() {
			continue
		}
		if w := deref(in.EngineVersion); w != "" && w != v && w != eng.Major() {
			continue
		}
		if f := deref(in.DBParameterGroupFamily); f != "" && f != d.Family {
			continue
		}
		skip := false
		for _, f := range in.Filters {
			if deref(f.Name) == "engine" && !slices.Contains(f.Values, eng.Name()) {
				skip = true
			}
		}
		if skip {
			continue
		}
		out = append(out, rdsapi.DBEngineVersion{
			Engine:                             ptr(eng.Name()),
			EngineVersion:                      ptr(v),
			MajorEngineVersion:                 ptr(eng.Major()),
			DBParameterGroupFamily:             ptr(d.Family),
			DBEngineDescription:                ptr(d.Description),
			DBEngineVersionDescription:         ptr(engineTitle(eng.Name()) + " " + v),
			ExportableLogTypes:                 d.LogTypes,
			SupportsLogExportsToCloudwatchLogs: ptr(true),
			// Only mariadb is listed here, and it has read replicas.
			SupportsReadReplica:                       ptr(eng.Name() == "mariadb"),
			SupportedEngineModes:                      []string{"provisioned"},
			SupportedFeatureNames:                     []string{},
			Status:                                    ptr("available"),
			SupportsParallelQuery:                     ptr(false),
			SupportsGlobalDatabases:                   ptr(false),
			SupportsBabelfish:                         ptr(false),
			SupportsLimitlessDatabase:                 ptr(false),
			SupportsCertificateRotationWithoutRestart: ptr(true),
			SupportsLocalWriteForwarding:              ptr(false),
			SupportsIntegrations:                      ptr(false),
		})
	}
	return out
}

func engineTitle(name string) string {
	switch name {
	case "mariadb":
		return "MariaDB"
	case "postgres":
		return "PostgreSQL"
	}
	return name
}

// engineHealth is one engine's entry in /_minicloud/health; it never runs
// the server binary (health must stay cheap).
func engineHealth(eng dbEngine) map[string]any {
	h := map[string]any{"engine": eng.Name(), "available": false}
	if err := eng.Available(); err != nil {
		h["reason"] = err.Error()
		return h
	}
	h["available"] = true
	if m, ok := eng.(interface{ knownVersion() string }); ok {
		h["version"] = m.knownVersion()
	}
	return h
}

// pgEngine adapts the PostgreSQL functions of engine.go to dbEngine.
type pgEngine struct{ e *engine }

func (p pgEngine) Name() string { return "postgres" }

func (p pgEngine) Available() error {
	if p.e.binDir == "" {
		return errors.New(installHint)
	}
	return nil
}

func (p pgEngine) Version() (string, error) { return p.e.Version() }
func (p pgEngine) Major() string            { return p.e.major }
func (p pgEngine) knownVersion() string     { return p.e.knownVersion() }

func (p pgEngine) Defaults() engineDefaults {
	return engineDefaults{
		Port: 5432, LicenseModel: "postgresql-license",
		Family: "postgres" + p.e.major, OptionGroup: "default:postgres-" + p.e.major,
		ParameterGroup: "default.postgres" + p.e.major,
		MaxMaster:      63, MaxPassword: 128, MaxDBName: 63,
		Reserved:    []string{"rdsadmin", "rdsrepladmin", "rdstopmgr"},
		Description: "PostgreSQL", LogTypes: []string{"postgresql", "upgrade"},
	}
}

func (p pgEngine) Init(ctx context.Context, dir, master, password string) error {
	return p.e.initdb(ctx, dir, master, password)
}

func (p pgEngine) Start(dir string, port int, vpc *vpcListen, settings []string, extra ...*os.File) (*server, error) {
	return p.e.start(dir, port, vpc, settings, extra...)
}

func (p pgEngine) WaitReady(ctx context.Context, srv *server, a access) error {
	return waitReady(ctx, srv, a.master, a.password, p.LogPath(a.dir))
}

func (p pgEngine) CreateDatabase(ctx context.Context, srv *server, a access, name string) error {
	ok, err := databaseExists(ctx, srv.port, a.master, a.password, name)
	if err != nil || ok {
		return err
	}
	return execSQL(ctx, srv.port, a.master, a.password, "CREATE DATABASE "+quoteIdent(name))
}

func (p pgEngine) SetPassword(ctx context.Context, srv *server, a access, password string) error {
	if err := execSQL(ctx, srv.port, a.master, a.password, "ALTER ROLE "+quoteIdent(a.master)+" PASSWORD "+quoteLiteral(password)); err != nil {
		return fmt.Errorf("set the master password: %w", err)
	}
	return nil
}

func (p pgEngine) LogPath(dir string) string { return filepath.Join(dir, "postgresql.log") }

// Settings: WAL archiving for automated backups (serverSettings).
func (p pgEngine) Settings(dir string, rec *instanceRecord) ([]string, error) {
	return serverSettings(dir, rec)
}

// validNameUpTo: 1 to max letters, digits or underscores, a letter first
// (DBName).
func validNameUpTo(n string, max int) bool {
	if n == "" || len(n) > max {
		return false
	}
	for i, c := range n {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter || !letter && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}
