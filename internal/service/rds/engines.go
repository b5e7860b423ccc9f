package rds

import (
	"context"
	"slices"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
)

// The API's side of the engines (package engine): which engine a request
// names, its versions, and AWS's refusals of what an engine cannot do,
// which name the engines that can.

// engineFor returns the engine named name (lower case), nil for one
// minicloud does not run.
func (s *Service) engineFor(name string) engine.Engine { return s.engines.Get(name) }

// engineToCreate resolves CreateDBInstance's Engine (lower case; raw as
// given) to an engine minicloud runs, else AWS's refusal: what minicloud
// says of an AWS engine it does not run, or an unknown engine.
func (s *Service) engineToCreate(name, raw string) (engine.Engine, error) {
	if eng := s.engineFor(name); eng != nil {
		return eng, nil
	}
	why, known := engine.Unsupported(name)
	switch {
	case why != "":
		return nil, errInvalidParam("%s", why)
	case known:
		return nil, errInvalidParam("Engine %s is not supported by minicloud yet: only %s are.", name, s.engines.Names(nil))
	}
	return nil, errInvalidParam("Invalid DB engine: %s", raw)
}

// checkEngineVersion resolves the requested version against the host's: ""
// or the major version mean the host's full version.
func checkEngineVersion(eng engine.Engine, want string) (string, error) {
	if eng == nil {
		return "", errCombination("Cannot find version %s", want)
	}
	if err := eng.Available(); err != nil {
		return "", errCombination("%s", err.Error())
	}
	have, err := eng.Version()
	if err != nil {
		return "", errCombination("%s", err.Error())
	}
	if want == "" || want == have || want == eng.Major() {
		return have, nil
	}
	return "", errCombination("Cannot find version %s for %s", want, eng.Name())
}

// DescribeDBEngineVersions lists the engines this host can run, each with
// the version of its server on this host.
func (s *Service) DescribeDBEngineVersions(ctx context.Context, in *rdsapi.DescribeDBEngineVersionsMessage) (*rdsapi.DBEngineVersionMessage, error) {
	out := &rdsapi.DBEngineVersionMessage{DBEngineVersions: []rdsapi.DBEngineVersion{}}
	for _, eng := range s.engines.All() {
		if eng.Available() != nil {
			continue
		}
		v, err := eng.Version()
		if err != nil {
			continue
		}
		d := eng.Defaults()
		if e := deref(in.Engine); e != "" && e != eng.Name() {
			continue
		}
		if w := deref(in.EngineVersion); w != "" && w != v && w != eng.Major() {
			continue
		}
		if f := deref(in.DBParameterGroupFamily); f != "" && f != d.Family {
			continue
		}
		if slices.ContainsFunc(in.Filters, func(f rdsapi.Filter) bool {
			return deref(f.Name) == "engine" && !slices.Contains(f.Values, eng.Name())
		}) {
			continue
		}
		desc := d.Title + " " + v
		if ce, ok := eng.(engine.Clusters); ok {
			// Where minicloud's Aurora differs from AWS's, it says so.
			desc += " (" + ce.Cluster().Runs + ")"
		}
		out.DBEngineVersions = append(out.DBEngineVersions, rdsapi.DBEngineVersion{
			Engine:                                    ptr(eng.Name()),
			EngineVersion:                             ptr(v),
			MajorEngineVersion:                        ptr(eng.Major()),
			DBParameterGroupFamily:                    ptr(d.Family),
			DBEngineDescription:                       ptr(d.Description),
			DBEngineVersionDescription:                ptr(desc),
			ExportableLogTypes:                        d.LogTypes,
			SupportsLogExportsToCloudwatchLogs:        ptr(true),
			SupportsReadReplica:                       ptr(engine.Is[engine.Replication](eng)),
			SupportedEngineModes:                      []string{"provisioned"},
			SupportedFeatureNames:                     []string{},
			Status:                                    ptr("available"),
			SupportsParallelQuery:                     ptr(false),
			SupportsGlobalDatabases:                   ptr(false),
			SupportsBabelfish:                         ptr(false),
			SupportsLimitlessDatabase:                 ptr(false),
			SupportsCertificateRotationWithoutRestart: ptr(true),
			SupportsLocalWriteForwarding:              ptr(false),
			SupportsIntegrations:                      ptr(false),
		})
	}
	return out, nil
}

// validNameUpTo: 1 to max letters, digits or underscores, a letter first
// (MasterUsername, DBName).
func validNameUpTo(n string, max int) bool {
	if n == "" || len(n) > max {
		return false
	}
	for i, c := range n {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter || !letter && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

// wantsStandby reports whether the controller is to keep a standby for r:
// a Multi-AZ instance of an engine with standbys.
func (s *Service) wantsStandby(r *records.Instance) bool {
	return deref(r.MultiAZ) && r.Standby != nil && engine.Is[engine.Standbys](s.engineFor(deref(r.Engine)))
}

// errNoBackups refuses snapshots and backups of a DB instance whose engine
// minicloud cannot copy (nil when it can: the engine has backups and its
// tools are installed). AWS backs up every engine.
func (s *Service) errNoBackups(r *records.Instance) error {
	b, ok := s.engineFor(deref(r.Engine)).(engine.Backups)
	if !ok {
		return errCombination("minicloud takes snapshots and backups of %s DB instances only; %s is a %s DB instance.",
			s.engines.Names(engine.Is[engine.Backups]), deref(r.DBInstanceIdentifier), deref(r.Engine))
	}
	if err := b.CanBackup(); err != nil {
		return errCombination("%s", err.Error())
	}
	return nil
}

// notFor is AWS's refusal of feature for an engine that lacks capability
// has: "minicloud <feature> for postgres only so far, not mariadb."
func (s *Service) notFor(has func(engine.Engine) bool, feature, name string) error {
	return errCombination("minicloud %s for %s only so far, not %s.", feature, s.engines.Names(has), name)
}
