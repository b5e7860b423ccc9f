package records

import (
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Aurora DB clusters: the records the API (package rds) and the controller
// share, and who writes which field.
//
// A cluster has no server of its own: its members are DB instances
// (records.Instance with DBClusterIdentifier set), each a real server as any
// DB instance is. The writer is a primary; every reader is a read-only
// replica of the writer, built with the engine's Replication as read
// replicas are (but a member's ReadReplicaSourceDBInstanceIdentifier stays
// unset: AWS does not show one, the cluster's DBClusterMembers say who the
// writer is). The cluster's "storage" is its writer's data.
//
// Cluster (table Clusters, id DBClusterIdentifier):
//
//   - API: everything of rdsapi.DBCluster at creation (identifier, engine,
//     version, EngineMode provisioned, master user, DatabaseName, Port,
//     DBSubnetGroup, VpcSecurityGroups, DBClusterParameterGroup,
//     BackupRetentionPeriod, windows, DeletionProtection, StorageEncrypted,
//     KmsKeyId, TagList, DBClusterArn, DbClusterResourceId, Endpoint,
//     ReaderEndpoint, HostedZoneId, ServerlessV2ScalingConfiguration,
//     ClusterCreateTime, AvailabilityZones: up to three zones of the subnet
//     group, or those requested) and on ModifyDBCluster; Password; Status
//     when a request changes it (available at creation, as the cluster runs
//     nothing; stopping, starting, failing-over; a deleted cluster's record
//     is removed at once, as it may only be deleted without members);
//     DBClusterMembers when a member is added or deleted (the first member
//     is the writer: IsClusterWriter true; PromotionTier as given, default
//     1; when the writer is deleted, the reader with the lowest
//     PromotionTier, then identifier, becomes IsClusterWriter, and the
//     controller promotes it); CustomEndpoints (the custom endpoints'
//     addresses); Failover (FailoverDBCluster).
//   - Controller: Status available / stopped once what was asked is done
//     (the API settles it itself where nothing runs: a cluster with no
//     members is available or stopped at once); IsClusterWriter of the
//     members on a failover (the promoted reader becomes the writer, the
//     old writer a reader), clearing Failover; each member's
//     DBClusterParameterGroupStatus (in-sync, pending-reboot, applying);
//     WriterPort and ReaderPort; StatusInfos.
//   - Derived by Describe (not stored): MultiAZ (members in more than one
//     zone); a stopping or starting cluster's stopped or available once
//     every member is (the API also stores that whenever it writes the
//     cluster).
//
// Instance (records.Instance), for a member:
//
//   - API: DBClusterIdentifier and PromotionTier (rdsapi.DBInstance fields,
//     shown by DescribeDBInstances), Engine/EngineVersion/MasterUsername/
//     DBSubnetGroup/VpcSecurityGroups copied from the cluster at creation
//     and kept equal to the cluster's when ModifyDBCluster changes them
//     (the security groups reach every member's ENI as for any instance);
//     Password, set to the cluster's on creation and on every change of the
//     cluster's master password, so the controller applies it as for any
//     instance (on the writer; replication brings it to the readers);
//     BackupRetentionPeriod and PreferredBackupWindow, the cluster's (as AWS
//     shows them on members); AvailabilityZone, the cluster's zone with the
//     fewest members; AllocatedStorage 1 and StorageType aurora; status
//     stopping / starting from StopDBCluster / StartDBCluster.
//   - Controller: as for every instance (status, ENI, ports…); a member's
//     role follows the cluster's DBClusterMembers.
//
// ClusterParamGroup (table ClusterParamGroups, id its name): written by the
// API only. The controller gives a member's server the cluster group's
// values merged under its DB parameter group's (a parameter set in both
// takes the DB parameter group's value, as on Aurora).
//
// ClusterEndpoint (table ClusterEndpoints, id DBClusterEndpointIdentifier):
// a custom endpoint. API: everything but Status "available" and Port,
// which the controller writes (the API writes status creating and
// modifying, removes a deleted endpoint's record at once, and takes a
// deleted member out of Static and Excluded).

// The cluster tables.
var (
	Clusters           = state.Table[Cluster]{Service: "rds", Kind: "dbcluster"}
	ClusterParamGroups = state.Table[ClusterParamGroup]{Service: "rds", Kind: "dbclusterparametergroup"}
	ClusterEndpoints   = state.Table[ClusterEndpoint]{Service: "rds", Kind: "dbclusterendpoint"}
	// DefaultClusterGroupTags holds the tags of the implicit default
	// cluster parameter groups, which have no record of their own.
	DefaultClusterGroupTags = state.Table[DefaultTags]{Service: "rds", Kind: "defaultcpgtags"}
)

// Cluster is an Aurora DB cluster: the API shape Describe returns plus
// what AWS keeps but does not show.
type Cluster struct {
	rdsapi.DBCluster
	// Password is the master password; every member's Password follows it.
	Password string `json:"password"`
	// Failover asks the controller for a failover (FailoverDBCluster).
	Failover *ClusterFailover `json:"failover,omitempty"`
	// WriterPort and ReaderPort are where the cluster endpoint (the writer)
	// and the reader endpoint (spread over the readers) listen on
	// 127.0.0.1; the controller chooses and records them.
	WriterPort int `json:"writerPort,omitempty"`
	ReaderPort int `json:"readerPort,omitempty"`
	// FinalSnapshot and SkipFinalSnapshot are DeleteDBCluster's
	// FinalDBSnapshotIdentifier and SkipFinalSnapshot, recorded.
	FinalSnapshot     string `json:"finalSnapshot,omitempty"`
	SkipFinalSnapshot bool   `json:"skipFinalSnapshot,omitempty"`
}

// ClusterFailover is a FailoverDBCluster request.
type ClusterFailover struct {
	// Target is TargetDBInstanceIdentifier, "" for the controller's choice
	// (the reader with the lowest PromotionTier, then the largest class,
	// then its zone).
	Target string `json:"target,omitempty"`
}

// Writer is the identifier of c's writer, "" when it has none.
func (c *Cluster) Writer() string {
	for _, m := range c.DBClusterMembers {
		if value(m.IsClusterWriter) {
			return value(m.DBInstanceIdentifier)
		}
	}
	return ""
}

// Member is c's member id, nil when id is none.
func (c *Cluster) Member(id string) *rdsapi.DBClusterMember {
	for i := range c.DBClusterMembers {
		if value(c.DBClusterMembers[i].DBInstanceIdentifier) == id {
			return &c.DBClusterMembers[i]
		}
	}
	return nil
}

// Selects reports whether custom endpoint ep routes to member id of a
// cluster whose writer is writer: its StaticMembers when it has any, else
// every member but its ExcludedMembers; a READER endpoint never to the
// writer, so a failover that changes roles changes what it answers. The
// API's DNS names and the controller's relays both ask it, so the two
// agree; each adds its own "available".
func (ep *ClusterEndpoint) Selects(id, writer string) bool {
	if ep.Type == "READER" && id == writer {
		return false
	}
	if len(ep.Static) > 0 {
		return slices.Contains(ep.Static, id)
	}
	return !slices.Contains(ep.Excluded, id)
}

// EndpointID is the identifier of the custom endpoint whose address is
// addr (a cluster's CustomEndpoints): its first label.
func EndpointID(addr string) string { return strings.SplitN(addr, ".", 2)[0] }

// MaxClusterReaders is how many readers a cluster may have besides its
// writer.
const MaxClusterReaders = 15

// IsMember reports whether r is a DB cluster's member.
func (r *Instance) IsMember() bool { return value(r.DBClusterIdentifier) != "" }

// ClusterParamGroup is a DB cluster parameter group a user made.
type ClusterParamGroup struct {
	rdsapi.DBClusterParameterGroup
	Params map[string]ParamSetting `json:"params,omitempty"`
	Tags   []rdsapi.Tag            `json:"tags,omitempty"`
}

// ClusterEndpoint is a custom endpoint of a DB cluster.
type ClusterEndpoint struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	// ResourceID is its DBClusterEndpointResourceIdentifier.
	ResourceID string `json:"resourceId"`
	// Address is its name: <id>.cluster-custom-<hash>.<region>.rds.amazonaws.com.
	Address string `json:"address"`
	// Type is CustomEndpointType: READER or ANY.
	Type string `json:"type"`
	// Static and Excluded are StaticMembers and ExcludedMembers.
	Static   []string     `json:"static,omitempty"`
	Excluded []string     `json:"excluded,omitempty"`
	Status   string       `json:"status"`
	ARN      string       `json:"arn"`
	Tags     []rdsapi.Tag `json:"tags,omitempty"`
	// Port is where it listens on 127.0.0.1 (the controller's).
	Port int `json:"port,omitempty"`
}
