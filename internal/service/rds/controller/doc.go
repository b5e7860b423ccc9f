// Package controller is RDS's controller: it makes every DB instance
// record a real server of its engine on this host and keeps it so,
// level-triggered like minicloud's other controllers, and takes the
// snapshots and automated backups. The API (package rds) only records
// desired state; the controller reads the records (package records),
// converges the servers and reports back into the records. A restart of
// minicloud reconciles everything again: a server is started anew on its
// data, a snapshot still creating is taken again, an interrupted failover
// is finished.
//
// The contract with the API, on records.Instance:
//
//   - The API writes the desired state: a status that asks for something
//     (creating, starting, stopping, rebooting with RebootSeq, modifying,
//     resetting-master-credentials, backing-up, deleting), Password, the
//     parameter group, MultiAZ and Standby.Failover, Replica.Promote,
//     security group memberships in "adding", and snapshot records in
//     creating or deleting.
//   - The controller writes what it achieved: the status reached
//     (available, stopped, failed, incompatible-parameters), AppliedPassword
//     and Passwords, LoopbackPort, Initialized, ENI and Standby.ENI, Applied
//     and ParameterApplyStatus, EngineError, StatusInfos, Standby.Built and
//     Swapping, snapshot statuses and progress, automated backups.
//   - The controller's writes to an instance it converges apply only if the
//     record still has the status it read (update), so a newer request is
//     never overwritten, and an unchanged record is not written: every
//     write is an event that reconciles the record again.
//
// It reaches the servers only through package engine: Init, Start,
// WaitReady… of every engine, and the capabilities it type-asserts for
// (Replication for read replicas and a DB cluster's readers, QuorumCommit
// for a cluster writer's synchronous readers, Standbys for Multi-AZ, Backups and
// PointInTime for snapshots and restores, Parameters for parameter groups,
// Monitoring for DatabaseConnections, LogExports for the log files to
// export).
//
// The files: queue.go is the work queue (internal/reconcile's);
// controller.go the controller and its conditional update; converge.go
// reconciles one instance: by its status it is taken down (gone, deleting,
// stopping…) or converged, in the steps of its life (its data initialized,
// restored or cloned, a failover if asked, its server (re)started, its
// public IP, database, replication, standby, password, security groups
// and parameters, and what was applied recorded). events.go: the RDS
// events of what the controller achieves, noted in the same writes. replicas.go,
// multiaz.go, cluster.go and clusterfailover.go (Aurora DB clusters: the
// members in their roles, the writer's quorum, the cluster's status and
// loopback ports, its custom endpoints' relays, its failover;
// failoverrecovery.go, how a failover a restart interrupted finishes),
// snapshots.go, clustersnapshots.go (DB
// cluster snapshots of the writer; a restored cluster's first writer made
// from its snapshot, point in time or clone source), clustervolume.go (a
// cluster's data kept when its last member is deleted, for a new writer
// or DeleteDBCluster's final snapshot), schedule.go
// (automated backups and their retention), params.go (parameter groups)
// and capacity.go (each server's class limits, and Serverless v2 capacity
// following the load, from a loop of its own) are the features;
// metrics.go (and clustermetrics.go, Aurora's AuroraReplicaLag and
// cluster-level metrics) publishes the running instances' AWS/RDS metrics
// (metricport) and logexports.go exports their logs to CloudWatch Logs
// (logport), each from a loop of its own that only reads;
// placement.go (ENIs, the servers as workloads placed on them, the
// standby's too) and proxy.go (the loopback port's relay) put the servers
// on the network; publicip.go gives publicly accessible instances their
// public IPs.
//
// It must not answer or validate API requests (package rds does), nor run
// a server's binaries or SQL itself (the engines do).
package controller
