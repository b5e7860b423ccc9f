package api

import "testing"

func TestPageToken(t *testing.T) {
	garbage := "not base64!"
	other := PageToken("other", "x")
	tests := []struct {
		name  string
		token *string
		want  string
		ok    bool
	}{
		{"first page", nil, "", true},
		{"round trip", PageToken("list", "a:b/c"), "a:b/c", true},
		{"empty value", PageToken("list", ""), "", true},
		{"another listing's", other, "", false},
		{"not a token", &garbage, "", false},
	}
	for _, tc := range tests {
		v, ok := ParsePageToken("list", tc.token)
		if v != tc.want || ok != tc.ok {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}
