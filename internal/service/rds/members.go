package rds

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DB cluster members: CreateDBInstance with DBClusterIdentifier adds a DB
// instance to an Aurora cluster (the first is its writer, later ones
// readers), DeleteDBInstance removes one (the writer's deletion hands the
// writer role to a reader, as AWS fails over). A member takes what the
// cluster owns from it (engine and version, master user and password,
// database, port, subnet group, security groups, backups), so AWS refuses
// those on the instance.

// serverlessClass is Serverless v2's DB instance class.
const serverlessClass = "db.serverless"

// errMemberSets refuses a CreateDBInstance setting what a member takes from
// its cluster, in AWS's words.
func errMemberSets(what string) error {
	return errCombination("The requested DB Instance will be a member of a DB Cluster. Set %s for the DB Cluster.", what)
}

// memberCheck checks a CreateDBInstance request for a cluster member
// without reading the store.
func memberCheck(in *rdsapi.CreateDBInstanceMessage) error {
	if err := checkTags(in.Tags); err != nil {
		return err
	}
	if !validIdentifier(deref(in.DBInstanceIdentifier)) {
		return errBadIdentifier()
	}
	if class := deref(in.DBInstanceClass); !validClassName(class) && class != serverlessClass {
		return errInvalidParam("Invalid DB Instance class: %s", class)
	}
	if deref(in.Engine) == "" {
		return errInvalidParam("The parameter Engine must be provided and must not be blank.")
	}
	for _, p := range []struct {
		set  bool
		what string
	}{
		{in.MasterUsername != nil, "master user name"},
		{in.MasterUserPassword != nil || deref(in.ManageMasterUserPassword), "master user password"},
		{in.DBName != nil, "database name"},
		{len(in.VpcSecurityGroupIds) > 0, "VPC security groups"},
		{in.BackupRetentionPeriod != nil, "backup retention"},
		{in.AllocatedStorage != nil, "allocated storage"},
		{in.Port != nil, "port"},
		{deref(in.StorageEncrypted), "storage encryption"},
	} {
		if p.set {
			return errMemberSets(p.what)
		}
	}
	if st := deref(in.StorageType); st != "" && st != "aurora" && st != "aurora-iopt1" {
		return errCombination("The requested DB Instance will be a member of a DB Cluster; its storage is the DB Cluster's, not %s.", st)
	}
	if deref(in.MultiAZ) {
		return errCombination("The requested DB Instance will be a member of a DB Cluster. MultiAZ is not supported: add readers in other Availability Zones instead.")
	}
	if len(in.DBSecurityGroups) > 0 {
		return errNoDBSecurityGroups()
	}
	return checkPromotionTier(in.PromotionTier)
}

// checkPromotionTier checks a PromotionTier: 0 to 15.
func checkPromotionTier(t *int32) error {
	if t != nil && (*t < 0 || *t > 15) {
		return errInvalidParam("Invalid value for PromotionTier: %d. Valid values are 0-15.", *t)
	}
	return nil
}

// setPromotionTier gives member r (ModifyDBInstance) PromotionTier t, in
// its record and its cluster's DBClusterMembers; nothing for nil or an
// instance of no cluster.
func setPromotionTier(tx state.Tx, sc state.Scope, r *records.Instance, t *int32) error {
	if t == nil || !r.IsMember() {
		return nil
	}
	r.PromotionTier = ptr(*t)
	c, found, err := records.Clusters.Get(tx, sc, deref(r.DBClusterIdentifier))
	if err != nil || !found {
		return err
	}
	if m := c.Member(deref(r.DBInstanceIdentifier)); m != nil {
		m.PromotionTier = ptr(*t)
	}
	return records.Clusters.Put(tx, sc, deref(c.DBClusterIdentifier), c)
}

