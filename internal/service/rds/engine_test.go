package rds

import (
	"context"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
	"github.com/minicloud/minicloud/internal/state"
)

func TestNoEngine(t *testing.T) {
	t.Parallel()
	s := New(state.NewMemory(), Config{})
	s.engines = engine.NewRegistry(&postgres.Engine{}, mariadb.New(t.TempDir(), engine.Runner{}))
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	_, err := s.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{
		DBInstanceIdentifier: ptr("db1"), DBInstanceClass: ptr("db.t3.micro"), Engine: ptr("postgres"),
		AllocatedStorage: ptr(int32(20)), MasterUsername: ptr("master"), MasterUserPassword: ptr("password1"),
	})
	if err == nil || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("message does not say what to install: %v", err)
	}
	out, err := s.DescribeDBEngineVersions(ctx, &rdsapi.DescribeDBEngineVersionsMessage{})
	if err != nil || len(out.DBEngineVersions) != 0 {
		t.Fatalf("versions = %+v, %v", out, err)
	}
}

func TestIdentifiers(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		"a": true, "db-1": true, "A1-b2": true, strings.Repeat("a", 63): true,
		"": false, "1a": false, "-a": false, "a-": false, "a--b": false, "a_b": false, "a.b": false, strings.Repeat("a", 64): false,
	} {
		if validIdentifier(id) != ok {
			t.Errorf("validIdentifier(%q) = %v", id, !ok)
		}
	}
}
