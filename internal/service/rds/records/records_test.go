package records

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
)

func TestPasswordAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h []AppliedPassword
	h = RecordPassword(h, "first", t0)
	h = RecordPassword(h, "second", t0.Add(time.Hour))
	h = RecordPassword(h, "third", t0.Add(2*time.Hour))
	rec := &Instance{AppliedPassword: "third", Passwords: h}
	for _, tc := range []struct {
		name string
		rec  *Instance
		at   time.Time
		want string
	}{
		{"before the history", rec, t0.Add(-time.Minute), "first"},
		{"first", rec, t0.Add(time.Minute), "first"},
		{"at a change", rec, t0.Add(time.Hour), "second"},
		{"second", rec, t0.Add(90 * time.Minute), "second"},
		{"latest", rec, t0.Add(3 * time.Hour), "third"},
		{"no history", &Instance{DBInstance: rdsapi.DBInstance{}, AppliedPassword: "current"}, t0, "current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rec.PasswordAt(tc.at); got != tc.want {
				t.Fatalf("passwordAt = %q, want %q", got, tc.want)
			}
		})
	}
	// The history stays short: old entries go, the one in effect at the
	// start of the longest restore window stays.
	var long []AppliedPassword
	for i := range 50 {
		long = RecordPassword(long, string(rune('a'+i%26)), t0.Add(time.Duration(i)*time.Minute))
	}
	if len(long) != MaxPasswords || long[len(long)-1].Since != t0.Add(49*time.Minute) {
		t.Fatalf("history of %d, last %v", len(long), long[len(long)-1])
	}
	old := RecordPassword([]AppliedPassword{{Password: "a", Since: t0}, {Password: "b", Since: t0.Add(time.Hour)}}, "c", t0.Add(40*24*time.Hour))
	if len(old) != 2 || old[0].Password != "b" {
		t.Fatalf("history %+v, want b and c", old)
	}
}
