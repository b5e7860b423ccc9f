package filterpattern

import "testing"

func TestTerms(t *testing.T) {
	events := []string{
		"[ERROR 400] BAD REQUEST",
		"[ERROR 401] UNAUTHORIZED REQUEST",
		"[WARNING 419] EXPIRED ACCESS",
		"[INFO 200] SUCCESS",
		"[ERROR] Exiting with code 1",
	}
	tests := []struct {
		pattern string
		want    []int // indexes of events matched
	}{
		{"", []int{0, 1, 2, 3, 4}},
		{"ERROR", []int{0, 1, 4}},
		{"ERROR REQUEST", []int{0, 1}},
		{"ERROR -Exiting", []int{0, 1}},
		{"?ERROR ?WARNING", []int{0, 1, 2, 4}},
		{`"BAD REQUEST"`, []int{0}},
		{`"ERROR 40"`, []int{0, 1}},
		{"error", nil},
		{`-"ERROR"`, []int{2, 3}},
		{`%\[ERROR 40[0-9]\]%`, []int{0, 1}},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		var got []int
		for i, e := range events {
			if _, ok := p.Match(e); ok {
				got = append(got, i)
			}
		}
		if !equalInts(got, tt.want) {
			t.Errorf("%q matched %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
