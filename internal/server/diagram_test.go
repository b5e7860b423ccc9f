package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
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
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/_minicloud/diagram"+tc.query, nil))
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

// pagedRDS answers DescribeDBInstances as RDS does, at most 100 a page with
// a Marker for the rest.
type pagedRDS struct {
	ids   []string
	calls int
}

func (p *pagedRDS) DescribeDBInstances(_ context.Context, in *rdsapi.DescribeDBInstancesMessage) (*rdsapi.DBInstanceMessage, error) {
	p.calls++
	start := 0
	if in.Marker != nil {
		var err error
		if start, err = strconv.Atoi(*in.Marker); err != nil {
			return nil, err
		}
	}
	end := min(start+100, len(p.ids))
	out := &rdsapi.DBInstanceMessage{}
	for _, id := range p.ids[start:end] {
		out.DBInstances = append(out.DBInstances, rdsapi.DBInstance{DBInstanceIdentifier: new(id)})
	}
	if end < len(p.ids) {
		out.Marker = new(strconv.Itoa(end))
	}
	return out, nil
}

// TestDiagramDatabasesFollowsMarker checks that the diagram draws every
// database, not only DescribeDBInstances's first page.
func TestDiagramDatabasesFollowsMarker(t *testing.T) {
	for _, tc := range []struct{ n, calls int }{{0, 1}, {100, 1}, {101, 2}, {250, 3}} {
		p := &pagedRDS{}
		for i := range tc.n {
			p.ids = append(p.ids, fmt.Sprintf("db-%03d", i))
		}
		dbs, err := diagramRDS{p}.Databases(context.Background(), "000000000000", "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(dbs) != tc.n || p.calls != tc.calls {
			t.Errorf("%d databases: drew %d in %d calls, want %d in %d", tc.n, len(dbs), p.calls, tc.n, tc.calls)
		}
		for i, db := range dbs {
			if db.ID != p.ids[i] {
				t.Fatalf("database %d is %s, want %s", i, db.ID, p.ids[i])
			}
		}
	}
}
