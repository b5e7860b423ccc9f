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

// CreateDBInstance records a postgres or mariadb DB instance in status
// creating; the engine controller makes it real.
//
// The request is checked on its own (createCheck) and EC2 is asked what
// the checks need of it (sgcheck.go); then, in one write transaction,
// the instance is planned against what is stored (its identifier free,
// its parameter and subnet groups: createPlan) and written. The checks
// run in AWS's order, which errors_test.go pins.
func (s *Service) CreateDBInstance(ctx context.Context, in *rdsapi.CreateDBInstanceMessage) (*rdsapi.CreateDBInstanceResult, error) {
	create := func() (*rdsapi.DBInstance, error) { return s.createInstance(ctx, in, nil) }
	if in.DBClusterIdentifier != nil {
		create = func() (*rdsapi.DBInstance, error) { return s.createMember(ctx, in) }
	}
	db, err := retryChanged(ctx, create)
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBInstanceResult{DBInstance: db}, nil
}

// createInstance is one attempt at CreateDBInstance, or at a restore: from
// is where the restored data comes from (nil for a new, empty instance).
func (s *Service) createInstance(ctx context.Context, in *rdsapi.CreateDBInstanceMessage, from *restore) (*rdsapi.DBInstance, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	// Public access is checked between the tags and the rest of the
	// request: the order errors_test.go pins.
	public, err := s.checkCreatePublic(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	r, err := s.createCheck(in)
	if err != nil {
		return nil, err
	}
	var groups groupVPCs
	if in.DBSubnetGroupName != nil { // without a subnet group, they are not checked
		if groups, err = s.lookupGroups(ctx, sc, in.VpcSecurityGroupIds); err != nil {
			return nil, err
		}
	}
	rec := newInstanceRecord(sc, r)
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if err := from.confirm(tx, sc); err != nil {
			return err
		}
		if err := s.createPlan(tx, sc, r, &rec, public, groups); err != nil {
			return err
		}
		rec.Restore = from.source()
		return records.Instances.Put(tx, sc, r.id, rec)
	})
	if err != nil {
		return nil, err
	}
	return show(&rec), nil
}

// createRequest is a CreateDBInstance request checked on its own, with
// what the request alone decides.
type createRequest struct {
	in          *rdsapi.CreateDBInstanceMessage
	id          string // lower case
	engineName  string // lower case
	def         engine.Defaults
	version     string // the host's full version
	storageType string
	port        int32
	backup      int32 // BackupRetentionPeriod
}

// createCheck checks a CreateDBInstance request without reading the
// store, in AWS's order: identifier and class, engine, storage,
// credentials and database, port, backups.
func (s *Service) createCheck(in *rdsapi.CreateDBInstanceMessage) (*createRequest, error) {
	raw := deref(in.DBInstanceIdentifier)
	if !validIdentifier(raw) {
		return nil, errBadIdentifier()
	}
	if class := deref(in.DBInstanceClass); !validClassName(class) {
		return nil, errInvalidParam("Invalid DB Instance class: %s", class)
	}
	r := &createRequest{in: in, id: strings.ToLower(raw), backup: 1}
	if err := s.createCheckEngine(r); err != nil {
		return nil, err
	}
	if err := createCheckStorage(r); err != nil {
		return nil, err
	}
	if err := createCheckCredentials(r); err != nil {
		return nil, err
	}
	r.port = r.def.Port
	if p := in.Port; p != nil {
		if *p < 1150 || *p > 65535 {
			return nil, errInvalidParam("Invalid port number: %d. Valid values are 1150-65535.", *p)
		}
		r.port = *p
	}
	if b := in.BackupRetentionPeriod; b != nil {
		if err := checkRetention(*b); err != nil {
			return nil, err
		}
		r.backup = *b
	}
	if len(in.DBSecurityGroups) > 0 {
		return nil, errNoDBSecurityGroups()
	}
	return r, nil
}

// createCheckEngine resolves the engine and its version on this host, and
// checks that the class is offered with them.
func (s *Service) createCheckEngine(r *createRequest) error {
	in := r.in
	r.engineName = strings.ToLower(deref(in.Engine))
	eng, err := s.engineToCreate(r.engineName, deref(in.Engine))
	if err != nil {
		return err
	}
	if engine.Is[engine.Clusters](eng) {
		return errCombination("A DB instance of engine %s is a member of a DB cluster: create the DB cluster (CreateDBCluster), then its DB instances with DBClusterIdentifier.", r.engineName)
	}
	if err := s.checkCreateMultiAZ(in, r.engineName); err != nil {
		return err
	}
	if err := eng.Available(); err != nil {
		return errCombination("%s", err.Error())
	}
	if r.version, err = checkEngineVersion(eng, deref(in.EngineVersion)); err != nil {
		return err
	}
	r.def = eng.Defaults()
	if err := checkLogTypes(eng, r.version, in.EnableCloudwatchLogsExports); err != nil {
		return err
	}
	return checkClass(r.engineName, r.def.LicenseModel, deref(in.DBInstanceClass), r.version)
}

