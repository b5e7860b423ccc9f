package rds

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// wantErr fails unless err has AWS's error code (none: "").
func wantErr(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("want no error, got %v", err)
		}
		return
	}
	if !hasCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func validCreate() *rdsapi.CreateDBInstanceMessage {
	return &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: ptr("My-DB"), DBInstanceClass: ptr("db.t3.micro"), Engine: ptr("Postgres"),
		AllocatedStorage: ptr(int32(20)), MasterUsername: ptr("master"), MasterUserPassword: ptr("s3cret-pass")}
}

// createCheck decides what the request alone decides, and refuses what
// the request alone says is wrong (errors_test.go pins the messages and
// their order through the SDK).
func TestCreateCheck(t *testing.T) {
	t.Parallel()
	s := New(state.NewMemory(), Config{})
	if s.engineFor("postgres").Available() != nil {
		t.Fatal("needs PostgreSQL installed")
	}
	for _, tc := range []struct {
		name string
		mod  func(in *rdsapi.CreateDBInstanceMessage)
		code string
	}{
		{"valid", func(*rdsapi.CreateDBInstanceMessage) {}, ""},
		{"identifier", func(in *rdsapi.CreateDBInstanceMessage) { in.DBInstanceIdentifier = ptr("a-") }, "InvalidParameterValue"},
		{"class name", func(in *rdsapi.CreateDBInstanceMessage) { in.DBInstanceClass = ptr("db.t3") }, "InvalidParameterValue"},
		{"engine", func(in *rdsapi.CreateDBInstanceMessage) { in.Engine = ptr("oracle-ee") }, "InvalidParameterValue"},
		{"class offered", func(in *rdsapi.CreateDBInstanceMessage) { in.DBInstanceClass = ptr("db.z9.tiny") }, "InvalidParameterCombination"},
		{"storage type", func(in *rdsapi.CreateDBInstanceMessage) { in.StorageType = ptr("tape") }, "StorageTypeNotSupported"},
		{"storage", func(in *rdsapi.CreateDBInstanceMessage) { in.AllocatedStorage = ptr(int32(65537)) }, "InvalidParameterValue"},
		{"master user", func(in *rdsapi.CreateDBInstanceMessage) { in.MasterUsername = ptr("rdsrepladmin") }, "InvalidParameterValue"},
		{"password", func(in *rdsapi.CreateDBInstanceMessage) { in.MasterUserPassword = ptr("with space") }, "InvalidParameterValue"},
		{"database name", func(in *rdsapi.CreateDBInstanceMessage) { in.DBName = ptr("app-db") }, "InvalidParameterValue"},
		{"port", func(in *rdsapi.CreateDBInstanceMessage) { in.Port = ptr(int32(70000)) }, "InvalidParameterValue"},
		{"retention", func(in *rdsapi.CreateDBInstanceMessage) { in.BackupRetentionPeriod = ptr(int32(-1)) }, "InvalidParameterValue"},
		{"DB security groups", func(in *rdsapi.CreateDBInstanceMessage) { in.DBSecurityGroups = []string{"default"} }, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := validCreate()
			tc.mod(in)
			r, err := s.createCheck(in)
			wantErr(t, err, tc.code)
			if err != nil {
				return
			}
			// The defaults: the engine's port, one day of backups, gp2, the
			// host's full version; identifiers in lower case.
			v, _ := s.engineFor("postgres").Version()
			if r.id != "my-db" || r.engineName != "postgres" || r.port != 5432 || r.backup != 1 || r.storageType != "gp2" || r.version != v {
				t.Fatalf("request = %+v", r)
			}
		})
	}
}

func TestModifyCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   rdsapi.ModifyDBInstanceMessage
		code string
	}{
		{"nothing", rdsapi.ModifyDBInstanceMessage{}, ""},
		{"password", rdsapi.ModifyDBInstanceMessage{MasterUserPassword: ptr("new-password")}, ""},
		{"bad password", rdsapi.ModifyDBInstanceMessage{MasterUserPassword: ptr("a/b/c/d/e")}, "InvalidParameterValue"},
		{"retention", rdsapi.ModifyDBInstanceMessage{BackupRetentionPeriod: ptr(int32(35))}, ""},
		{"bad retention", rdsapi.ModifyDBInstanceMessage{BackupRetentionPeriod: ptr(int32(36))}, "InvalidParameterValue"},
		{"DB security groups", rdsapi.ModifyDBInstanceMessage{DBSecurityGroups: []string{"default"}}, "InvalidParameterCombination"},
		{"IAM authentication off", rdsapi.ModifyDBInstanceMessage{EnableIAMDatabaseAuthentication: ptr(false)}, ""},
		{"IAM authentication on", rdsapi.ModifyDBInstanceMessage{EnableIAMDatabaseAuthentication: ptr(true)}, "InvalidParameterCombination"},
		{"managed password", rdsapi.ModifyDBInstanceMessage{ManageMasterUserPassword: ptr(true)}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, modifyCheck(&tc.in), tc.code) })
	}
}

func TestReplicaCheck(t *testing.T) {
	t.Parallel()
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	for _, tc := range []struct {
		name, src string // src: the source's identifier, from the request
		in        rdsapi.CreateDBInstanceReadReplicaMessage
		code      string
	}{
		{"identifier", "src", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("Src")}, ""},
		{"ARN", "src", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("arn:aws:rds:us-east-1:000000000000:db:SRC")}, ""},
		{"other account", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("arn:aws:rds:us-east-1:111111111111:db:src")}, "InvalidParameterValue"},
		{"no source", "", rdsapi.CreateDBInstanceReadReplicaMessage{}, "InvalidParameterValue"},
		{"cluster", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBClusterIdentifier: ptr("c")}, "InvalidParameterCombination"},
		{"class", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("src"), DBInstanceClass: ptr("db.t3.micro.x")}, "InvalidParameterValue"},
		{"port", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("src"), Port: ptr(int32(1149))}, "InvalidParameterValue"},
		{"Multi-AZ", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("src"), MultiAZ: ptr(true)}, "InvalidParameterCombination"},
		{"tags", "", rdsapi.CreateDBInstanceReadReplicaMessage{SourceDBInstanceIdentifier: ptr("src"), Tags: []rdsapi.Tag{{Key: ptr("")}}}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.DBInstanceIdentifier = ptr("Rep")
			r, err := replicaCheck(sc, &tc.in)
			wantErr(t, err, tc.code)
			if err == nil && (r.id != "rep" || r.srcID != tc.src || r.srcRaw != deref(tc.in.SourceDBInstanceIdentifier)) {
				t.Fatalf("request = %+v", r)
			}
		})
	}
}

func TestPointInTimeCheck(t *testing.T) {
	t.Parallel()
	at := time.Now()
	for _, tc := range []struct {
		name string
		in   rdsapi.RestoreDBInstanceToPointInTimeMessage
		code string
	}{
		{"latest", rdsapi.RestoreDBInstanceToPointInTimeMessage{UseLatestRestorableTime: ptr(true)}, ""},
		{"time", rdsapi.RestoreDBInstanceToPointInTimeMessage{RestoreTime: &at}, ""},
		{"both", rdsapi.RestoreDBInstanceToPointInTimeMessage{RestoreTime: &at, UseLatestRestorableTime: ptr(true)}, "InvalidParameterCombination"},
		{"neither", rdsapi.RestoreDBInstanceToPointInTimeMessage{UseLatestRestorableTime: ptr(false)}, "InvalidParameterCombination"},
		{"automated backups ARN", rdsapi.RestoreDBInstanceToPointInTimeMessage{SourceDBInstanceAutomatedBackupsArn: ptr("arn:x"), UseLatestRestorableTime: ptr(true)}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, pointInTimeCheck(&tc.in), tc.code) })
	}
}

