package rds

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Aurora DB clusters (records.Cluster): CreateDBCluster, DescribeDBClusters,
// ModifyDBCluster, DeleteDBCluster, StopDBCluster and StartDBCluster. A
// cluster runs nothing itself: its members (members.go) are DB instances,
// real servers as every DB instance is, and the cluster's status follows
// theirs: a cluster without members is available (or stopped) at once,
// one stopping or starting becomes stopped or available once every member
// is (settle).

func errClusterNotFound(id string) error {
	return api.Errorf(http.StatusNotFound, "DBClusterNotFoundFault", "DBCluster %s not found.", id)
}

func errClusterState(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidDBClusterStateFault", format, args...)
}

func errBadClusterIdentifier() error {
	return errInvalidParam("The parameter DBClusterIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
}

// clusterEndpoint is the cluster (kind "cluster") or reader ("cluster-ro")
// endpoint's name of cluster id: the same per-account-region hash as the
// instances' names (endpointHash).
func clusterEndpoint(sc state.Scope, id, kind string) string {
	return id + "." + kind + "-" + endpointHash(sc) + "." + sc.Region + "." + strings.TrimSuffix(dnszone.RDSDomain, ".")
}

// clusterEngine resolves CreateDBCluster's Engine to a cluster engine.
func (s *Service) clusterEngine(raw string) (engine.Clusters, error) {
	name := strings.ToLower(raw)
	if raw == "" {
		return nil, errInvalidParam("The parameter Engine must be provided and must not be blank.")
	}
	eng, err := s.engineToCreate(name, raw)
	if err != nil {
		return nil, err
	}
	ce, ok := eng.(engine.Clusters)
	if !ok {
		return nil, errCombination("minicloud runs Aurora DB clusters (%s) only; Multi-AZ DB clusters of %s are not supported: create a Multi-AZ DB instance instead.", s.clusterEngineNames(), name)
	}
	if err := ce.Available(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	return ce, nil
}

// clusterEngineNames names the cluster engines, for messages.
func (s *Service) clusterEngineNames() string {
	var names []string
	for _, e := range s.engines.All() {
		if engine.Is[engine.Clusters](e) {
			names = append(names, e.Name())
		}
	}
	return strings.Join(names, ", ")
}

// clusterRequest is a CreateDBCluster request checked on its own.
type clusterRequest struct {
	in      *rdsapi.CreateDBClusterMessage
	id      string
	eng     engine.Clusters
	def     engine.Defaults
	version string
	port    int32
	backup  int32
}

// clusterCheck checks a CreateDBCluster request without reading the store.
func (s *Service) clusterCheck(in *rdsapi.CreateDBClusterMessage) (*clusterRequest, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	raw := deref(in.DBClusterIdentifier)
	if !validIdentifier(raw) {
		return nil, errBadClusterIdentifier()
	}
	r := &clusterRequest{in: in, id: strings.ToLower(raw), backup: 1}
	eng, err := s.clusterEngine(deref(in.Engine))
	if err != nil {
		return nil, err
	}
	r.eng, r.def = eng, eng.Defaults()
	if m := orDefault(in.EngineMode, "provisioned"); m != "provisioned" {
		return nil, errCombination("The engine mode %s you requested is currently unavailable: minicloud runs provisioned Aurora DB clusters (with db.serverless members for Serverless v2).", m)
	}
	if r.version, err = checkEngineVersion(eng, deref(in.EngineVersion)); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		set  bool
		name string
	}{
		{in.DBClusterInstanceClass != nil, "DBClusterInstanceClass"},
		{in.AllocatedStorage != nil, "AllocatedStorage"},
		{in.Iops != nil, "Iops"},
	} {
		if p.set {
			return nil, errCombination("%s isn't supported for DB engine %s.", p.name, eng.Name())
		}
	}
	if st := deref(in.StorageType); st != "" && st != "aurora" && st != "aurora-iopt1" {
		return nil, errInvalidParam("Invalid storage type for DB engine %s: %s", eng.Name(), st)
	}
	if deref(in.ManageMasterUserPassword) {
		return nil, errCombination("minicloud does not manage master user passwords in Secrets Manager: give MasterUserPassword.")
	}
	if err := checkMaster(r.def, deref(in.MasterUsername), in.MasterUserPassword); err != nil {
		return nil, err
	}
	if in.DatabaseName != nil && !validNameUpTo(*in.DatabaseName, r.def.MaxDBName) {
		return nil, errInvalidParam("DatabaseName must begin with a letter and contain only alphanumeric characters.")
	}
	r.port = r.def.Port
	if p := in.Port; p != nil {
		if *p < 1150 || *p > 65535 {
			return nil, errInvalidParam("Invalid port number: %d. Valid values are 1150-65535.", *p)
		}
		r.port = *p
	}
	if b := in.BackupRetentionPeriod; b != nil {
		if *b < 1 || *b > 35 {
			return nil, errInvalidParam("Invalid backup retention period: %d. Valid values are 1-35.", *b)
		}
		r.backup = *b
	}
	if err := checkLogTypes(eng, r.version, in.EnableCloudwatchLogsExports); err != nil {
		return nil, err
	}
	if deref(in.BacktrackWindow) != 0 { // 0 is Backtrack off
		return nil, errNoBacktrack(eng)
	}
	if err := checkScaling(in.ServerlessV2ScalingConfiguration); err != nil {
		return nil, err
	}
	return r, nil
}

// checkScaling checks a ServerlessV2ScalingConfiguration: capacities in
// Aurora capacity units, in steps of 0.5, 0 to 256 (at least 1 for the
// maximum), the minimum not above the maximum.
func checkScaling(c *rdsapi.ServerlessV2ScalingConfiguration) error {
	if c == nil {
		return nil
	}
	lo, hi := deref(c.MinCapacity), deref(c.MaxCapacity)
	if c.MinCapacity == nil || c.MaxCapacity == nil {
		return errInvalidParam("Set both the minimum and maximum capacity of the Serverless v2 scaling configuration.")
	}
	half := func(v float64) bool { return v == math.Round(v*2)/2 }
	switch {
	case lo < 0 || lo > 256 || !half(lo):
		return errInvalidParam("Serverless v2 minimum capacity %.1f isn't valid. The minimum capacity must be at least 0.0 and can't exceed 256.0, in steps of 0.5.", lo)
	case hi < 1 || hi > 256 || !half(hi):
		return errInvalidParam("Serverless v2 maximum capacity %.1f isn't valid. The maximum capacity must be at least 1.0 and can't exceed 256.0, in steps of 0.5.", hi)
	case lo > hi:
		return errInvalidParam("The Serverless v2 minimum capacity %.1f can't exceed the maximum capacity %.1f.", lo, hi)
	}
	return checkAutoPause(c)
}

// CreateDBCluster records an Aurora DB cluster. It has no members yet (its
// writer is the first DB instance created in it), so it is available at
// once.
func (s *Service) CreateDBCluster(ctx context.Context, in *rdsapi.CreateDBClusterMessage) (*rdsapi.CreateDBClusterResult, error) {
	r, err := s.clusterCheck(in)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var groups groupVPCs
	if in.DBSubnetGroupName != nil {
		if groups, err = s.lookupGroups(ctx, sc, in.VpcSecurityGroupIds); err != nil {
			return nil, err
		}
	}
	rec := newClusterRecord(sc, r)
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if _, found, err := records.Clusters.Get(tx, sc, r.id); err != nil {
			return err
		} else if found {
			return api.Errorf(http.StatusBadRequest, "DBClusterAlreadyExistsFault", "DB Cluster already exists")
		}
		if err := s.checkClusterParamGroup(tx, sc, deref(rec.DBClusterParameterGroup), r.def.Family); err != nil {
			return err
		}
		group, err := subnetGroupOf(tx, sc, in.DBSubnetGroupName)
		if err != nil {
			return err
		}
		if group == nil && in.DBSubnetGroupName != nil {
			return errSubnetGroupNotFound(*in.DBSubnetGroupName)
		}
		vpc := ""
		if group != nil {
			vpc = deref(group.VpcId)
			rec.DBSubnetGroup = group.DBSubnetGroupName
		}
		if err := groups.check(vpc); err != nil {
			return err
		}
		if rec.AvailabilityZones, err = clusterZones(sc, group, in.AvailabilityZones); err != nil {
			return err
		}
		if err := records.Note(tx, sc, records.EvClusterCreated, r.id, deref(rec.DBClusterArn)); err != nil {
			return err
		}
		return records.Clusters.Put(tx, sc, r.id, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBClusterResult{DBCluster: showCluster(&rec, nil)}, nil
}

// clusterZones are a new cluster's AvailabilityZones: those requested,
// which must be zones of its subnet group, else (as AWS shows) up to three
// of the group's zones.
func clusterZones(sc state.Scope, group *records.SubnetGroup, want []string) ([]string, error) {
	var have []string
	if group != nil {
		for _, sn := range group.Subnets {
			if sn.SubnetAvailabilityZone != nil {
				have = append(have, deref(sn.SubnetAvailabilityZone.Name))
			}
		}
	} else {
		have = []string{sc.Region + "a", sc.Region + "b", sc.Region + "c"}
	}
	have = slices.Compact(slices.Sorted(slices.Values(have)))
	for _, az := range want {
		if !slices.Contains(have, az) {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Availability zone '%s' is unavailable in this region, please choose another zone set.", az)
		}
	}
	if len(want) > 0 {
		return slices.Compact(slices.Sorted(slices.Values(want))), nil
	}
	return have[:min(3, len(have))], nil
}

// newClusterRecord is the record of a checked CreateDBCluster request,
// before its subnet group and zones.
func newClusterRecord(sc state.Scope, r *clusterRequest) records.Cluster {
	in, ce := r.in, r.eng.Cluster()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := rdsapi.DBCluster{
		DBClusterIdentifier:              ptr(r.id),
		DBClusterArn:                     ptr(state.NewARN(sc, "rds", "cluster:"+r.id).String()),
		DbClusterResourceId:              ptr("cluster-" + strings.ToUpper(engine.RandomString(26))),
		Status:                           ptr("available"),
		Engine:                           ptr(r.eng.Name()),
		EngineVersion:                    ptr(r.version),
		EngineMode:                       ptr("provisioned"),
		MasterUsername:                   ptr(deref(in.MasterUsername)),
		DatabaseName:                     in.DatabaseName,
		Port:                             ptr(r.port),
		Endpoint:                         ptr(clusterEndpoint(sc, r.id, "cluster")),
		ReaderEndpoint:                   ptr(clusterEndpoint(sc, r.id, "cluster-ro")),
		CustomEndpoints:                  []string{},
		HostedZoneId:                     ptr("Z2R2ITUGPM61AM"),
		DBClusterParameterGroup:          ptr(strings.ToLower(orDefault(in.DBClusterParameterGroupName, ce.ParameterGroup))),
		BackupRetentionPeriod:            ptr(r.backup),
		PreferredBackupWindow:            ptr(orDefault(in.PreferredBackupWindow, "03:00-03:30")),
		PreferredMaintenanceWindow:       ptr(strings.ToLower(orDefault(in.PreferredMaintenanceWindow, "sun:05:00-sun:05:30"))),
		VpcSecurityGroups:                activeMemberships(in.VpcSecurityGroupIds),
		DeletionProtection:               ptr(deref(in.DeletionProtection)),
		StorageEncrypted:                 ptr(deref(in.StorageEncrypted)),
		StorageType:                      ptr(orDefault(in.StorageType, "aurora")),
		IAMDatabaseAuthenticationEnabled: ptr(deref(in.EnableIAMDatabaseAuthentication)),
		CopyTagsToSnapshot:               ptr(deref(in.CopyTagsToSnapshot)),
		CrossAccountClone:                ptr(false),
		HttpEndpointEnabled:              ptr(false),
		NetworkType:                      ptr("IPV4"),
		AssociatedRoles:                  []rdsapi.DBClusterRole{},
		DBClusterMembers:                 []rdsapi.DBClusterMember{},
		ReadReplicaIdentifiers:           []string{},
		DomainMemberships:                []rdsapi.DomainMembership{},
		ClusterCreateTime:                &now,
		EngineLifecycleSupport:           ptr(orDefault(in.EngineLifecycleSupport, "open-source-rds-extended-support")),
		AutoMinorVersionUpgrade:          ptr(true),
		TagList:                          in.Tags,
	}
	if deref(in.StorageEncrypted) {
		c.KmsKeyId = ptr(orDefault(in.KmsKeyId, state.NewARN(sc, "kms", "alias/aws/rds").String()))
	}
	if len(in.EnableCloudwatchLogsExports) > 0 {
		c.EnabledCloudwatchLogsExports = exportsAfter(nil, &rdsapi.CloudwatchLogsExportConfiguration{EnableLogTypes: in.EnableCloudwatchLogsExports})
	}
	if v := in.ServerlessV2ScalingConfiguration; v != nil {
		c.ServerlessV2ScalingConfiguration = &rdsapi.ServerlessV2ScalingConfigurationInfo{MinCapacity: v.MinCapacity, MaxCapacity: v.MaxCapacity}
	}
	if c.TagList == nil {
		c.TagList = []rdsapi.Tag{}
	}
	return records.Cluster{DBCluster: c, Password: deref(in.MasterUserPassword)}
}

// settle completes a stopping or starting cluster's status once every
// member has stopped or started (at once without members): the cluster
// itself runs nothing. members are the cluster's member records.
func settle(c *records.Cluster, members []records.Instance) {
	want := map[string]string{"stopping": "stopped", "starting": "available", "modifying": "available"}[deref(c.Status)]
	if want == "" {
		return
	}
	for _, m := range members {
		if deref(m.DBInstanceStatus) != want {
			return
		}
	}
	c.Status = ptr(want)
}

// clusterMembers reads the member records of c that exist.
func clusterMembers(tx state.Tx, sc state.Scope, c *records.Cluster) ([]records.Instance, error) {
	var out []records.Instance
	for _, m := range c.DBClusterMembers {
		r, found, err := records.Instances.Get(tx, sc, deref(m.DBInstanceIdentifier))
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, r)
		}
	}
	return out, nil
}

