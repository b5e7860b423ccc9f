package rds_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// TestMariaDBPointInTimeRestore: an instance with automated backups logs
// its transactions in binary logs; a restore to a time replays them from
// the automated backup up to that second.
func TestMariaDBPointInTimeRestore(t *testing.T) {
	t.Parallel()
	needMariaBackup(t)
	dir := t.TempDir()
	e := newEnvIn(t, dir)
	in := mariaInput("mpit")
	in.DBName = aws.String("app")
	in.BackupRetentionPeriod = aws.Int32(1)
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "mpit", "available")
	if _, err := os.Stat(filepath.Join(dir, "rds", "000000000000", "us-east-1", "mpit", "binlog", "mysql-bin.index")); err != nil {
		t.Fatalf("no binary logs: %v", err)
	}
	e.mariaSQL(t, "mpit", "app", "CREATE TABLE items (id int PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO items VALUES (1), (2)")
	// Binary log events carry whole seconds: the target is a second apart
	// from both sides.
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	e.mariaSQL(t, "mpit", "app", "INSERT INTO items VALUES (3)")
	wrote := time.Now().UTC()

	d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("mpit")})
	if err != nil {
		t.Fatal(err)
	}
	if lr := d.DBInstances[0].LatestRestorableTime; lr == nil || lr.Before(wrote.Add(-time.Second)) {
		t.Fatalf("LatestRestorableTime = %v, want the last write (%v)", lr, wrote)
	}

	_, err = e.rds.RestoreDBInstanceToPointInTime(e.ctx, &rds.RestoreDBInstanceToPointInTimeInput{
		SourceDBInstanceIdentifier: aws.String("mpit"), TargetDBInstanceIdentifier: aws.String("mpit-early"),
		RestoreTime: aws.Time(time.Now().Add(-time.Hour)),
	})
	wantCode(t, err, "InvalidRestoreFault")

	for _, tc := range []struct {
		name, id string
		in       *rds.RestoreDBInstanceToPointInTimeInput
		want     []int
	}{
		{"to a time", "mpit-t", &rds.RestoreDBInstanceToPointInTimeInput{RestoreTime: aws.Time(target)}, []int{1, 2}},
		{"latest", "mpit-latest", &rds.RestoreDBInstanceToPointInTimeInput{UseLatestRestorableTime: aws.Bool(true)}, []int{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.SourceDBInstanceIdentifier, tc.in.TargetDBInstanceIdentifier = aws.String("mpit"), aws.String(tc.id)
			tc.in.BackupRetentionPeriod = aws.Int32(0)
			out, err := e.rds.RestoreDBInstanceToPointInTime(e.ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.DBInstance.Engine) != "mariadb" {
				t.Fatalf("engine %s", aws.ToString(out.DBInstance.Engine))
			}
			e.waitStatus(t, tc.id, "available")
			wantRows(t, e.mariaRows(t, tc.id, "app"), tc.want...)
			e.deleteInstance(t, tc.id)
		})
	}
}
