package lazyregexp

import (
	"slices"
	"testing"
)

func TestMatchesLikeRegexp(t *testing.T) {
	r := New(`^([a-z]+)-(\d+)$`)
	tests := []struct {
		in    string
		match bool
		sub   []string
	}{
		{"abc-12", true, []string{"abc-12", "abc", "12"}},
		{"abc-", false, nil},
		{"ABC-12", false, nil},
		{"abc-12\n", false, nil},
	}
	for _, tt := range tests {
		if got := r.MatchString(tt.in); got != tt.match {
			t.Errorf("MatchString(%q) = %v, want %v", tt.in, got, tt.match)
		}
		if got := r.FindStringSubmatch(tt.in); !slices.Equal(got, tt.sub) {
			t.Errorf("FindStringSubmatch(%q) = %q, want %q", tt.in, got, tt.sub)
		}
		if got := r.FindSubmatch([]byte(tt.in)); len(got) != len(tt.sub) {
			t.Errorf("FindSubmatch(%q) = %q, want %q", tt.in, got, tt.sub)
		}
	}
	if got := New(`(\d)`).FindAllSubmatch([]byte("a1b2"), -1); len(got) != 2 || string(got[1][1]) != "2" {
		t.Errorf("FindAllSubmatch = %q, want two matches, the second 2", got)
	}
	if got := r.String(); got != `^([a-z]+)-(\d+)$` {
		t.Errorf("String() = %q", got)
	}
}

// TestBadPatternPanicsInTests checks that a bad pattern fails its package's
// tests at once rather than the first request that uses it.
func TestBadPatternPanicsInTests(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(`(`) did not panic under go test")
		}
	}()
	New(`(`)
}
