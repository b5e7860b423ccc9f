package rds

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// DB parameter groups. A family's parameters are the host engine's own, as
// `postgres --describe-config` lists them (name, context, type, min, max,
// description): ApplyType is static for postmaster-context parameters and
// dynamic otherwise; internal ones and those minicloud itself sets on the
// command line (listen address, port, socket directory, fsync, file
// locations) are not modifiable. A group stores only what users set; every
// other parameter has Source engine-default and the engine's own default.
// default.<family> exists implicitly and cannot be modified or deleted.

// paramSetting is one user-set parameter of a group.
type paramSetting struct {
	Value  string `json:"value"`
	Method string `json:"method"` // immediate | pending-reboot
	// Reset marks a parameter reset to its default, kept until it has
	// been applied (ApplyMethod says when).
	Reset bool `json:"reset,omitempty"`
}

type paramGroupRecord struct {
	rdsapi.DBParameterGroup
	Params map[string]paramSetting `json:"params,omitempty"`
	Tags   []rdsapi.Tag            `json:"tags,omitempty"`
}

var paramGroups = state.Table[paramGroupRecord]{Service: "rds", Kind: "dbparametergroup"}

// pgParam is one parameter as the engine describes it.
type pgParam struct {
	name, context, typ, min, max, desc string
}

// systemParams are set by minicloud on postgres's command line, where they
// override any configuration file: a group could not change them.
var systemParams = []string{"listen_addresses", "port", "unix_socket_directories", "fsync", "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file"}

var (
	paramsOnce sync.Once
	paramsList []pgParam
	paramsErr  error
)

// params lists the host engine's parameters, sorted by name.
func (e *engine) params() ([]pgParam, error) {
	if e.binDir == "" {
		return nil, fmt.Errorf("%s", installHint)
	}
	paramsOnce.Do(func() {
		u, err := serverUser()
		if err != nil {
			paramsErr = err
			return
		}
		cmd := exec.Command(filepath.Join(e.binDir, "postgres"), "--describe-config")
		cmd.Dir = "/"
		cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
		if u.asRoot {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}}
		}
		out, err := cmd.Output()
		if err != nil {
			paramsErr = fmt.Errorf("postgres --describe-config: %w", err)
			return
		}
		for line := range strings.SplitSeq(string(out), "\n") {
			f := strings.Split(line, "\t")
			if len(f) < 8 {
				continue
			}
			paramsList = append(paramsList, pgParam{name: f[0], context: f[1], typ: f[3], min: f[5], max: f[6], desc: f[7]})
		}
		slices.SortFunc(paramsList, func(a, b pgParam) int { return strings.Compare(a.name, b.name) })
	})
	return paramsList, paramsErr
}

// param finds a parameter by name, case-insensitively as postgres does.
func (e *engine) param(name string) (pgParam, bool) {
	list, _ := e.params()
	for _, p := range list {
		if strings.EqualFold(p.name, name) {
			return p, true
		}
	}
	return pgParam{}, false
}

func (p pgParam) static() bool { return p.context == "postmaster" || p.context == "internal" }
func (p pgParam) modifiable() bool {
	return p.context != "internal" && !slices.Contains(systemParams, p.name)
}

// apiParam is the DescribeDBParameters form of p with the group's setting.
func (p pgParam) apiParam(set *paramSetting) rdsapi.Parameter {
	out := rdsapi.Parameter{
		ParameterName: ptr(p.name),
		Description:   ptr(p.desc),
		Source:        ptr("engine-default"),
		ApplyType:     ptr("dynamic"),
		IsModifiable:  ptr(p.modifiable()),
		ApplyMethod:   ptr("pending-reboot"),
	}
	if p.static() {
		out.ApplyType = ptr("static")
	}
	if slices.Contains(systemParams, p.name) {
		out.Source = ptr("system")
	}
	switch p.typ {
	case "BOOLEAN":
		out.DataType, out.AllowedValues = ptr("boolean"), ptr("0,1")
	case "INTEGER":
		out.DataType = ptr("integer")
		if p.min != "" {
			out.AllowedValues = ptr(p.min + "-" + p.max)
		}
	case "REAL":
		out.DataType = ptr("float")
		if p.min != "" {
			out.AllowedValues = ptr(p.min + "-" + p.max)
		}
	default:
		out.DataType = ptr("string")
	}
	if set != nil && !set.Reset {
		out.ParameterValue, out.Source, out.ApplyMethod = ptr(set.Value), ptr("user"), ptr(set.Method)
	}
	return out
}

