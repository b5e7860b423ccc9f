// Package records is RDS's desired and observed state in the store: the
// records of DB instances, snapshots (and automated backups), DB subnet
// groups, DB parameter groups and Aurora DB clusters (cluster.go, which
// says who writes which field of a cluster and of its members; and
// clustersnapshot.go, for cluster snapshots and restored clusters; and
// events.go, RDS events and who records which), their
// tables, and where each record's data lives on disk (DataDirs). The API
// (package rds) writes the records; the controller (package
// rds/controller) reads them and reports back into them; both import this
// package, which imports neither.
//
// Each record embeds its generated API shape, so that Describe returns what
// was stored, plus what AWS keeps but does not show (passwords, placement,
// replication and standby state). The records are durable: a field's JSON
// name must not change.
package records