// createCheckStorage checks the storage's type and size.
func createCheckStorage(r *createRequest) error {
	in := r.in
	if in.AllocatedStorage == nil {
		return errInvalidParam("The parameter AllocatedStorage must be provided and must not be blank.")
	}
	r.storageType = orDefault(in.StorageType, "gp2")
	if err := checkStorageType(r.storageType); err != nil {
		return err
	}
	if n := *in.AllocatedStorage; n < 20 || n > 65536 {
		return errInvalidParam("Invalid storage size for engine name %s and storage type %s: %d", r.engineName, r.storageType, n)
	}
	return nil
}

// createCheckCredentials checks the master user, its password and the
// database's name against the engine's limits.
func createCheckCredentials(r *createRequest) error {
	in, def := r.in, r.def
	if err := checkMaster(def, deref(in.MasterUsername), in.MasterUserPassword); err != nil {
		return err
	}
	if in.DBName != nil && !validNameUpTo(*in.DBName, def.MaxDBName) {
		return errInvalidParam("DBName must begin with a letter and contain only alphanumeric characters.")
	}
	return nil
}

// checkMaster checks a master user and its password against the engine's
// limits (CreateDBInstance, CreateDBCluster).
func checkMaster(def engine.Defaults, master string, password *string) error {
	if master == "" {
		return errInvalidParam("The parameter MasterUsername must be provided and must not be blank.")
	}
	if len(master) > def.MaxMaster {
		return errInvalidParam("The parameter MasterUsername is not a valid identifier because it is longer than %d characters.", def.MaxMaster)
	}
	if !validNameUpTo(master, 63) || slices.Contains(def.Reserved, strings.ToLower(master)) {
		return errInvalidParam("MasterUsername %s cannot be used as it is a reserved word used by the engine", master)
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	return checkEnginePassword(def, *password)
}

// createPlan checks the request against what is stored, in AWS's order
// (the security groups in the subnet group's VPC, the identifier free, the
// parameter group, the subnet group), and completes the record with its
// subnet group and zones. public and groups are EC2's answers.
func (s *Service) createPlan(tx state.Tx, sc state.Scope, r *createRequest, rec *records.Instance, public publicCheck, groups groupVPCs) error {
	in := r.in
	group, err := subnetGroupOf(tx, sc, in.DBSubnetGroupName)
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
	if err := groups.check(vpc); err != nil {
		return err
	}
	if err := checkFree(tx, sc, r.id); err != nil {
		return err
	}
	if in.DBParameterGroupName != nil {
		if err := s.checkInstanceParamGroup(tx, sc, *in.DBParameterGroupName, r.engineName); err != nil {
			return err
		}
	}
	switch {
	case group != nil:
		rec.DBSubnetGroup = &group.DBSubnetGroup
		rec.AvailabilityZone = ptr(zoneIn(&group.DBSubnetGroup, deref(in.AvailabilityZone)))
	case in.DBSubnetGroupName != nil:
		return errSubnetGroupNotFound(*in.DBSubnetGroupName)
	default:
		rec.AvailabilityZone = ptr(orDefault(in.AvailabilityZone, sc.Region+"a"))
	}
	initStandby(rec, sc)
	return nil
}

// subnetGroupOf reads DB subnet group name (nil: none named or missing).
func subnetGroupOf(tx state.Tx, sc state.Scope, name *string) (*records.SubnetGroup, error) {
	if name == nil {
		return nil, nil
	}
	g, found, err := records.SubnetGroups.Get(tx, sc, strings.ToLower(*name))
	if err != nil || !found {
		return nil, err
	}
	return &g, nil
}

// zoneIn is the Availability Zone of an instance in DB subnet group g:
// the one requested, else the zone of the group's first subnet.
func zoneIn(g *rdsapi.DBSubnetGroup, az string) string {
	if az == "" && len(g.Subnets) > 0 {
		az = deref(g.Subnets[0].SubnetAvailabilityZone.Name)
	}
	return az
}

// newInstanceRecord is the record a checked CreateDBInstance request makes,
// before its subnet group and zones (createPlan).
func newInstanceRecord(sc state.Scope, r *createRequest) records.Instance {
	in, def := r.in, r.def
	db := newDBInstance(sc, r.id, r.port)
	db.DBInstanceClass = ptr(deref(in.DBInstanceClass))
	db.Engine = ptr(r.engineName)
	db.EngineVersion = ptr(r.version)
	if len(in.EnableCloudwatchLogsExports) > 0 {
		db.EnabledCloudwatchLogsExports = exportsAfter(nil, &rdsapi.CloudwatchLogsExportConfiguration{EnableLogTypes: in.EnableCloudwatchLogsExports})
	}
	db.LicenseModel = ptr(def.LicenseModel)
	db.MasterUsername = ptr(deref(in.MasterUsername))
	db.DBName = in.DBName
	db.AllocatedStorage = in.AllocatedStorage
	db.StorageType = ptr(r.storageType)
	db.Iops = in.Iops
	db.StorageEncrypted = ptr(deref(in.StorageEncrypted))
	db.PreferredBackupWindow = ptr(orDefault(in.PreferredBackupWindow, "03:00-03:30"))
	db.BackupRetentionPeriod = ptr(r.backup)
	db.PreferredMaintenanceWindow = ptr(strings.ToLower(orDefault(in.PreferredMaintenanceWindow, "sun:05:00-sun:05:30")))
	db.PendingModifiedValues = &rdsPending{MasterUserPassword: ptr("****")}
	db.VpcSecurityGroups = activeMemberships(in.VpcSecurityGroupIds)
	db.DBParameterGroups = []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(strings.ToLower(orDefault(in.DBParameterGroupName, def.ParameterGroup))), ParameterApplyStatus: ptr("in-sync")}}
	db.OptionGroupMemberships = []rdsapi.OptionGroupMembership{{OptionGroupName: ptr(def.OptionGroup), Status: ptr("in-sync")}}
	db.MultiAZ = ptr(deref(in.MultiAZ))
	db.PubliclyAccessible = ptr(deref(in.PubliclyAccessible))
	db.AutoMinorVersionUpgrade = ptr(in.AutoMinorVersionUpgrade == nil || *in.AutoMinorVersionUpgrade)
	db.CACertificateIdentifier = ptr("rds-ca-rsa2048-g1")
	db.EngineLifecycleSupport = ptr(orDefault(in.EngineLifecycleSupport, "open-source-rds-extended-support"))
	db.CopyTagsToSnapshot = ptr(deref(in.CopyTagsToSnapshot))
	db.IAMDatabaseAuthenticationEnabled = ptr(deref(in.EnableIAMDatabaseAuthentication))
	db.PerformanceInsightsEnabled = ptr(deref(in.EnablePerformanceInsights))
	db.DeletionProtection = ptr(deref(in.DeletionProtection))
	db.TagList = in.Tags
	return records.Instance{DBInstance: db, Password: *in.MasterUserPassword}
}

