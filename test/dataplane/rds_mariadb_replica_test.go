package dataplane_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/go-sql-driver/mysql"
)

// TestRDSMariaDBReadReplicaInVPC: a MariaDB source and its replica each run
// in their VPC behind a security group that lets nothing in, yet the
// replica replicates (MariaDB's replication is TCP only: it goes through a
// relay in the replica's namespace to the source's Unix socket, never
// through the customer's network) and follows writes within a second.
func TestRDSMariaDBReadReplicaInVPC(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the data-plane tests need root (network namespaces, overlayfs, nftables); CI runs them as root")
	}
	if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
		t.Fatal("no MariaDB server (apt-get install mariadb-server; scripts/deps.sh does)")
	}
	e := newEnv(t)
	ctx := e.ctx

	v := e.newVPC("10.62.0.0/16", "10.62.1.0/24", "10.62.2.0/24")
	closed := e.newSG(v.id, "closed")
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("src"),
		Engine: aws.String("mariadb"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("src", "available", 60*time.Second)
	if _, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("rep"),
		SourceDBInstanceIdentifier: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("rep", "available", 60*time.Second)
	if n := len(e.dbENIs(v.id)); n != 2 {
		t.Fatalf("%d RDS network interfaces, want the source's and the replica's", n)
	}

	conn := func(id string) *sql.DB {
		t.Helper()
		addr, err := e.srv.RDS().Loopback(ctx, "000000000000", "us-east-1", id)
		if err != nil || addr == "" {
			t.Fatalf("loopback of %s: %q %v", id, addr, err)
		}
		c := mysql.NewConfig()
		c.User, c.Passwd, c.Net, c.Addr = "admin", "secret-password", "tcp", addr
		cn, err := mysql.NewConnector(c)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(cn)
		t.Cleanup(func() { db.Close() })
		return db
	}
	sc, rc := conn("src"), conn("rep")
	for _, q := range []string{"CREATE DATABASE app", "CREATE TABLE app.t (v int PRIMARY KEY)", "INSERT INTO app.t VALUES (1)"} {
		if _, err := sc.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := eventually(time.Second, func() error {
		var n int
		if err := rc.QueryRow("SELECT count(*) FROM app.t").Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	}); err != nil {
		t.Fatalf("the replica did not follow within 1 s: %v", err)
	}
	_, err := rc.Exec("INSERT INTO app.t VALUES (2)")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 {
		t.Fatalf("write on the replica: %v, want ERROR 1290 (read-only)", err)
	}

	for _, id := range []string{"rep", "src"} {
		if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if err := eventually(60*time.Second, func() error {
			if _, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}); err == nil {
				return fmt.Errorf("%s still exists", id)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.dbENIs(v.id)); n != 0 {
		t.Fatalf("%d RDS network interfaces after delete", n)
	}
}
