package engine

import (
	"context"
	"os"
	"time"
)

// The capabilities: what an engine may do besides running a server. The API
// and the controller type-assert an Engine for each (Is), and where it is
// missing AWS's feature is refused for that engine, naming the engines that
// have it (Registry.Names).

// Replication is an engine whose DB instances can have read replicas.
type Replication interface {
	Engine
	// Clone makes instance directory dir a new read replica's server, a
	// copy of the running source src (whose Server is set) that will
	// replicate from it.
	Clone(ctx context.Context, dir string, r Replica, src Source) error
	// PrepareReplica readies replica r's server in dir to start, pointed
	// at src's current address; it returns the files the server is to
	// inherit (Start's extra), which the caller closes once it started.
	PrepareReplica(dir string, r Replica, src Source) ([]*os.File, error)
	// Replicate runs on every pass over the running replica p that is not
	// to be promoted: it makes p replicate from src if it does not yet
	// (once per server process).
	Replicate(ctx context.Context, p *Server, dir string, r Replica, src Source) error
	// Retarget points the running replica p at the running source src
	// again, should src have restarted at another address.
	Retarget(p *Server, dir string, r Replica, src Source) error
	// Promote makes the running replica p a standalone, writable server.
	Promote(ctx context.Context, p *Server, dir string, r Replica, src Source) error
	// Lag measures how far the running replica p is behind its source (src
	// nil: the source does not run) and whether it streams from it.
	Lag(ctx context.Context, p *Server, dir string, r Replica, src *Server) (lag time.Duration, streaming bool, err error)
	// ReplicationError is the last error the server of replica dir logged
	// about reaching its source, "" for none.
	ReplicationError(dir string) string
	// Hold names what replica r keeps on its source while it exists (a
	// replication slot, which keeps the source's logs), "" for nothing.
	Hold(r Replica) string
	// Release frees hold on the running source src, whose replication
	// login has password.
	Release(ctx context.Context, src *Server, password, hold string) error
}

// Replica is a read replica as its engine sees it.
type Replica struct {
	// ID is its DBInstanceIdentifier, ResourceID its DbiResourceId,
	// Region its region.
	ID, ResourceID, Region string
	// Master and Password are the master login a new replica's server is
	// made with before its source's data brings the source's.
	Master, Password string
	// ReplPassword is the replication login's (ReplUser) password, the
	// same along a chain of replicas.
	ReplPassword string
}

// Source is a read replica's source as the replica's engine sees it.
type Source struct {
	// ID is the source's DBInstanceIdentifier.
	ID string
	// Access reaches it: its instance directory and master login.
	Access
	// Server is its running server, nil when it does not run.
	Server *Server
	// Port is where its server listens in its own namespace (postgres
	// names its Unix socket after it).
	Port int
	// Replica: the source is itself a read replica (a cascade), which got
	// the replication login with its data.
	Replica bool
}

// Standbys is an engine that keeps a Multi-AZ DB instance's synchronous
// standby: a hidden second server in the instance directory's standby
// directory, streaming from the primary, that takes over in a failover.
// password is always the replication login's (ReplUser); port is where the
// primary listens in its namespace.
type Standbys interface {
	Engine
	// BuildStandby makes a fresh standby's data from the running primary p
	// of instance directory primary.Dir, whose master login primary is.
	BuildStandby(ctx context.Context, p *Server, primary Access, password string, port int) error
	// StartStandby starts the built standby of the primary in dir, inside
	// vpc's namespace when set; it reaches no client.
	StartStandby(dir string, port int, vpc *Listen, password string) (*Server, error)
	// WaitStandby waits until the primary p streams to the standby sb.
	WaitStandby(ctx context.Context, sb, p *Server, dir, password string) error
	// RetargetStandby points the running standby sb at the primary again,
	// should it have restarted on another port.
	RetargetStandby(sb *Server, dir string, port int, password string) error
	// SyncStandby makes the primary p's commits wait for the standby (on)
	// or not.
	SyncStandby(ctx context.Context, p *Server, dir, password string, on bool) error
	// PromoteStandby makes the running standby sb a primary and gives it
	// what replicas hold on the old primary (Replication.Hold), so that
	// they follow it.
	PromoteStandby(ctx context.Context, sb *Server, dir, password string, replicas []Replica) error
	// SwapStandby makes the promoted standby's data the primary's (dir's);
	// it can be repeated after a crash at any point.
	SwapStandby(dir string) error
	// RemoveStandby drops the standby's hold on the running primary p (when
	// password is set) and the standby's data.
	RemoveStandby(ctx context.Context, p *Server, dir, password string) error
}

// Backups is an engine whose data minicloud copies: DB snapshots,
// automated backups and restores from them. A snapshot directory holds
// data/ and whatever else the engine needs beside it.
type Backups interface {
	Engine
	// CanBackup is nil when this host can copy the engine's data, else an
	// error saying what to install.
	CanBackup() error
	// Backup copies the running server p of instance directory a.Dir into
	// snapshot directory dst, replacing whatever dst held; progress, if
	// set, receives the percentage copied.
	Backup(ctx context.Context, p *Server, a Access, dst string, progress func(int32)) error
	// CopyStopped copies instance directory dir, whose server does not
	// run, into snapshot directory dst.
	CopyStopped(dir, dst string) error
	// Restore makes instance directory dir from snapshot directory snap.
	Restore(ctx context.Context, snap, dir string) error
}