// newDBInstance is what every new DB instance's record starts as (a
// created, restored or read replica's): its identity, status creating,
// its endpoint on port, and what minicloud does not vary. The caller sets
// the rest.
func newDBInstance(sc state.Scope, id string, port int32) rdsapi.DBInstance {
	return rdsapi.DBInstance{
		DBInstanceIdentifier:            ptr(id),
		DBInstanceStatus:                ptr("creating"),
		DBInstanceArn:                   ptr(state.NewARN(sc, "rds", "db:"+id).String()),
		DbiResourceId:                   ptr("db-" + strings.ToUpper(engine.RandomString(26))),
		DbInstancePort:                  ptr(int32(0)),
		MonitoringInterval:              ptr(int32(0)),
		CustomerOwnedIpEnabled:          ptr(false),
		BackupTarget:                    ptr("region"),
		NetworkType:                     ptr("IPV4"),
		DedicatedLogVolume:              ptr(false),
		IsStorageConfigUpgradeAvailable: ptr(false),
		// The endpoint's name resolves through minicloud's DNS (dns.go).
		Endpoint: &rdsapi.Endpoint{
			Address:      ptr(endpointAddress(sc, id)),
			Port:         ptr(port),
			HostedZoneId: ptr("Z2R2ITUGPM61AM"),
		},
	}
}

// activeMemberships are the memberships of a new instance in the VPC
// security groups ids, each once, in order.
func activeMemberships(ids []string) []rdsapi.VpcSecurityGroupMembership {
	var out []rdsapi.VpcSecurityGroupMembership
	for _, g := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		out = append(out, rdsapi.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(g), Status: ptr("active")})
	}
	return out
}
