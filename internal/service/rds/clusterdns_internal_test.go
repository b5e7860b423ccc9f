package rds

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// A cluster's endpoint names follow its members' records: the cluster
// endpoint the writer's address, the reader endpoint the available
// readers' (rotating), the writer's when none is available; both with a
// one-second TTL; after a failover (the roles swapped in the cluster
// record) they answer the new writer and the old one as a reader.
func TestClusterEndpointNames(t *testing.T) {
	sc := state.Scope{Account: "000000000000", Region: "us-east-1"}
	member := func(id, status, ip string) records.Instance {
		r := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr(id), DBInstanceStatus: ptr(status), DBClusterIdentifier: ptr("c")}}
		if ip != "" {
			r.ENI = &records.PlacedENI{ID: "eni-" + id, VPCID: "vpc-1", IP: ip}
		}
		return r
	}
	cluster := func(writer string, ids ...string) records.Cluster {
		cl := records.Cluster{DBCluster: rdsapi.DBCluster{DBClusterIdentifier: ptr("c"),
			Endpoint: ptr("c.cluster-abc.us-east-1.rds.amazonaws.com"), ReaderEndpoint: ptr("c.cluster-ro-abc.us-east-1.rds.amazonaws.com")}}
		for _, id := range ids {
			cl.DBClusterMembers = append(cl.DBClusterMembers, rdsapi.DBClusterMember{DBInstanceIdentifier: ptr(id), IsClusterWriter: ptr(id == writer)})
		}
		return cl
	}
	const w, ro = "c.cluster-abc.us-east-1.rds.amazonaws.com.", "c.cluster-ro-abc.us-east-1.rds.amazonaws.com."
	for _, tc := range []struct {
		desc            string
		cl              records.Cluster
		members         []records.Instance
		writer, readers []string
	}{
		{"writer and two available readers", cluster("w", "w", "r1", "r2", "r3"),
			[]records.Instance{member("w", "available", "10.0.1.5"), member("r1", "available", "10.0.2.5"), member("r2", "available", "10.0.3.5"), member("r3", "creating", "10.0.3.6")},
			[]string{"10.0.1.5"}, []string{"10.0.2.5", "10.0.3.5"}},
		{"no reader available: the writer", cluster("w", "w", "r1"),
			[]records.Instance{member("w", "available", "10.0.1.5"), member("r1", "rebooting", "10.0.2.5")},
			[]string{"10.0.1.5"}, []string{"10.0.1.5"}},
		{"after a failover", cluster("r1", "w", "r1"),
			[]records.Instance{member("w", "available", "10.0.1.5"), member("r1", "available", "10.0.2.5")},
			[]string{"10.0.2.5"}, []string{"10.0.1.5"}},
		{"writer not placed", cluster("w", "w"), []records.Instance{member("w", "creating", "")}, nil, nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := New(state.NewMemory(), Config{StateDir: t.TempDir()})
			s.startEndpoints()
			t.Cleanup(s.stopEndpoints)
			err := s.store.Update(context.Background(), func(tx state.Tx) error {
				for _, m := range tc.members {
					if err := records.Instances.Put(tx, sc, *m.DBInstanceIdentifier, m); err != nil {
						return err
					}
				}
				return records.Clusters.Put(tx, sc, "c", tc.cl)
			})
			if err != nil {
				t.Fatal(err)
			}
			want := func(name string, ips []string, rotate bool) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for {
					e, ok := s.EndpointSource().Endpoints().Names[name]
					var got []string
					for _, ip := range e.PrivateIPs {
						got = append(got, ip.String())
					}
					slices.Sort(got)
					if ok && slices.Equal(got, ips) && e.AnswerTTL() == 1 && e.Rotate == rotate {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: %v (found %v, TTL %d, rotate %v), want %v", name, got, ok, e.AnswerTTL(), e.Rotate, ips)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			want(w, tc.writer, false)
			want(ro, tc.readers, true)
		})
	}
}
