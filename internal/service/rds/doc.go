// Package rds is Amazon RDS's API: DB subnet groups, DB instances, read
// replicas, Multi-AZ deployments, DB parameter groups, DB snapshots and
// automated backups, point-in-time restore, Aurora DB clusters, tags and
// log exports to
// CloudWatch Logs (logexports.go), with AWS's validation, defaults and
// error codes, and the DNS names of the instances' endpoints. Every DB
// instance is a real server on this host; its AWS/RDS metrics and its
// exported logs go to CloudWatch through the ports the server hands the
// controller (Config.Metrics, Config.Logs).
//
// The folders say where each part lives:
//
//   - rds (this package): the handlers. They validate a request, record
//     the desired state in one write transaction (status creating,
//     stopping, starting, rebooting, modifying, deleting…) and answer; they
//     run nothing. Describe reads the records. The largest check the
//     request alone first (createCheck, modifyCheck, replicaCheck), then
//     make every check that reads the records inside that transaction
//     (create.go, modify.go, replicas.go); EC2, whose port cannot join it,
//     is asked before and its answers checked inside (sgcheck.go).
//   - rds/records: the records and their tables, shared with the
//     controller, and where each record's data lives (DataDirs).
//   - rds/controller: the controller, which watches the store and makes
//     the servers follow the records, level-triggered, and reports back
//     into them; it takes snapshots and automated backups, builds read
//     replicas and Multi-AZ standbys, applies parameter groups, places
//     servers in their VPC.
//   - rds/engine: the engine interface both of them use, its optional
//     capabilities and the registry of engines; rds/engine/postgres and
//     rds/engine/mariadb implement it over the host's server binaries.
//
// No code outside the engine packages switches on an engine's name: where
// AWS's behaviour differs by engine (defaults and limits, what is
// supported, which engines an error names), the engine says so, and a
// feature an engine lacks is a capability it does not implement
// (engines.go). DescribeDBEngineVersions lists what this host can run; an
// engine it cannot run answers CreateDBInstance with
// InvalidParameterCombination saying what to install. Engine mysql is
// refused with why (engine.Unsupported): MariaDB is MySQL-compatible but
// not MySQL, and Debian packages no MySQL server.
//
// Networking: each server is reachable on 127.0.0.1 on a free port that
// minicloud chooses and records (the "loopback port", reported by
// /_minicloud/health under "rds" and by Service.Loopback). With the data
// plane on, an instance with a DB subnet group is also placed in its VPC:
// it listens on the private IP of a requester-managed ENI
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
// Modifications (modify.go) follow AWS's table of which settings apply at
// once and which wait for the maintenance window; minicloud does not
// simulate that window, so deferred values stay in PendingModifiedValues
// until a ModifyDBInstance with ApplyImmediately=true. DB parameter groups
// (paramgroups.go) list the host engine's own parameters, for the engines
// that have them (engine.Parameters; the others have their empty default
// group only); the controller gives an instance's group to its server,
// values applied immediately at once, the others at the next reboot; a
// value the engine refuses keeps the instance in pending-reboot, and a
// start that fails on it leaves the instance in incompatible-parameters
// until the group is fixed and the instance rebooted.
// DescribeOrderableDBInstanceOptions (orderable.go) offers the host's
// engine version with the classes CreateDBInstance accepts. A class is
// enforced: its server runs with the class's vCPUs as CPU quota and its
// memory as memory limit (cgroups, through the workload runtime; the
// controller's capacity.go), each capped at the host's, so a
// db.r5.24xlarge on a 2-core host has 2 CPUs. The engines' memory settings
// follow that memory (DBInstanceClassMemory) as RDS's default parameter
// groups compute them, unless the instance's group sets them:
// shared_buffers {DBInstanceClassMemory/32768} for postgres,
// SUM({DBInstanceClassMemory/12038},-50003) for aurora-postgresql,
// innodb_buffer_pool_size {DBInstanceClassMemory*3/4} for MariaDB and
// aurora-mysql; a Serverless v2 member's by its MaxCapacity, as AWS's.
// DescribeDBParameters does not show these formulas.
//
// Read replicas (replicas.go), for engines with engine.Replication: a
// replica is made from a copy of its source and replicates for real, as
// the engine does it (PostgreSQL's streaming replication, MariaDB's GTID
// replication), never over the VPC network: like AWS's own replication
// traffic it is not subject to the customer's security groups. Cascading
// replicas (up to three levels) replicate from their source replica.
// Deleting a source promotes its replicas, as on AWS; stopping a replica
// or a source with replicas is refused, and so is turning automated
// backups off on a source. Every two seconds the controller checks each
// replica: it records StatusInfos ("read replication": replicating, or
// error/stopped once replication has been down for a few seconds) and
// measures the lag, shown in /_minicloud/health; Service.ReplicaLag
// measures it on demand, for CloudWatch's ReplicaLag metric.
//
// Snapshots and backups (snapshots.go, automated.go), for engines with
// engine.Backups: a DB snapshot is a copy of the server's data under
// <state>/rds/<account>/<region>/_snapshots/<id>, taken by the controller
// from the running server (online and consistent; the instance shows
// backing-up meanwhile) or from a stopped server's files.
// CopyDBSnapshot copies the data; RestoreDBInstanceFromDBSnapshot creates
// an instance whose data starts as that copy. A snapshot still creating
// when minicloud stopped is taken again; one that cannot be taken is
// failed. With BackupRetentionPeriod > 0 the server keeps the logs a
// point-in-time restore replays (engine.PointInTime) and gets automated
// backups (rds:<id>-YYYY-MM-DD-HH-MM): one after creation (status
// backing-up), then one a day once its PreferredBackupWindow has begun, a
// missed window made up at once; those past the retention period are
// deleted (the newest is kept) with the logs before them.
// LatestRestorableTime is the newer of the last backup's end and the last
// write to the logs (DescribeDBInstanceAutomatedBackups shows the whole
// RestoreWindow, and the backups DeleteAutomatedBackups=false retains
// after the instance); RestoreDBInstanceToPointInTime copies the newest
// automated backup before the target and replays the logs up to it. A
// failed automated backup is tried again an hour later (only the newest
// failed one is kept). ModifyDBInstance's BackupRetentionPeriod 0 deletes
// the automated backups and a positive one starts them, but the logs
// follow only at the server's next start (reboot or stop and start).
//
// Multi-AZ DB instances (multiaz.go), for engines with engine.Standbys:
// MultiAZ on CreateDBInstance or ModifyDBInstance (applied at once:
// minicloud has no maintenance window) gives the instance a synchronous,
// hidden standby in SecondaryAvailabilityZone, another zone of its DB
// subnet group (AWS refuses AvailabilityZone with MultiAZ), with its own
// ENI there when placed. RebootDBInstance with ForceFailover (refused with
// InvalidParameterCombination on a single-AZ instance) fails over: the
// standby is promoted and becomes the primary, the record swaps the ENIs
// and the zones, so the endpoint name answers the new primary's private
// IP, the primary keeps its loopback port, and a new standby is built. The
// same happens by itself when the primary's server dies and cannot be
// started again while the standby runs. Read replicas follow the new
// primary. Stopping a Multi-AZ instance stops both; MultiAZ false removes
// the standby.
//
// Aurora DB clusters (clusters.go, members.go, clusterparams.go), for the
// cluster engines (engine.Clusters: aurora-postgresql on the host's
// PostgreSQL, aurora-mysql on its MariaDB under Aurora MySQL 3's version
// string; DescribeDBEngineVersions' DBEngineVersionDescription says what
// runs). CreateDBCluster records an empty cluster (EngineMode provisioned
// only; the master user, DatabaseName, Port, subnet group, security
// groups, cluster parameter group, backups and Serverless v2 range are the
// cluster's), available at once since it runs nothing itself; its
// endpoint names are AWS's, <id>.cluster-<hash>… and <id>.cluster-ro-<hash>…
// with the instances' per-account-region hash. CreateDBInstance with
// DBClusterIdentifier adds a member: the first is the writer, later ones
// readers (up to 15), PromotionTier 0-15 (default 1), each placed in the
// cluster's zone with the fewest members; what the cluster owns (master
// user and password, database, storage, security groups, port, backups) is
// refused on the instance with AWS's InvalidParameterCombination, and an
// Aurora engine's instance without a cluster is refused. Deleting the
// writer hands the role to the reader with the lowest PromotionTier (then
// identifier), as AWS fails over; members need no final snapshot.
// ModifyDBCluster applies everything at once (no maintenance window;
// NewDBClusterIdentifier renames the cluster, its ARN and endpoint names,
// and its members follow); the
// master password and security groups reach every member's record, so the
// controller applies them as for any instance. StopDBCluster and
// StartDBCluster stop and start every member; the cluster shows stopped or
// available once they all are. DeleteDBCluster refuses a cluster with
// members (InvalidDBClusterStateFault, "Cluster cannot be deleted, it
// still contains DB instances in non-deleting state.") or deletion
// protection, and wants exactly one of FinalDBSnapshotIdentifier and
// SkipFinalSnapshot (InvalidParameterCombination). As Aurora's storage
// outlives its instances, a cluster keeps its data when its last member,
// the writer, is deleted (clustervolume.go; records/clustervolume.go is
// the contract): the controller copies the stopped writer's data into the
// cluster's volume before removing the instance. A new writer of the
// cluster starts from the volume; DeleteDBCluster's final snapshot is a
// manual cluster snapshot copied from it (restorable as any), and
// SkipFinalSnapshot just removes it. A cluster that never had a writer
// with data has no volume: its final snapshot is refused
// (InvalidDBClusterStateFault; AWS would snapshot an empty volume). The
// last writer's automated backups stay with the volume as the cluster's
// automated snapshots until DeleteDBCluster, which deletes them unless
// DeleteAutomatedBackups is false (then they are retained as a deleted DB
// instance's, in DescribeDBInstanceAutomatedBackups: minicloud has no
// DescribeDBClusterAutomatedBackups).
// DB cluster parameter groups list the host engine's parameters as DB
// parameter groups do. Custom endpoints (clusterendpoints.go: READER or ANY,
// static or excluded members, five per cluster) are recorded creating (a
// change: modifying) and made available by the controller once its
// loopback relay (round-robin over the available members the endpoint
// selects, records.ClusterEndpoint.Selects) is up; their names
// (<id>.cluster-custom-<hash>…) answer those members, rotating with a
// 1-second TTL (clusterdns.go), and are gone with the endpoint;
// /_minicloud/health lists them under their cluster.
// DescribeDBClusterEndpoints also lists the cluster's WRITER and READER
// endpoints. FailoverDBCluster checks the
// request (an available reader; a target that is a reader) and records it
// for the controller (status failing-over). Which member is a server of
// what role (the writer a primary, each reader a real read-only replica of
// it) is the controller's, following records.Cluster (records/cluster.go
// is the contract); both engines' writers commit only once a reader has
// the commit (PostgreSQL's quorum, MariaDB's semi-synchronous
// replication), so a failover loses no acknowledged commit. A failover
// that a stop or kill -9 of minicloud interrupts finishes on the next
// start (controller/failoverrecovery.go): the new writer's promotion is
// recorded with the role swap (records.MemberPromotions; also when the
// API hands the role over on the writer's deletion) and redone until the
// readers follow it.
//
// Aurora Serverless v2 (db.serverless members, the cluster's
// ServerlessV2ScalingConfiguration; controller/capacity.go): a member's
// capacity is in ACUs, 1 ACU being 2 GiB of memory and a quarter of a vCPU
// (a memory-optimized class's share), applied live as its server's cgroup
// limits. It starts at MinCapacity and, every second, follows the server's
// measured CPU and memory in 0.5-ACU steps up to MaxCapacity: up within
// seconds of sustained load, down one step at a time once the load has
// been low for a few seconds, never under the memory the server holds. A
// new range from ModifyDBCluster applies within a second. Readers in
// promotion tiers 0 and 1 keep at least the writer's capacity, other
// readers scale on their own. As on AWS the capacity is visible only in
// CloudWatch: ServerlessDatabaseCapacity and ACUUtilization (percent of
// MaxCapacity) per DBInstanceIdentifier and by DBClusterIdentifier. A
// capacity beyond the host (256 ACUs are 64 vCPUs and 512 GiB) is capped
// at the host's CPUs and memory, while the metric shows the capacity
// reached. A restarted minicloud starts every member at MinCapacity again.
// What it does not do: automatic pause. A paused Aurora instance stops and
// resumes on the next connection, which waits; the loopback relays could
// hold that connection, but a client in the VPC reaches the server's ENI
// address directly, where nothing would answer. So MinCapacity 0 is
// refused with InvalidParameterValue, as AWS refuses it for an engine
// version without auto-pause (serverless.go), and SecondsUntilAutoPause is
// not in minicloud's API model yet. No member is ever "paused".
//
// No minicloud cluster backtracks (backtrack.go): MariaDB cannot rewind
// a server in place. CreateDBCluster or ModifyDBCluster with a
// BacktrackWindow other than 0, BacktrackDBCluster and
// DescribeDBClusterBacktracks get AWS's answer for an engine or version
// without Backtrack (engine.ClusterDefaults.NoBacktrack): InvalidParameterCombination
// "Aurora MySQL Engine Version … does not support Backtrack." for
// aurora-mysql, InvalidParameterValue "Backtrack is not enabled for the
// aurora-postgresql engine." for aurora-postgresql (a missing cluster is
// DBClusterNotFoundFault). RestoreDBClusterToPointInTime is the way back.
//
// DB cluster snapshots and restored clusters (clustersnapshots.go,
// clusterrestore.go; records/clustersnapshot.go is the contract): a
// cluster's storage is its writer's data, so CreateDBClusterSnapshot
// copies the writer's running server's data online, exactly as a DB
// snapshot is taken (under _clustersnapshots/<id>), while the cluster stays
// available; a cluster without a writer that has data is refused
// (InvalidDBClusterStateFault). The automated cluster snapshots
// (rds:<cluster>-YYYY-MM-DD-HH-MM) are the writer's automated backups shown
// under the cluster's name (no record of their own; not deletable).
// CopyDBClusterSnapshot copies either kind's data into a manual one.
// RestoreDBClusterFromSnapshot and RestoreDBClusterToPointInTime make a new
// cluster through CreateDBCluster with the source's engine, version,
// master user and password (the one in effect at the target time for a
// point in time) and database, and record where its data comes from
// (records.ClusterRestore); as on AWS it has no members, and its first
// DB instance, the writer, gets that data instead of an empty database
// (its readers then clone it as in any cluster). A full-copy point-in-time
// restore (RestoreToTime or UseLatestRestorableTime, within the window
// DescribeDBClusters shows as EarliestRestorableTime and
// LatestRestorableTime) is the writer's newest automated backup before the
// target plus its archived WAL replayed up to it, as
// RestoreDBInstanceToPointInTime does; only the current writer's backups
// and logs count (a failover starts a new history). A clone (RestoreType
// copy-on-write, with UseLatestRestorableTime) is the source writer's data
// as it is when the clone's writer is made: an online copy of its running
// server, restored into the new writer. Both copies go through
// copy_file_range, which shares blocks on a file system with reflinks (XFS,
// btrfs) and copies them on others (ext4, as on the test host): a clone is
// then as costly as a snapshot and a restore, which minicloud does not
// hide. The new cluster's data diverges from its source's at once.
//
// Events (events.go; records/events.go is the contract): DescribeEvents
// lists what RDS says happened, with AWS's IDs, messages, categories and
// source types, oldest first. An event is recorded by whoever makes its
// transition happen, in the same write: the controller when a server has
// really become available (DB instance created, restarted, started, a
// restore's source), stopped, been deleted or backed up, when a parameter
// group is applied or refused, when a DB snapshot or cluster snapshot is
// taken, when a Multi-AZ standby is promoted and the record swapped, and
// when a cluster's failover is committed (same or cross AZ, naming the
// new writer); in a write of its own right after the fact, a server's
// shutdown for a reboot and a cluster's new writer taking writes. The API
// records what takes effect in the request: DB cluster created, a
// parameter updated in a DB parameter group, a manual snapshot begun.
// SourceIdentifier needs SourceType (InvalidParameterValue); the interval
// is the last Duration minutes (60) up to EndTime or now, or from
// StartTime; Filters are refused (AWS supports none); MaxRecords 20-100
// with Marker. Events are kept 14 days: a sweep (at start, then hourly)
// deletes older ones. DescribeEventCategories lists AWS's categories per
// source type. Event subscriptions need SNS, which minicloud does not
// have: CreateEventSubscription and its siblings answer NotImplemented.
// Not recorded yet: a cluster's stop, start and deletion, read replica
// promotion and replication state, instance class or storage changes.
package rds
