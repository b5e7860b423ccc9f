package state

import "testing"

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ABC", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"?", "é", true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false},
		{"10.0.*", "10.0.1.0/24", true},
		{`a\*c`, "a*c", true},
		{`a\*c`, "abc", false},
		{`a\?c`, "a?c", true},
		{`a\?c`, "abc", false},
		{`a\\b`, `a\b`, true},
		{`trailing\`, `trailing\`, true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := Wildcard(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	attrs := map[string][]string{
		"vpc-id":     {"vpc-1"},
		"cidr-block": {"10.0.0.0/16", "10.1.0.0/16"}, // multi-valued
		"state":      {"available"},
	}
	get := func(n string) ([]string, bool) { v, ok := attrs[n]; return v, ok }
	tags := []Tag{{"Name", "web-1"}, {"env", "prod"}}
	tests := []struct {
		name    string
		filters []Filter
		want    bool
		errCode string
	}{
		{"no filters", nil, true, ""},
		{"exact", []Filter{{"vpc-id", []string{"vpc-1"}}}, true, ""},
		{"OR across values", []Filter{{"vpc-id", []string{"vpc-2", "vpc-1"}}}, true, ""},
		{"AND across filters", []Filter{{"vpc-id", []string{"vpc-1"}}, {"state", []string{"pending"}}}, false, ""},
		{"any resource value", []Filter{{"cidr-block", []string{"10.1.*"}}}, true, ""},
		{"no value matches", []Filter{{"cidr-block", []string{"192.*"}}}, false, ""},
		{"empty values match nothing", []Filter{{"vpc-id", nil}}, false, ""},
		{"unknown name", []Filter{{"bogus", []string{"x"}}}, false, CodeInvalidParameterValue},
		{"unknown name after a miss", []Filter{{"state", []string{"x"}}, {"bogus", []string{"x"}}}, false, CodeInvalidParameterValue},
		{"tag:key", []Filter{{"tag:Name", []string{"web-*"}}}, true, ""},
		{"tag:key wrong value", []Filter{{"tag:Name", []string{"db-*"}}}, false, ""},
		{"tag:missing", []Filter{{"tag:team", []string{"*"}}}, false, ""},
		{"tag-key", []Filter{{"tag-key", []string{"env"}}}, true, ""},
		{"tag-key miss", []Filter{{"tag-key", []string{"team"}}}, false, ""},
		{"tag-value", []Filter{{"tag-value", []string{"prod"}}}, true, ""},
		{"tags and attrs", []Filter{{"tag:env", []string{"prod"}}, {"state", []string{"available"}}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MatchWithTags(tt.filters, tags, get)
			if tt.errCode != "" {
				if !IsCode(err, tt.errCode) {
					t.Fatalf("err = %v, want %s", err, tt.errCode)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("MatchWithTags = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	_, err := Match([]Filter{{"bogus", nil}}, get)
	if err == nil || err.Error() != "InvalidParameterValue: The filter 'bogus' is invalid" {
		t.Fatalf("Match unknown filter: %v", err)
	}
	if _, err := MatchWithTags([]Filter{{"vpc-id", []string{"x"}}}, nil, nil); !IsCode(err, CodeInvalidParameterValue) {
		t.Fatalf("nil get: %v", err)
	}
}

func TestCheckFilterNames(t *testing.T) {
	tests := []struct {
		filters []Filter
		ok      bool
	}{
		{nil, true},
		{[]Filter{{Name: "vpc-id"}, {Name: "tag:Name"}, {Name: "tag-key"}, {Name: "tag-value"}}, true},
		{[]Filter{{Name: "vpc-id"}, {Name: "nope"}}, false},
	}
	for _, tt := range tests {
		if err := CheckFilterNames(tt.filters, "vpc-id", "state"); (err == nil) != tt.ok {
			t.Errorf("CheckFilterNames(%v) = %v", tt.filters, err)
		}
	}
}
