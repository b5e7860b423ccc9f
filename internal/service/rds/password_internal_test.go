package rds

import (
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
)

func TestPasswordAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h []appliedPassword
	h = recordPassword(h, "first", t0)
	h = recordPassword(h, "second", t0.Add(time.Hour))
	h = recordPassword(h, "third", t0.Add(2*time.Hour))
	rec := &instanceRecord{AppliedPassword: "third", Passwords: h}
	for _, tc := range []struct {
		name string
		rec  *instanceRecord
		at   time.Time
		want string
	}{
		{"before the history", rec, t0.Add(-time.Minute), "first"},
		{"first", rec, t0.Add(time.Minute), "first"},
		{"at a change", rec, t0.Add(time.Hour), "second"},
		{"second", rec, t0.Add(90 * time.Minute), "second"},
		{"latest", rec, t0.Add(3 * time.Hour), "third"},
		{"no history", &instanceRecord{DBInstance: rdsapi.DBInstance{}, AppliedPassword: "current"}, t0, "current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := passwordAt(tc.rec, tc.at); got != tc.want {
				t.Fatalf("passwordAt = %q, want %q", got, tc.want)
			}
		})
	}
	// The history stays short: old entries go, the one in effect at the
	// start of the longest restore window stays.
	var long []appliedPassword
	for i := range 50 {
		long = recordPassword(long, string(rune('a'+i%26)), t0.Add(time.Duration(i)*time.Minute))
	}
	if len(long) != maxPasswords || long[len(long)-1].Since != t0.Add(49*time.Minute) {
		t.Fatalf("history of %d, last %v", len(long), long[len(long)-1])
	}
	old := recordPassword([]appliedPassword{{Password: "a", Since: t0}, {Password: "b", Since: t0.Add(time.Hour)}}, "c", t0.Add(40*24*time.Hour))
	if len(old) != 2 || old[0].Password != "b" {
		t.Fatalf("history %+v, want b and c", old)
	}
}