// checkValue validates v for p as far as the catalogue tells (numbers in
// range, booleans); enums and strings are left to the engine, which
// reports a bad value when it reads the file.
func (p pgParam) checkValue(v string) error {
	bad := errInvalidParam("Value: %s is not a valid value for parameter: %s", v, p.name)
	switch p.typ {
	case "BOOLEAN":
		switch strings.ToLower(v) {
		case "0", "1", "on", "off", "true", "false", "yes", "no", "t", "f", "y", "n":
			return nil
		}
		return bad
	case "INTEGER", "REAL":
		num := strings.TrimRightFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == ' ' })
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" {
			return bad
		}
		if num != v { // a unit: the engine converts and checks the range
			return nil
		}
		if lo, err := strconv.ParseFloat(p.min, 64); err == nil && n < lo {
			return bad
		}
		if hi, err := strconv.ParseFloat(p.max, 64); err == nil && n > hi {
			return bad
		}
	}
	return nil
}

func (s *Service) family() string { return "postgres" + s.engine.major }

func (s *Service) defaultGroupName() string { return "default." + s.family() }

func (s *Service) defaultGroup(sc state.Scope) paramGroupRecord {
	name := s.defaultGroupName()
	return paramGroupRecord{DBParameterGroup: rdsapi.DBParameterGroup{
		DBParameterGroupName:   ptr(name),
		DBParameterGroupFamily: ptr(s.family()),
		Description:            ptr("Default parameter group for " + s.family()),
		DBParameterGroupArn:    ptr(state.NewARN(sc, "rds", "pg:"+name).String()),
	}}
}

