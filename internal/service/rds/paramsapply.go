package rds

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/state"
)

// How an instance's parameter group reaches its server: the controller
// writes the group's values into <data>/minicloud-params.conf, which
// postgresql.conf includes. At every (re)start the file gets all of the
// group's values; while the server runs, only values whose ApplyMethod is
// immediate are written, followed by pg_reload_conf(). ParameterApplyStatus
// is in-sync when the file holds every value of the group and the engine
// has no setting waiting for a restart (pg_settings.pending_restart), else
// pending-reboot. A new group takes effect at the next reboot, as on AWS.

const paramsFile = "minicloud-params.conf"

// appliedParams is what the running server was given.
type appliedParams struct {
	Group string            `json:"group"`
	Boot  map[string]string `json:"boot,omitempty"` // written at the last start
	Live  map[string]string `json:"live,omitempty"` // in the file now
}

// groupValues reads the instance's group: its values (reset ones left out)
// and the settings themselves.
func (c *controller) groupValues(sc state.Scope, rec *instanceRecord) (string, map[string]string, map[string]paramSetting, error) {
	name := paramGroupOf(rec)
	var g paramGroupRecord
	err := c.s.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		g, err = c.s.getParamGroup(tx, sc, name)
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

// bootParams writes the whole group into the file before the server
// starts.
func (c *controller) bootParams(sc state.Scope, dir string, rec *instanceRecord) error {
	name, vals, _, err := c.groupValues(sc, rec)
	if err != nil {
		return err
	}
	if err := writeParams(dir, vals); err != nil {
		return err
	}
	rec.Applied = &appliedParams{Group: name, Boot: vals, Live: maps.Clone(vals)}
	return nil
}

// liveParams applies the group's immediate values to the running server
// and returns the instance's ParameterApplyStatus.
func (c *controller) liveParams(ctx context.Context, sc state.Scope, dir string, rec *instanceRecord, p *server) (string, error) {
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
	if !maps.Equal(live, a.Live) {
		if err := writeParams(dir, live); err != nil {
			return "", err
		}
		if err := execSQL(ctx, p.port, deref(rec.MasterUsername), rec.AppliedPassword, "SELECT pg_reload_conf()"); err != nil {
			return "", err
		}
		a.Live = live
	}
	if !maps.Equal(live, vals) {
		return "pending-reboot", nil
	}
	conn, err := connect(ctx, p.port, deref(rec.MasterUsername), rec.AppliedPassword, "postgres")
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// A value the engine refused on reload is not in effect either: it
	// waits, like a static one, and the next start will fail on it.
	var pending int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM pg_settings WHERE pending_restart) + (SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL)").Scan(&pending); err != nil {
		return "", fmt.Errorf("read pg_settings: %w", err)
	}
	if pending > 0 {
		return "pending-reboot", nil
	}
	return "in-sync", nil
}

// incompatibleParams reports whether the engine refused to start because of
// its configuration (a value of the parameter group it rejects): the
// instance's status becomes incompatible-parameters, as on AWS, until the
// group is fixed and the instance rebooted.
func incompatibleParams(err error) bool {
	m := err.Error()
	return strings.Contains(m, "postgres exited") && (strings.Contains(m, "contains errors") || strings.Contains(m, "invalid value for parameter"))
}

// writeParams writes vals into the include file (owned by the server
// user) and makes sure postgresql.conf includes it.
func writeParams(dir string, vals map[string]string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	var b strings.Builder
	b.WriteString("# Written by minicloud from the DB instance's parameter group.\n")
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(vals[k], "'", "''"))
	}
	p := filepath.Join(data, paramsFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if err := os.Chown(tmp, int(u.uid), int(u.gid)); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	conf := filepath.Join(data, "postgresql.conf")
	raw, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	line := "include_if_exists = '" + paramsFile + "'"
	if strings.Contains(string(raw), line) {
		return nil
	}
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# minicloud: the DB parameter group\n" + line + "\n")
	return errors.Join(err, f.Close())
}
