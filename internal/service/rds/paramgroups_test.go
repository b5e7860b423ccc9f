package rds_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// show runs SHOW name on a new connection to instance id.
func (e *testEnv) show(t *testing.T, id, name string) string {
	t.Helper()
	addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	c, err := connect(t, addr, "s3cret-pass", "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(e.ctx)
	var v string
	if err := c.QueryRow(e.ctx, "SHOW "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitShow waits until SHOW name gives want.
func (e *testEnv) waitShow(t *testing.T, id, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := e.show(t, id, name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SHOW %s = %q, want %q", name, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitApply waits until the instance's ParameterApplyStatus is want.
func (e *testEnv) waitApply(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		db := e.describe(t, id)
		got := aws.ToString(db.DBParameterGroups[0].ParameterApplyStatus)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ParameterApplyStatus %q, want %q", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func allParams(t *testing.T, e *testEnv, group, source string) map[string]types.Parameter {
	t.Helper()
	out := map[string]types.Parameter{}
	in := &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)}
	if source != "" {
		in.Source = aws.String(source)
	}
	pages := 0
	for p := rds.NewDescribeDBParametersPaginator(e.rds, in); p.HasMorePages(); {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, x := range page.Parameters {
			out[aws.ToString(x.ParameterName)] = x
		}
	}
	if source == "" && pages < 2 {
		t.Fatalf("%d parameters in %d pages: want pages of at most 100", len(out), pages)
	}
	return out
}

func TestParameterGroups(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	family := aws.ToString(ev.DBEngineVersions[0].DBParameterGroupFamily)
	def := "default." + family

	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("App-Params"),
		DBParameterGroupFamily: aws.String(family), Description: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	groups, err := e.rds.DescribeDBParameterGroups(e.ctx, &rds.DescribeDBParameterGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups.DBParameterGroups {
		names = append(names, aws.ToString(g.DBParameterGroupName))
	}
	// The aurora-postgresql engine's default group is listed too, as AWS
	// lists every engine's.
	if !slices.Equal(names, []string{"app-params", "default.aurora-" + strings.Replace(family, "postgres", "postgresql", 1), def}) {
		t.Fatalf("groups %v", names)
	}

	ps := allParams(t, e, "app-params", "")
	for name, want := range map[string]string{
		"work_mem": "dynamic integer true engine-default", "shared_buffers": "static integer true engine-default",
		"log_statement": "dynamic string true engine-default", "ssl": "dynamic boolean true engine-default",
		"port": "static integer false system", "data_directory": "static string false system",
	} {
		p, ok := ps[name]
		if !ok {
			t.Fatalf("no parameter %s among %d", name, len(ps))
		}
		got := fmt.Sprintf("%s %s %v %s", aws.ToString(p.ApplyType), aws.ToString(p.DataType), aws.ToBool(p.IsModifiable), aws.ToString(p.Source))
		if got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if p := ps["max_connections"]; aws.ToString(p.AllowedValues) != "1-262143" || aws.ToString(p.Description) == "" {
		t.Errorf("max_connections: allowed %q, description %q", aws.ToString(p.AllowedValues), aws.ToString(p.Description))
	}

	modify := func(group string, params ...types.Parameter) error {
		_, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String(group), Parameters: params})
		return err
	}
	param := func(name, value string, m types.ApplyMethod) types.Parameter {
		return types.Parameter{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: m}
	}
	for _, tc := range []struct {
		name string
		err  func() error
		code string
	}{
		{"exists", func() error {
			_, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("app-params"), DBParameterGroupFamily: aws.String(family), Description: aws.String("d")})
			return err
		}, "DBParameterGroupAlreadyExists"},
		{"family", func() error {
			_, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("other"), DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("d")})
			return err
		}, "InvalidParameterValue"},
		{"name", func() error {
			_, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("bad--name"), DBParameterGroupFamily: aws.String(family), Description: aws.String("d")})
			return err
		}, "InvalidParameterValue"},
		{"unknown parameter", func() error { return modify("app-params", param("no_such_thing", "1", types.ApplyMethodImmediate)) }, "InvalidParameterValue"},
		{"immediate static", func() error { return modify("app-params", param("shared_buffers", "2048", types.ApplyMethodImmediate)) }, "InvalidParameterCombination"},
		{"system parameter", func() error { return modify("app-params", param("port", "5433", types.ApplyMethodPendingReboot)) }, "InvalidParameterValue"},
		{"out of range", func() error {
			return modify("app-params", param("max_connections", "0", types.ApplyMethodPendingReboot))
		}, "InvalidParameterValue"},
		{"not a number", func() error { return modify("app-params", param("work_mem", "lots", types.ApplyMethodImmediate)) }, "InvalidParameterValue"},
		{"default group", func() error { return modify(def, param("work_mem", "8192", types.ApplyMethodImmediate)) }, "InvalidParameterValue"},
		{"missing group", func() error { return modify("nope", param("work_mem", "8192", types.ApplyMethodImmediate)) }, "DBParameterGroupNotFound"},
		{"delete default", func() error {
			_, err := e.rds.DeleteDBParameterGroup(e.ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String(def)})
			return err
		}, "InvalidDBParameterGroupState"},
		{"instance with missing group", func() error {
			in := createInput("nogroup")
			in.DBParameterGroupName = aws.String("nope")
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			return err
		}, "DBParameterGroupNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err(), tc.code) })
	}

	if err := modify("app-params", param("work_mem", "8192", types.ApplyMethodImmediate), param("shared_buffers", "2048", types.ApplyMethodPendingReboot)); err != nil {
		t.Fatal(err)
	}
	user := allParams(t, e, "app-params", "user")
	if len(user) != 2 || aws.ToString(user["work_mem"].ParameterValue) != "8192" || aws.ToString(user["shared_buffers"].Source) != "user" {
		t.Fatalf("user parameters %+v", user)
	}

	// A new instance starts with the group's values.
	in := createInput("pdb")
	in.DBParameterGroupName = aws.String("app-params")
	in.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pdb", "available")
	e.waitApply(t, "pdb", "in-sync")
	if got := e.show(t, "pdb", "work_mem"); got != "8MB" {
		t.Fatalf("work_mem %s", got)
	}
	if got := e.show(t, "pdb", "shared_buffers"); got != "16MB" {
		t.Fatalf("shared_buffers %s", got)
	}

	// Dynamic, immediate: applied live. Static: pending until reboot.
	if err := modify("app-params", param("work_mem", "16384", types.ApplyMethodImmediate), param("max_connections", "50", types.ApplyMethodPendingReboot)); err != nil {
		t.Fatal(err)
	}
	e.waitShow(t, "pdb", "work_mem", "16MB")
	e.waitApply(t, "pdb", "pending-reboot")
	if got := e.show(t, "pdb", "max_connections"); got != "100" {
		t.Fatalf("max_connections before reboot: %s", got)
	}
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("pdb")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pdb", "available")
	e.waitApply(t, "pdb", "in-sync")
	if got := e.show(t, "pdb", "max_connections"); got != "50" {
		t.Fatalf("max_connections after reboot: %s", got)
	}

	// Reset, immediate for a dynamic parameter.
	if _, err := e.rds.ResetDBParameterGroup(e.ctx, &rds.ResetDBParameterGroupInput{DBParameterGroupName: aws.String("app-params"),
		Parameters: []types.Parameter{{ParameterName: aws.String("work_mem"), ApplyMethod: types.ApplyMethodImmediate}}}); err != nil {
		t.Fatal(err)
	}
	e.waitShow(t, "pdb", "work_mem", "4MB")
	if p := allParams(t, e, "app-params", "")["work_mem"]; aws.ToString(p.Source) != "engine-default" || p.ParameterValue != nil {
		t.Fatalf("work_mem after reset: %+v", p)
	}

	// The group is in use; switching the instance to the default group
	// applies at the next reboot.
	_, err = e.rds.DeleteDBParameterGroup(e.ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String("app-params")})
	wantCode(t, err, "InvalidDBParameterGroupState")
	out, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("pdb"), DBParameterGroupName: aws.String(def)})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.DBInstance.DBParameterGroups[0]; aws.ToString(g.DBParameterGroupName) != def || aws.ToString(g.ParameterApplyStatus) != "applying" {
		t.Fatalf("parameter group %s %s", aws.ToString(g.DBParameterGroupName), aws.ToString(g.ParameterApplyStatus))
	}
	e.waitApply(t, "pdb", "pending-reboot")
	if _, err := e.rds.DeleteDBParameterGroup(e.ctx, &rds.DeleteDBParameterGroupInput{DBParameterGroupName: aws.String("app-params")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("pdb")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pdb", "available")
	e.waitApply(t, "pdb", "in-sync")
	if got := e.show(t, "pdb", "max_connections"); got != "100" {
		t.Fatalf("max_connections on the default group: %s", got)
	}
	_, err = e.rds.DescribeDBParameters(e.ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String("app-params")})
	wantCode(t, err, "DBParameterGroupNotFound")
	if !strings.Contains(err.Error(), "app-params") {
		t.Fatalf("message: %v", err)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("pdb"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "pdb", "")
}

// TestIncompatibleParameters: a value the engine refuses (the catalogue has
// no list of an enum's values) keeps a running server on its old value,
// and stops a (re)starting one: incompatible-parameters until the group is
// fixed and the instance rebooted.
func TestIncompatibleParameters(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("bad"),
		DBParameterGroupFamily: ev.DBEngineVersions[0].DBParameterGroupFamily, Description: aws.String("bad")}); err != nil {
		t.Fatal(err)
	}
	in := createInput("inc")
	in.DBParameterGroupName = aws.String("bad")
	in.BackupRetentionPeriod = aws.Int32(0)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "inc", "available")

	set := func(name, value string, m types.ApplyMethod) {
		t.Helper()
		if _, err := e.rds.ModifyDBParameterGroup(e.ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("bad"),
			Parameters: []types.Parameter{{ParameterName: aws.String(name), ParameterValue: aws.String(value), ApplyMethod: m}}}); err != nil {
			t.Fatal(err)
		}
	}
	set("log_statement", "everything", types.ApplyMethodImmediate)
	e.waitApply(t, "inc", "pending-reboot")
	if got := e.show(t, "inc", "log_statement"); got != "none" {
		t.Fatalf("log_statement = %s", got)
	}
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("inc")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "inc", "incompatible-parameters")
	_, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("inc"), ApplyImmediately: aws.Bool(true), AllocatedStorage: aws.Int32(30)})
	wantCode(t, err, "InvalidDBInstanceState")

	set("log_statement", "ddl", types.ApplyMethodImmediate)
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("inc")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "inc", "available")
	e.waitApply(t, "inc", "in-sync")
	if got := e.show(t, "inc", "log_statement"); got != "ddl" {
		t.Fatalf("log_statement = %s", got)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("inc"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "inc", "")
}
