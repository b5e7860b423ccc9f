package main

import (
	"bytes"
	"strings"
	"testing"
)

// The DB clusters follow the instances with their two loopback addresses;
// no clusters, no table.
func TestWriteClusters(t *testing.T) {
	for _, tc := range []struct {
		desc string
		rows []clusterRow
		want []string
	}{
		{"none", nil, nil},
		{"one", []clusterRow{{Account: "000000000000", Region: "us-east-1", ID: "orders", Status: "available", Writer: "orders-1",
			Loopback: "127.0.0.1:40001", ReaderLoopback: "127.0.0.1:40002", Endpoint: "orders.cluster-x.us-east-1.rds.amazonaws.com:5432"}},
			[]string{"DB CLUSTER", "READER LOOPBACK", "orders-1", "127.0.0.1:40001", "127.0.0.1:40002", "orders.cluster-x"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var b bytes.Buffer
			writeClusters(&b, tc.rows)
			if tc.want == nil && b.Len() != 0 {
				t.Fatalf("output %q, want none", b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
