package rds_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/go-sql-driver/mysql"
)

func hasMariaDB() bool {
	_, err1 := os.Stat("/usr/sbin/mariadbd")
	_, err2 := os.Stat("/usr/bin/mariadb-install-db")
	return err1 == nil && err2 == nil
}

func mariaInput(id string) *rds.CreateDBInstanceInput {
	in := createInput(id)
	in.Engine = aws.String("mariadb")
	in.MasterUsername = aws.String("admin")
	return in
}

// openMaria connects as the master through the instance's loopback address
// and checks the connection works.
func openMaria(t *testing.T, addr, password, db string) (*sql.DB, error) {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "admin", password, "tcp", addr, db
	cfg.Timeout = 5 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	d := sql.OpenDB(c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// wantDenied asserts that err is MariaDB's "Access denied" (1045).
func wantDenied(t *testing.T, err error) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("want access denied (1045), got %v", err)
	}
}

func TestMariaDBValidation(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	for _, tc := range []struct {
		name, code, msg string
		mod             func(in *rds.CreateDBInstanceInput)
	}{
		{"mysql is not MariaDB", "InvalidParameterValue", "Engine mariadb", func(in *rds.CreateDBInstanceInput) { in.Engine = aws.String("mysql") }},
		{"master of 17 chars", "InvalidParameterValue", "longer than 16 characters", func(in *rds.CreateDBInstanceInput) { in.MasterUsername = aws.String(strings.Repeat("m", 17)) }},
		{"reserved master", "InvalidParameterValue", "reserved word", func(in *rds.CreateDBInstanceInput) { in.MasterUsername = aws.String("rdsadmin") }},
		{"password of 42 chars", "InvalidParameterValue", "longer than 41 characters", func(in *rds.CreateDBInstanceInput) { in.MasterUserPassword = aws.String(strings.Repeat("p", 42)) }},
		{"DBName of 65 chars", "InvalidParameterValue", "DBName", func(in *rds.CreateDBInstanceInput) { in.DBName = aws.String("d" + strings.Repeat("b", 64)) }},
		{"version", "InvalidParameterCombination", "Cannot find version 10.4.99 for mariadb", func(in *rds.CreateDBInstanceInput) { in.EngineVersion = aws.String("10.4.99") }},
		{"storage", "InvalidParameterValue", "engine name mariadb", func(in *rds.CreateDBInstanceInput) { in.AllocatedStorage = aws.Int32(10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := mariaInput("maria-valid")
			tc.mod(in)
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			wantCode(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not say %q", err, tc.msg)
			}
		})
	}
	// A 64-character DBName and a 16-character master are MariaDB's limits.
	in := mariaInput("maria-limits")
	in.DBName = aws.String("d" + strings.Repeat("b", 63))
	in.MasterUsername = aws.String(strings.Repeat("m", 16))
	out, err := e.rds.CreateDBInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DBInstance.Engine) != "mariadb" {
		t.Fatalf("engine %q", aws.ToString(out.DBInstance.Engine))
	}
	e.waitStatus(t, "maria-limits", "available")
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("maria-limits"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "maria-limits", "")
}

