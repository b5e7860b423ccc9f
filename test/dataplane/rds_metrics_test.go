package dataplane_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/jackc/pgx/v5"
)

// TestRDSMetrics: a PostgreSQL instance in its VPC with N client
// connections open shows DatabaseConnections ≥ N in AWS/RDS, with
// CPUUtilization, FreeableMemory within its class's memory, FreeStorageSpace
// within its allocated storage and its network throughput; its read
// replica shows ReplicaLag; all through GetMetricStatistics, with
// MetricsInterval 5 s.
func TestRDSMetrics(t *testing.T) {
	ae, cw := newMetricsEnv(t, "198.19.236.0/24")
	e := ae.env
	ctx := e.ctx
	v := e.newVPC("10.66.0.0/16", "10.66.1.0/24", "10.66.2.0/24")
	closed := e.newSG(v.id, "closed")
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("mdb"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{closed}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("mdb", "available", 60*time.Second)
	if _, err := e.rds.CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{DBInstanceIdentifier: aws.String("mrep"),
		SourceDBInstanceIdentifier: aws.String("mdb")}); err != nil {
		t.Fatal(err)
	}
	addr, err := e.srv.RDS().Loopback(ctx, "000000000000", "us-east-1", "mdb")
	if err != nil || addr == "" {
		t.Fatalf("loopback of mdb: %q %v", addr, err)
	}
	const n = 4
	for range n {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://master:secret-password@%s/postgres?sslmode=disable", addr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
	}
	e.waitDB("mrep", "available", 60*time.Second)

	dim := func(id string) cwtypes.Dimension {
		return cwtypes.Dimension{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}
	}
	type check struct {
		id, name string
		stat     cwtypes.Statistic
		ok       func(v float64) bool
		want     string
	}
	checks := []check{
		{"mdb", "DatabaseConnections", cwtypes.StatisticMaximum, func(v float64) bool { return v >= n }, fmt.Sprintf("≥ %d", n)},
		{"mdb", "CPUUtilization", cwtypes.StatisticMaximum, func(v float64) bool { return v >= 0 && v <= 100 }, "0–100"},
		{"mdb", "FreeableMemory", cwtypes.StatisticMaximum, func(v float64) bool { return v > 0 && v <= 1<<30 }, "in (0, 1 GiB]"},
		{"mdb", "FreeStorageSpace", cwtypes.StatisticMaximum, func(v float64) bool { return v > 19<<30 && v < 20<<30 }, "in (19, 20) GiB"},
		{"mdb", "NetworkReceiveThroughput", cwtypes.StatisticMaximum, func(v float64) bool { return v >= 0 }, "≥ 0"},
		{"mrep", "ReplicaLag", cwtypes.StatisticMaximum, func(v float64) bool { return v >= 0 && v < 60 }, "in [0, 60) s"},
		{"mrep", "DatabaseConnections", cwtypes.StatisticMaximum, func(v float64) bool { return v >= 0 }, "≥ 0"},
	}
	for _, c := range checks {
		var last float64
		if err := eventually(60*time.Second, func() error {
			v, ok, err := statistic(e, cw, "AWS/RDS", c.name, c.stat, dim(c.id))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no datapoints")
			}
			last = v
			if !c.ok(v) {
				return fmt.Errorf("%v, want %s", v, c.want)
			}
			return nil
		}); err != nil {
			t.Fatalf("%s %s: %v (last %v)", c.id, c.name, err, last)
		}
	}
	// The aggregate dimension: both instances' connections in one series.
	if _, ok, err := statistic(e, cw, "AWS/RDS", "DatabaseConnections", cwtypes.StatisticMaximum,
		cwtypes.Dimension{Name: aws.String("EngineName"), Value: aws.String("postgres")}); err != nil || !ok {
		t.Fatalf("DatabaseConnections by EngineName: ok %v, %v", ok, err)
	}
}
