package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
)

// DB parameter groups. A family's parameters are the host engine's own, as
// `postgres --describe-config` lists them (name, context, type, min, max,
// description): static for postmaster-context parameters and dynamic
// otherwise; internal ones and those minicloud itself sets on the command
// line (listen address, port, socket directory, fsync, file locations) are
// not modifiable.
//
// How an instance's group reaches its server: the controller has
// WriteParams write the group's values into <data>/minicloud-params.conf,
// which postgresql.conf includes, and ReloadParams runs pg_reload_conf().
// ParamsPending is the engine's own word on whether a setting waits for a
// restart (pg_settings.pending_restart) or was refused on reload
// (pg_file_settings.error).

const paramsFile = "minicloud-params.conf"

// systemParams are set by minicloud on postgres's command line, where they
// override any configuration file: a group could not change them.
var systemParams = []string{"listen_addresses", "port", "unix_socket_directories", "fsync", "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file"}

// Params lists the host engine's parameters, sorted by name.
func (e *Engine) Params() ([]engine.Param, error) {
	if e.binDir == "" {
		return nil, fmt.Errorf("%s", installHint)
	}
	e.paramsOnce.Do(func() {
		u, err := serverUser()
		if err != nil {
			e.paramsErr = err
			return
		}
		cmd := exec.Command(filepath.Join(e.binDir, "postgres"), "--describe-config")
		cmd.Dir = "/"
		cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
		if u.AsRoot {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}}}
		}
		out, err := cmd.Output()
		if err != nil {
			e.paramsErr = fmt.Errorf("postgres --describe-config: %w", err)
			return
		}
		for line := range strings.SplitSeq(string(out), "\n") {
			if f := strings.Split(line, "\t"); len(f) >= 8 {
				e.params = append(e.params, describedParam(f[0], f[1], f[3], f[5], f[6], f[7]))
			}
		}
		slices.SortFunc(e.params, func(a, b engine.Param) int { return strings.Compare(a.Name, b.Name) })
	})
	return e.params, e.paramsErr
}

// describedParam is a parameter as --describe-config lists it.
func describedParam(name, context, typ, lo, hi, desc string) engine.Param {
	p := engine.Param{
		Name: name, Description: desc,
		Static:     context == "postmaster" || context == "internal",
		Modifiable: context != "internal" && !slices.Contains(systemParams, name),
		System:     slices.Contains(systemParams, name),
		DataType:   "string",
	}
	switch typ {
	case "BOOLEAN":
		p.DataType = "boolean"
	case "INTEGER":
		p.DataType, p.Min, p.Max = "integer", lo, hi
	case "REAL":
		p.DataType, p.Min, p.Max = "float", lo, hi
	}
	return p
}

// ValidValue checks v as far as the catalogue tells (numbers in range,
// booleans as postgres spells them); enums and strings are left to the
// server, which reports a bad value when it reads the file.
func (e *Engine) ValidValue(p engine.Param, v string) bool {
	switch p.DataType {
	case "boolean":
		switch strings.ToLower(v) {
		case "0", "1", "on", "off", "true", "false", "yes", "no", "t", "f", "y", "n":
			return true
		}
		return false
	case "integer", "float":
		num := strings.TrimRightFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == ' ' })
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" {
			return false
		}
		if num != v { // a unit: the engine converts and checks the range
			return true
		}
		if lo, err := strconv.ParseFloat(p.Min, 64); err == nil && n < lo {
			return false
		}
		if hi, err := strconv.ParseFloat(p.Max, 64); err == nil && n > hi {
			return false
		}
	}
	return true
}

// WriteParams writes vals into the include file (owned by the server user)
// and makes sure postgresql.conf includes it.
func (e *Engine) WriteParams(dir string, vals map[string]string) error {
	return writeInclude(dir, paramsFile, "the DB parameter group", vals)
}

// writeInclude writes vals into file, in the data directory and owned by
// the server user, and makes sure postgresql.conf includes it; what says
// what the file is, in both.
func writeInclude(dir, file, what string, vals map[string]string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	var b strings.Builder
	b.WriteString("# Written by minicloud from " + what + ".\n")
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(vals[k], "'", "''"))
	}
	p := filepath.Join(data, file)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if err := u.Chown(tmp); err != nil {
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
	line := "include_if_exists = '" + file + "'"
	if strings.Contains(string(raw), line) {
		return nil
	}
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# minicloud: " + what + "\n" + line + "\n")
	return errors.Join(err, f.Close())
}

// ReloadParams has the server read its configuration files again.
func (e *Engine) ReloadParams(ctx context.Context, p *engine.Server, a engine.Access) error {
	return execSQL(ctx, p.Port, a.User, a.Password, "SELECT pg_reload_conf()")
}

// ParamsPending reports a setting waiting for a restart or refused on
// reload: a value the engine refused is not in effect either; it waits,
// like a static one, and the next start will fail on it.
func (e *Engine) ParamsPending(ctx context.Context, p *engine.Server, a engine.Access) (bool, error) {
	conn, err := connect(ctx, p.Port, a.User, a.Password)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var pending int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM pg_settings WHERE pending_restart) + (SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL)").Scan(&pending); err != nil {
		return false, fmt.Errorf("read pg_settings: %w", err)
	}
	return pending > 0, nil
}

// RefusedParams reports whether the server refused to start because of
// its configuration (a value of the parameter group it rejects).
func (e *Engine) RefusedParams(err error) bool {
	m := err.Error()
	return strings.Contains(m, "postgres exited") && (strings.Contains(m, "contains errors") || strings.Contains(m, "invalid value for parameter"))
}
