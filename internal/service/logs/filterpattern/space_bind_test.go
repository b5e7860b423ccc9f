package filterpattern

import (
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bindReference is the search bind replaced: every split of the words
// between the ellipses, longest first, the conditions checked at the end.
func bindReference(fields []spaceField, words []string) (map[string]string, bool) {
	env := make(map[string]string, len(words)+len(fields))
	var walk func(fi, wi int) bool
	walk = func(fi, wi int) bool {
		if fi == len(fields) {
			if wi != len(words) {
				return false
			}
			for _, f := range fields {
				if f.cond != nil && !f.cond.eval(env) {
					return false
				}
			}
			return true
		}
		f := fields[fi]
		if f.ellipsis {
			for n := len(words) - wi; n >= 0; n-- {
				if walk(fi+1, wi+n) {
					return true
				}
			}
			return false
		}
		if wi == len(words) {
			return false
		}
		if f.name != "" {
			env[f.name] = words[wi]
		}
		env[strconv.Itoa(wi+1)] = words[wi]
		return walk(fi+1, wi+1)
	}
	if !walk(0, 0) {
		return nil, false
	}
	for i, w := range words {
		env[strconv.Itoa(i+1)] = w
	}
	return env, true
}

// spaceFields parses a space-delimited pattern's slots as compileSpace does.
func spaceFields(t testing.TB, pattern string) []spaceField {
	t.Helper()
	fields, err := parseSpaceFields(pattern[1 : len(pattern)-1])
	if err != nil {
		t.Fatalf("%q: %v", pattern, err)
	}
	return fields
}

// Four ellipses over 2,000 words once took a step per way of placing
// the four named fields (~n⁴); now each (slot, word) pair costs O(1).
func TestBindSteps(t *testing.T) {
	words := make([]string, 2000)
	for i := range words {
		words[i] = "w" + strconv.Itoa(i%7)
	}
	msg := strings.Join(words, " ")
	tests := []struct {
		pattern, message string
		match            bool
	}{
		{"[..., a, ..., b, ..., c, ..., d = zzz]", msg, false},
		{"[..., a = zzz, ..., b, ..., c, ..., d]", msg, false},
		{"[..., a = w3, ..., b = w5, ..., c = zzz, ..., d]", msg, false},
		{"[..., a = w3, ..., b = w5, ..., c = w1, ..., d = zzz]", msg + " zzz", true},
		{"[x, ..., a = w3, ..., b = w5, ..., c = w1, ..., d = w2, y = q]", msg, false},
		{"[..., a, ..., b, ..., c, ..., d = zzz]", "zzz " + msg, false},
		// A condition on a field whose word no ellipsis moves keeps the bound.
		{"[a, ..., b, ..., c, ..., d = zzz && a = w0]", msg, false},
		{"[a, ..., b = w1, ..., c = w2, ..., d = w3 || a = zzz]", msg, false},
		{"[a = w0, ..., b = w1, ..., c = w2, ..., d = w4 && a = w0]", msg, true},
	}
	for _, tt := range tests {
		fields := spaceFields(t, tt.pattern)
		words := splitFields(tt.message)
		start := time.Now()
		_, _, ok, steps := newBinder(fields).bindCount(words)
		if ok != tt.match {
			t.Errorf("%s: match %v, want %v", tt.pattern, ok, tt.match)
		}
		if limit := 3 * (len(fields) + 1) * (len(words) + 1); steps > limit {
			t.Errorf("%s: %d steps, want at most %d", tt.pattern, steps, limit)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", tt.pattern, d)
		}
	}
}

// The new search agrees with the old one, fields bound included.
func TestBindAgreesWithReference(t *testing.T) {
	patterns := []string{
		"[..., a, ..., b = x]",
		"[a, ..., b = x, ...]",
		"[..., a = x || b = y, ..., b]",
		"[a = x, ..., a = y]",
		"[a, ..., a = y, ...]",
		"[..., a = x*, b != y, ..., c]",
		"[w1!=ERROR && w1!=WARN, ...]",
		"[a, ..., b = x && a = y, ...]",
		"[..., a, ..., b,]",
		"[..., a = x, ..., b = nope]",
		"[..., a, ..., b = x && a = y]",
		"[a, ..., b, ..., c = x && a = y]",
		"[..., a, b, ..., c = x || b = y, ...]",
		"[a, ..., b = y || a = x, ..., a]",
	}
	messages := []string{"", "x", "y", "x y", "y x", "x x y", "y y x x", "a x b y x", "x y z x y z", "y q x x y"}
	for _, pattern := range patterns {
		fields := spaceFields(t, pattern)
		b := newBinder(fields)
		for _, m := range messages {
			words := splitFields(m)
			want, wantOK := bindReference(fields, words)
			got, ok := b.bind(words)
			if ok != wantOK || !maps.Equal(got, want) {
				t.Errorf("%s on %q: %v %v, want %v %v", pattern, m, got, ok, want, wantOK)
			}
		}
	}
}

func FuzzBind(f *testing.F) {
	f.Add("[..., a, ..., b, ..., c, ..., d = zzz]", "w0 w1 w2 w3 w4 w5 zzz w6")
	f.Add("[..., a = x || b = y, ..., b]", "x y x y")
	f.Add("[a = x, ..., a = y]", "x y z y")
	f.Add("[..., a, ..., b = x && a = y, ..., c]", "y x y x y")
	f.Add("[a, ..., b, ..., c = x || a = y, ..., a = z]", "y x z x z")
	f.Add("[ip, ..., status = 4* && bytes > 10, ]", `1.2.3.4 - "GET /" 404 12 z`)
	f.Fuzz(func(t *testing.T, pattern, message string) {
		if len(pattern) < 2 || pattern[0] != '[' || pattern[len(pattern)-1] != ']' {
			return
		}
		fields, err := parseSpaceFields(pattern[1 : len(pattern)-1])
		if err != nil {
			return
		}
		words := splitFields(message)
		if len(words) > 12 || len(fields) > 8 {
			return // keep the reference search small
		}
		want, wantOK := bindReference(fields, words)
		got, ok := newBinder(fields).bind(words)
		if ok != wantOK || !maps.Equal(got, want) {
			t.Errorf("%s on %q: %v %v, want %v %v", pattern, message, got, ok, want, wantOK)
		}
	})
}