// showCluster is the Describe form of a cluster with its member records:
// MultiAZ is true once members are in more than one zone, as on AWS.
func showCluster(c *records.Cluster, members []records.Instance) *rdsapi.DBCluster {
	out := c.DBCluster
	cp := *c
	settle(&cp, members)
	out.Status = cp.Status
	out.DBClusterMembers = slices.Clone(c.DBClusterMembers)
	zones := map[string]bool{}
	for _, m := range members {
		zones[deref(m.AvailabilityZone)] = true
	}
	out.MultiAZ = ptr(len(zones) > 1)
	out.ReadReplicaIdentifiers = slices.Clone(c.ReadReplicaIdentifiers)
	if out.ReadReplicaIdentifiers == nil {
		out.ReadReplicaIdentifiers = []string{}
	}
	return &out
}

// getCluster reads cluster raw (an identifier or ARN) in tx.
func getCluster(tx state.Tx, sc state.Scope, raw string) (records.Cluster, error) {
	id := strings.ToLower(raw)
	if a, err := state.ParseARN(raw); err == nil {
		if typ, name, ok := strings.Cut(a.Resource, ":"); ok && typ == "cluster" {
			id = strings.ToLower(name)
		}
	}
	if id == "" {
		return records.Cluster{}, errClusterNotFound(raw)
	}
	c, found, err := records.Clusters.Get(tx, sc, id)
	if err != nil {
		return c, err
	}
	if !found {
		return c, errClusterNotFound(raw)
	}
	return c, nil
}