// createMember is one attempt at CreateDBInstance with DBClusterIdentifier.
func (s *Service) createMember(ctx context.Context, in *rdsapi.CreateDBInstanceMessage) (*rdsapi.DBInstance, error) {
	if err := memberCheck(in); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	// Public access is asked of EC2 about the cluster's VPC, read first
	// and confirmed in the transaction.
	var groupName *string
	err := s.store.View(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(in.DBClusterIdentifier))
		groupName = c.DBSubnetGroup
		return err
	})
	if err != nil {
		return nil, err
	}
	asked := *in
	asked.DBSubnetGroupName = groupName
	public, err := s.checkCreatePublic(ctx, sc, &asked)
	if err != nil {
		return nil, err
	}
	var rec records.Instance
	err = s.store.Update(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, sc, deref(in.DBClusterIdentifier))
		if err != nil {
			return err
		}
		group, err := subnetGroupOf(tx, sc, c.DBSubnetGroup)
		if err != nil {
			return err
		}
		vpc := ""
		if group != nil {
			vpc = deref(group.VpcId)
		}
		if err := public.confirm(vpc); err != nil {
			return err
		}
		if rec, err = s.planMember(tx, sc, in, &c, group); err != nil {
			return err
		}
		id := deref(rec.DBInstanceIdentifier)
		c.DBClusterMembers = append(c.DBClusterMembers, rdsapi.DBClusterMember{
			DBInstanceIdentifier:          ptr(id),
			IsClusterWriter:               ptr(c.Writer() == ""),
			PromotionTier:                 rec.PromotionTier,
			DBClusterParameterGroupStatus: ptr("in-sync"),
		})
		if err := records.Clusters.Put(tx, sc, deref(c.DBClusterIdentifier), c); err != nil {
			return err
		}
		return records.Instances.Put(tx, sc, id, rec)
	})
	if err != nil {
		return nil, err
	}
	return show(&rec), nil
}

// planMember checks a member's request against its cluster c (whose DB
// subnet group is group) and what is stored, and makes its record.
func (s *Service) planMember(tx state.Tx, sc state.Scope, in *rdsapi.CreateDBInstanceMessage, c *records.Cluster, group *records.SubnetGroup) (records.Instance, error) {
	engineName := strings.ToLower(deref(in.Engine))
	if engineName != deref(c.Engine) {
		return records.Instance{}, errCombination("The engine name requested for your DB instance (%s) doesn't match the engine name of your DB cluster (%s).", engineName, deref(c.Engine))
	}
	ce, ok := s.engineFor(engineName).(engine.Clusters)
	if !ok {
		return records.Instance{}, errCombination("minicloud no longer runs engine %s.", engineName)
	}
	if v := deref(in.EngineVersion); v != "" && v != deref(c.EngineVersion) && v != ce.Major() {
		return records.Instance{}, errCombination("The engine version requested for your DB instance (%s) doesn't match the engine version of your DB cluster (%s).", v, deref(c.EngineVersion))
	}
	class := deref(in.DBInstanceClass)
	if !slices.Contains(ce.Cluster().Classes, class) {
		return records.Instance{}, errCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=%s. For supported combinations of instance class and database engine version, see the documentation.", class, engineName, deref(c.EngineVersion), ce.Defaults().LicenseModel)
	}
	if class == serverlessClass && c.ServerlessV2ScalingConfiguration == nil {
		return records.Instance{}, errClusterState("Set the Serverless v2 scaling configuration on the parent DB cluster before creating a Serverless v2 DB instance.")
	}
	if st := deref(c.Status); st != "available" {
		return records.Instance{}, errClusterState("DbCluster %s is in %s state; DB instances can be added when it is available.", deref(c.DBClusterIdentifier), st)
	}
	if len(c.DBClusterMembers) >= ce.Cluster().MaxMembers {
		return records.Instance{}, errCombination("DB cluster %s already has %d DB instances: a writer and up to %d readers.", deref(c.DBClusterIdentifier), len(c.DBClusterMembers), ce.Cluster().MaxMembers-1)
	}
	id := strings.ToLower(deref(in.DBInstanceIdentifier))
	if err := checkFree(tx, sc, id); err != nil {
		return records.Instance{}, err
	}
	if in.DBParameterGroupName != nil {
		if err := s.checkInstanceParamGroup(tx, sc, *in.DBParameterGroupName, engineName); err != nil {
			return records.Instance{}, err
		}
	}
	if n := in.DBSubnetGroupName; n != nil && strings.ToLower(*n) != deref(c.DBSubnetGroup) {
		return records.Instance{}, errCombination("The DB subnet group of a DB cluster's instance is its cluster's (%s), not %s.", deref(c.DBSubnetGroup), *n)
	}
	az, err := s.memberZone(tx, sc, c, group, deref(in.AvailabilityZone))
	if err != nil {
		return records.Instance{}, err
	}
	return newMemberRecord(sc, in, c, ce, id, az, group), nil
}

