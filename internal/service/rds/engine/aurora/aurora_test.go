package aurora

import (
	"slices"
	"testing"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
)

// TestEngines: each Aurora engine has Aurora's name, family and groups, its
// host engine's capabilities, and the cluster capability.
func TestEngines(t *testing.T) {
	pg := NewPostgreSQL(postgres.New("/nonexistent/postgresql/15/bin", engine.Runner{}))
	my := NewMySQL(mariadb.New("/nonexistent/mariadb/bin", engine.Runner{}))
	for _, tc := range []struct {
		eng                      engine.Clusters
		name, family, group, cpg string
		maxMaster, maxPassword   int
		replication, parameters  bool
	}{
		{pg, "aurora-postgresql", "aurora-postgresql15", "default.aurora-postgresql15", "default.aurora-postgresql15", 16, 41, true, true},
		{my, "aurora-mysql", "aurora-mysql8.0", "default.aurora-mysql8.0", "default.aurora-mysql8.0", 16, 41, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, c := tc.eng.Defaults(), tc.eng.Cluster()
			switch {
			case tc.eng.Name() != tc.name:
				t.Fatalf("name %s", tc.eng.Name())
			case d.Family != tc.family, d.ParameterGroup != tc.group, c.ParameterGroup != tc.cpg:
				t.Fatalf("family %s, group %s, cluster group %s", d.Family, d.ParameterGroup, c.ParameterGroup)
			case d.MaxMaster != tc.maxMaster, d.MaxPassword != tc.maxPassword:
				t.Fatalf("limits %d, %d", d.MaxMaster, d.MaxPassword)
			case engine.Is[engine.Replication](tc.eng) != tc.replication, engine.Is[engine.Parameters](tc.eng) != tc.parameters:
				t.Fatal("capabilities are not the host engine's")
			case !slices.IsSorted(c.Classes), !slices.Contains(c.Classes, "db.serverless"), slices.Contains(c.Classes, "db.t3.micro"):
				t.Fatalf("classes %v", c.Classes)
			case c.MaxMembers != 16:
				t.Fatalf("MaxMembers %d", c.MaxMembers)
			}
		})
	}
	// Without MariaDB, aurora-mysql reports no version, as mariadb does.
	if v, err := my.Version(); err == nil || v != "" || my.KnownVersion() != "" {
		t.Fatalf("aurora-mysql without MariaDB: %q, %v, known %q", v, err, my.KnownVersion())
	}
	if my.Major() != "8.0" {
		t.Fatalf("aurora-mysql major %s", my.Major())
	}
}
