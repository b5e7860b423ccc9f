package rds

import (
	"context"
	"testing"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// A DB instance's parameter group is checked against its own engine's
// family; MariaDB instances have their (empty) default group only.
func TestInstanceParamGroupEngine(t *testing.T) {
	t.Parallel()
	store := state.NewMemory()
	s := New(store, Config{})
	pg, maria := s.engineFor("postgres"), s.engineFor("mariadb")
	if pg.Available() != nil || maria.Major() == "" {
		t.Fatal("needs PostgreSQL and MariaDB installed")
	}
	pgDefault := pg.Defaults().ParameterGroup
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	sc := scopeOf(ctx)
	if _, err := s.CreateDBParameterGroup(ctx, &rdsapi.CreateDBParameterGroupMessage{DBParameterGroupName: ptr("mine"), DBParameterGroupFamily: ptr(pg.Defaults().Family), Description: ptr("d")}); err != nil {
		t.Fatal(err)
	}
	mariaDefault := maria.Defaults().ParameterGroup
	for _, tc := range []struct {
		name, group, engine, code string
	}{
		{"postgres default", pgDefault, "postgres", ""},
		{"postgres user group", "mine", "postgres", ""},
		{"postgres with mariadb's default", mariaDefault, "postgres", "InvalidParameterCombination"},
		{"mariadb default", mariaDefault, "mariadb", ""},
		{"mariadb default, upper case", "Default.MariaDB" + maria.Major(), "mariadb", ""},
		{"mariadb with a postgres group", "mine", "mariadb", "InvalidParameterCombination"},
		{"mariadb with postgres's default", pgDefault, "mariadb", "InvalidParameterCombination"},
		{"mariadb missing group", "ghost", "mariadb", "DBParameterGroupNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := store.View(ctx, func(tx state.Tx) error { return s.checkInstanceParamGroup(tx, sc, tc.group, tc.engine) })
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if !hasCode(err, tc.code) {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
		})
	}
	// MariaDB's default group is known, read-only and empty.
	out, err := s.DescribeDBParameterGroups(ctx, &rdsapi.DescribeDBParameterGroupsMessage{DBParameterGroupName: ptr(mariaDefault)})
	if err != nil || len(out.DBParameterGroups) != 1 || deref(out.DBParameterGroups[0].DBParameterGroupFamily) != maria.Defaults().Family {
		t.Fatalf("describe %s: %+v, %v", mariaDefault, out, err)
	}
	params, err := s.DescribeDBParameters(ctx, &rdsapi.DescribeDBParametersMessage{DBParameterGroupName: ptr(mariaDefault)})
	if err != nil || len(params.Parameters) != 0 {
		t.Fatalf("parameters of %s: %d, %v", mariaDefault, len(params.Parameters), err)
	}
}