// PointInTime is an engine that restores its instances to a point in time:
// an automated backup brought forward with the logs its server keeps
// (PostgreSQL's WAL archive, MariaDB's binary logs).
type PointInTime interface {
	Backups
	// RestoreToTime makes dir from snap, an automated backup of the
	// instance in srcDir, brought to the state at target (nil: the
	// latest) with the source's logs.
	RestoreToTime(ctx context.Context, snap, dir, srcDir string, target *time.Time) error
	// Replays reports whether a restore of automated backup snap (consistent
	// at end) to target replays logs; an error says why it cannot reach
	// target.
	Replays(snap string, end *time.Time, target time.Time) (bool, error)
	// LatestLogged is the last write to instance dir's logs: every
	// transaction committed before it can be restored.
	LatestLogged(dir string) (time.Time, bool)
	// PruneLogs removes from instance dir's logs what precedes snap, the
	// oldest automated backup kept.
	PruneLogs(dir, snap string) error
	// DropLogs removes instance dir's logs: it has no automated backups.
	DropLogs(dir string) error
}

// Parameters is an engine whose DB parameter groups minicloud applies to
// its servers (the others have their empty default group only).
type Parameters interface {
	Engine
	// Params lists the engine's parameters, sorted by name.
	Params() ([]Param, error)
	// ValidValue reports whether v is a valid value of p as far as the
	// engine's catalogue tells; the server judges the rest when it reads
	// it.
	ValidValue(p Param, v string) bool
	// WriteParams makes vals (name to value) the group's values the server
	// of instance directory dir reads at its next start or reload.
	WriteParams(dir string, vals map[string]string) error
	// ReloadParams makes the running server p read them now.
	ReloadParams(ctx context.Context, p *Server, a Access) error
	// ParamsPending reports whether the running server p has values it
	// does not apply until a restart (static ones, refused ones).
	ParamsPending(ctx context.Context, p *Server, a Access) (bool, error)
	// RefusedParams reports whether err (from Start or WaitReady) is the
	// server refusing to start on a value of its group.
	RefusedParams(err error) bool
}

// Param is one parameter as the engine describes it.
type Param struct {
	Name, Description string
	// DataType is AWS's: boolean, integer, float or string.
	DataType string
	// Min and Max bound a number, "" when the engine gives no bound.
	Min, Max string
	// Static: the server applies it only when it starts.
	Static bool
	// Modifiable: a parameter group may set it.
	Modifiable bool
	// System: minicloud sets it itself (AWS's Source "system").
	System bool
}

// Is reports whether engine e has capability C.
func Is[C any](e Engine) bool {
	_, ok := e.(C)
	return ok
}

// Monitoring is an engine that reports what CloudWatch's AWS/RDS metrics
// need from the server itself (the rest — CPU, memory, storage, network
// — the controller reads from the server's workload and files).
type Monitoring interface {
	Engine
	// Connections counts the client connections of the running server p,
	// whose login a is, leaving out the one that asks: DatabaseConnections.
	Connections(ctx context.Context, p *Server, a Access) (int, error)
}

// LogExports is an engine whose logs minicloud exports to CloudWatch Logs
// (EnableCloudwatchLogsExports).
type LogExports interface {
	Engine
	// LogFile is the file of instance directory dir the server writes log
	// type t to (one of Defaults().LogTypes), "" when minicloud's server
	// writes no log of that type (an export of it stays empty, as on AWS
	// while the log is off).
	LogFile(dir, t string) string
}

// QuorumCommit is an engine whose primary can make its commits wait for its
// read replicas: a commit is acknowledged only once one of them has it too,
// so that it survives the primary's loss (an Aurora DB cluster's readers,
// standing in for Aurora's shared storage).
type QuorumCommit interface {
	Replication
	// SyncReplicas makes the primary p of instance directory dir, whose
	// replication login has password, acknowledge a commit only once any
	// one of replicas has flushed it; with no replicas, at once. It
	// returns once the server applies it.
	SyncReplicas(ctx context.Context, p *Server, dir, password string, replicas []Replica) error
	// Streaming lists the IDs of those of replicas that stream from the
	// primary p now.
	Streaming(ctx context.Context, p *Server, password string, replicas []Replica) ([]string, error)
	// Received is how much of its primary's log the running replica p has
	// received: of two replicas of one primary, the larger has more.
	Received(ctx context.Context, p *Server, password string) (uint64, error)
	// Adopt gives the running primary p, a promoted replica, what
	// replicas are to hold on it (Replication.Hold), so that they follow
	// it from their next start.
	Adopt(ctx context.Context, p *Server, password string, replicas []Replica) error
}

// Clusters is an engine whose DB instances are members of DB clusters
// (Aurora's): CreateDBCluster takes only these engines, and CreateDBInstance
// refuses one of their instances without DBClusterIdentifier, as AWS does.
// Its members are servers of the engine it runs on, so the other
// capabilities are that engine's.
type Clusters interface {
	Engine
	// Cluster is what the cluster API needs of the engine.
	Cluster() ClusterDefaults
}

// ClusterDefaults are what CreateDBCluster fills in and
// DescribeDBEngineVersions and DescribeOrderableDBInstanceOptions show for
// a cluster engine.
type ClusterDefaults struct {
	// ParameterGroup is the default DB cluster parameter group's name
	// (default.aurora-postgresql15).
	ParameterGroup string
	// Classes are the DB instance classes its members may have, sorted;
	// "db.serverless" among them for Serverless v2.
	Classes []string
	// Runs is what minicloud runs the engine on, for
	// DBEngineVersionDescription ("PostgreSQL 15.18 on this host").
	Runs string
	// MaxMembers is how many DB instances a cluster holds: a writer and
	// up to 15 readers.
	MaxMembers int
	// NoBacktrack is AWS's answer (error code and message) to a backtrack
	// asked of the engine's clusters, which minicloud cannot rewind in
	// place: what AWS answers for an engine or version without Backtrack.
	NoBacktrack struct{ Code, Message string }
}
