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

var testScope = state.Scope{Account: "000000000000", Region: "us-east-1"}

// testMember is member id of cluster "c", placed at ip ("" for not placed).
func testMember(id, status, ip string) records.Instance {
	r := records.Instance{DBInstance: rdsapi.DBInstance{DBInstanceIdentifier: ptr(id), DBInstanceStatus: ptr(status), DBClusterIdentifier: ptr("c")}}
	if ip != "" {
		r.ENI = &records.PlacedENI{ID: "eni-" + id, VPCID: "vpc-1", IP: ip}
	}
	return r
}

// testCluster is cluster "c" of members ids, writer the writer.
func testCluster(writer string, ids ...string) records.Cluster {
	cl := records.Cluster{DBCluster: rdsapi.DBCluster{DBClusterIdentifier: ptr("c"),
		Endpoint: ptr("c.cluster-abc.us-east-1.rds.amazonaws.com"), ReaderEndpoint: ptr("c.cluster-ro-abc.us-east-1.rds.amazonaws.com")}}
	for _, id := range ids {
		cl.DBClusterMembers = append(cl.DBClusterMembers, rdsapi.DBClusterMember{DBInstanceIdentifier: ptr(id), IsClusterWriter: ptr(id == writer)})
	}
	return cl
}

// waitName waits until s's DNS name answers ips (sorted) with a
// one-second TTL, rotating or not.
func waitName(t *testing.T, s *Service, name string, ips []string, rotate bool) {
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

// A cluster's endpoint names follow its members' records: the cluster
// endpoint the writer's address, the reader endpoint the available
// readers' (rotating), the writer's when none is available; both with a
// one-second TTL; after a failover (the roles swapped in the cluster
// record) they answer the new writer and the old one as a reader.
func TestClusterEndpointNames(t *testing.T) {
	sc := testScope
	const w, ro = "c.cluster-abc.us-east-1.rds.amazonaws.com.", "c.cluster-ro-abc.us-east-1.rds.amazonaws.com."
	for _, tc := range []struct {
		desc            string
		cl              records.Cluster
		members         []records.Instance
		writer, readers []string
	}{
		{"writer and two available readers", testCluster("w", "w", "r1", "r2", "r3"),
			[]records.Instance{testMember("w", "available", "10.0.1.5"), testMember("r1", "available", "10.0.2.5"), testMember("r2", "available", "10.0.3.5"), testMember("r3", "creating", "10.0.3.6")},
			[]string{"10.0.1.5"}, []string{"10.0.2.5", "10.0.3.5"}},
		{"no reader available: the writer", testCluster("w", "w", "r1"),
			[]records.Instance{testMember("w", "available", "10.0.1.5"), testMember("r1", "rebooting", "10.0.2.5")},
			[]string{"10.0.1.5"}, []string{"10.0.1.5"}},
		{"after a failover", testCluster("r1", "w", "r1"),
			[]records.Instance{testMember("w", "available", "10.0.1.5"), testMember("r1", "available", "10.0.2.5")},
			[]string{"10.0.2.5"}, []string{"10.0.1.5"}},
		{"writer not placed", testCluster("w", "w"), []records.Instance{testMember("w", "creating", "")}, nil, nil},
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
			waitName(t, s, w, tc.writer, false)
			waitName(t, s, ro, tc.readers, true)
		})
	}
}

// A custom endpoint's name answers the available members it selects,
// rotating with a one-second TTL: its static members, else every member of
// its type but the excluded; a READER endpoint never the writer, so a
// failover changes what it answers. A deleted endpoint's name is gone.
func TestCustomEndpointNames(t *testing.T) {
	const name = "e.cluster-custom-abc.us-east-1.rds.amazonaws.com"
	members := []records.Instance{testMember("w", "available", "10.0.1.5"), testMember("r1", "available", "10.0.2.5"),
		testMember("r2", "available", "10.0.3.5"), testMember("r3", "rebooting", "10.0.3.6")}
	for _, tc := range []struct {
		desc   string
		writer string
		ep     records.ClusterEndpoint
		want   []string
	}{
		{"READER with one static member", "w", records.ClusterEndpoint{Type: "READER", Static: []string{"r1"}}, []string{"10.0.2.5"}},
		{"READER: every available reader", "w", records.ClusterEndpoint{Type: "READER"}, []string{"10.0.2.5", "10.0.3.5"}},
		{"ANY but an excluded member", "w", records.ClusterEndpoint{Type: "ANY", Excluded: []string{"r2"}}, []string{"10.0.1.5", "10.0.2.5"}},
		{"ANY static members, one not available", "w", records.ClusterEndpoint{Type: "ANY", Static: []string{"w", "r3"}}, []string{"10.0.1.5"}},
		{"READER static members after a failover", "r1", records.ClusterEndpoint{Type: "READER", Static: []string{"w", "r1"}}, []string{"10.0.1.5"}},
		{"READER static writer: nothing", "w", records.ClusterEndpoint{Type: "READER", Static: []string{"w"}}, []string{}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := New(state.NewMemory(), Config{StateDir: t.TempDir()})
			s.startEndpoints()
			t.Cleanup(s.stopEndpoints)
			cl := testCluster(tc.writer, "w", "r1", "r2", "r3")
			cl.CustomEndpoints = []string{name}
			ep := tc.ep
			ep.ID, ep.Cluster, ep.Address, ep.Status = "e", "c", name, "available"
			update := func(fn func(tx state.Tx) error) {
				t.Helper()
				if err := s.store.Update(context.Background(), fn); err != nil {
					t.Fatal(err)
				}
			}
			update(func(tx state.Tx) error {
				for _, m := range members {
					if err := records.Instances.Put(tx, testScope, *m.DBInstanceIdentifier, m); err != nil {
						return err
					}
				}
				if err := records.ClusterEndpoints.Put(tx, testScope, "e", ep); err != nil {
					return err
				}
				return records.Clusters.Put(tx, testScope, "c", cl)
			})
			waitName(t, s, name+".", tc.want, true)
			update(func(tx state.Tx) error {
				cl.CustomEndpoints = nil
				if err := records.ClusterEndpoints.Delete(tx, testScope, "e"); err != nil {
					return err
				}
				return records.Clusters.Put(tx, testScope, "c", cl)
			})
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, ok := s.EndpointSource().Endpoints().Names[name+"."]; !ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still answers after its endpoint was deleted", name)
				}
			}
		})
	}
}