// memberZone is a new member's Availability Zone: the one requested, which
// must be a zone of the cluster, else the cluster's zone with the fewest
// members (the first of them on a tie), so that readers spread over the
// zones as the console places them.
func (s *Service) memberZone(tx state.Tx, sc state.Scope, c *records.Cluster, group *records.SubnetGroup, want string) (string, error) {
	zones := c.AvailabilityZones
	if group != nil {
		zones = nil
		for _, sn := range group.Subnets {
			if sn.SubnetAvailabilityZone != nil && !slices.Contains(zones, deref(sn.SubnetAvailabilityZone.Name)) {
				zones = append(zones, deref(sn.SubnetAvailabilityZone.Name))
			}
		}
		slices.Sort(zones)
	}
	if want != "" {
		if !slices.Contains(zones, want) {
			return "", errInvalidParam("Availability zone '%s' is unavailable in this region, please choose another zone set.", want)
		}
		return want, nil
	}
	if len(zones) == 0 {
		return sc.Region + "a", nil
	}
	members, err := clusterMembers(tx, sc, c)
	if err != nil {
		return "", err
	}
	count := map[string]int{}
	for _, m := range members {
		count[deref(m.AvailabilityZone)]++
	}
	best := zones[0]
	for _, z := range zones {
		if count[z] < count[best] {
			best = z
		}
	}
	return best, nil
}

// newMemberRecord is the record of a new member id of cluster c, in zone az.
func newMemberRecord(sc state.Scope, in *rdsapi.CreateDBInstanceMessage, c *records.Cluster, ce engine.Clusters, id, az string, group *records.SubnetGroup) records.Instance {
	def := ce.Defaults()
	db := newDBInstance(sc, id, deref(c.Port))
	db.DBClusterIdentifier = c.DBClusterIdentifier
	db.PromotionTier = ptr(int32(1))
	if in.PromotionTier != nil {
		db.PromotionTier = in.PromotionTier
	}
	db.DBInstanceClass = ptr(deref(in.DBInstanceClass))
	db.Engine = c.Engine
	db.EngineVersion = c.EngineVersion
	db.LicenseModel = ptr(def.LicenseModel)
	db.MasterUsername = c.MasterUsername
	db.DBName = c.DatabaseName
	db.AllocatedStorage = ptr(int32(1))
	db.StorageType = c.StorageType
	db.StorageEncrypted = c.StorageEncrypted
	db.KmsKeyId = c.KmsKeyId
	db.BackupRetentionPeriod = c.BackupRetentionPeriod
	db.PreferredBackupWindow = c.PreferredBackupWindow
	db.PreferredMaintenanceWindow = ptr(strings.ToLower(orDefault(in.PreferredMaintenanceWindow, deref(c.PreferredMaintenanceWindow))))
	db.VpcSecurityGroups = slices.Clone(c.VpcSecurityGroups)
	db.DBParameterGroups = []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(strings.ToLower(orDefault(in.DBParameterGroupName, def.ParameterGroup))), ParameterApplyStatus: ptr("in-sync")}}
	db.OptionGroupMemberships = []rdsapi.OptionGroupMembership{{OptionGroupName: ptr(def.OptionGroup), Status: ptr("in-sync")}}
	db.MultiAZ = ptr(false)
	db.AvailabilityZone = ptr(az)
	db.PubliclyAccessible = ptr(deref(in.PubliclyAccessible))
	db.AutoMinorVersionUpgrade = ptr(in.AutoMinorVersionUpgrade == nil || *in.AutoMinorVersionUpgrade)
	db.CACertificateIdentifier = ptr("rds-ca-rsa2048-g1")
	db.EngineLifecycleSupport = c.EngineLifecycleSupport
	db.CopyTagsToSnapshot = c.CopyTagsToSnapshot
	db.IAMDatabaseAuthenticationEnabled = c.IAMDatabaseAuthenticationEnabled
	db.PerformanceInsightsEnabled = ptr(deref(in.EnablePerformanceInsights))
	db.DeletionProtection = ptr(false)
	db.TagList = in.Tags
	if group != nil {
		db.DBSubnetGroup = &group.DBSubnetGroup
	}
	return records.Instance{DBInstance: db, Password: c.Password}
}

