package gateway

import (
	"regexp"
	"strings"
	"testing"
)

// TestScopeChecksMatchTheirRegexps checks the byte-by-byte scope and
// signature checks against the regexps they replaced, on the edges of each.
func TestScopeChecksMatchTheirRegexps(t *testing.T) {
	inputs := []string{
		"", "2024010", "20240101", "202401011", "2024010a", "２0240101",
		"us-east-1", "US-EAST-1", "us_east_1", "a", "s3.amazonaws", "sts",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "ab\n", "a b",
		strings.Repeat("0f", 32), strings.Repeat("0F", 32), strings.Repeat("0f", 32) + "0", strings.Repeat("g", 64),
	}
	checks := []struct {
		name string
		got  byteRun
		re   string
	}{
		{"scopeDate", scopeDate, `^\d{8}$`},
		{"scopeRegion", scopeRegion, `^[a-z0-9-]{1,64}$`},
		{"scopeSvc", scopeSvc, `^[a-z0-9.-]{1,64}$`},
		{"hexSig", hexSig, `^[0-9a-f]{64}$`},
	}
	for _, c := range checks {
		re := regexp.MustCompile(c.re)
		for _, in := range inputs {
			if got, want := c.got.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%s.MatchString(%q) = %v, the regexp %s says %v", c.name, in, got, c.re, want)
			}
		}
	}
}
