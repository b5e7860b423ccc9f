package rds

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DB parameter groups. A family is an engine's (Defaults().Family), and its
// parameters are the ones the host's engine lists (engine.Parameters); an
// engine without that capability has only its empty default group. A group
// stores only what users set; every other parameter has Source
// engine-default and the engine's own default. default.<family> exists
// implicitly and cannot be modified or deleted.

// paramEngines are the engines with parameter groups of their own.
func (s *Service) paramEngines() []engine.Parameters {
	var out []engine.Parameters
	for _, e := range s.engines.All() {
		if pe, ok := e.(engine.Parameters); ok {
			out = append(out, pe)
		}
	}
	return out
}

// familyEngine is the engine with parameter groups of family fam, nil for
// none.
func (s *Service) familyEngine(fam string) engine.Parameters {
	for _, pe := range s.paramEngines() {
		if pe.Defaults().Family == fam {
			return pe
		}
	}
	return nil
}

// families lists the families of the engines with parameter groups, for
// messages.
func (s *Service) families() string {
	var out []string
	for _, pe := range s.paramEngines() {
		out = append(out, pe.Defaults().Family)
	}
	return strings.Join(out, ", ")
}

// groupEngine is the engine whose parameters a request on group name sets:
// that of the group's family; for a group of no such family (none, or one
// that does not exist: the request fails on that later), the first engine
// with parameter groups.
func (s *Service) groupEngine(ctx context.Context, name string) (engine.Parameters, error) {
	var fam string
	_ = s.store.View(ctx, func(tx state.Tx) error {
		g, err := s.getParamGroup(tx, scopeOf(ctx), name)
		fam = deref(g.DBParameterGroupFamily)
		return err
	})
	if pe := s.familyEngine(fam); pe != nil {
		return pe, nil
	}
	if all := s.paramEngines(); len(all) > 0 {
		return all[0], nil
	}
	return nil, errCombination("minicloud has no DB parameter groups of its own.")
}

