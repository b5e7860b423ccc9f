package main

import (
	"strings"
	"testing"
)

func TestServerURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:4566", "http://127.0.0.1:4566"},
		{"localhost:4566", "http://localhost:4566"},
		{":4566", "http://127.0.0.1:4566"},
		{"0.0.0.0:4566", "http://127.0.0.1:4566"},
		{"[::]:4566", "http://[::1]:4566"},
		{"[::1]:4566", "http://[::1]:4566"},
		{"http://127.0.0.1:4566/", "http://127.0.0.1:4566"},
		{"https://[::1]:4566", "https://[::1]:4566"},
	} {
		if got := serverURL(tc.in); got != tc.want {
			t.Errorf("serverURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDefaultServer checks that diagram and databases find the server the
// same way: MINICLOUD_LISTEN, never AWS_ENDPOINT_URL (which may name another
// host).
func TestDefaultServer(t *testing.T) {
	for _, tc := range []struct{ listen, awsEndpoint, want string }{
		{"", "", "127.0.0.1:4566"},
		{"", "http://elsewhere.example:4566", "127.0.0.1:4566"},
		{"127.0.0.1:5000", "http://elsewhere.example:4566", "127.0.0.1:5000"},
	} {
		t.Setenv("MINICLOUD_LISTEN", tc.listen)
		t.Setenv("AWS_ENDPOINT_URL", tc.awsEndpoint)
		if got := defaultServer(); got != tc.want {
			t.Errorf("MINICLOUD_LISTEN=%q AWS_ENDPOINT_URL=%q: %q, want %q", tc.listen, tc.awsEndpoint, got, tc.want)
		}
	}
}

func TestReachHint(t *testing.T) {
	for _, tc := range []struct{ addr, dig string }{
		{"127.0.0.1:53", "dig +short @127.0.0.1"},
		{"127.0.0.1:5353", "dig +short @127.0.0.1 -p 5353"},
		{"[::1]:5353", "dig +short @::1 -p 5353"},
		{"[::1]:53", "dig +short @::1"},
	} {
		if got := reachHint(tc.addr); !strings.Contains(got, tc.dig+" app") || !strings.Contains(got, "$(minicloud resolve app.example.test)") {
			t.Errorf("reachHint(%q) = %q, want %q", tc.addr, got, tc.dig)
		}
	}
}
