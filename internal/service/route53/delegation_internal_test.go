package route53

import (
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// TestMarkShadowed: among public zones of one name the delegated one
// answers if it exists, else the oldest (then the lowest ID); private
// zones and names with one public zone are left alone.
func TestMarkShadowed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	zones := func() []*dnszone.Zone {
		return []*dnszone.Zone{
			{ID: "ZA", Name: "a.", Created: t0.Add(2 * time.Second)},
			{ID: "ZB", Name: "a.", Created: t0.Add(1 * time.Second)},
			{ID: "ZC", Name: "a.", Created: t0.Add(1 * time.Second)},
			{ID: "ZP", Name: "a.", Private: true},
			{ID: "ZO", Name: "b."},
			{ID: "ZX", Name: "c."}, // zero times: created before the field
			{ID: "ZW", Name: "c."},
		}
	}
	for _, tc := range []struct {
		name      string
		delegated map[string]string
		answering []string
	}{
		{"oldest, then lowest ID", nil, []string{"ZB", "ZO", "ZW"}},
		{"delegated", map[string]string{"a.": "ZA", "c.": "ZX"}, []string{"ZA", "ZO", "ZX"}},
		{"delegated to a deleted zone", map[string]string{"a.": "ZGONE"}, []string{"ZB", "ZO", "ZW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zs := zones()
			before := slices.Clone(zs)
			markShadowed(zs, tc.delegated)
			for i, z := range before {
				if z.Shadowed {
					t.Errorf("zone %s of the old snapshot changed", before[i].ID)
				}
			}
			var answering []string
			for _, z := range zs {
				if z.Private && z.Shadowed {
					t.Errorf("private zone %s shadowed", z.ID)
				}
				if !z.Private && !z.Shadowed {
					answering = append(answering, z.ID)
				}
			}
			if len(answering) != len(tc.answering) {
				t.Fatalf("answering %v, want %v", answering, tc.answering)
			}
			for i := range answering {
				if answering[i] != tc.answering[i] {
					t.Fatalf("answering %v, want %v", answering, tc.answering)
				}
			}
		})
	}
}
