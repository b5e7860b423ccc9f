package state

import (
	"slices"
	"strings"
)

// Filter is an EC2-style Describe* filter (Filter.N.Name / Filter.N.Value.M).
type Filter struct {
	Name   string
	Values []string
}

// Match reports whether one resource satisfies every filter (AND across
// filters, OR across a filter's values). get returns the resource's values
// for a filter name — several for multi-valued attributes, any one of which
// may match — and ok=false if the operation does not support that name,
// which is an InvalidParameterValue error as in EC2. Values may use '*'
// (any run) and '?' (any one character); '\' escapes them. A filter with no
// values matches nothing.
func Match(filters []Filter, get func(name string) ([]string, bool)) (bool, error) {
	matched := true
	for _, f := range filters {
		have, ok := get(f.Name)
		if !ok {
			return false, invalidFilter(f.Name)
		}
		// Keep checking names after a miss so an invalid filter is reported
		// regardless of which resource is examined first.
		if matched && !matchAny(f.Values, have) {
			matched = false
		}
	}
	return matched, nil
}

// MatchWithTags is Match with EC2's built-in tag filters handled from tags:
// "tag:<key>" (the tag's value), "tag-key" (all keys) and "tag-value" (all
// values). Other names go to get, which may be nil.
func MatchWithTags(filters []Filter, tags []Tag, get func(name string) ([]string, bool)) (bool, error) {
	return Match(filters, func(name string) ([]string, bool) {
		switch {
		case strings.HasPrefix(name, "tag:"):
			k := name[len("tag:"):]
			for _, t := range tags {
				if t.Key == k {
					return []string{t.Value}, true
				}
			}
			return nil, true // known filter; this resource lacks the tag
		case name == "tag-key":
			out := make([]string, len(tags))
			for i, t := range tags {
				out[i] = t.Key
			}
			return out, true
		case name == "tag-value":
			out := make([]string, len(tags))
			for i, t := range tags {
				out[i] = t.Value
			}
			return out, true
		case get == nil:
			return nil, false
		}
		return get(name)
	})
}

// CheckFilterNames validates filter names up front — useful when there may
// be no resources to Match against, since EC2 rejects an unknown filter
// even then. Tag filters are always accepted.
func CheckFilterNames(filters []Filter, names ...string) error {
	for _, f := range filters {
		if strings.HasPrefix(f.Name, "tag:") || f.Name == "tag-key" || f.Name == "tag-value" || slices.Contains(names, f.Name) {
			continue
		}
		return invalidFilter(f.Name)
	}
	return nil
}

func invalidFilter(name string) *Error {
	return InvalidParameterValue("The filter '%s' is invalid", name)
}

func matchAny(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if Wildcard(p, h) {
				return true
			}
		}
	}
	return false
}

// Wildcard reports whether s matches pattern, where '*' matches any run of
// characters, '?' exactly one, and '\' makes the next character literal.
// Matching is case-sensitive and rune-aware, as EC2's is.
func Wildcard(pattern, s string) bool {
	p := []rune(pattern)
	r := []rune(s)
	// Iterative glob with single-star backtracking: linear-ish, no
	// exponential blow-up on patterns like "*a*a*a*b".
	pi, si := 0, 0
	starP, starS := -1, -1
	for si < len(r) {
		if pi < len(p) {
			c, lit, next := p[pi], false, pi+1
			if c == '\\' && pi+1 < len(p) {
				c, lit, next = p[pi+1], true, pi+2
			}
			switch {
			case !lit && c == '*':
				starP, starS = next, si
				pi = next
				continue
			case (!lit && c == '?') || c == r[si]:
				pi, si = next, si+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
