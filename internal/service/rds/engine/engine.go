package engine

import (
	"context"
	"net/netip"
	"os"
)

// Engine is one RDS engine ("postgres", "mariadb") run on the host's server
// binaries: everything the API and the controller need from every engine.
// What only some engines do is a capability (capabilities.go).
type Engine interface {
	// Name is the RDS engine name: "postgres", "mariadb".
	Name() string
	// Available is nil when this host can run the engine, else an error
	// whose message says what to install.
	Available() error
	// Version is the host server's full version ("15.18", "10.11.19");
	// Major is RDS's major version of it ("15", "10.11").
	Version() (string, error)
	Major() string
	// KnownVersion is what /_minicloud/health shows: never running a
	// binary (health must stay cheap), the version if Version already
	// ran, else what is known without it.
	KnownVersion() string
	// Defaults are AWS's defaults and limits for the engine.
	Defaults() Defaults
	// Init creates a new server's files in dir (the instance directory)
	// with the master user and password, discarding a half-made attempt.
	Init(ctx context.Context, dir, master, password string) error
	// Start runs the server on dir's data for clients on 127.0.0.1:port
	// (the returned Server's Port). With vpc, the server listens inside
	// vpc's namespace on vpc's address and port instead, and the caller
	// forwards 127.0.0.1:port to it. settings are more engine settings
	// (name=value, from Settings and the caller); extra are files the
	// server inherits after its instance directory (PrepareReplica's).
	Start(dir string, port int, vpc *Listen, settings []string, extra ...*os.File) (*Server, error)
	// WaitReady waits until the server accepts a's connections.
	WaitReady(ctx context.Context, p *Server, a Access) error
	// CreateDatabase creates database name unless it exists.
	CreateDatabase(ctx context.Context, p *Server, a Access, name string) error
	// SetPassword gives a's user (the master) password.
	SetPassword(ctx context.Context, p *Server, a Access, password string) error
	// LogPath is the server's log file in instance directory dir.
	LogPath(dir string) string
	// Settings are the settings the server of instance in starts with in
	// dir (automated backups' logs, replication), for Start.
	Settings(dir string, in Instance) ([]string, error)
}

// Access is how to reach a running server: its instance directory and a
// login the server has now (the master's, or the replication login's).
type Access struct {
	Dir, User, Password string
}

// Listen is where a server placed in a VPC listens: an address and port
// inside network namespace NS (a path).
type Listen struct {
	NS   string
	IP   netip.Addr
	Port int
}

// Instance is what an engine needs to know of a DB instance to start its
// server (Settings).
type Instance struct {
	// ResourceID is the instance's DbiResourceId, never reused.
	ResourceID string
	// BackupRetention is its BackupRetentionPeriod: automated backups
	// (and the logs a point-in-time restore replays) when positive.
	BackupRetention int32
	// Replica: the instance is a read replica; HasReplicas: it is the
	// source of read replicas.
	Replica, HasReplicas bool
	// ClassMemory is RDS's DBInstanceClassMemory in bytes: the memory
	// its server is limited to (its class's, capped at the host; a
	// Serverless v2 member's at MaxCapacity, as AWS sizes them), 0 when
	// unknown. Engines size their memory settings by it as RDS's default
	// parameter groups do, unless the instance's group sets them.
	ClassMemory int64
}

// Defaults are what CreateDBInstance fills in and checks per engine, and
// how DescribeDBEngineVersions presents it.
type Defaults struct {
	Port           int32
	LicenseModel   string
	Family         string // DBParameterGroupFamily, e.g. postgres15, mariadb10.11
	OptionGroup    string // e.g. default:postgres-15, default:mariadb-10-11
	MaxMaster      int    // MasterUsername's length limit
	MaxPassword    int
	MaxDBName      int
	Reserved       []string // master user names the engine reserves
	Title          string   // the engine's name for people: PostgreSQL, MariaDB
	Description    string   // DBEngineDescription
	LogTypes       []string // ExportableLogTypes
	ParameterGroup string   // the default DB parameter group's name
}

// ReplUser is the replication login on every server that has read
// replicas or a standby, named as AWS names its own.
const ReplUser = "rdsrepladmin"

// Health is engine e's entry in /_minicloud/health; it never runs the
// server binary.
func Health(e Engine) map[string]any {
	h := map[string]any{"engine": e.Name(), "available": false}
	if err := e.Available(); err != nil {
		h["reason"] = err.Error()
		return h
	}
	h["available"] = true
	h["version"] = e.KnownVersion()
	return h
}
