package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/state"
)

// TestDiagramWritesNothing checks that looking at a region is not using it:
// the diagram refuses a region EC2 does not have, and of a valid region
// with nothing in it draws an empty diagram without creating the default
// VPC (which the data plane would build on the host).
func TestDiagramWritesNothing(t *testing.T) {
	srv, err := New(Config{Ephemeral: true, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	for _, tc := range []struct {
		query  string
		status int
		body   string
	}{
		{"?region=mars-north-1", http.StatusBadRequest, "unknown region"},
		{"?region=a/b", http.StatusBadRequest, "unknown region"},
		{"?region=eu-west-1", http.StatusOK, "graph TD"},
		{"?account=111111111111&region=ap-southeast-2", http.StatusOK, "graph TD"},
		{"", http.StatusOK, "graph TD"},
	} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_minicloud/diagram"+tc.query, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("diagram%s: %d %s, want %d with %q", tc.query, rec.Code, rec.Body, tc.status, tc.body)
		}
		if keys := storeKeys(t, srv.store); len(keys) != 0 {
			t.Fatalf("diagram%s wrote %d records, e.g. %s", tc.query, len(keys), keys[0])
		}
	}
	// The server's own check, for callers other than the gateway.
	if _, err := srv.Diagram(context.Background(), "000000000000", "nowhere"); err == nil || !strings.Contains(err.Error(), "unknown region") {
		t.Errorf("Diagram(nowhere): %v", err)
	}
}

func storeKeys(t *testing.T, st state.Store) []string {
	t.Helper()
	var keys []string
	if err := st.View(context.Background(), func(tx state.Tx) error {
		return tx.Scan("", func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}