// leaveCluster removes member r, being deleted, from its cluster in tx.
// When r was the writer, the reader AWS would fail over to becomes the
// writer (the lowest PromotionTier, then the identifier: minicloud's
// classes are recorded, not sized), and the controller promotes it.
func leaveCluster(tx state.Tx, sc state.Scope, r *records.Instance) error {
	c, found, err := records.Clusters.Get(tx, sc, deref(r.DBClusterIdentifier))
	if err != nil || !found {
		return err
	}
	id := deref(r.DBInstanceIdentifier)
	wasWriter := c.Writer() == id
	if err := records.MemberPromotions.Delete(tx, sc, id); err != nil {
		return err
	}
	c.DBClusterMembers = slices.DeleteFunc(c.DBClusterMembers, func(m rdsapi.DBClusterMember) bool {
		return deref(m.DBInstanceIdentifier) == id
	})
	if wasWriter && len(c.DBClusterMembers) > 0 {
		next := slices.MinFunc(c.DBClusterMembers, func(a, b rdsapi.DBClusterMember) int {
			if d := deref(a.PromotionTier) - deref(b.PromotionTier); d != 0 {
				return int(d)
			}
			return strings.Compare(deref(a.DBInstanceIdentifier), deref(b.DBInstanceIdentifier))
		})
		c.Member(deref(next.DBInstanceIdentifier)).IsClusterWriter = ptr(true)
		// The controller promotes it where it runs, even across a restart.
		if err := records.MemberPromotions.Put(tx, sc, deref(next.DBInstanceIdentifier), records.MemberPromotion{Cluster: deref(c.DBClusterIdentifier)}); err != nil {
			return err
		}
	} else if wasWriter {
		// The last member: its data stays as the cluster's volume.
		if err := keepVolume(tx, sc, &c, r); err != nil {
			return err
		}
	}
	// Its custom endpoints no longer name it.
	for _, addr := range c.CustomEndpoints {
		eid := records.EndpointID(addr)
		ep, found, err := records.ClusterEndpoints.Get(tx, sc, eid)
		if err != nil {
			return err
		}
		if !found || !slices.Contains(ep.Static, id) && !slices.Contains(ep.Excluded, id) {
			continue
		}
		ep.Static = slices.DeleteFunc(ep.Static, func(m string) bool { return m == id })
		ep.Excluded = slices.DeleteFunc(ep.Excluded, func(m string) bool { return m == id })
		if err := records.ClusterEndpoints.Put(tx, sc, eid, ep); err != nil {
			return err
		}
	}
	return records.Clusters.Put(tx, sc, deref(c.DBClusterIdentifier), c)
}

// errMemberOp refuses an operation on member r that AWS makes on its
// cluster, or nil for an instance of no cluster.
func errMemberOp(r *records.Instance, what string) error {
	if !r.IsMember() {
		return nil
	}
	return errCombination("The specified DB Instance is a member of a cluster. %s", what)
}

// memberModifyCheck refuses a ModifyDBInstance of member r that changes
// what its cluster owns, as AWS does ("Modify … for the DB Cluster using
// the ModifyDbCluster API").
func memberModifyCheck(r *records.Instance, in *rdsapi.ModifyDBInstanceMessage) error {
	for _, p := range []struct {
		set  bool
		what string
	}{
		{in.MasterUserPassword != nil, "master user password"},
		{in.DeletionProtection != nil, "deletion protection"},
		{in.BackupRetentionPeriod != nil, "backup retention"},
		{in.PreferredBackupWindow != nil, "preferred backup window"},
		{in.VpcSecurityGroupIds != nil, "VPC security groups"},
		{in.EngineVersion != nil, "DB engine version"},
		{in.AllocatedStorage != nil, "allocated storage"},
		{in.MultiAZ != nil, "Multi-AZ"},
	} {
		if p.set {
			if err := errMemberOp(r, "Modify "+p.what+" for the DB Cluster using the ModifyDbCluster API"); err != nil {
				return err
			}
		}
	}
	return nil
}