// EC2's answers on security groups are checked against the VPC the write
// transaction reads.
func TestGroupVPCsCheck(t *testing.T) {
	t.Parallel()
	gs := groupVPCs{{id: "sg-1", vpc: "vpc-a", found: true}, {id: "sg-2", vpc: "vpc-b", found: true}}
	for _, tc := range []struct {
		name string
		gs   groupVPCs
		vpc  string
		code string
	}{
		{"none", nil, "vpc-a", ""},
		{"no VPC: existence only", gs, "", ""},
		{"same VPC", gs[:1], "vpc-a", ""},
		{"another VPC", gs, "vpc-a", "InvalidParameterCombination"},
		{"missing first", append(groupVPCs{{id: "sg-0"}}, gs...), "vpc-c", "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.gs.check(tc.vpc), tc.code) })
	}
}

// A public-access check is confirmed only for the VPC it was made for.
func TestPublicCheckConfirm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		p       publicCheck
		vpc     string
		changed bool
	}{
		{"not asked", publicCheck{}, "vpc-a", false},
		{"same VPC", publicCheck{asked: true, vpc: "vpc-a"}, "vpc-a", false},
		{"the group moved", publicCheck{asked: true, vpc: "vpc-a"}, "vpc-b", true},
		{"the group appeared", publicCheck{asked: true}, "vpc-a", true},
		{"the group went", publicCheck{asked: true, vpc: "vpc-a"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.confirm(tc.vpc); errors.Is(err, errChanged) != tc.changed {
				t.Fatalf("confirm(%q) = %v", tc.vpc, err)
			}
		})
	}
}

// retryChanged checks a request again while what it was checked against
// changes, and stops with the caller.
func TestRetryChanged(t *testing.T) {
	t.Parallel()
	calls := 0
	out, err := retryChanged(context.Background(), func() (int, error) {
		if calls++; calls < 3 {
			return 0, errChanged
		}
		return calls, nil
	})
	if out != 3 || err != nil {
		t.Fatalf("retryChanged = %d, %v", out, err)
	}
	refused := errInvalidParam("no")
	if _, err := retryChanged(context.Background(), func() (int, error) { return 0, refused }); err != refused {
		t.Fatalf("an error other than errChanged: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := retryChanged(ctx, func() (int, error) { return 0, errChanged }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A restore is written only from the snapshot it read, and a
// point-in-time restore only while its source is the instance it read.
func TestRestoreConfirm(t *testing.T) {
	t.Parallel()
	store := state.NewMemory()
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	sc := scopeOf(ctx)
	snap := records.Snapshot{DBSnapshot: rdsapi.DBSnapshot{DBSnapshotIdentifier: ptr("snap"), Status: ptr("available"), DbiResourceId: ptr("db-A")}}
	src := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr("src"), DbiResourceId: ptr("db-A")}}
	put := func(snap *records.Snapshot, src *records.Instance) {
		t.Helper()
		err := store.Update(ctx, func(tx state.Tx) error {
			if err := records.Snapshots.Delete(tx, sc, "snap"); err != nil {
				return err
			}
			if err := records.Instances.Delete(tx, sc, "src"); err != nil {
				return err
			}
			if snap != nil {
				if err := records.Snapshots.Put(tx, sc, "snap", *snap); err != nil {
					return err
				}
			}
			if src != nil {
				return records.Instances.Put(tx, sc, "src", *src)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tagged := snap
	tagged.TagList = []rdsapi.Tag{{Key: ptr("k"), Value: ptr("v")}}
	again := src
	again.DbiResourceId = ptr("db-B")
	fromSnapshot := &restore{from: records.RestoreSource{Snapshot: "snap"}, snapshot: snap}
	pointInTime := &restore{from: records.RestoreSource{Snapshot: "snap", ArchiveOf: "src", PITR: true}, snapshot: snap, resource: "db-A"}
	for _, tc := range []struct {
		name    string
		r       *restore
		snap    *records.Snapshot
		src     *records.Instance
		changed bool
	}{
		{"no restore", nil, nil, nil, false},
		{"unchanged", fromSnapshot, &snap, nil, false},
		{"snapshot changed", fromSnapshot, &tagged, nil, true},
		{"snapshot gone", fromSnapshot, nil, nil, true},
		{"point in time, unchanged", pointInTime, &snap, &src, false},
		{"source gone", pointInTime, &snap, nil, true},
		{"source made again", pointInTime, &snap, &again, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(tc.snap, tc.src)
			err := store.View(ctx, func(tx state.Tx) error { return tc.r.confirm(tx, sc) })
			if errors.Is(err, errChanged) != tc.changed || err != nil && !tc.changed {
				t.Fatalf("confirm = %v", err)
			}
			if got := tc.r.source(); (got == nil) != (tc.r == nil) || got != nil && !strings.EqualFold(got.Snapshot, "snap") {
				t.Fatalf("source = %+v", got)
			}
		})
	}
}