// findParam finds a parameter of pe by name, case-insensitively as
// postgres does.
func findParam(pe engine.Parameters, name string) (engine.Param, bool) {
	list, _ := pe.Params()
	for _, p := range list {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return engine.Param{}, false
}

// apiParam is the DescribeDBParameters form of p with the group's setting.
func apiParam(p engine.Param, set *records.ParamSetting) rdsapi.Parameter {
	out := rdsapi.Parameter{
		ParameterName: ptr(p.Name),
		Description:   ptr(p.Description),
		Source:        ptr("engine-default"),
		ApplyType:     ptr("dynamic"),
		IsModifiable:  ptr(p.Modifiable),
		ApplyMethod:   ptr("pending-reboot"),
		DataType:      ptr(p.DataType),
	}
	if p.Static {
		out.ApplyType = ptr("static")
	}
	if p.System {
		out.Source = ptr("system")
	}
	switch {
	case p.DataType == "boolean":
		out.AllowedValues = ptr("0,1")
	case p.Min != "":
		out.AllowedValues = ptr(p.Min + "-" + p.Max)
	}
	if set != nil && !set.Reset {
		out.ParameterValue, out.Source, out.ApplyMethod = ptr(set.Value), ptr("user"), ptr(set.Method)
	}
	return out
}

// defaultGroupEngine is the engine whose default group is name, nil for
// none.
func (s *Service) defaultGroupEngine(name string) engine.Engine {
	for _, e := range s.engines.All() {
		if e.Defaults().ParameterGroup == name {
			return e
		}
	}
	return nil
}

// defaultGroup is the implicit default group of engine e.
func defaultGroup(sc state.Scope, e engine.Engine) records.ParamGroup {
	d := e.Defaults()
	return records.ParamGroup{DBParameterGroup: rdsapi.DBParameterGroup{
		DBParameterGroupName:   ptr(d.ParameterGroup),
		DBParameterGroupFamily: ptr(d.Family),
		Description:            ptr("Default parameter group for " + d.Family),
		DBParameterGroupArn:    ptr(state.NewARN(sc, "rds", "pg:"+d.ParameterGroup).String()),
	}}
}

// taggableDefault reports whether name is the default group of an engine
// with parameter groups, whose tags are kept in defaultGroupTags.
func (s *Service) taggableDefault(name string) bool {
	return engine.Is[engine.Parameters](s.defaultGroupEngine(name))
}

func errParamGroupNotFound(name string) error {
	return api.Errorf(http.StatusNotFound, "DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
}

// getParamGroup reads a group, the engines' implicit default ones
// included (empty and read-only).
func (s *Service) getParamGroup(tx state.Tx, sc state.Scope, name string) (records.ParamGroup, error) {
	name = strings.ToLower(name)
	if e := s.defaultGroupEngine(name); e != nil {
		return defaultGroup(sc, e), nil
	}
	g, found, err := records.ParamGroups.Get(tx, sc, name)
	if err != nil {
		return g, err
	}
	if !found {
		return g, errParamGroupNotFound(name)
	}
	return g, nil
}

// CreateDBParameterGroup records a group of the host engine's family.
func (s *Service) CreateDBParameterGroup(ctx context.Context, in *rdsapi.CreateDBParameterGroupMessage) (*rdsapi.CreateDBParameterGroupResult, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	name, err := checkNewGroup("DBParameterGroupName", deref(in.DBParameterGroupName), in.Description)
	if err != nil {
		return nil, err
	}
	fam := deref(in.DBParameterGroupFamily)
	if pe := s.familyEngine(fam); pe == nil || pe.Available() != nil {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid parameter group family: this host's engine gives only %s.", fam, s.families())
	}
	rec := records.ParamGroup{
		DBParameterGroup: rdsapi.DBParameterGroup{
			DBParameterGroupName:   ptr(name),
			DBParameterGroupFamily: ptr(fam),
			Description:            in.Description,
			DBParameterGroupArn:    ptr(state.NewARN(sc, "rds", "pg:"+name).String()),
		},
		Tags: in.Tags,
	}
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if _, found, err := records.ParamGroups.Get(tx, sc, name); err != nil {
			return err
		} else if found {
			return api.Errorf(http.StatusBadRequest, "DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
		}
		return records.ParamGroups.Put(tx, sc, name, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBParameterGroupResult{DBParameterGroup: &rec.DBParameterGroup}, nil
}

// DescribeDBParameterGroups lists the default group and the user's groups.
func (s *Service) DescribeDBParameterGroups(ctx context.Context, in *rdsapi.DescribeDBParameterGroupsMessage) (*rdsapi.DBParameterGroupsMessage, error) {
	sc := scopeOf(ctx)
	page, next, err := describeGroups(ctx, s, groupQuery{in.DBParameterGroupName, in.Filters, in.MaxRecords, in.Marker},
		func(tx state.Tx, name string) (rdsapi.DBParameterGroup, error) {
			g, err := s.getParamGroup(tx, sc, name)
			return g.DBParameterGroup, err
		},
		func(tx state.Tx) ([]rdsapi.DBParameterGroup, error) {
			var all []rdsapi.DBParameterGroup
			for _, pe := range s.paramEngines() {
				if pe.Available() == nil {
					all = append(all, defaultGroup(sc, pe).DBParameterGroup)
				}
			}
			err := records.ParamGroups.ForEach(tx, sc, func(_ string, g records.ParamGroup) error {
				all = append(all, g.DBParameterGroup)
				return nil
			})
			return all, err
		},
		func(g rdsapi.DBParameterGroup) string { return deref(g.DBParameterGroupName) })
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBParameterGroupsMessage{DBParameterGroups: page, Marker: next}, nil
}

// groupQuery is what Describe(Cluster)ParameterGroups ask: one group by
// name, else all of them, a page at a time.
type groupQuery struct {
	name       *string
	filters    []rdsapi.Filter
	maxRecords *int32
	marker     *string
}

// describeGroups answers a groupQuery over (cluster) parameter groups G:
// the one get reads, else all that list returns (the implicit defaults
// and the stored ones), sorted by name (nameOf) and paged.
func describeGroups[G any](ctx context.Context, s *Service, q groupQuery, get func(tx state.Tx, name string) (G, error),
	list func(tx state.Tx) ([]G, error), nameOf func(G) string) ([]G, *string, error) {
	if len(q.filters) > 0 {
		return nil, nil, errInvalidParam("Unrecognized filter name: %s", deref(q.filters[0].Name))
	}
	var all []G
	err := s.store.View(ctx, func(tx state.Tx) error {
		if q.name != nil {
			g, err := get(tx, *q.name)
			all = append(all, g)
			return err
		}
		var err error
		all, err = list(tx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(all, func(a, b G) int { return strings.Compare(nameOf(a), nameOf(b)) })
	page, next, err := state.Paginate(all, q.maxRecords, deref(q.marker), pageOpts, nameOf)
	if err != nil || next == "" {
		return page, nil, err
	}
	return page, &next, nil
}

// DescribeDBParameters lists a group's parameters: every parameter of the
// engine, with the group's values where set.
func (s *Service) DescribeDBParameters(ctx context.Context, in *rdsapi.DescribeDBParametersMessage) (*rdsapi.DBParameterGroupDetails, error) {
	sc := scopeOf(ctx)
	if err := checkSource(deref(in.Source)); err != nil {
		return nil, err
	}
	var g records.ParamGroup
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		g, err = s.getParamGroup(tx, sc, deref(in.DBParameterGroupName))
		return err
	})
	if err != nil {
		return nil, err
	}
	all, err := listParams(s.familyEngine(deref(g.DBParameterGroupFamily)), g.Params, deref(in.Source))
	if err != nil {
		return nil, err
	}
	page, next, err := paramPage(all, in.MaxRecords, in.Marker)
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBParameterGroupDetails{Parameters: page, Marker: next}, nil
}

// checkSource checks DescribeDB(Cluster)Parameters' Source.
func checkSource(source string) error {
	if source != "" && !slices.Contains([]string{"user", "system", "engine-default", "engine"}, source) {
		return errInvalidParam("Invalid value for Source: %s. Valid values are user, system, engine-default.", source)
	}
	return nil
}

// listParams lists every parameter of pe (none for nil: an empty default
// group) with a group's settings, those of Source source only when set.
func listParams(pe engine.Parameters, settings map[string]records.ParamSetting, source string) ([]rdsapi.Parameter, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	var list []engine.Param
	if pe != nil {
		var err error
		if list, err = pe.Params(); err != nil {
			return nil, errCombination("%s", err.Error())
		}
	}
	var all []rdsapi.Parameter
	for _, p := range list {
		var set *records.ParamSetting
		if v, ok := settings[p.Name]; ok {
			set = &v
		}
		ap := apiParam(p, set)
		if source != "" && deref(ap.Source) != source && !(source == "engine" && deref(ap.Source) == "engine-default") {
			continue
		}
		all = append(all, ap)
	}
	return all, nil
}

// paramPage is one page of parameters (Marker, MaxRecords), with the
// marker of the next.
func paramPage(all []rdsapi.Parameter, maxRecords *int32, marker *string) ([]rdsapi.Parameter, *string, error) {
	page, next, err := state.Paginate(all, maxRecords, deref(marker), pageOpts, func(p rdsapi.Parameter) string { return deref(p.ParameterName) })
	if err != nil || next == "" {
		return page, nil, err
	}
	return page, &next, nil
}

// engineDefaults is a page of family fam's parameters, those of pe (none
// for nil), with their engine defaults.
func engineDefaults(pe engine.Parameters, fam string, maxRecords *int32, marker *string) (*rdsapi.EngineDefaults, error) {
	all, err := listParams(pe, nil, "")
	if err != nil {
		return nil, err
	}
	page, next, err := paramPage(all, maxRecords, marker)
	if err != nil {
		return nil, err
	}
	return &rdsapi.EngineDefaults{DBParameterGroupFamily: ptr(fam), Parameters: page, Marker: next}, nil
}

// checkNewGroup checks a new (cluster) parameter group's name, given as
// parameter param, and its description; it returns the name in lower case.
func checkNewGroup(param, raw string, description *string) (string, error) {
	if !validIdentifier(raw) || len(raw) > 255 {
		return "", errInvalidParam("The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", param)
	}
	if deref(description) == "" {
		return "", errInvalidParam("The parameter Description must be provided and must not be blank.")
	}
	return strings.ToLower(raw), nil
}

// DescribeEngineDefaultParameters lists the family's parameters with their
// engine defaults.
func (s *Service) DescribeEngineDefaultParameters(ctx context.Context, in *rdsapi.DescribeEngineDefaultParametersMessage) (*rdsapi.DescribeEngineDefaultParametersResult, error) {
	fam := deref(in.DBParameterGroupFamily)
	pe := s.familyEngine(fam)
	if pe == nil || pe.Available() != nil {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid parameter group family: this host's engine gives only %s.", fam, s.families())
	}
	out, err := engineDefaults(pe, fam, in.MaxRecords, in.Marker)
	if err != nil {
		return nil, err
	}
	return &rdsapi.DescribeEngineDefaultParametersResult{EngineDefaults: out}, nil
}

// changeParams runs fn on a user group's parameters (the default group
// cannot be changed).
func (s *Service) changeParams(ctx context.Context, rawName string, fn func(g *records.ParamGroup) error) error {
	sc := scopeOf(ctx)
	name := strings.ToLower(rawName)
	if strings.HasPrefix(name, "default.") {
		return errInvalidParam("The parameter group %s is a default parameter group and cannot be modified.", name)
	}
	return s.store.Update(ctx, func(tx state.Tx) error {
		g, err := s.getParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		if g.Params == nil {
			g.Params = map[string]records.ParamSetting{}
		}
		if err := fn(&g); err != nil {
			return err
		}
		return records.ParamGroups.Put(tx, sc, name, g)
	})
}

// checkParams validates a request's parameters (1 to 20, known, modifiable,
// immediate only for dynamic ones) and returns them with the engine's
// spelling of their names.
func checkParams(pe engine.Parameters, in []rdsapi.Parameter, needValue bool) ([]engine.Param, error) {
	if len(in) == 0 {
		return nil, errInvalidParam("The parameter Parameters must be provided and must not be empty.")
	}
	if len(in) > 20 {
		return nil, errInvalidParam("Too many parameters: %d. A request may modify at most 20 parameters.", len(in))
	}
	var out []engine.Param
	for _, ap := range in {
		name := deref(ap.ParameterName)
		p, ok := findParam(pe, name)
		if !ok {
			return nil, errInvalidParam("Could not find parameter with name: %s", name)
		}
		if !p.Modifiable {
			return nil, errInvalidParam("The parameter %s cannot be modified.", p.Name)
		}
		switch m := deref(ap.ApplyMethod); m {
		case "", "pending-reboot":
		case "immediate":
			if p.Static {
				return nil, errCombination("cannot use immediate apply method for static parameter")
			}
		default:
			return nil, errInvalidParam("Invalid apply method: %s. Valid values are immediate, pending-reboot.", m)
		}
		if needValue {
			if ap.ParameterValue == nil {
				return nil, errInvalidParam("The parameter ParameterValue for %s must be provided.", p.Name)
			}
			if v := *ap.ParameterValue; !pe.ValidValue(p, v) {
				return nil, errInvalidParam("Value: %s is not a valid value for parameter: %s", v, p.Name)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func methodOf(ap rdsapi.Parameter) string {
	if m := deref(ap.ApplyMethod); m != "" {
		return m
	}
	return "pending-reboot"
}

// setParams checks a request's parameters and sets them in a group's
// settings.
func setParams(pe engine.Parameters, settings map[string]records.ParamSetting, in []rdsapi.Parameter) error {
	ps, err := checkParams(pe, in, true)
	if err != nil {
		return err
	}
	for i, p := range ps {
		settings[p.Name] = records.ParamSetting{Value: *in[i].ParameterValue, Method: methodOf(in[i])}
	}
	return nil
}

// resetParams checks a reset request's parameters and resets them (all:
// every parameter set) in a group's settings.
func resetParams(pe engine.Parameters, settings map[string]records.ParamSetting, all bool, in []rdsapi.Parameter) error {
	if all && len(in) > 0 {
		return errCombination("Cannot specify both ResetAllParameters and Parameters.")
	}
	if all {
		// Resetting everything applies at the next reboot, as on AWS.
		for k, v := range settings {
			settings[k] = records.ParamSetting{Method: "pending-reboot", Reset: true, Value: v.Value}
		}
		return nil
	}
	ps, err := checkParams(pe, in, false)
	if err != nil {
		return err
	}
	for i, p := range ps {
		if _, ok := settings[p.Name]; ok {
			settings[p.Name] = records.ParamSetting{Method: methodOf(in[i]), Reset: true}
		}
	}
	return nil
}

// ModifyDBParameterGroup sets parameters of a user group; instances using
// the group apply them (controller: immediate ones at once, the others at
// the next reboot).
func (s *Service) ModifyDBParameterGroup(ctx context.Context, in *rdsapi.ModifyDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	pe, err := s.groupEngine(ctx, deref(in.DBParameterGroupName))
	if err != nil {
		return nil, err
	}
	if _, err := pe.Params(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	if _, err := checkParams(pe, in.Parameters, true); err != nil {
		return nil, err
	}
	name := strings.ToLower(deref(in.DBParameterGroupName))
	err = s.changeParams(ctx, name, func(g *records.ParamGroup) error {
		return setParams(pe, g.Params, in.Parameters)
	})
	if err != nil {
		return nil, err
	}
	s.noteParamUpdates(ctx, name, in.Parameters)
	return &rdsapi.DBParameterGroupNameMessage{DBParameterGroupName: ptr(name)}, nil
}

// ResetDBParameterGroup returns parameters (or all) to the engine default.
func (s *Service) ResetDBParameterGroup(ctx context.Context, in *rdsapi.ResetDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	pe, err := s.groupEngine(ctx, deref(in.DBParameterGroupName))
	if err != nil {
		return nil, err
	}
	if _, err := pe.Params(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	all := deref(in.ResetAllParameters)
	// The request is checked before the group is read (AWS's order);
	// resetParams checks it again in the transaction.
	if err := resetParams(pe, map[string]records.ParamSetting{}, all, in.Parameters); err != nil {
		return nil, err
	}
	name := strings.ToLower(deref(in.DBParameterGroupName))
	err = s.changeParams(ctx, name, func(g *records.ParamGroup) error {
		return resetParams(pe, g.Params, all, in.Parameters)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBParameterGroupNameMessage{DBParameterGroupName: ptr(name)}, nil
}

// DeleteDBParameterGroup removes a user group no instance uses.
func (s *Service) DeleteDBParameterGroup(ctx context.Context, in *rdsapi.DeleteDBParameterGroupMessage) (*rdsapi.Empty, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.DBParameterGroupName))
	if strings.HasPrefix(name, "default.") {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidDBParameterGroupState", "Default parameter group %s cannot be deleted.", name)
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		if _, err := s.getParamGroup(tx, sc, name); err != nil {
			return err
		}
		var users []string
		err := records.Instances.ForEach(tx, sc, func(id string, r records.Instance) error {
			if usesParamGroup(&r, name) {
				users = append(users, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return api.Errorf(http.StatusBadRequest, "InvalidDBParameterGroupState", "One or more database instances are still members of this parameter group %s, so the group cannot be deleted", name)
		}
		return records.ParamGroups.Delete(tx, sc, name)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}

func usesParamGroup(r *records.Instance, name string) bool {
	for _, g := range r.DBParameterGroups {
		if deref(g.DBParameterGroupName) == name {
			return true
		}
	}
	return false
}

// checkInstanceParamGroup verifies that name exists in the family of the
// instance's engine (an engine without parameter groups has its default
// group only), for CreateDBInstance and ModifyDBInstance.
func (s *Service) checkInstanceParamGroup(tx state.Tx, sc state.Scope, name, engineName string) error {
	eng := s.engineFor(engineName)
	if eng == nil {
		return nil // refused elsewhere
	}
	d := eng.Defaults()
	if !engine.Is[engine.Parameters](eng) {
		if strings.ToLower(name) != d.ParameterGroup {
			if _, err := s.getParamGroup(tx, sc, name); err != nil {
				return err
			}
			return errCombination("minicloud supports DB parameter groups for %s DB instances only: a %s DB instance uses its default group %s, not %s.",
				s.engines.Names(engine.Is[engine.Parameters]), engineName, d.ParameterGroup, name)
		}
		return nil
	}
	g, err := s.getParamGroup(tx, sc, name)
	if err != nil {
		return err
	}
	if fam := deref(g.DBParameterGroupFamily); fam != d.Family {
		return errCombination("The parameter group %s with DBParameterGroupFamily %s can't be used for this instance. Use a parameter group with DBParameterGroupFamily %s.", name, fam, d.Family)
	}
	return nil
}