var clusterFilters = []string{"db-cluster-id", "db-cluster-resource-id", "engine", "domain"}

// DescribeDBClusters lists clusters, by identifier or filters.
func (s *Service) DescribeDBClusters(ctx context.Context, in *rdsapi.DescribeDBClustersMessage) (*rdsapi.DBClusterMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(clusterFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	var all []rdsapi.DBCluster
	err := s.store.View(ctx, func(tx state.Tx) error {
		add := func(c records.Cluster) error {
			members, err := clusterMembers(tx, sc, &c)
			if err != nil {
				return err
			}
			all = append(all, *showCluster(&c, members))
			return nil
		}
		if in.DBClusterIdentifier != nil {
			c, err := getCluster(tx, sc, *in.DBClusterIdentifier)
			if err != nil {
				return err
			}
			return add(c)
		}
		return records.Clusters.ForEach(tx, sc, func(_ string, c records.Cluster) error {
			if !matchClusterFilters(in.Filters, &c) {
				return nil
			}
			return add(c)
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(c rdsapi.DBCluster) string { return deref(c.DBClusterIdentifier) })
	if err != nil {
		return nil, err
	}
	s.clusterRestorable(ctx, sc, page) // clusterrestore.go
	out := &rdsapi.DBClusterMessage{DBClusters: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

func matchClusterFilters(fs []rdsapi.Filter, c *records.Cluster) bool {
	for _, f := range fs {
		var have []string
		switch deref(f.Name) {
		case "db-cluster-id":
			have = []string{deref(c.DBClusterIdentifier), deref(c.DBClusterArn)}
		case "db-cluster-resource-id":
			have = []string{deref(c.DbClusterResourceId)}
		case "engine":
			have = []string{deref(c.Engine)}
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}

// mutateCluster runs fn on cluster raw and its member records in one
// transaction, writes the cluster (settled) and the members fn changed, and
// returns the cluster's Describe form.
func (s *Service) mutateCluster(ctx context.Context, raw *string, fn func(tx state.Tx, c *records.Cluster, members []records.Instance) error) (*rdsapi.DBCluster, error) {
	sc := scopeOf(ctx)
	var out *rdsapi.DBCluster
	err := s.store.Update(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(raw))
		if err != nil {
			return err
		}
		members, err := clusterMembers(tx, sc, &c)
		if err != nil {
			return err
		}
		settle(&c, members)
		old := deref(c.DBClusterIdentifier)
		if err := fn(tx, &c, members); err != nil {
			return err
		}
		if id := deref(c.DBClusterIdentifier); id != old { // renamed
			if err := records.Clusters.Delete(tx, sc, old); err != nil {
				return err
			}
		}
		for _, m := range members {
			if err := records.Instances.Put(tx, sc, deref(m.DBInstanceIdentifier), m); err != nil {
				return err
			}
		}
		out = showCluster(&c, members)
		return records.Clusters.Put(tx, sc, deref(c.DBClusterIdentifier), c)
	})
	return out, err
}

// StopDBCluster stops every member; the cluster is stopped once they are.
func (s *Service) StopDBCluster(ctx context.Context, in *rdsapi.StopDBClusterMessage) (*rdsapi.StopDBClusterResult, error) {
	c, err := s.mutateCluster(ctx, in.DBClusterIdentifier, func(_ state.Tx, c *records.Cluster, members []records.Instance) error {
		if deref(c.Status) != "available" {
			return errClusterState("DbCluster %s is not in available state.", deref(c.DBClusterIdentifier))
		}
		for _, m := range members {
			if st := deref(m.DBInstanceStatus); st != "available" {
				return api.Errorf(http.StatusBadRequest, "InvalidDBInstanceState", "Instance %s is in %s state, not available.", deref(m.DBInstanceIdentifier), st)
			}
		}
		for i := range members {
			members[i].DBInstanceStatus = ptr("stopping")
		}
		c.Status = ptr("stopping")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StopDBClusterResult{DBCluster: c}, nil
}

// StartDBCluster starts every member of a stopped cluster.
func (s *Service) StartDBCluster(ctx context.Context, in *rdsapi.StartDBClusterMessage) (*rdsapi.StartDBClusterResult, error) {
	c, err := s.mutateCluster(ctx, in.DBClusterIdentifier, func(_ state.Tx, c *records.Cluster, members []records.Instance) error {
		if deref(c.Status) != "stopped" {
			return errClusterState("DbCluster %s is not in stopped state.", deref(c.DBClusterIdentifier))
		}
		for i := range members {
			if deref(members[i].DBInstanceStatus) == "stopped" {
				members[i].DBInstanceStatus = ptr("starting")
			}
		}
		c.Status = ptr("starting")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StartDBClusterResult{DBCluster: c}, nil
}

// DeleteDBCluster deletes a cluster without members. Its volume (the data
// its last writer left, clustervolume.go) goes with it, after the final
// snapshot taken of it unless SkipFinalSnapshot; so do its automated
// snapshots unless DeleteAutomatedBackups is false.
func (s *Service) DeleteDBCluster(ctx context.Context, in *rdsapi.DeleteDBClusterMessage) (*rdsapi.DeleteDBClusterResult, error) {
	skip := deref(in.SkipFinalSnapshot)
	final := deref(in.FinalDBSnapshotIdentifier)
	if err := checkFinalSnapshot(in); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var out *rdsapi.DBCluster
	err := s.store.Update(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(in.DBClusterIdentifier))
		if err != nil {
			return err
		}
		if deref(c.DeletionProtection) {
			return errCombination("Can't delete Cluster with protection enabled")
		}
		switch {
		case skip && final != "":
			return errCombination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster with SkipFinalSnapshot enabled.")
		case !skip && final == "":
			return errCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		}
		if len(c.DBClusterMembers) > 0 {
			return errClusterState("Cluster cannot be deleted, it still contains DB instances in non-deleting state.")
		}
		if st := deref(c.Status); st != "available" && st != "stopped" {
			return errClusterState("DbCluster %s is in %s state; it can be deleted when available or stopped.", deref(c.DBClusterIdentifier), st)
		}
		if err := s.deleteVolume(tx, sc, &c, final, in.DeleteAutomatedBackups != nil && !*in.DeleteAutomatedBackups); err != nil {
			return err
		}
		c.SkipFinalSnapshot = skip
		c.Status = ptr("deleting")
		out = showCluster(&c, nil)
		// Its custom endpoints go with it.
		for _, addr := range c.CustomEndpoints {
			if err := records.ClusterEndpoints.Delete(tx, sc, records.EndpointID(addr)); err != nil {
				return err
			}
		}
		return records.Clusters.Delete(tx, sc, deref(c.DBClusterIdentifier))
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBClusterResult{DBCluster: out}, nil
}

// ModifyDBCluster changes a cluster's settings. minicloud has no
// maintenance window, so every change applies at once whatever
// ApplyImmediately says: the master password (every member's record
// follows it; the controller applies it), the VPC security groups (every
// member's ENI gets them, memberships "adding" until it has), the backup
// retention, the windows, deletion protection, the cluster parameter
// group (its members' DBClusterParameterGroupStatus "applying" until the
// controller has given it to their servers) and the Serverless v2 range.
func (s *Service) ModifyDBCluster(ctx context.Context, in *rdsapi.ModifyDBClusterMessage) (*rdsapi.ModifyDBClusterResult, error) {
	if err := modifyClusterCheck(in); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	groups, err := s.lookupGroups(ctx, sc, in.VpcSecurityGroupIds)
	if err != nil {
		return nil, err
	}
	c, err := s.mutateCluster(ctx, in.DBClusterIdentifier, func(tx state.Tx, c *records.Cluster, members []records.Instance) error {
		if st := deref(c.Status); st != "available" {
			return errClusterState("DbCluster %s is not in available state.", deref(c.DBClusterIdentifier))
		}
		eng, ok := s.engineFor(deref(c.Engine)).(engine.Clusters)
		if !ok {
			return errCombination("minicloud no longer runs engine %s.", deref(c.Engine))
		}
		if deref(in.BacktrackWindow) != 0 { // 0 is Backtrack off, as it is
			return errNoBacktrack(eng)
		}
		if p := in.MasterUserPassword; p != nil {
			if err := checkEnginePassword(eng.Defaults(), *p); err != nil {
				return err
			}
		}
		if err := groups.check(s.clusterVPC(tx, sc, c)); err != nil {
			return err
		}
		if g := in.DBClusterParameterGroupName; g != nil {
			if err := s.checkClusterParamGroup(tx, sc, *g, eng.Defaults().Family); err != nil {
				return err
			}
		}
		if v := deref(in.EngineVersion); v != "" && v != deref(c.EngineVersion) && v != eng.Major() {
			return errCombination("Cannot find upgrade target from %s with requested version %s.", deref(c.EngineVersion), v)
		}
		if n := in.NewDBClusterIdentifier; n != nil && strings.ToLower(*n) != deref(c.DBClusterIdentifier) {
			if err := renameCluster(tx, sc, c, members, strings.ToLower(*n)); err != nil {
				return err
			}
		}
		modifyClusterApply(c, members, in)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyDBClusterResult{DBCluster: c}, nil
}

// modifyClusterCheck checks a ModifyDBCluster request on its own.
func modifyClusterCheck(in *rdsapi.ModifyDBClusterMessage) error {
	if in.MasterUserPassword != nil {
		if err := checkPassword(in.MasterUserPassword); err != nil {
			return err
		}
	}
	if n := in.NewDBClusterIdentifier; n != nil && !validIdentifier(*n) {
		return errInvalidParam("The parameter NewDBClusterIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
	}
	if b := in.BackupRetentionPeriod; b != nil && (*b < 1 || *b > 35) {
		return errInvalidParam("Invalid backup retention period: %d. Valid values are 1-35.", *b)
	}
	if p := in.Port; p != nil && (*p < 1150 || *p > 65535) {
		return errInvalidParam("Invalid port number: %d. Valid values are 1150-65535.", *p)
	}
	for _, u := range []struct {
		set  bool
		name string
	}{
		{in.Port != nil, "Port"},
		{deref(in.ManageMasterUserPassword) || deref(in.RotateMasterUserPassword), "ManageMasterUserPassword"},
		{in.DBClusterInstanceClass != nil, "DBClusterInstanceClass"},
		{in.AllocatedStorage != nil, "AllocatedStorage"},
		{in.EngineMode != nil && *in.EngineMode != "provisioned", "EngineMode"},
	} {
		if u.set {
			return errCombination("minicloud does not modify %s of a DB cluster yet.", u.name)
		}
	}
	return checkScaling(in.ServerlessV2ScalingConfiguration)
}

// modifyClusterApply applies a checked ModifyDBCluster to c and its
// members.
func modifyClusterApply(c *records.Cluster, members []records.Instance, in *rdsapi.ModifyDBClusterMessage) {
	set(&c.DeletionProtection, in.DeletionProtection)
	set(&c.BackupRetentionPeriod, in.BackupRetentionPeriod)
	set(&c.PreferredBackupWindow, in.PreferredBackupWindow)
	set(&c.CopyTagsToSnapshot, in.CopyTagsToSnapshot)
	set(&c.IAMDatabaseAuthenticationEnabled, in.EnableIAMDatabaseAuthentication)
	if w := in.PreferredMaintenanceWindow; w != nil {
		c.PreferredMaintenanceWindow = ptr(strings.ToLower(*w))
	}
	if x := in.CloudwatchLogsExportConfiguration; x != nil {
		c.EnabledCloudwatchLogsExports = exportsAfter(c.EnabledCloudwatchLogsExports, x)
	}
	if v := in.ServerlessV2ScalingConfiguration; v != nil {
		c.ServerlessV2ScalingConfiguration = &rdsapi.ServerlessV2ScalingConfigurationInfo{MinCapacity: v.MinCapacity, MaxCapacity: v.MaxCapacity}
	}
	if in.VpcSecurityGroupIds != nil {
		c.VpcSecurityGroups = newMemberships(c.VpcSecurityGroups, in.VpcSecurityGroupIds)
	}
	if p := in.MasterUserPassword; p != nil {
		c.Password = *p
	}
	if g := in.DBClusterParameterGroupName; g != nil && strings.ToLower(*g) != deref(c.DBClusterParameterGroup) {
		c.DBClusterParameterGroup = ptr(strings.ToLower(*g))
		for i := range c.DBClusterMembers {
			c.DBClusterMembers[i].DBClusterParameterGroupStatus = ptr("applying")
		}
	}
	for i := range members {
		m := &members[i]
		// What the members share with their cluster follows it.
		m.Password = c.Password
		m.BackupRetentionPeriod = c.BackupRetentionPeriod
		m.PreferredBackupWindow = c.PreferredBackupWindow
		if in.VpcSecurityGroupIds != nil {
			m.VpcSecurityGroups = newMemberships(m.VpcSecurityGroups, in.VpcSecurityGroupIds)
		}
	}
}

// clusterVPC is the VPC of cluster c's DB subnet group, "" for none.
func (s *Service) clusterVPC(tx state.Tx, sc state.Scope, c *records.Cluster) string {
	g, err := subnetGroupOf(tx, sc, c.DBSubnetGroup)
	if err != nil || g == nil {
		return ""
	}
	return deref(g.VpcId)
}

// renameCluster renames cluster c (ModifyDBCluster's
// NewDBClusterIdentifier, applied at once): its ARN and endpoint names
// follow, and so do its members and custom endpoints, which name it.
func renameCluster(tx state.Tx, sc state.Scope, c *records.Cluster, members []records.Instance, id string) error {
	if _, found, err := records.Clusters.Get(tx, sc, id); err != nil {
		return err
	} else if found {
		return api.Errorf(http.StatusBadRequest, "DBClusterAlreadyExistsFault", "DB Cluster already exists")
	}
	c.DBClusterIdentifier = ptr(id)
	c.DBClusterArn = ptr(state.NewARN(sc, "rds", "cluster:"+id).String())
	c.Endpoint = ptr(clusterEndpoint(sc, id, "cluster"))
	c.ReaderEndpoint = ptr(clusterEndpoint(sc, id, "cluster-ro"))
	for i := range members {
		members[i].DBClusterIdentifier = ptr(id)
	}
	for _, addr := range c.CustomEndpoints {
		eid := records.EndpointID(addr)
		ep, found, err := records.ClusterEndpoints.Get(tx, sc, eid)
		if err != nil || !found {
			return err
		}
		ep.Cluster = id
		if err := records.ClusterEndpoints.Put(tx, sc, eid, ep); err != nil {
			return err
		}
	}
	return nil
}
