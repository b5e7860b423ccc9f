package state

import (
	"regexp"
	"testing"
)

func TestIDShapes(t *testing.T) {
	tests := []struct {
		name string
		gen  func() string
		re   string
	}{
		{"NewID", func() string { return NewID("vpc") }, `^vpc-[0-9a-f]{17}$`},
		{"NewID eipalloc", func() string { return NewID("eipalloc") }, `^eipalloc-[0-9a-f]{17}$`},
		{"NewShortID", func() string { return NewShortID("sg") }, `^sg-[0-9a-f]{8}$`},
		{"NewRequestID", NewRequestID, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{"NewAccessKeyID AKIA", func() string { return NewAccessKeyID("AKIA") }, `^AKIA[A-Z2-7]{16}$`},
		{"NewAccessKeyID ASIA", func() string { return NewAccessKeyID("ASIA") }, `^ASIA[A-Z2-7]{16}$`},
		{"NewSecretKey", NewSecretKey, `^[A-Za-z0-9+/]{40}$`},
		{"NewUniqueID", func() string { return NewUniqueID("AROA") }, `^AROA[A-Z2-7]{17}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			for i := 0; i < 200; i++ {
				id := tt.gen()
				if !re.MatchString(id) {
					t.Fatalf("%q does not match %s", id, tt.re)
				}
				if seen[id] {
					t.Fatalf("duplicate %q", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		prefix, s string
		want      bool
	}{
		{"i", NewID("i"), true},
		{"i", NewShortID("i"), true},
		{"vpc", "vpc-0123456789abcdef0", true},
		{"vpc", "vpc-1a2b3c4d", true},
		{"vpc", "vpc-1A2B3C4D", false}, // upper case
		{"vpc", "vpc-1a2b3c4", false},  // 7 digits
		{"vpc", "vpc-0123456789abcdef", false},
		{"vpc", "vpc-1a2b3c4g", false},
		{"vpc", "subnet-1a2b3c4d", false},
		{"vpc", "vpc1a2b3c4d", false},
		{"vpc", "vpc-", false},
		{"vpc", "", false},
		{"sg", "sgx-1a2b3c4d", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.prefix, tt.s); got != tt.want {
			t.Errorf("ValidID(%q, %q) = %v, want %v", tt.prefix, tt.s, got, tt.want)
		}
	}
}
