// Package rds implements Amazon RDS's control plane for the postgres and
// mariadb engines: DB subnet groups, DB instances and (postgres) DB
// parameter groups, with AWS's
// validation and error codes.
//
// Every DB instance is a real server on this host, PostgreSQL or MariaDB,
// run by the engine controller (controller.go) that watches the store, level-triggered
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
// port is a proxy to it. New VpcSecurityGroupIds reach a running
// instance's ENI live, and a Multi-AZ standby's ENI too
// (ENIs.ModifyENIGroups, then a network controller pass); memberships show
// "adding" until they have.
//
// DNS (dns.go): the endpoint name is AWS's,
// <id>.<12 chars>.<region>.rds.amazonaws.com, the 12 characters one hash
// per account and region as on AWS. EndpointSource publishes every name
// with its ENI's private IP, VPC and public IP, rebuilt from the one record
// an event names after each commit. Each VPC's resolver answers the private
// IP inside the instance's own VPC and the public answer elsewhere; the
// host's DNS server (--dns-listen) is AWS's public DNS: the public IP of a
// publicly accessible instance, else the private IP. An instance without an
// ENI (stopped, creating, or without a DB subnet group) keeps its name
// without an address (NODATA); a deleted one's name is NXDOMAIN.
// PubliclyAccessible instances get an Amazon-owned public IP on their ENI
// from EC2's public pool (PublicIPs), mapped 1:1 by the VPC's internet
// gateway like an EC2 instance's, released with the ENI or when
// PubliclyAccessible is turned off (at once, as on AWS). As on AWS,
// PubliclyAccessible needs the subnet group's VPC to have an internet
// gateway and DNS support and hostnames (InvalidVPCNetworkStateFault).
//
// Engines (engines.go): the controller and the API reach a server only
// through the dbEngine interface (Init, Start, WaitReady, CreateDatabase,
// SetPassword…), implemented by a thin adapter over engine.go's PostgreSQL
// functions and by mysql.go's MariaDB. DescribeDBEngineVersions lists what
// this host can run; an engine it cannot run answers CreateDBInstance with
// InvalidParameterCombination saying what to install. Engine mysql is
// refused: MariaDB is MySQL-compatible but not MySQL, and Debian packages no
// MySQL server (mysql.go says more). No embedded engine yet:
// go-mysql-server keeps data in memory only, and its durable backend, Dolt,
// has no current tagged Go module (the proxy's newest is v0.40.4) and would
// bring its whole dependency tree into the binary.
//
// MariaDB (mysql.go) runs one mariadbd per instance, initialized with
// mariadb-install-db, data under <state>/rds/<account>/<region>/<id>/data,
// socket and pid file beside it, as the unprivileged system user
// minicloud-db when minicloud is root, started in a private mount namespace
// where the instance directory appears at /tmp/rds. The master has AWS's
// privileges (no SUPER, READ_ONLY ADMIN or FILE) WITH GRANT OPTION from any
// host; an administrative rdsadmin@localhost,
// reachable only on the instance's socket, creates DBName and resets the
// master's password.
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
//
// Read replicas (replicas.go, replica_controller.go, replica_basebackup.go)
// are PostgreSQL streaming replication for real. Every server also listens
// on a unix socket in <instance dir>/sock. A replica is made with
// pg_basebackup -R from its source's socket, as the replication role
// rdsrepladmin (created on the primary with a random password kept in the
// records, with its own pg_hba entry), with a physical replication slot per
// replica on its source (rds_<region>_db_<resource id>), and runs as a hot
// standby whose primary_conninfo names that socket. Replication thus never
// crosses the VPC network: like AWS's own replication traffic it is not
// subject to the customer's security groups, and it needs no network path
// between namespaces (unix sockets are filesystem objects, reachable from
// any network namespace). The replica's server inherits the source's
// socket directory as fd 4 (host=/proc/self/fd/4), for the same reason the
// data directory is fd 3. Cascading replicas (up to three levels) stream
// from their source replica the same way. Promotion writes the file
// "promote" and signals the postmaster (what pg_ctl promote does), then
// drops the replica's slot on its source. Deleting a source promotes its
// replicas, as on AWS; stopping a replica or a source with replicas is
// refused. Every two seconds the controller checks each replica: it
// records StatusInfos ("read replication": replicating, or error/stopped
// once streaming has been down for a few seconds), follows a source that
// restarted on another port (primary_conninfo is reloadable) and measures
// the lag, shown in /_minicloud/health; Service.ReplicaLag measures it on
// demand, for CloudWatch's ReplicaLag metric. After a restart of minicloud
// the replicas start as standbys again and reconnect (every second) until
// their source is up.
//
// MariaDB read replicas (mysql_replica.go) use MariaDB's GTID replication.
// Every MariaDB server has a server_id hashed from its resource ID and
// gtid_strict_mode; as on RDS, it keeps a binary log (mysql-bin-changelog,
// binlog_format MIXED, RDS's default) when it starts with automated
// backups, and replicas always do (log_slave_updates), so that they can be
// promoted or feed a cascading replica without a restart. A replica's data
// is a mariadb-dump of its source (--single-transaction --master-data
// --gtid, over the source's socket as rdsadmin, accounts included), loaded
// into a freshly initialized server with sql_log_bin off, so the replica's
// binary log holds no transactions of its own; it replicates as
// rdsrepladmin (REPLICATION SLAVE, random password in the records) with
// MASTER_USE_GTID=slave_pos, runs with read_only, which AWS's master
// privileges do not bypass, and starts with skip-slave-start: the
// controller points it at its source and starts replication once per
// server start, which after a restart of minicloud resumes from the GTID
// position. MariaDB replicates over TCP only, and with the data plane on
// source and replica are in different namespaces behind security groups
// that AWS's replication traffic is not subject to: minicloud relays it.
// The relay listens on 127.0.0.1 inside the replica's own network
// namespace, where only the replica's server can reach it (without the
// data plane, on the host's loopback, like the instances' own ports), and
// forwards to the source's Unix socket; so, as with postgres, replication
// crosses no VPC network and no security group. Promotion is
// STOP SLAVE, RESET SLAVE ALL and read_only off; StatusInfos and the lag
// (Seconds_Behind_Master) come from SHOW SLAVE STATUS. Binary logs are
// not purged: MariaDB has no replication slots to say which a replica
// still needs.
//
// Snapshots and backups (snapshots.go, snapshotctl.go, backup.go,
// schedule.go): a DB snapshot is a physical copy of the server's data under
// <state>/rds/<account>/<region>/_snapshots/<id> ("_" because an instance
// may be named "snapshots"), taken by the controller: pg_basebackup against
// the running server (online and consistent; the instance shows backing-up
// meanwhile, PercentProgress follows pg_basebackup's), or a file copy of a
// stopped server's data (DeleteDBInstance's final snapshot of a stopped
// instance, or after a restart). CopyDBSnapshot copies the data;
// RestoreDBInstanceFromDBSnapshot creates an instance whose data directory
// starts as that copy instead of initdb. A snapshot still creating when
// minicloud stopped is taken again; one that cannot be taken is failed.
// With BackupRetentionPeriod > 0 the server archives its WAL into
// <instance>/wal-archive (archive_timeout 15 s) and gets automated backups
// (rds:<id>-YYYY-MM-DD-HH-MM): one after creation (status backing-up), then
// one a day once its PreferredBackupWindow has begun, a missed window made up
// at once; those past the retention period are deleted (the newest is kept)
// with the WAL before them. LatestRestorableTime is the newer of the last
// backup's end and the last archived segment's last write
// (DescribeDBInstanceAutomatedBackups shows the whole RestoreWindow, and
// the backups DeleteAutomatedBackups=false retains after the instance);
// RestoreDBInstanceToPointInTime copies the newest automated backup before
// the target and replays the archive with recovery_target_time, then
// promotes. A failed automated backup is tried again an hour later (only
// the newest failed one is kept). ModifyDBInstance's BackupRetentionPeriod
// 0 (refused while the instance has read replicas) deletes the
// automated backups and a positive one starts them, but WAL archiving
// follows only at the server's next start (reboot or stop and start).
// MariaDB instances (mysql_backup.go, the engine's backupEngine) get the
// same snapshots, copies, restores and automated backups through the same
// paths: mariadb-backup --backup over the instance's socket as rdsadmin,
// then --prepare, for a running server; a file copy for a stopped one. A
// MariaDB snapshot also keeps the rdsadmin password of its data. With
// BackupRetentionPeriod > 0 a MariaDB server keeps binary logs instead of a
// WAL archive (mysql_pitr.go): a point-in-time restore replays them with
// mariadb-binlog from the automated backup's binlog position up to the
// target second.
//
// Multi-AZ DB instances (multiaz.go; postgres only so far): MultiAZ on
// CreateDBInstance or ModifyDBInstance (applied at once: minicloud has no
// maintenance window) gives the instance a standby in
// SecondaryAvailabilityZone, another zone of its DB subnet group (AWS
// refuses AvailabilityZone with MultiAZ). The standby is a second postgres
// server in <instance dir>/standby, made with pg_basebackup from the
// primary's socket like a read replica (slot rds_multi_az_standby), but
// synchronous: the primary's synchronous_standby_names names it once it
// streams, so a commit acknowledged to a client is flushed on the standby.
// It is not readable (hot_standby off) and listens on no TCP address: no
// name, loopback port or address reaches it. With the data plane on it runs
// in the namespace of its own ENI in a subnet of its zone, with the
// instance's security groups. RebootDBInstance with ForceFailover (refused
// with InvalidParameterCombination on a single-AZ instance) fails over: the
// primary shuts down cleanly (its last WAL reaches the standby), the
// standby is promoted, the data directories are swapped (the primary's is
// always <instance dir>/data), the record swaps the ENIs and the zones, so
// the endpoint name answers the new primary's private IP, and the primary
// starts again on the same loopback port; a new standby is then built on
// the old primary's ENI. The same happens by itself when the primary's
// server dies and cannot be started again while the standby runs. Read
// replicas follow: their slots are made on the promoted standby before it
// becomes the primary. The record keeps the standby (its ENI, whether it
// is built, a failover in progress), so a restart of minicloud starts both
// servers in their roles and finishes an interrupted failover. Stopping a
// Multi-AZ instance stops both; MultiAZ false removes the standby, its
// slot, data and ENI.
package rds

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
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
	// their VPC (placement.go): the data plane's network, EC2's interfaces
	// and a pass of the network controller. Without Net, every server
	// listens on loopback only.
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
	ctl     atomic.Pointer[controller] // set while the controller runs; HTTP handlers read it
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
