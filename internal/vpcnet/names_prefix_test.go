package vpcnet

import (
	"regexp"
	"testing"
)

// TestValidPrefixMatchesItsRegexp checks the hand-written prefix check
// against the regexp it replaced, on the edges of the pattern.
func TestValidPrefixMatchesItsRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)
	for _, p := range []string{"", "a", "mc", "mc0", "abcdefgh", "abcdefghi", "0mc", "Mc", "m-c", "m_c", "mc\n", "é", "a9999999"} {
		if got, want := validPrefix(p) == nil, re.MatchString(p); got != want {
			t.Errorf("validPrefix(%q) accepts = %v, the regexp says %v", p, got, want)
		}
	}
}
