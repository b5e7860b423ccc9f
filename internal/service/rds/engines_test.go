package rds

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// TestMissingMariaDB: a host without MariaDB (simulated by an empty
// MariaDBBinDir) answers CreateDBInstance with what to install and does not
// list the engine.
func TestMissingMariaDB(t *testing.T) {
	t.Parallel()
	s := New(state.NewMemory(), Config{MariaDBBinDir: t.TempDir()})
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	for _, tc := range []struct {
		engine, code, says string
	}{
		{"mariadb", "InvalidParameterCombination", "apt-get install mariadb-server"},
		{"MariaDB", "InvalidParameterCombination", "apt-get install mariadb-server"},
		{"mysql", "InvalidParameterValue", "create the instance with Engine mariadb"},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			_, err := s.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{
				DBInstanceIdentifier: ptr("db1"), DBInstanceClass: ptr("db.t3.micro"), Engine: ptr(tc.engine),
				AllocatedStorage: ptr(int32(20)), MasterUsername: ptr("admin"), MasterUserPassword: ptr("password1"),
			})
			var ae interface{ ErrorCode() string }
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("want %s saying %q, got %v", tc.code, tc.says, err)
			}
		})
	}
	out, err := s.DescribeDBEngineVersions(ctx, &rdsapi.DescribeDBEngineVersionsMessage{Engine: ptr("mariadb")})
	if err != nil || len(out.DBEngineVersions) != 0 {
		t.Fatalf("versions = %+v, %v", out, err)
	}
	h := s.Health()["engines"].([]map[string]any)
	i := slices.IndexFunc(h, func(m map[string]any) bool { return m["engine"] == "mariadb" })
	if i < 0 || h[i]["available"] != false || !strings.Contains(h[i]["reason"].(string), "mariadb-server") {
		t.Fatalf("health = %v", h)
	}
}
