package rds

import (
	"context"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DB cluster parameter groups, as DB parameter groups (paramgroups.go) are:
// a family is a cluster engine's (aurora-postgresql15), its parameters are
// the host engine's own (engine.Parameters; an engine without them has its
// empty default group only), a group stores only what users set, and
// default.<family> exists implicitly and cannot be changed. Every
// parameter of the engine is listed: minicloud does not split them into
// cluster-level and instance-level ones as Aurora does. The controller
// gives a cluster's group to every member's server, under the member's
// DB parameter group (records.ClusterParamGroup).

func errClusterParamGroupNotFound(name string) error {
	return api.Errorf(http.StatusNotFound, "DBParameterGroupNotFound", "DBClusterParameterGroup not found: %s", name)
}

// defaultClusterGroupEngine is the cluster engine whose default cluster
// parameter group is name, nil for none.
func (s *Service) defaultClusterGroupEngine(name string) engine.Clusters {
	for _, e := range s.engines.All() {
		if ce, ok := e.(engine.Clusters); ok && ce.Cluster().ParameterGroup == name {
			return ce
		}
	}
	return nil
}

// clusterFamilyEngine is the cluster engine of family fam, nil for none.
func (s *Service) clusterFamilyEngine(fam string) engine.Clusters {
	for _, e := range s.engines.All() {
		if ce, ok := e.(engine.Clusters); ok && ce.Defaults().Family == fam {
			return ce
		}
	}
	return nil
}

// defaultClusterGroup is the implicit default cluster group of ce.
func defaultClusterGroup(sc state.Scope, ce engine.Clusters) records.ClusterParamGroup {
	name, fam := ce.Cluster().ParameterGroup, ce.Defaults().Family
	return records.ClusterParamGroup{DBClusterParameterGroup: rdsapi.DBClusterParameterGroup{
		DBClusterParameterGroupName: ptr(name),
		DBParameterGroupFamily:      ptr(fam),
		Description:                 ptr("Default cluster parameter group for " + fam),
		DBClusterParameterGroupArn:  ptr(state.NewARN(sc, "rds", "cluster-pg:"+name).String()),
	}}
}

// getClusterParamGroup reads a cluster group, the implicit default ones
// included.
func (s *Service) getClusterParamGroup(tx state.Tx, sc state.Scope, name string) (records.ClusterParamGroup, error) {
	name = strings.ToLower(name)
	if ce := s.defaultClusterGroupEngine(name); ce != nil {
		return defaultClusterGroup(sc, ce), nil
	}
	g, found, err := records.ClusterParamGroups.Get(tx, sc, name)
	if err != nil {
		return g, err
	}
	if !found {
		return g, errClusterParamGroupNotFound(name)
	}
	return g, nil
}

// checkClusterParamGroup verifies that cluster group name exists in family
// fam (CreateDBCluster, ModifyDBCluster).
func (s *Service) checkClusterParamGroup(tx state.Tx, sc state.Scope, name, fam string) error {
	g, err := s.getClusterParamGroup(tx, sc, name)
	if err != nil {
		return err
	}
	if f := deref(g.DBParameterGroupFamily); f != fam {
		return errCombination("The DB cluster parameter group %s with DBParameterGroupFamily %s can't be used for this cluster. Use a DB cluster parameter group with DBParameterGroupFamily %s.", name, f, fam)
	}
	return nil
}

// clusterParamEngine is the engine whose parameters family fam's groups
// set, nil when it has none of its own.
func (s *Service) clusterParamEngine(fam string) engine.Parameters {
	pe, _ := s.clusterFamilyEngine(fam).(engine.Parameters)
	return pe
}

// CreateDBClusterParameterGroup records a cluster group of a cluster
// engine's family.
func (s *Service) CreateDBClusterParameterGroup(ctx context.Context, in *rdsapi.CreateDBClusterParameterGroupMessage) (*rdsapi.CreateDBClusterParameterGroupResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	name, err := checkNewGroup("DBClusterParameterGroupName", deref(in.DBClusterParameterGroupName), in.Description)
	if err != nil {
		return nil, err
	}
	fam := deref(in.DBParameterGroupFamily)
	if ce := s.clusterFamilyEngine(fam); ce == nil || ce.Available() != nil {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid DB cluster parameter group family: this host's engines give only %s.", fam, s.clusterFamilies())
	}
	rec := records.ClusterParamGroup{
		DBClusterParameterGroup: rdsapi.DBClusterParameterGroup{
			DBClusterParameterGroupName: ptr(name),
			DBParameterGroupFamily:      ptr(fam),
			Description:                 in.Description,
			DBClusterParameterGroupArn:  ptr(state.NewARN(sc, "rds", "cluster-pg:"+name).String()),
		},
		Tags: in.Tags,
	}
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if _, found, err := records.ClusterParamGroups.Get(tx, sc, name); err != nil {
			return err
		} else if found || s.defaultClusterGroupEngine(name) != nil {
			return api.Errorf(http.StatusBadRequest, "DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
		}
		return records.ClusterParamGroups.Put(tx, sc, name, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBClusterParameterGroupResult{DBClusterParameterGroup: &rec.DBClusterParameterGroup}, nil
}

// clusterFamilies lists the cluster engines' families, for messages.
func (s *Service) clusterFamilies() string {
	var out []string
	for _, e := range s.engines.All() {
		if engine.Is[engine.Clusters](e) && e.Available() == nil {
			out = append(out, e.Defaults().Family)
		}
	}
	return strings.Join(out, ", ")
}

// DescribeDBClusterParameterGroups lists the default cluster groups and the
// user's.
func (s *Service) DescribeDBClusterParameterGroups(ctx context.Context, in *rdsapi.DescribeDBClusterParameterGroupsMessage) (*rdsapi.DBClusterParameterGroupsMessage, error) {
	sc := scopeOf(ctx)
	page, next, err := describeGroups(ctx, s, groupQuery{in.DBClusterParameterGroupName, in.Filters, in.MaxRecords, in.Marker},
		func(tx state.Tx, name string) (rdsapi.DBClusterParameterGroup, error) {
			g, err := s.getClusterParamGroup(tx, sc, name)
			return g.DBClusterParameterGroup, err
		},
		func(tx state.Tx) ([]rdsapi.DBClusterParameterGroup, error) {
			var all []rdsapi.DBClusterParameterGroup
			for _, e := range s.engines.All() {
				if ce, ok := e.(engine.Clusters); ok && ce.Available() == nil {
					all = append(all, defaultClusterGroup(sc, ce).DBClusterParameterGroup)
				}
			}
			err := records.ClusterParamGroups.ForEach(tx, sc, func(_ string, g records.ClusterParamGroup) error {
				all = append(all, g.DBClusterParameterGroup)
				return nil
			})
			return all, err
		},
		func(g rdsapi.DBClusterParameterGroup) string { return deref(g.DBClusterParameterGroupName) })
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBClusterParameterGroupsMessage{DBClusterParameterGroups: page, Marker: next}, nil
}

// DescribeDBClusterParameters lists a cluster group's parameters: every
// parameter of the engine, with the group's values where set.
func (s *Service) DescribeDBClusterParameters(ctx context.Context, in *rdsapi.DescribeDBClusterParametersMessage) (*rdsapi.DBClusterParameterGroupDetails, error) {
	sc := scopeOf(ctx)
	var g records.ClusterParamGroup
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		g, err = s.getClusterParamGroup(tx, sc, deref(in.DBClusterParameterGroupName))
		return err
	})
	if err != nil {
		return nil, err
	}
	all, err := listParams(s.clusterParamEngine(deref(g.DBParameterGroupFamily)), g.Params, deref(in.Source))
	if err != nil {
		return nil, err
	}
	page, next, err := paramPage(all, in.MaxRecords, in.Marker)
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBClusterParameterGroupDetails{Parameters: page, Marker: next}, nil
}

// DescribeEngineDefaultClusterParameters lists a cluster family's
// parameters with their engine defaults.
func (s *Service) DescribeEngineDefaultClusterParameters(ctx context.Context, in *rdsapi.DescribeEngineDefaultClusterParametersMessage) (*rdsapi.DescribeEngineDefaultClusterParametersResult, error) {
	fam := deref(in.DBParameterGroupFamily)
	ce := s.clusterFamilyEngine(fam)
	if ce == nil || ce.Available() != nil {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid DB cluster parameter group family: this host's engines give only %s.", fam, s.clusterFamilies())
	}
	out, err := engineDefaults(s.clusterParamEngine(fam), fam, in.MaxRecords, in.Marker)
	if err != nil {
		return nil, err
	}
	return &rdsapi.DescribeEngineDefaultClusterParametersResult{EngineDefaults: out}, nil
}

// changeClusterParams runs fn on a user cluster group's parameters (a
// default group cannot be changed), with the engine whose parameters they
// are.
func (s *Service) changeClusterParams(ctx context.Context, rawName string, fn func(pe engine.Parameters, g *records.ClusterParamGroup) error) (*rdsapi.DBClusterParameterGroupNameMessage, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(rawName)
	if strings.HasPrefix(name, "default.") {
		return nil, errInvalidParam("The parameter group %s is a default parameter group and cannot be modified.", name)
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		g, err := s.getClusterParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		pe := s.clusterParamEngine(deref(g.DBParameterGroupFamily))
		if pe == nil {
			return errCombination("minicloud has no parameters for DB cluster parameter group family %s.", deref(g.DBParameterGroupFamily))
		}
		if _, err := pe.Params(); err != nil {
			return errCombination("%s", err.Error())
		}
		if g.Params == nil {
			g.Params = map[string]records.ParamSetting{}
		}
		if err := fn(pe, &g); err != nil {
			return err
		}
		return records.ClusterParamGroups.Put(tx, sc, name, g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBClusterParameterGroupNameMessage{DBClusterParameterGroupName: ptr(name)}, nil
}

// ModifyDBClusterParameterGroup sets parameters of a user cluster group.
func (s *Service) ModifyDBClusterParameterGroup(ctx context.Context, in *rdsapi.ModifyDBClusterParameterGroupMessage) (*rdsapi.DBClusterParameterGroupNameMessage, error) {
	return s.changeClusterParams(ctx, deref(in.DBClusterParameterGroupName), func(pe engine.Parameters, g *records.ClusterParamGroup) error {
		return setParams(pe, g.Params, in.Parameters)
	})
}

// ResetDBClusterParameterGroup returns parameters (or all) of a user
// cluster group to the engine default.
func (s *Service) ResetDBClusterParameterGroup(ctx context.Context, in *rdsapi.ResetDBClusterParameterGroupMessage) (*rdsapi.DBClusterParameterGroupNameMessage, error) {
	return s.changeClusterParams(ctx, deref(in.DBClusterParameterGroupName), func(pe engine.Parameters, g *records.ClusterParamGroup) error {
		return resetParams(pe, g.Params, deref(in.ResetAllParameters), in.Parameters)
	})
}

// DeleteDBClusterParameterGroup removes a user cluster group no cluster
// uses.
func (s *Service) DeleteDBClusterParameterGroup(ctx context.Context, in *rdsapi.DeleteDBClusterParameterGroupMessage) (*rdsapi.Empty, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.DBClusterParameterGroupName))
	if strings.HasPrefix(name, "default.") {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidDBParameterGroupState", "Default parameter group %s cannot be deleted.", name)
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		if _, err := s.getClusterParamGroup(tx, sc, name); err != nil {
			return err
		}
		used := false
		err := records.Clusters.ForEach(tx, sc, func(_ string, c records.Cluster) error {
			used = used || deref(c.DBClusterParameterGroup) == name
			return nil
		})
		if err != nil {
			return err
		}
		if used {
			return api.Errorf(http.StatusBadRequest, "InvalidDBParameterGroupState", "Cannot delete parameter group %s because it is in use by one or more DB clusters.", name)
		}
		return records.ClusterParamGroups.Delete(tx, sc, name)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}
