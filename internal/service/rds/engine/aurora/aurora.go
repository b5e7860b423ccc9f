package aurora

import (
	"slices"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/engine/mariadb"
	"github.com/minicloud/minicloud/internal/service/rds/engine/postgres"
)

// MySQLVersion is the Aurora MySQL version aurora-mysql reports: Aurora
// MySQL 3 (MySQL 8.0 compatible), the line AWS offers by default.
const MySQLVersion = "8.0.mysql_aurora.3.08.0"

// classes are the DB instance classes Aurora offers, with db.serverless for
// Serverless v2 members.
var classes = func() []string {
	sizes := map[string][]string{
		"t3":  {"medium", "large"},
		"t4g": {"medium", "large"},
		"r5":  {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"},
		"r6g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
		"r6i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"},
		"r7g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
		"r7i": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"},
		"x2g": {"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"},
	}
	out := []string{"db.serverless"}
	for fam, ss := range sizes {
		for _, s := range ss {
			out = append(out, "db."+fam+"."+s)
		}
	}
	slices.Sort(out)
	return out
}()

// maxMembers: a writer and up to 15 readers.
const maxMembers = 16

// PostgreSQL is aurora-postgresql over the host's PostgreSQL.
type PostgreSQL struct{ *postgres.Engine }

var (
	_ engine.Clusters    = (*PostgreSQL)(nil)
	_ engine.Replication = (*PostgreSQL)(nil)
	_ engine.PointInTime = (*PostgreSQL)(nil)
	_ engine.Parameters  = (*PostgreSQL)(nil)
)

// NewPostgreSQL returns aurora-postgresql over pg.
func NewPostgreSQL(pg *postgres.Engine) *PostgreSQL { return &PostgreSQL{pg} }

// Name is "aurora-postgresql".
func (e *PostgreSQL) Name() string { return "aurora-postgresql" }

// Defaults are Aurora PostgreSQL's: PostgreSQL's limits under Aurora's
// names.
func (e *PostgreSQL) Defaults() engine.Defaults {
	d := e.Engine.Defaults()
	major := e.Major()
	d.Family = "aurora-postgresql" + major
	d.OptionGroup = "default:aurora-postgresql-" + major
	d.ParameterGroup = "default.aurora-postgresql" + major
	// CreateDBCluster's limits, whatever the engine: a master user of 1
	// to 16 characters, a password of 8 to 41.
	d.MaxMaster, d.MaxPassword = 16, 41
	d.Title = "Aurora PostgreSQL"
	d.Description = "Aurora (PostgreSQL)"
	d.LogTypes = []string{"postgresql"}
	return d
}

// Cluster is aurora-postgresql's cluster side.
func (e *PostgreSQL) Cluster() engine.ClusterDefaults {
	v, _ := e.Version()
	d := engine.ClusterDefaults{
		ParameterGroup: "default.aurora-postgresql" + e.Major(),
		Classes:        classes,
		Runs:           "minicloud: the host's PostgreSQL " + v + "; each member its own server, readers streaming replicas of the writer",
		MaxMembers:     maxMembers,
	}
	// AWS has Backtrack for Aurora MySQL only.
	d.NoBacktrack.Code, d.NoBacktrack.Message = "InvalidParameterValue", "Backtrack is not enabled for the aurora-postgresql engine."
	return d
}

// MySQL is aurora-mysql over the host's MariaDB, under Aurora MySQL 3's
// version.
type MySQL struct{ *mariadb.Engine }

var (
	_ engine.Clusters    = (*MySQL)(nil)
	_ engine.Replication = (*MySQL)(nil)
	_ engine.PointInTime = (*MySQL)(nil)
)

// NewMySQL returns aurora-mysql over m.
func NewMySQL(m *mariadb.Engine) *MySQL { return &MySQL{m} }

// Name is "aurora-mysql".
func (e *MySQL) Name() string { return "aurora-mysql" }

// Version is Aurora MySQL's version string, once the host's MariaDB is
// known to run.
func (e *MySQL) Version() (string, error) {
	if _, err := e.Engine.Version(); err != nil {
		return "", err
	}
	return MySQLVersion, nil
}

// Major is "8.0", Aurora MySQL 3's MySQL version.
func (e *MySQL) Major() string { return "8.0" }

// KnownVersion is Aurora MySQL's version once MariaDB's is known.
func (e *MySQL) KnownVersion() string {
	if e.Engine.KnownVersion() == "" {
		return ""
	}
	return MySQLVersion
}

// Defaults are Aurora MySQL's: MariaDB's limits under Aurora's names.
func (e *MySQL) Defaults() engine.Defaults {
	d := e.Engine.Defaults()
	d.Family = "aurora-mysql8.0"
	d.OptionGroup = "default:aurora-mysql-8-0"
	d.ParameterGroup = "default.aurora-mysql8.0"
	d.Title = "Aurora MySQL"
	d.Description = "Aurora MySQL"
	d.LogTypes = []string{"audit", "error", "general", "slowquery"}
	return d
}

// Cluster is aurora-mysql's cluster side.
func (e *MySQL) Cluster() engine.ClusterDefaults {
	v, _ := e.Engine.Version()
	d := engine.ClusterDefaults{
		ParameterGroup: "default.aurora-mysql8.0",
		Classes:        classes,
		Runs:           "minicloud: the host's MariaDB " + v + " (MySQL-compatible, not MySQL 8.0); each member its own server, readers semi-synchronous GTID replicas of the writer; no Backtrack (MariaDB cannot rewind in place)",
		MaxMembers:     maxMembers,
	}
	// AWS's answer for an Aurora MySQL version without Backtrack, which
	// minicloud's is.
	d.NoBacktrack.Code = "InvalidParameterCombination"
	d.NoBacktrack.Message = "Aurora MySQL Engine Version " + MySQLVersion + " with mode: PROVISIONED does not support Backtrack. " +
		"(minicloud runs Aurora MySQL on MariaDB, which cannot rewind a DB cluster in place: use RestoreDBClusterToPointInTime.)"
	return d
}
