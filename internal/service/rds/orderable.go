package rds

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The DB instance classes minicloud accepts for postgres: AWS's current
// classes for RDS for PostgreSQL. A class is recorded and shown, and its
// vCPUs and memory limit the server (controller/capacity.go).
var instanceClasses = func() []string {
	sizes := map[string][]string{
		"t3":  {"micro", "small", "medium", "large", "xlarge", "2xlarge"},
		"t4g": {"micro", "small", "medium", "large", "xlarge", "2xlarge"},
		"m5":  {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"},
		"m6g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
		"m6i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"},
		"m7g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
		"r5":  {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"},
		"r6g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
		"r6i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"},
		"r7g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
	}
	var out []string
	for fam, ss := range sizes {
		for _, s := range ss {
			out = append(out, "db."+fam+"."+s)
		}
	}
	slices.Sort(out)
	return out
}()

// storageType is a storage type with its size limits in GiB (none for 0).
type storageType struct {
	name     string
	min, max int32
	iops     bool
}

// storageTypes are the storage types of DB instances.
var storageTypes = []storageType{
	{"gp2", 20, 65536, false},
	{"gp3", 20, 65536, true},
	{"io1", 100, 65536, true},
	{"io2", 100, 65536, true},
	{"standard", 20, 3072, false},
}

// auroraStorage are an Aurora cluster's storage types, without sizes: the
// cluster volume grows by itself.
var auroraStorage = []storageType{{"aurora", 0, 0, false}, {"aurora-iopt1", 0, 0, false}}

// checkClass refuses a class minicloud does not offer, with AWS's message.
func checkClass(engine, license, class, version string) error {
	if slices.Contains(instanceClasses, class) {
		return nil
	}
	return errCombination("RDS does not support creating a DB instance with the following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, LicenseModel=%s. For supported combinations of instance class and database engine version, see the documentation.", class, engine, version, license)
}

// checkStorageType refuses an unknown storage type.
func checkStorageType(t string) error {
	for _, s := range storageTypes {
		if s.name == t {
			return nil
		}
	}
	return api.Errorf(http.StatusBadRequest, "StorageTypeNotSupported", "Invalid storage type: %s", t)
}

var orderablePage = state.PageOptions{
	Min: 20, Max: 1000, Default: 100, Param: "MaxRecords",
	SizeMessage: func(got, lo, hi int) string {
		return fmt.Sprintf("Invalid value %d for MaxRecords. Must be between %d and %d", got, lo, hi)
	},
	TokenCode:    "InvalidParameterValue",
	TokenMessage: func(tok string) string { return fmt.Sprintf("Invalid marker: %s", tok) },
}

// DescribeOrderableDBInstanceOptions lists, for the host's engine version,
// every class minicloud accepts with every storage type.
func (s *Service) DescribeOrderableDBInstanceOptions(ctx context.Context, in *rdsapi.DescribeOrderableDBInstanceOptionsMessage) (*rdsapi.OrderableDBInstanceOptionsMessage, error) {
	out := &rdsapi.OrderableDBInstanceOptionsMessage{OrderableDBInstanceOptions: []rdsapi.OrderableDBInstanceOption{}}
	engineName := deref(in.Engine)
	if engineName == "" {
		return nil, errInvalidParam("The parameter Engine must be provided and must not be blank.")
	}
	eng := s.engineFor(engineName)
	if eng == nil || eng.Available() != nil {
		return out, nil // only what this host can run
	}
	version, err := eng.Version()
	if err != nil {
		return out, nil
	}
	if v := deref(in.EngineVersion); v != "" && v != version && v != eng.Major() {
		return out, nil
	}
	license := eng.Defaults().LicenseModel
	if l := deref(in.LicenseModel); l != "" && l != license {
		return out, nil
	}
	replicas := engine.Is[engine.Replication](eng)
	if in.Vpc != nil && !*in.Vpc {
		return out, nil // every DB instance is in a VPC
	}
	if len(in.Filters) > 0 {
		return nil, errInvalidParam("Unrecognized filter name: %s", deref(in.Filters[0].Name))
	}
	classes, storage, clusters := instanceClasses, storageTypes, false
	if ce, ok := eng.(engine.Clusters); ok {
		// An Aurora member's storage is its cluster's.
		classes, storage, clusters = ce.Cluster().Classes, auroraStorage, true
	}
	var all []rdsapi.OrderableDBInstanceOption
	for _, class := range classes {
		if c := deref(in.DBInstanceClass); c != "" && c != class {
			continue
		}
		for _, st := range storage {
			o := rdsapi.OrderableDBInstanceOption{
				Engine: ptr(engineName), EngineVersion: ptr(version), DBInstanceClass: ptr(class),
				LicenseModel: ptr(license), MultiAZCapable: ptr(true), ReadReplicaCapable: ptr(replicas),
				Vpc: ptr(true), SupportsStorageEncryption: ptr(true), StorageType: ptr(st.name), SupportsIops: ptr(st.iops),
				SupportsEnhancedMonitoring: ptr(true), SupportsIAMDatabaseAuthentication: ptr(true),
				SupportsPerformanceInsights: ptr(true), MinStorageSize: ptr(st.min), MaxStorageSize: ptr(st.max),
				SupportedEngineModes: []string{"provisioned"}, SupportsStorageAutoscaling: ptr(true),
				SupportsKerberosAuthentication: ptr(true), OutpostCapable: ptr(false), SupportsGlobalDatabases: ptr(false),
				SupportsClusters: ptr(clusters), SupportedNetworkTypes: []string{"IPV4"}, SupportsStorageThroughput: ptr(st.name == "gp3"),
				SupportsDedicatedLogVolume: ptr(false), AvailabilityZoneGroup: nil,
			}
			if st.max == 0 {
				o.MinStorageSize, o.MaxStorageSize = nil, nil
			}
			all = append(all, o)
		}
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), orderablePage, func(o rdsapi.OrderableDBInstanceOption) string {
		return deref(o.DBInstanceClass) + "/" + deref(o.StorageType)
	})
	if err != nil {
		return nil, err
	}
	out.OrderableDBInstanceOptions = page
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// classKnown is for ModifyDBInstance: the class as CreateDBInstance checks it.
func classKnown(r *records.Instance, class string) error {
	if !strings.HasPrefix(class, "db.") {
		return errInvalidParam("Invalid DB Instance class: %s", class)
	}
	return checkClass(deref(r.Engine), deref(r.LicenseModel), class, deref(r.EngineVersion))
}
