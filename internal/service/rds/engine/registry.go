package engine

import (
	"slices"
	"strings"
)

// Registry is the engines one RDS service runs.
type Registry struct {
	list []Engine // in the order New was given them
}

// NewRegistry returns the registry of engines, given in the order their
// names are to appear in messages (minicloud's first engine first).
func NewRegistry(engines ...Engine) *Registry {
	return &Registry{list: slices.Clone(engines)}
}

// All lists the engines in AWS's order, by name.
func (r *Registry) All() []Engine {
	out := slices.Clone(r.list)
	slices.SortFunc(out, func(a, b Engine) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Get returns the engine named name (lower case), nil for one minicloud
// does not run.
func (r *Registry) Get(name string) Engine {
	for _, e := range r.list {
		if e.Name() == name {
			return e
		}
	}
	return nil
}

// Names lists, for people, the names of the engines for which has is true
// (all for nil): "postgres", "postgres and mariadb", "a, b and c". With has
// set it names DB instance engines only, as AWS's refusals of a feature of
// DB instances do: a cluster engine's features are its host engine's, and
// its members are not made alone.
func (r *Registry) Names(has func(Engine) bool) string {
	var names []string
	for _, e := range r.list {
		if has == nil || has(e) && !Is[Clusters](e) {
			names = append(names, e.Name())
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Unsupported tells of an engine minicloud does not run: known reports
// whether AWS has an engine of that name (lower case), and why is what
// minicloud says instead of running it, "" when it has nothing to say but
// that it does not yet.
func Unsupported(name string) (why string, known bool) {
	why, known = unsupported[name]
	return why, known
}

// unsupported are AWS's engines that minicloud does not run.
var unsupported = map[string]string{
	"mysql":         mysqlHint,
	"oracle-ee":     "",
	"oracle-se2":    "",
	"sqlserver-ee":  "",
	"sqlserver-se":  "",
	"sqlserver-ex":  "",
	"sqlserver-web": "",
	"db2-se":        "",
	"db2-ae":        "",
}

// mysqlHint is what CreateDBInstance says for Engine mysql: MariaDB is
// MySQL-compatible but not MySQL (versions 10.x/11.x, not 8.x; other
// defaults, authentication plugins and features), and reporting a MariaDB
// server as MySQL 8.0 would lie to every client that checks. Debian does
// not package MySQL Community Server.
const mysqlHint = "minicloud does not run RDS for MySQL: that needs MySQL Community Server, which Debian does not package and minicloud does not drive. MariaDB is MySQL-compatible but not MySQL, so minicloud does not pass it off as MySQL: create the instance with Engine mariadb (the host's MariaDB server; apt-get install mariadb-server)."
