package engine

import (
	"context"
	"os"
	"slices"
	"testing"
)

// fake is an engine with only a name; the capabilities come from the
// types that embed it.
type fake struct{ name string }

func (f fake) Name() string                                     { return f.name }
func (fake) Available() error                                   { return nil }
func (fake) Version() (string, error)                           { return "1.0", nil }
func (fake) Major() string                                      { return "1" }
func (fake) KnownVersion() string                               { return "1.0" }
func (fake) Defaults() Defaults                                 { return Defaults{} }
func (fake) Init(context.Context, string, string, string) error { return nil }
func (fake) WaitReady(context.Context, *Server, Access) error   { return nil }
func (fake) CreateDatabase(context.Context, *Server, Access, string) error {
	return nil
}
func (fake) SetPassword(context.Context, *Server, Access, string) error { return nil }
func (fake) LogPath(string) string                                      { return "" }
func (fake) Settings(string, Instance) ([]string, error)                { return nil, nil }
func (fake) Start(string, int, *Listen, []string, ...*os.File) (*Server, error) {
	return nil, nil
}

// withBackups is a fake engine with the Backups capability.
type withBackups struct{ fake }

func (withBackups) CanBackup() error                                                   { return nil }
func (withBackups) Backup(context.Context, *Server, Access, string, func(int32)) error { return nil }
func (withBackups) CopyStopped(string, string) error                                   { return nil }
func (withBackups) Restore(context.Context, string, string) error                      { return nil }

func TestRegistry(t *testing.T) {
	r := NewRegistry(withBackups{fake{"zeta"}}, fake{"alpha"}, withBackups{fake{"mid"}})
	var all []string
	for _, e := range r.All() {
		all = append(all, e.Name())
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(all, want) {
		t.Errorf("All = %v, want %v (by name)", all, want)
	}
	if e := r.Get("mid"); e == nil || e.Name() != "mid" {
		t.Errorf("Get(mid) = %v", e)
	}
	if e := r.Get("mysql"); e != nil {
		t.Errorf("Get(mysql) = %v, want none", e)
	}
	for _, tc := range []struct {
		name string
		has  func(Engine) bool
		want string
	}{
		{"all, in the order given", nil, "zeta, alpha and mid"},
		{"one capability", Is[Backups], "zeta and mid"},
		{"none has it", Is[Replication], ""},
		{"one has it", func(e Engine) bool { return e.Name() == "alpha" }, "alpha"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Names(tc.has); got != tc.want {
				t.Fatalf("Names = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		known bool
		why   bool
	}{
		{"mysql", true, true},
		{"oracle-ee", true, false},
		{"sqlserver-ex", true, false},
		{"postgres", false, false}, // one minicloud runs: not for this table
		{"nosuch", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, known := Unsupported(tc.name)
			if known != tc.known || (why != "") != tc.why {
				t.Fatalf("Unsupported = %q, %v; want known %v, a reason %v", why, known, tc.known, tc.why)
			}
		})
	}
}
