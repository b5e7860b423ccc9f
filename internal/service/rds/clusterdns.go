package rds

import (
	"context"
	"net/netip"
	"strings"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The DNS names of Aurora DB clusters (published with the DB instances'
// through EndpointSource): the cluster endpoint answers its writer's
// address; the reader endpoint every available reader's, turned by one on
// each answer so that clients taking the first spread their new
// connections, and the writer's when no reader is available (as on AWS);
// a custom endpoint the available members it selects
// (records.ClusterEndpoint.Selects), turned as the reader endpoint's, and
// nothing when none is. All live a second in caches, so a failover or a
// reader joining or leaving shows at once. A member without an ENI (not
// placed) gives no address.

// clusterTTL is the TTL of a cluster's names' answers.
const clusterTTL = 1

// clusterEndpointKeys are the index keys of cluster key's two names.
func clusterEndpointKeys(key string) (writer, reader string) { return key + "#writer", key + "#reader" }

// customEndpointKey is the index key of cluster key's custom endpoint id;
// every key of a cluster's names begins with key + "#".
func customEndpointKey(key, id string) string { return key + "#custom/" + id }

// clusterEndpoints are cluster cl's names with their addresses now, by
// index key: the cluster and reader endpoints and the custom endpoints,
// each of which answers the available members it selects.
func clusterEndpoints(tx state.Tx, sc state.Scope, cl *records.Cluster) (map[string]dnszone.Endpoint, error) {
	var writer []*records.Instance
	var readers []*records.Instance
	var available []*records.Instance
	writerID := cl.Writer()
	for _, m := range cl.DBClusterMembers {
		id := deref(m.DBInstanceIdentifier)
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil {
			return nil, err
		}
		if found && deref(r.DBInstanceStatus) == "available" {
			available = append(available, &r)
		}
		switch {
		case !found:
		case id == writerID:
			writer = append(writer, &r)
		case deref(r.DBInstanceStatus) == "available":
			readers = append(readers, &r)
		}
	}
	if len(readers) == 0 {
		readers = writer
	}
	ck := records.Clusters.Key(sc, deref(cl.DBClusterIdentifier))
	wk, rk := clusterEndpointKeys(ck)
	type name struct {
		name    string
		members []*records.Instance
		rotate  bool
	}
	names := map[string]name{wk: {deref(cl.Endpoint), writer, false}, rk: {deref(cl.ReaderEndpoint), readers, true}}
	for _, addr := range cl.CustomEndpoints {
		ep, found, err := records.ClusterEndpoints.Get(tx, sc, records.EndpointID(addr))
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		var members []*records.Instance
		for _, r := range available {
			if ep.Selects(deref(r.DBInstanceIdentifier), writerID) {
				members = append(members, r)
			}
		}
		names[customEndpointKey(ck, ep.ID)] = name{ep.Address, members, true}
	}
	out := map[string]dnszone.Endpoint{}
	for k, e := range names {
		if e.name == "" {
			continue
		}
		ep := dnszone.Endpoint{Name: strings.ToLower(e.name) + ".", Account: sc.Account, Region: sc.Region, TTL: clusterTTL, Rotate: e.rotate}
		for _, r := range e.members {
			if r.ENI == nil {
				continue
			}
			ep.VPC = r.ENI.VPCID
			if ip, err := netip.ParseAddr(r.ENI.IP); err == nil {
				ep.PrivateIPs = append(ep.PrivateIPs, ip)
			}
			if ip, err := netip.ParseAddr(r.ENI.PublicIP); err == nil && deref(r.PubliclyAccessible) {
				ep.PublicIPs = append(ep.PublicIPs, ip)
			}
		}
		out[k] = ep
	}
	return out, nil
}

// clusterOfKey is the key of the cluster whose names a change of record
// key may move: the cluster's own, a member instance's or a custom
// endpoint's cluster ("" for none). It reads the record in tx.
func clusterOfKey(tx state.Tx, key string) (string, error) {
	if _, _, ok := records.Clusters.ParseKey(key); ok {
		return key, nil
	}
	if sc, id, ok := records.ClusterEndpoints.ParseKey(key); ok {
		// A deleted endpoint's name goes with its cluster's change.
		ep, found, err := records.ClusterEndpoints.Get(tx, sc, id)
		if err != nil || !found {
			return "", err
		}
		return records.Clusters.Key(sc, ep.Cluster), nil
	}
	sc, id, ok := records.Instances.ParseKey(key)
	if !ok {
		return "", nil
	}
	r, found, err := records.Instances.Get(tx, sc, id)
	if err != nil || !found || !r.IsMember() {
		return "", err
	}
	return records.Clusters.Key(sc, deref(r.DBClusterIdentifier)), nil
}

// refreshClusterEndpoints re-reads the names of the cluster whose record
// key (or member's) changed; called with the index's lock not held.
func (s *Service) refreshClusterEndpoints(key string) {
	var (
		ck   string
		eps  map[string]dnszone.Endpoint
		gone bool
	)
	err := s.store.View(context.Background(), func(tx state.Tx) error {
		var err error
		if ck, err = clusterOfKey(tx, key); err != nil || ck == "" {
			return err
		}
		sc, id, _ := records.Clusters.ParseKey(ck)
		cl, found, err := records.Clusters.Get(tx, sc, id)
		if err != nil {
			return err
		}
		if !found {
			gone = true
			return nil
		}
		eps, err = clusterEndpoints(tx, sc, &cl)
		return err
	})
	if err != nil {
		s.log.Warn("rds: read a cluster's endpoints for DNS", "key", key, "err", err)
		return
	}
	if ck == "" {
		return
	}
	d := &s.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := false
	for k := range d.byKey {
		if _, has := eps[k]; strings.HasPrefix(k, ck+"#") && (!has || gone) {
			changed = d.put(k, dnszone.Endpoint{}, false) || changed
		}
	}
	if !gone {
		for k, e := range eps {
			changed = d.put(k, e, true) || changed
		}
	}
	if changed {
		d.publish()
	}
}
