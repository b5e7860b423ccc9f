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

// checkPassword checks a master user password as AWS does for every
// engine; checkEnginePassword then applies the engine's own limit.
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

// checkEnginePassword applies the engine's limit on a master user
// password's length.
func checkEnginePassword(def engine.Defaults, p string) error {
	if len(p) > def.MaxPassword {
		return errInvalidParam("The parameter MasterUserPassword is not a valid password because it is longer than %d characters.", def.MaxPassword)
	}
	return nil
}

// validClassName: db.<family>.<size>; whether minicloud offers the class is
// checkClass's question.
func validClassName(class string) bool {
	return strings.HasPrefix(class, "db.") && strings.Count(class, ".") == 2
}

// checkRetention checks a BackupRetentionPeriod.
func checkRetention(days int32) error {
	if days < 0 || days > 35 {
		return errInvalidParam("Invalid backup retention period: %d. Valid values are 0-35.", days)
	}
	return nil
}

func errNoDBSecurityGroups() error {
	return errCombination("DB Security Groups are not supported in a VPC: use VpcSecurityGroupIds.")
}

// checkFree refuses identifier id when an instance has it.
func checkFree(tx state.Tx, sc state.Scope, id string) error {
	if _, found, err := records.Instances.Get(tx, sc, id); err != nil {
		return err
	} else if found {
		return api.Errorf(http.StatusBadRequest, "DBInstanceAlreadyExists", "DB instance already exists")
	}
	return nil
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
	return s.mutateTx(ctx, rawID, func(_ state.Tx, r *records.Instance) error { return fn(r) })
}

// mutateTx is mutate for an fn that also reads or writes other records in
// the transaction.
func (s *Service) mutateTx(ctx context.Context, rawID *string, fn func(tx state.Tx, r *records.Instance) error) (*rdsapi.DBInstance, error) {
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
		if err := fn(tx, &r); err != nil {
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
		if err := errMemberOp(r, "Stop the DB Cluster using the StopDBCluster API."); err != nil {
			return err
		}
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
		if err := errMemberOp(r, "Start the DB Cluster using the StartDBCluster API."); err != nil {
			return err
		}
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
	db, err := s.mutateTx(ctx, in.DBInstanceIdentifier, func(tx state.Tx, r *records.Instance) error {
		if deref(r.DeletionProtection) {
			return errCombination("Cannot delete protected DB Instance, please disable deletion protection and try again.")
		}
		if r.IsMember() {
			// A member's data is its cluster's: there is no final
			// snapshot of it, and none is asked for.
			if final != "" {
				return errCombination("FinalDBSnapshotIdentifier can not be specified when deleting a cluster instance.")
			}
			skip = true
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
		if r.IsMember() {
			return leaveCluster(tx, scopeOf(ctx), r)
		}
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
// server really listens; per DB cluster, its endpoints' (clusterhealth.go).
func (s *Service) Health() map[string]any {
	// Health must stay cheap (tools poll it to learn minicloud is up), so it
	// never runs a server binary itself (engine.Health).
	var engines []map[string]any
	for _, eng := range s.engines.All() {
		engines = append(engines, engine.Health(eng))
	}
	var list, clusters []map[string]any
	_ = s.store.View(context.Background(), func(tx state.Tx) error {
		clusters = s.clusterHealth(tx)
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
	return map[string]any{"engines": engines, "instances": list, "clusters": clusters, "note": "Endpoint names resolve through minicloud's DNS (--dns-listen) and in VPC resolvers; the loopback address reaches every instance from this host."}
}
func itoa(n int) string { return strconv.Itoa(n) }
