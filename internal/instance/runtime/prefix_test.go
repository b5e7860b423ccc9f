package runtime

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidPrefixMatchesItsRegexp checks the hand-written prefix check
// against the regexp it replaced, on the edges of the pattern.
func TestValidPrefixMatchesItsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,31}$`)
	for _, p := range []string{"", "a", "Z", "9", "-a", ".a", "_a", "a-b.c_d", "mc0", strings.Repeat("a", 32), strings.Repeat("a", 33), "a b", "a/b", "a\n", "é"} {
		if got, want := validPrefix(p), re.MatchString(p); got != want {
			t.Errorf("validPrefix(%q) = %v, the regexp says %v", p, got, want)
		}
	}
}
