// Package mariadb is RDS for MariaDB: an engine.Engine over the host's
// MariaDB server (Debian's mariadb-server: mariadbd and
// mariadb-install-db), one mariadbd per DB instance with its data, socket
// and pid file in the instance directory; the system's MariaDB service, if
// any, is neither needed nor touched. It has read replicas (GTID
// replication), backups (mariadb-backup) and point-in-time restore (binary
// logs); no Multi-AZ standbys and no DB parameter groups of its own (an
// instance has its family's empty default group).
//
// mariadbd runs unprivileged: as root, minicloud runs it as the system user
// "minicloud-db" (created on first use), never as Debian's "mysql" (the
// owner of the system's /var/lib/mysql) nor as the "postgres" user
// PostgreSQL instances may run as; LOAD DATA, SELECT … INTO OUTFILE and
// LOAD_FILE are confined to the instance's tmp directory
// (secure_file_priv). Unlike postgres, it resolves its data directory to a
// real path and opens files by that path, so an inherited descriptor is not
// enough when the instance directory's ancestors (such as /root) are closed
// to that user: as root, minicloud starts it through util-linux's unshare
// in a private mount namespace where a tmpfs hides /tmp and the instance
// directory is bind-mounted at /tmp/rds, then drops to the server user with
// setpriv. Nothing of that is visible on the host. Its mounts are slaves of
// the host's rather than private copies, so that the host's unmounts reach
// it: a network namespace minicloud deletes while the server runs is not
// kept alive by the server's copy of its mount.
//
// Each server has an administrative account, rdsadmin@localhost (as on
// AWS), reachable only through the instance's Unix socket, whose random
// password is kept in the instance directory readable by minicloud alone:
// it creates DBName and resets the master's password (and privileges) even
// after the master changed them with SQL, as ModifyDBInstance does on AWS.
// The master has AWS's privileges (no SUPER, READ_ONLY ADMIN or FILE) WITH
// GRANT OPTION from any host.
//
// Read replicas (replication.go): every server has a server_id hashed from
// its resource ID and gtid_strict_mode; as on RDS, it keeps a binary log
// (mysql-bin, binlog_format MIXED, RDS's default) when it starts with
// automated backups, and replicas always do (log_slave_updates), so that
// they can be promoted or feed a cascading replica without a restart. A
// replica's data is a mariadb-dump of its source (--single-transaction
// --master-data --gtid, over the source's socket as rdsadmin, accounts
// included), loaded into a freshly initialized server with sql_log_bin
// off, so the replica's binary log holds no transactions of its own; it
// replicates as rdsrepladmin (REPLICATION SLAVE) with
// MASTER_USE_GTID=slave_pos, runs with read_only, which AWS's master
// privileges do not bypass, and starts with skip-slave-start: Replicate
// points it at its source and starts replication once per server start,
// which after a restart of minicloud resumes from the GTID position.
// MariaDB replicates over TCP only, and with the data plane on source and
// replica are in different namespaces behind security groups that AWS's
// replication traffic is not subject to: minicloud relays it. The relay
// listens on 127.0.0.1 inside the replica's own network namespace, where
// only the replica's server can reach it (without the data plane, on the
// host's loopback, like the instances' own ports), and forwards to the
// source's Unix socket; so, as with postgres, replication crosses no VPC
// network and no security group. Promotion waits until the replica has
// applied every transaction it received (STOP SLAVE IO_THREAD, then
// MASTER_GTID_WAIT), then STOP SLAVE, RESET SLAVE ALL and read_only off; the lag (Seconds_Behind_Master) comes from SHOW SLAVE
// STATUS. Binary logs are not purged for replicas: MariaDB has no
// replication slots to say which a replica still needs.
//
// Quorum commit (quorum.go, engine.QuorumCommit, for Aurora MySQL's
// writers): MariaDB's built-in semi-synchronous replication, wait point
// AFTER_SYNC, a 2 s timeout after which the writer commits alone (see
// quorum.go for the trade-off); every replica enables its side before
// START SLAVE, which does nothing unless its source asks for
// acknowledgements. Received is the highest GTID sequence number a
// replica received (Gtid_IO_Pos) or applied.
//
// Backups (backup.go) are mariadb-backup --backup over the instance's
// socket as rdsadmin, then --prepare, for a running server; a file copy
// for a stopped one. A snapshot also keeps the rdsadmin password of its
// data. A point-in-time restore (pitr.go) replays the binary logs with
// mariadb-binlog from the automated backup's binlog position up to the
// target second.
//
// RDS for MySQL is not served: MariaDB is MySQL-compatible but is not
// MySQL, and Debian does not package MySQL Community Server
// (engine.Unsupported says so to CreateDBInstance).
package mariadb
