// Package engine is the contract between RDS (its API and its controller)
// and the database servers minicloud runs: what an engine must do (Engine),
// what it may do besides (the capabilities: Replication, Standbys,
// QuorumCommit, Backups, PointInTime, Parameters, Monitoring, LogExports,
// each a small interface the callers type-assert for), the types both sides share (Server, Access, Listen, Instance,
// Replica, Source, Param, Defaults) and the Registry that answers "which
// engines" and "the engine named n".
//
// Nothing outside the engine packages switches on an engine's name: where
// AWS's behaviour differs by engine (defaults, limits, features, which
// engine an error names), the engine says so through this interface, and a
// feature an engine lacks is a capability it does not implement.
//
// The engines themselves are the packages below: postgres (PostgreSQL) and
// mariadb (MariaDB), each over the host's server binaries. What they share
// lives here: starting and supervising a server process (process.go, which
// the shared workload runtime is to replace), copying data directories
// (files.go) and the unprivileged user the servers run as (user.go).
//
// This package must not know DB instance records, the store or the
// controller: an engine is told what it needs (an instance directory, a
// login, an Instance or Replica description) and answers with servers and
// errors.
package engine