func TestMariaDBLifecycle(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("mariadb")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.DBEngineVersions) != 1 {
		t.Fatalf("mariadb versions = %+v", ev.DBEngineVersions)
	}
	v := ev.DBEngineVersions[0]
	major := aws.ToString(v.MajorEngineVersion)
	if !strings.HasPrefix(aws.ToString(v.EngineVersion), major+".") || aws.ToString(v.DBParameterGroupFamily) != "mariadb"+major {
		t.Fatalf("version %s, major %s, family %s", aws.ToString(v.EngineVersion), major, aws.ToString(v.DBParameterGroupFamily))
	}
	all, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var engines []string
	for _, v := range all.DBEngineVersions {
		engines = append(engines, aws.ToString(v.Engine))
	}
	if !slices.IsSorted(engines) || !slices.Contains(engines, "mariadb") {
		t.Fatalf("engines = %v, want mariadb among them in AWS's order (by name)", engines)
	}

	in := mariaInput("Shop-DB")
	in.DBName = aws.String("shop")
	out, err := e.rds.CreateDBInstance(e.ctx, in) // AWS's default retention: 1 day
	if err != nil {
		t.Fatal(err)
	}
	db := out.DBInstance
	if aws.ToString(db.EngineVersion) != aws.ToString(v.EngineVersion) || aws.ToString(db.LicenseModel) != "general-public-license" ||
		aws.ToString(db.DBParameterGroups[0].DBParameterGroupName) != "default.mariadb"+major ||
		aws.ToString(db.OptionGroupMemberships[0].OptionGroupName) != "default:mariadb-"+strings.ReplaceAll(major, ".", "-") {
		t.Fatalf("created %s %s %s %s", aws.ToString(db.EngineVersion), aws.ToString(db.LicenseModel), aws.ToString(db.DBParameterGroups[0].DBParameterGroupName), aws.ToString(db.OptionGroupMemberships[0].OptionGroupName))
	}
	e.waitStatus(t, "shop-db", "available")
	// (Snapshots: mysql_backup_test.go.)
	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("shop-db")})
	if err != nil {
		t.Fatal(err)
	}
	if ep := d.DBInstances[0].Endpoint; ep == nil || aws.ToInt32(ep.Port) != 3306 {
		t.Fatalf("endpoint = %+v", ep)
	}
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "shop-db")
	if err != nil || addr == "" {
		t.Fatalf("loopback %q %v", addr, err)
	}

	c, err := openMaria(t, addr, "s3cret-pass", "shop")
	if err != nil {
		t.Fatal(err)
	}
	var version, grants string
	if err := c.QueryRow("SELECT VERSION()").Scan(&version); err != nil || !strings.HasPrefix(version, aws.ToString(v.EngineVersion)+"-MariaDB") {
		t.Fatalf("VERSION() = %q, %v; DescribeDBEngineVersions says %s", version, err, aws.ToString(v.EngineVersion))
	}
	// AWS's master privileges: no SUPER, READ_ONLY ADMIN or FILE.
	if err := c.QueryRow("SHOW GRANTS").Scan(&grants); err != nil || !strings.Contains(grants, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS,") ||
		!strings.Contains(grants, "WITH GRANT OPTION") || strings.Contains(grants, "SUPER") || strings.Contains(grants, "READ_ONLY") || strings.Contains(grants, "FILE") {
		t.Fatalf("grants %q, %v", grants, err)
	}
	// LOAD_FILE reaches none of the host's files.
	var passwd sql.NullString
	if err := c.QueryRow("SELECT LOAD_FILE('/etc/passwd')").Scan(&passwd); err != nil || passwd.Valid {
		t.Fatalf("LOAD_FILE('/etc/passwd') = %v, %v; want NULL", passwd, err)
	}
	for _, q := range []string{"CREATE TABLE items (id int PRIMARY KEY, name varchar(20)) ENGINE=InnoDB", "INSERT INTO items VALUES (1, 'apple'), (2, 'pear')"} {
		if _, err := c.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	instDir := filepath.Join(e.dir, "rds", "000000000000", "us-east-1", "shop-db")
	if _, err := os.Stat(filepath.Join(instDir, "data", "shop", "items.ibd")); err != nil {
		t.Fatalf("the table's file is not in the instance's data directory: %v", err)
	}
	if os.Geteuid() == 0 {
		// The server runs unprivileged, as minicloud-db.
		pid, _ := os.ReadFile(filepath.Join(instDir, "mysqld.pid"))
		st, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/status")
		u, uerr := user.Lookup("minicloud-db")
		if err != nil || uerr != nil || !strings.Contains(string(st), "\nUid:\t"+u.Uid+"\t") {
			t.Fatalf("mariadbd's status (pid %q): %v %v\n%s", pid, err, uerr, st)
		}
	}

	countItems := func(password string) {
		t.Helper()
		addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "shop-db")
		c, err := openMaria(t, addr, password, "shop")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n int
		if err := c.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 2 {
			t.Fatalf("items: %d %v", n, err)
		}
	}

	// A new master password is applied for real, even after the master
	// dropped its own privileges (AWS's reset restores them).
	c, err = openMaria(t, addr, "s3cret-pass", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'admin'@'%'"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db"), MasterUserPassword: aws.String(strings.Repeat("p", 42))})
	wantCode(t, err, "InvalidParameterValue")
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db"), MasterUserPassword: aws.String("n3w-password"), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-db", "available")
	_, err = openMaria(t, addr, "s3cret-pass", "shop")
	wantDenied(t, err)
	countItems("n3w-password")

	// Stop and start: the data stays.
	if _, err := e.rds.StopDBInstance(e.ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-db", "stopped")
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("something still listens on %s after stop", addr)
	}
	if _, err := os.Stat(filepath.Join(instDir, "mysqld.pid")); !os.IsNotExist(err) {
		t.Fatalf("pid file after stop: %v", err)
	}
	if _, err := e.rds.StartDBInstance(e.ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-db", "available")
	countItems("n3w-password")

	// Reboot restarts the server.
	if _, err := e.rds.RebootDBInstance(e.ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db")}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-db", "available")
	countItems("n3w-password")

	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("shop-db"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "shop-db", "")
	if _, err := os.Stat(instDir); !os.IsNotExist(err) {
		t.Fatalf("data dir still there: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("something still listens on %s", addr)
	}
}

func TestMariaDBRestartKeepsData(t *testing.T) {
	t.Parallel()
	if !hasMariaDB() {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	if _, err := e.rds.CreateDBInstance(e.ctx, mariaInput("keep-maria")); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "keep-maria", "available")
	addr, _ := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", "keep-maria")
	c, err := openMaria(t, addr, "s3cret-pass", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE DATABASE app", "CREATE TABLE app.kept (v int)", "INSERT INTO app.kept VALUES (7)"} {
		if _, err := c.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	e.close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("the server still listens on %s after minicloud stopped", addr)
	}

	e2 := newEnvIn(t, dir)
	e2.waitStatus(t, "keep-maria", "available")
	// The record says available at once; the server comes back in the
	// background.
	deadline := time.Now().Add(30 * time.Second)
	for {
		addr, _ = e2.srv.RDS().Loopback(e2.ctx, "000000000000", "us-east-1", "keep-maria")
		c, err = openMaria(t, addr, "s3cret-pass", "app")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after restart, %s: %v", addr, err)
	}
	defer c.Close()
	var v int
	if err := c.QueryRow("SELECT v FROM kept").Scan(&v); err != nil || v != 7 {
		t.Fatalf("kept = %d, %v", v, err)
	}
	if _, err := e2.rds.DeleteDBInstance(e2.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("keep-maria"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e2.waitStatus(t, "keep-maria", "")
}
