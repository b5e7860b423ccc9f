package controller

import (
	"context"
	"fmt"
	"maps"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// How an instance's parameter group reaches its server (engines with
// engine.Parameters): at every (re)start the engine is given all of the
// group's values (WriteParams); while the server runs, only values whose
// ApplyMethod is immediate are given, followed by a reload (ReloadParams).
// ParameterApplyStatus is in-sync when the server has every value of the
// group and no setting waiting for a restart (ParamsPending), else
// pending-reboot. A new group takes effect at the next reboot, as on AWS.

// groupValues reads the instance's group: its values (reset ones left out)
// and the settings themselves.
func (c *Controller) groupValues(sc state.Scope, rec *records.Instance) (string, map[string]string, map[string]records.ParamSetting, error) {
	name := rec.ParamGroupName()
	var g records.ParamGroup
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		if eng := c.engineFor(deref(rec.Engine)); eng != nil && eng.Defaults().ParameterGroup == name {
			return nil // the engine's default group sets nothing
		}
		var (
			found bool
			err   error
		)
		if g, found, err = records.ParamGroups.Get(tx, sc, name); err == nil && !found {
			err = fmt.Errorf("DBParameterGroup not found: %s", name)
		}
		return err
	})
	if err != nil {
		return name, nil, nil, fmt.Errorf("parameter group %s: %w", name, err)
	}
	vals := map[string]string{}
	for k, v := range g.Params {
		if !v.Reset {
			vals[k] = v.Value
		}
	}
	return name, vals, g.Params, nil
}

// bootParams gives the server the whole group before it starts.
func (c *Controller) bootParams(sc state.Scope, dir string, rec *records.Instance, pe engine.Parameters) error {
	name, vals, _, err := c.groupValues(sc, rec)
	if err != nil {
		return err
	}
	if err := pe.WriteParams(dir, vals); err != nil {
		return err
	}
	rec.Applied = &records.AppliedParams{Group: name, Boot: vals, Live: maps.Clone(vals)}
	return nil
}

// liveParams applies the group's immediate values to the running server
// and returns the instance's ParameterApplyStatus.
func (c *Controller) liveParams(ctx context.Context, sc state.Scope, dir string, rec *records.Instance, p *server, pe engine.Parameters) (string, error) {
	name, vals, sets, err := c.groupValues(sc, rec)
	if err != nil {
		return "", err
	}
	a := rec.Applied
	if a == nil || a.Group != name {
		return "pending-reboot", nil
	}
	live := maps.Clone(a.Boot)
	if live == nil {
		live = map[string]string{}
	}
	for k, v := range sets {
		if v.Method != "immediate" {
			continue
		}
		if v.Reset {
			delete(live, k)
		} else {
			live[k] = v.Value
		}
	}
	master := engine.Access{Dir: dir, User: deref(rec.MasterUsername), Password: rec.AppliedPassword}
	if !maps.Equal(live, a.Live) {
		if err := pe.WriteParams(dir, live); err != nil {
			return "", err
		}
		if err := pe.ReloadParams(ctx, p.Server, master); err != nil {
			return "", err
		}
		a.Live = live
	}
	if !maps.Equal(live, vals) {
		return "pending-reboot", nil
	}
	pending, err := pe.ParamsPending(ctx, p.Server, master)
	if err != nil {
		return "", err
	}
	if pending {
		return "pending-reboot", nil
	}
	return "in-sync", nil
}
