package rds

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

type rdsPending = rdsapi.PendingModifiedValues

// validIdentifier: 1 to 63 ASCII letters, digits and hyphens, a letter
// first, no two consecutive hyphens and no hyphen last.
func validIdentifier(id string) bool {
	if id == "" || len(id) > 63 || strings.Contains(id, "--") || strings.HasSuffix(id, "-") {
		return false
	}
	for i, c := range id {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func errBadIdentifier() error {
	return errInvalidParam("The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
}

func checkPassword(p *string) error {
	if p == nil || *p == "" {
		return errInvalidParam("The parameter MasterUserPassword must be provided and must not be blank.")
	}
	if len(*p) < 8 {
		return errInvalidParam("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
	}
	if len(*p) > 128 {
		return errInvalidParam("The parameter MasterUserPassword is not a valid password because it is longer than 128 characters.")
	}
	for _, c := range *p {
		if c < 0x21 || c > 0x7e || c == '/' || c == '"' || c == '@' {
			return errInvalidParam("The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.")
		}
	}
	return nil
}

// CreateDBInstance records a postgres or mariadb DB instance in status
// creating; the engine controller makes it real.
func (s *Service) CreateDBInstance(ctx context.Context, in *rdsapi.CreateDBInstanceMessage) (*rdsapi.CreateDBInstanceResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.checkCreatePublic(ctx, in); err != nil {
		return nil, err
	}
	raw := deref(in.DBInstanceIdentifier)
	if !validIdentifier(raw) {
		return nil, errBadIdentifier()
	}
	id := strings.ToLower(raw)
	class := deref(in.DBInstanceClass)
	if !strings.HasPrefix(class, "db.") || strings.Count(class, ".") != 2 {
		return nil, errInvalidParam("Invalid DB Instance class: %s", class)
	}
	engineName := strings.ToLower(deref(in.Engine))
	eng, err := s.engineToCreate(engineName, deref(in.Engine))
	if err != nil {
		return nil, err
	}
	if err := s.checkCreateMultiAZ(in, engineName); err != nil {
		return nil, err
	}
	if err := eng.Available(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	version, err := checkEngineVersion(eng, deref(in.EngineVersion))
	if err != nil {
		return nil, err
	}
	def := eng.Defaults()
	if err := checkClass(engineName, def.LicenseModel, class, version); err != nil {
		return nil, err
	}
	if in.AllocatedStorage == nil {
		return nil, errInvalidParam("The parameter AllocatedStorage must be provided and must not be blank.")
	}
	storageType := deref(in.StorageType)
	if storageType == "" {
		storageType = "gp2"
	}
	if err := checkStorageType(storageType); err != nil {
		return nil, err
	}
	if n := *in.AllocatedStorage; n < 20 || n > 65536 {
		return nil, errInvalidParam("Invalid storage size for engine name %s and storage type %s: %d", engineName, storageType, n)
	}
	master := deref(in.MasterUsername)
	if master == "" {
		return nil, errInvalidParam("The parameter MasterUsername must be provided and must not be blank.")
	}
	if len(master) > def.MaxMaster {
		return nil, errInvalidParam("The parameter MasterUsername is not a valid identifier because it is longer than %d characters.", def.MaxMaster)
	}
	if !validNameUpTo(master, 63) || slices.Contains(def.Reserved, strings.ToLower(master)) {
		return nil, errInvalidParam("MasterUsername %s cannot be used as it is a reserved word used by the engine", master)
	}
	if err := checkPassword(in.MasterUserPassword); err != nil {
		return nil, err
	}
	if len(*in.MasterUserPassword) > def.MaxPassword {
		return nil, errInvalidParam("The parameter MasterUserPassword is not a valid password because it is longer than %d characters.", def.MaxPassword)
	}
	if in.DBName != nil && !validNameUpTo(*in.DBName, def.MaxDBName) {
		return nil, errInvalidParam("DBName must begin with a letter and contain only alphanumeric characters.")
	}
	port := def.Port
	if in.Port != nil {
		if *in.Port < 1150 || *in.Port > 65535 {
			return nil, errInvalidParam("Invalid port number: %d. Valid values are 1150-65535.", *in.Port)
		}
		port = *in.Port
	}
	backup := int32(1)
	if in.BackupRetentionPeriod != nil {
		if *in.BackupRetentionPeriod < 0 || *in.BackupRetentionPeriod > 35 {
			return nil, errInvalidParam("Invalid backup retention period: %d. Valid values are 0-35.", *in.BackupRetentionPeriod)
		}
		backup = *in.BackupRetentionPeriod
	}
	if len(in.DBSecurityGroups) > 0 {
		return nil, errCombination("DB Security Groups are not supported in a VPC: use VpcSecurityGroupIds.")
	}
	if in.DBSubnetGroupName != nil {
		vpcID, err := s.subnetGroupVPC(ctx, sc, in.DBSubnetGroupName)
		if err != nil {
			return nil, err
		}
		if err := s.checkGroups(ctx, sc, vpcID, in.VpcSecurityGroupIds); err != nil {
			return nil, err
		}
	}
	var sgs []rdsapi.VpcSecurityGroupMembership
	for _, g := range slices.Compact(slices.Sorted(slices.Values(in.VpcSecurityGroupIds))) {
		sgs = append(sgs, rdsapi.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(g), Status: ptr("active")})
	}
	rec := records.Instance{
		DBInstance: rdsapi.DBInstance{
			DBInstanceIdentifier:             ptr(id),
			DBInstanceClass:                  ptr(class),
			Engine:                           ptr(engineName),
			DBInstanceStatus:                 ptr("creating"),
			MasterUsername:                   ptr(master),
			DBName:                           in.DBName,
			AllocatedStorage:                 in.AllocatedStorage,
			PreferredBackupWindow:            ptr(orDefault(in.PreferredBackupWindow, "03:00-03:30")),
			BackupRetentionPeriod:            ptr(backup),
			VpcSecurityGroups:                sgs,
			DBParameterGroups:                []rdsapi.DBParameterGroupStatus{{DBParameterGroupName: ptr(strings.ToLower(orDefault(in.DBParameterGroupName, def.ParameterGroup))), ParameterApplyStatus: ptr("in-sync")}},
			PreferredMaintenanceWindow:       ptr(strings.ToLower(orDefault(in.PreferredMaintenanceWindow, "sun:05:00-sun:05:30"))),
			PendingModifiedValues:            &rdsPending{MasterUserPassword: ptr("****")},
			MultiAZ:                          ptr(deref(in.MultiAZ)),
			EngineVersion:                    ptr(version),
			AutoMinorVersionUpgrade:          ptr(in.AutoMinorVersionUpgrade == nil || *in.AutoMinorVersionUpgrade),
			LicenseModel:                     ptr(def.LicenseModel),
			Iops:                             in.Iops,
			OptionGroupMemberships:           []rdsapi.OptionGroupMembership{{OptionGroupName: ptr(def.OptionGroup), Status: ptr("in-sync")}},
			PubliclyAccessible:               ptr(deref(in.PubliclyAccessible)),
			StorageType:                      ptr(storageType),
			DbInstancePort:                   ptr(int32(0)),
			StorageEncrypted:                 ptr(deref(in.StorageEncrypted)),
			DbiResourceId:                    ptr("db-" + strings.ToUpper(engine.RandomString(26))),
			CACertificateIdentifier:          ptr("rds-ca-rsa2048-g1"),
			CopyTagsToSnapshot:               ptr(deref(in.CopyTagsToSnapshot)),
			MonitoringInterval:               ptr(int32(0)),
			DBInstanceArn:                    ptr(state.NewARN(sc, "rds", "db:"+id).String()),
			IAMDatabaseAuthenticationEnabled: ptr(deref(in.EnableIAMDatabaseAuthentication)),
			PerformanceInsightsEnabled:       ptr(deref(in.EnablePerformanceInsights)),
			DeletionProtection:               ptr(deref(in.DeletionProtection)),
			TagList:                          in.Tags,
			CustomerOwnedIpEnabled:           ptr(false),
			BackupTarget:                     ptr("region"),
			NetworkType:                      ptr("IPV4"),
			DedicatedLogVolume:               ptr(false),
			IsStorageConfigUpgradeAvailable:  ptr(false),
			EngineLifecycleSupport:           ptr(orDefault(in.EngineLifecycleSupport, "open-source-rds-extended-support")),
			// The endpoint's name resolves through minicloud's DNS (dns.go).
			Endpoint: &rdsapi.Endpoint{
				Address:      ptr(endpointAddress(sc, id)),
				Port:         ptr(port),
				HostedZoneId: ptr("Z2R2ITUGPM61AM"),
			},
		},
		Password: *in.MasterUserPassword,
	}
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if _, found, err := records.Instances.Get(tx, sc, id); err != nil {
			return err
		} else if found {
			return api.Errorf(http.StatusBadRequest, "DBInstanceAlreadyExists", "DB instance already exists")
		}
		if in.DBParameterGroupName != nil {
			if err := s.checkInstanceParamGroup(tx, sc, *in.DBParameterGroupName, engineName); err != nil {
				return err
			}
		}
		if in.DBSubnetGroupName != nil {
			g, found, err := records.SubnetGroups.Get(tx, sc, strings.ToLower(*in.DBSubnetGroupName))
			if err != nil {
				return err
			}
			if !found {
				return errSubnetGroupNotFound(*in.DBSubnetGroupName)
			}
			rec.DBSubnetGroup = &g.DBSubnetGroup
			az := deref(in.AvailabilityZone)
			if az == "" && len(g.Subnets) > 0 {
				az = deref(g.Subnets[0].SubnetAvailabilityZone.Name)
			}
			rec.AvailabilityZone = ptr(az)
		} else {
			rec.AvailabilityZone = ptr(orDefault(in.AvailabilityZone, sc.Region+"a"))
		}
		rec.Restore, _ = ctx.Value(restoreKey{}).(*records.RestoreSource)
		initStandby(&rec, sc)
		return records.Instances.Put(tx, sc, id, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBInstanceResult{DBInstance: show(&rec)}, nil
}

func orDefault(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

// show is the Describe form of a record: the endpoint appears once the
// instance has been created.
func show(r *records.Instance) *rdsapi.DBInstance {
	out := r.DBInstance
	switch deref(out.DBInstanceStatus) {
	case "creating", "failed":
		out.Endpoint = nil
	}
	return &out
}

var instanceFilters = []string{"db-instance-id", "db-cluster-id", "dbi-resource-id", "engine", "domain"}

// DescribeDBInstances lists instances, by identifier or filters.
func (s *Service) DescribeDBInstances(ctx context.Context, in *rdsapi.DescribeDBInstancesMessage) (*rdsapi.DBInstanceMessage, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains(instanceFilters, deref(f.Name)) {
			return nil, errInvalidParam("Unrecognized filter name: %s", deref(f.Name))
		}
	}
	var all []rdsapi.DBInstance
	err := s.store.View(ctx, func(tx state.Tx) error {
		if in.DBInstanceIdentifier != nil {
			r, found, err := records.Instances.Get(tx, sc, strings.ToLower(*in.DBInstanceIdentifier))
			if err != nil {
				return err
			}
			if !found {
				return errInstanceNotFound(*in.DBInstanceIdentifier)
			}
			all = append(all, *show(&r))
			return nil
		}
		return records.Instances.ForEach(tx, sc, func(_ string, r records.Instance) error {
			if matchFilters(in.Filters, &r) {
				all = append(all, *show(&r))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.latestRestorable(ctx, sc, all)
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(d rdsapi.DBInstance) string { return deref(d.DBInstanceIdentifier) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBInstanceMessage{DBInstances: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

func matchFilters(fs []rdsapi.Filter, r *records.Instance) bool {
	for _, f := range fs {
		var have []string
		switch deref(f.Name) {
		case "db-instance-id":
			have = []string{deref(r.DBInstanceIdentifier), deref(r.DBInstanceArn)}
		case "db-cluster-id":
			have = []string{deref(r.DBClusterIdentifier)}
		case "dbi-resource-id":
			have = []string{deref(r.DbiResourceId)}
		case "engine":
			have = []string{deref(r.Engine)}
		case "domain":
			for _, d := range r.DomainMemberships {
				have = append(have, deref(d.Domain))
			}
		}
		ok := false
		for _, v := range f.Values {
			if slices.Contains(have, v) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// mutate runs fn on instance id in one transaction and returns the result.
func (s *Service) mutate(ctx context.Context, rawID *string, fn func(r *records.Instance) error) (*rdsapi.DBInstance, error) {
	sc := scopeOf(ctx)
	id := strings.ToLower(deref(rawID))
	var out *rdsapi.DBInstance
	err := s.store.Update(ctx, func(tx state.Tx) error {
		if id == "" {
			return errInstanceNotFound(deref(rawID))
		}
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil {
			return err
		}
		if !found {
			return errInstanceNotFound(deref(rawID))
		}
		if err := fn(&r); err != nil {
			return err
		}
		out = show(&r)
		return records.Instances.Put(tx, sc, id, r)
	})
	return out, err
}

// RebootDBInstance restarts the engine of an available instance.
func (s *Service) RebootDBInstance(ctx context.Context, in *rdsapi.RebootDBInstanceMessage) (*rdsapi.RebootDBInstanceResult, error) {
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if deref(in.ForceFailover) && !s.wantsStandby(r) {
			return errCombination("ForceFailover can only be used with a Multi-AZ DB instance.")
		}
		// An instance whose parameters stop its engine is rebooted once
		// they are fixed, as on AWS.
		if st := deref(r.DBInstanceStatus); st != "available" && st != "incompatible-parameters" {
			return errInstanceState("Instance %s is not in available state.", deref(r.DBInstanceIdentifier))
		}
		if deref(in.ForceFailover) {
			r.Standby.Failover = true
		}
		r.DBInstanceStatus = ptr("rebooting")
		r.RebootSeq++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.RebootDBInstanceResult{DBInstance: db}, nil
}

// StopDBInstance stops the engine; the data stays.
func (s *Service) StopDBInstance(ctx context.Context, in *rdsapi.StopDBInstanceMessage) (*rdsapi.StopDBInstanceResult, error) {
	if in.DBSnapshotIdentifier != nil {
		return s.stopWithSnapshot(ctx, in)
	}
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if deref(r.DBInstanceStatus) != "available" {
			return errInstanceState("Instance %s is not in available state.", deref(r.DBInstanceIdentifier))
		}
		if err := checkStop(r); err != nil {
			return err
		}
		r.DBInstanceStatus = ptr("stopping")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StopDBInstanceResult{DBInstance: db}, nil
}

// StartDBInstance starts a stopped instance's engine.
func (s *Service) StartDBInstance(ctx context.Context, in *rdsapi.StartDBInstanceMessage) (*rdsapi.StartDBInstanceResult, error) {
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if deref(r.DBInstanceStatus) != "stopped" {
			return errInstanceState("Instance %s is not stopped, it cannot be started.", deref(r.DBInstanceIdentifier))
		}
		r.DBInstanceStatus = ptr("starting")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.StartDBInstanceResult{DBInstance: db}, nil
}

var deletable = []string{"available", "stopped", "failed", "backing-up", "creating", "storage-full", "incompatible-parameters", "incompatible-restore", "incompatible-network", "inaccessible-encryption-credentials"}

// DeleteDBInstance stops the engine and removes the instance and its data.
func (s *Service) DeleteDBInstance(ctx context.Context, in *rdsapi.DeleteDBInstanceMessage) (*rdsapi.DeleteDBInstanceResult, error) {
	skip := deref(in.SkipFinalSnapshot)
	final := deref(in.FinalDBSnapshotIdentifier)
	if final != "" && !skip {
		if !validSnapshotID(final) {
			return nil, errBadSnapshotID("FinalDBSnapshotIdentifier")
		}
		if err := s.checkNewSnapshot(ctx, strings.ToLower(final)); err != nil {
			return nil, err
		}
	}
	db, err := s.mutate(ctx, in.DBInstanceIdentifier, func(r *records.Instance) error {
		if deref(r.DeletionProtection) {
			return errCombination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
		}
		switch {
		case skip && final != "":
			return errCombination("Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.")
		case !skip && final == "":
			return errCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		}
		st := deref(r.DBInstanceStatus)
		if st == "deleting" {
			return errInstanceState("Instance %s is already being deleted.", deref(r.DBInstanceIdentifier))
		}
		if !slices.Contains(deletable, st) {
			return errInstanceState("Instance %s is currently %s, it cannot be deleted.", deref(r.DBInstanceIdentifier), st)
		}
		if !skip {
			if err := s.errNoBackups(r); err != nil {
				return err
			}
			r.FinalSnapshot = strings.ToLower(final)
		}
		r.KeepAutomatedBackups = in.DeleteAutomatedBackups != nil && !*in.DeleteAutomatedBackups
		r.DBInstanceStatus = ptr("deleting")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(db.ReadReplicaDBInstanceIdentifiers) > 0 {
		if err := s.promoteReplicasOf(ctx, deref(db.DBInstanceIdentifier)); err != nil {
			return nil, err
		}
	}
	return &rdsapi.DeleteDBInstanceResult{DBInstance: db}, nil
}

// Loopback is where instance id's real server listens (127.0.0.1:port), ""
// until it has first started.
func (s *Service) Loopback(ctx context.Context, account, region, id string) (string, error) {
	var addr string
	err := s.store.View(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, state.Scope{Account: account, Region: region}, strings.ToLower(id))
		if err != nil || !found {
			return err
		}
		if r.LoopbackPort != 0 {
			addr = "127.0.0.1:" + itoa(r.LoopbackPort)
		}
		return nil
	})
	return addr, err
}

// Health is the "rds" entry of /_minicloud/health: the engines and, per DB
// instance, its status, endpoint name and the loopback address where its
// server really listens.
func (s *Service) Health() map[string]any {
	// Health must stay cheap (tools poll it to learn minicloud is up), so it
	// never runs a server binary itself (engine.Health).
	var engines []map[string]any
	for _, eng := range s.engines.All() {
		engines = append(engines, engine.Health(eng))
	}
	var list []map[string]any
	_ = s.store.View(context.Background(), func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			sc, id, ok := records.Instances.ParseKey(key)
			if !ok {
				return nil
			}
			r, found, err := records.Instances.Get(tx, sc, id)
			if err != nil || !found {
				return err
			}
			e := map[string]any{"account": sc.Account, "region": sc.Region, "id": id, "status": deref(r.DBInstanceStatus)}
			if r.Endpoint != nil {
				e["endpoint"] = deref(r.Endpoint.Address) + ":" + itoa(int(deref(r.Endpoint.Port)))
			}
			if r.LoopbackPort != 0 {
				e["loopback"] = "127.0.0.1:" + itoa(r.LoopbackPort)
			}
			if r.ENI != nil {
				vpc := map[string]any{"networkInterface": r.ENI.ID, "address": r.ENI.IP}
				if r.ENI.PublicIP != "" {
					vpc["publicAddress"] = r.ENI.PublicIP
				}
				e["vpc"] = vpc
			}
			if r.EngineError != "" {
				e["error"] = r.EngineError
			}
			if sh := standbyHealth(&r); sh != nil {
				e["standby"] = sh
			}
			if rh := s.replicationHealth(key, &r); rh != nil {
				e["replication"] = rh
			}
			list = append(list, e)
			return nil
		})
	})
	return map[string]any{"engines": engines, "instances": list, "note": "Endpoint names resolve through minicloud's DNS (--dns-listen) and in VPC resolvers; the loopback address reaches every instance from this host."}
}
func itoa(n int) string { return strconv.Itoa(n) }
