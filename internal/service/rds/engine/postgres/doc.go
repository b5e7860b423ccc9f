// Package postgres is RDS for PostgreSQL: an engine.Engine over the host's
// PostgreSQL server binaries (the newest /usr/lib/postgresql/<major>/bin),
// one postgres per DB instance, with every capability: read replicas
// (streaming replication), Multi-AZ standbys, backups and point-in-time
// restore (pg_basebackup and a WAL archive) and DB parameter groups
// (postgres --describe-config, an include file of postgresql.conf).
//
// PostgreSQL refuses to run as root: when minicloud runs as root, the
// servers run as the Debian "postgres" user if it exists, else as a system
// user "minicloud-db" that minicloud creates (useradd --system). Their data
// lives under <instance dir>/data; the server reaches it through an
// inherited directory descriptor (/proc/self/fd/3), so the state
// directory's ancestors (such as /root) need not be searchable by that user.
// Every server also listens on a Unix socket in <instance dir>/sock.
//
// Read replicas (replication.go) are made with pg_basebackup -R from their
// source's socket, as the replication role rdsrepladmin (created on the
// primary, with its own pg_hba entry), with a physical replication slot
// per replica on its source (rds_<region>_db_<resource id>), and run as hot
// standbys whose primary_conninfo names that socket. Replication thus never
// crosses the VPC network: like AWS's own replication traffic it is not
// subject to the customer's security groups, and it needs no network path
// between namespaces (Unix sockets are filesystem objects, reachable from
// any network namespace). The replica's server inherits the source's
// socket directory as fd 4 (host=/proc/self/fd/4), for the same reason the
// data directory is fd 3. A replica follows a source that restarted on
// another port (primary_conninfo is reloadable), and after a restart of
// minicloud starts as a standby again and reconnects (every second) until
// its source is up. Promotion writes the file "promote" and signals the
// postmaster (what pg_ctl promote does), then the replica's slot on its
// source is dropped (the controller keeps it to drop once the source runs,
// if it does not).
//
// A Multi-AZ standby (standby.go) is a second postgres in
// <instance dir>/standby, made like a read replica (slot
// rds_multi_az_standby) but synchronous (the primary's
// synchronous_standby_names names it once it streams), not readable
// (hot_standby off) and on no TCP address. A failover promotes it and swaps
// the data directories: the primary's is always <instance dir>/data.
//
// Backups (backup.go): pg_basebackup against a running server, a file copy
// of a stopped one's data. With automated backups the server archives its
// WAL into <instance dir>/wal-archive (archive_timeout 15 s); a
// point-in-time restore copies a base backup and replays the archive with
// recovery_target_time, then promotes.
//
// DB parameter groups (params.go) are the host engine's own parameters; an
// instance's group is written into an include file of its postgresql.conf
// and reloaded for values applied at once.
package postgres
