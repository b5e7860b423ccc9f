// Package aurora is Amazon Aurora's engines, aurora-postgresql and
// aurora-mysql, each an engine.Engine over one of the host's engines: an
// Aurora DB instance is a server of that engine (PostgreSQL, MariaDB), with
// every capability of it (replication, backups, parameters…), under
// Aurora's name, versions, parameter group families and instance classes,
// and with the engine.Clusters capability that makes its instances members
// of DB clusters.
//
// Where it differs from Aurora, it says so in DescribeDBEngineVersions'
// DBEngineVersionDescription:
//
//   - aurora-postgresql's version is the host PostgreSQL's own (15.18 on
//     Debian 12), which may be a minor version Aurora does not offer; its
//     storage is the writer's data directory, not Aurora's shared volume.
//   - aurora-mysql runs on the host's MariaDB (Debian packages no MySQL
//     server) under Aurora MySQL 3's version string, 8.0.mysql_aurora.3.08.0:
//     clients see a MariaDB 10.11 server (its SELECT VERSION(), its SQL
//     dialect and authentication plugins), MySQL-compatible but not MySQL
//     8.0. Its readers are MariaDB's semi-synchronous GTID replicas, not
//     Aurora's shared volume, and it has no Backtrack: MariaDB cannot
//     rewind a server's data in place, so BacktrackWindow and the
//     backtrack operations get AWS's answer for a version without it.
package aurora