func errParamGroupNotFound(name string) error {
	return api.Errorf(http.StatusNotFound, "DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
}

// getParamGroup reads a group, the implicit default one included.
func (s *Service) getParamGroup(tx state.Tx, sc state.Scope, name string) (paramGroupRecord, error) {
	name = strings.ToLower(name)
	if name == s.defaultGroupName() {
		return s.defaultGroup(sc), nil
	}
	if d := s.maria.Defaults(); name == d.ParameterGroup {
		// MariaDB's default group: read-only and empty in minicloud.
		return paramGroupRecord{DBParameterGroup: rdsapi.DBParameterGroup{
			DBParameterGroupName:   ptr(name),
			DBParameterGroupFamily: ptr(d.Family),
			Description:            ptr("Default parameter group for " + d.Family),
			DBParameterGroupArn:    ptr(state.NewARN(sc, "rds", "pg:"+name).String()),
		}}, nil
	}
	g, found, err := paramGroups.Get(tx, sc, name)
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
	raw := deref(in.DBParameterGroupName)
	if !validIdentifier(raw) || len(raw) > 255 {
		return nil, errInvalidParam("The parameter DBParameterGroupName is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.")
	}
	if deref(in.Description) == "" {
		return nil, errInvalidParam("The parameter Description must be provided and must not be blank.")
	}
	fam := deref(in.DBParameterGroupFamily)
	if fam != s.family() || s.engine.binDir == "" {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid parameter group family: this host's engine gives only %s.", fam, s.family())
	}
	name := strings.ToLower(raw)
	rec := paramGroupRecord{
		DBParameterGroup: rdsapi.DBParameterGroup{
			DBParameterGroupName:   ptr(name),
			DBParameterGroupFamily: ptr(fam),
			Description:            in.Description,
			DBParameterGroupArn:    ptr(state.NewARN(sc, "rds", "pg:"+name).String()),
		},
		Tags: in.Tags,
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		if _, found, err := paramGroups.Get(tx, sc, name); err != nil {
			return err
		} else if found {
			return api.Errorf(http.StatusBadRequest, "DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
		}
		return paramGroups.Put(tx, sc, name, rec)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBParameterGroupResult{DBParameterGroup: &rec.DBParameterGroup}, nil
}

// DescribeDBParameterGroups lists the default group and the user's groups.
func (s *Service) DescribeDBParameterGroups(ctx context.Context, in *rdsapi.DescribeDBParameterGroupsMessage) (*rdsapi.DBParameterGroupsMessage, error) {
	sc := scopeOf(ctx)
	if len(in.Filters) > 0 {
		return nil, errInvalidParam("Unrecognized filter name: %s", deref(in.Filters[0].Name))
	}
	var all []rdsapi.DBParameterGroup
	err := s.store.View(ctx, func(tx state.Tx) error {
		if in.DBParameterGroupName != nil {
			g, err := s.getParamGroup(tx, sc, *in.DBParameterGroupName)
			all = append(all, g.DBParameterGroup)
			return err
		}
		if s.engine.binDir != "" {
			all = append(all, s.defaultGroup(sc).DBParameterGroup)
		}
		return paramGroups.ForEach(tx, sc, func(_ string, g paramGroupRecord) error {
			all = append(all, g.DBParameterGroup)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b rdsapi.DBParameterGroup) int {
		return strings.Compare(deref(a.DBParameterGroupName), deref(b.DBParameterGroupName))
	})
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(g rdsapi.DBParameterGroup) string { return deref(g.DBParameterGroupName) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBParameterGroupsMessage{DBParameterGroups: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// DescribeDBParameters lists a group's parameters: every parameter of the
// engine, with the group's values where set.
func (s *Service) DescribeDBParameters(ctx context.Context, in *rdsapi.DescribeDBParametersMessage) (*rdsapi.DBParameterGroupDetails, error) {
	sc := scopeOf(ctx)
	source := deref(in.Source)
	if source != "" && !slices.Contains([]string{"user", "system", "engine-default", "engine"}, source) {
		return nil, errInvalidParam("Invalid value for Source: %s. Valid values are user, system, engine-default.", source)
	}
	var g paramGroupRecord
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		g, err = s.getParamGroup(tx, sc, deref(in.DBParameterGroupName))
		return err
	})
	if err != nil {
		return nil, err
	}
	var list []pgParam
	if deref(g.DBParameterGroupFamily) == s.family() { // MariaDB's default group is empty
		if list, err = s.engine.params(); err != nil {
			return nil, errCombination("%s", err.Error())
		}
	}
	var all []rdsapi.Parameter
	for _, p := range list {
		var set *paramSetting
		if v, ok := g.Params[p.name]; ok {
			set = &v
		}
		ap := p.apiParam(set)
		if source != "" && deref(ap.Source) != source && !(source == "engine" && deref(ap.Source) == "engine-default") {
			continue
		}
		all = append(all, ap)
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(p rdsapi.Parameter) string { return deref(p.ParameterName) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBParameterGroupDetails{Parameters: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// DescribeEngineDefaultParameters lists the family's parameters with their
// engine defaults.
func (s *Service) DescribeEngineDefaultParameters(ctx context.Context, in *rdsapi.DescribeEngineDefaultParametersMessage) (*rdsapi.DescribeEngineDefaultParametersResult, error) {
	fam := deref(in.DBParameterGroupFamily)
	if fam != s.family() || s.engine.binDir == "" {
		return nil, errInvalidParam("ParameterGroupFamily %s is not a valid parameter group family: this host's engine gives only %s.", fam, s.family())
	}
	list, err := s.engine.params()
	if err != nil {
		return nil, errCombination("%s", err.Error())
	}
	var all []rdsapi.Parameter
	for _, p := range list {
		all = append(all, p.apiParam(nil))
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(p rdsapi.Parameter) string { return deref(p.ParameterName) })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.EngineDefaults{DBParameterGroupFamily: ptr(fam), Parameters: page}
	if next != "" {
		out.Marker = ptr(next)
	}
	return &rdsapi.DescribeEngineDefaultParametersResult{EngineDefaults: out}, nil
}

// changeParams runs fn on a user group's parameters (the default group
// cannot be changed).
func (s *Service) changeParams(ctx context.Context, rawName string, fn func(g *paramGroupRecord) error) error {
	sc := scopeOf(ctx)
	name := strings.ToLower(rawName)
	if name == s.defaultGroupName() || strings.HasPrefix(name, "default.") {
		return errInvalidParam("The parameter group %s is a default parameter group and cannot be modified.", name)
	}
	return s.store.Update(ctx, func(tx state.Tx) error {
		g, err := s.getParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		if g.Params == nil {
			g.Params = map[string]paramSetting{}
		}
		if err := fn(&g); err != nil {
			return err
		}
		return paramGroups.Put(tx, sc, name, g)
	})
}

// checkParams validates a request's parameters (1 to 20, known, modifiable,
// immediate only for dynamic ones) and returns them with the engine's
// spelling of their names.
func (s *Service) checkParams(in []rdsapi.Parameter, needValue bool) ([]pgParam, error) {
	if len(in) == 0 {
		return nil, errInvalidParam("The parameter Parameters must be provided and must not be empty.")
	}
	if len(in) > 20 {
		return nil, errInvalidParam("Too many parameters: %d. A request may modify at most 20 parameters.", len(in))
	}
	var out []pgParam
	for _, ap := range in {
		name := deref(ap.ParameterName)
		p, ok := s.engine.param(name)
		if !ok {
			return nil, errInvalidParam("Could not find parameter with name: %s", name)
		}
		if !p.modifiable() {
			return nil, errInvalidParam("The parameter %s cannot be modified.", p.name)
		}
		switch m := deref(ap.ApplyMethod); m {
		case "", "pending-reboot":
		case "immediate":
			if p.static() {
				return nil, errCombination("cannot use immediate apply method for static parameter")
			}
		default:
			return nil, errInvalidParam("Invalid apply method: %s. Valid values are immediate, pending-reboot.", m)
		}
		if needValue {
			if ap.ParameterValue == nil {
				return nil, errInvalidParam("The parameter ParameterValue for %s must be provided.", p.name)
			}
			if err := p.checkValue(*ap.ParameterValue); err != nil {
				return nil, err
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

// ModifyDBParameterGroup sets parameters of a user group; instances using
// the group apply them (controller: immediate ones at once, the others at
// the next reboot).
func (s *Service) ModifyDBParameterGroup(ctx context.Context, in *rdsapi.ModifyDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	if _, err := s.engine.params(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	ps, err := s.checkParams(in.Parameters, true)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(deref(in.DBParameterGroupName))
	err = s.changeParams(ctx, name, func(g *paramGroupRecord) error {
		for i, p := range ps {
			g.Params[p.name] = paramSetting{Value: *in.Parameters[i].ParameterValue, Method: methodOf(in.Parameters[i])}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBParameterGroupNameMessage{DBParameterGroupName: ptr(name)}, nil
}

// ResetDBParameterGroup returns parameters (or all) to the engine default.
func (s *Service) ResetDBParameterGroup(ctx context.Context, in *rdsapi.ResetDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	if _, err := s.engine.params(); err != nil {
		return nil, errCombination("%s", err.Error())
	}
	all := deref(in.ResetAllParameters)
	if all && len(in.Parameters) > 0 {
		return nil, errCombination("Cannot specify both ResetAllParameters and Parameters.")
	}
	var ps []pgParam
	if !all {
		var err error
		if ps, err = s.checkParams(in.Parameters, false); err != nil {
			return nil, err
		}
	}
	name := strings.ToLower(deref(in.DBParameterGroupName))
	err := s.changeParams(ctx, name, func(g *paramGroupRecord) error {
		if all {
			// Resetting everything applies at the next reboot, as on AWS.
			for k, v := range g.Params {
				g.Params[k] = paramSetting{Method: "pending-reboot", Reset: true, Value: v.Value}
			}
			return nil
		}
		for i, p := range ps {
			if _, ok := g.Params[p.name]; ok {
				g.Params[p.name] = paramSetting{Method: methodOf(in.Parameters[i]), Reset: true}
			}
		}
		return nil
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
		err := instances.ForEach(tx, sc, func(id string, r instanceRecord) error {
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
		return paramGroups.Delete(tx, sc, name)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}

func usesParamGroup(r *instanceRecord, name string) bool {
	for _, g := range r.DBParameterGroups {
		if deref(g.DBParameterGroupName) == name {
			return true
		}
	}
	return false
}

// paramGroupOf is the name of the instance's parameter group.
func paramGroupOf(r *instanceRecord) string {
	if len(r.DBParameterGroups) == 0 {
		return ""
	}
	return deref(r.DBParameterGroups[0].DBParameterGroupName)
}

// checkInstanceParamGroup verifies that name exists in the family of the
// instance's engine (MariaDB has its default group only),
// for CreateDBInstance and ModifyDBInstance.
func (s *Service) checkInstanceParamGroup(tx state.Tx, sc state.Scope, name, engine string) error {
	eng := s.engineFor(engine)
	if eng == nil {
		return nil // refused elsewhere
	}
	d := eng.Defaults()
	if engine != "postgres" {
		// minicloud's parameter groups are postgres ones; other engines
		// have their (empty) default group only.
		if strings.ToLower(name) != d.ParameterGroup {
			if _, err := s.getParamGroup(tx, sc, name); err != nil {
				return err
			}
			return errCombination("minicloud supports DB parameter groups for postgres DB instances only: a %s DB instance uses its default group %s, not %s.", engine, d.ParameterGroup, name)
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
