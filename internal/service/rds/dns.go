package rds

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DNS: every DB instance's endpoint name, and every DB cluster's cluster
// and reader endpoints (clusterdns.go), is published to minicloud's DNS
// servers through dnszone.EndpointSource (EndpointSource). The set is an
// immutable snapshot swapped after each committed change of an instance
// record (a store subscription re-reads that one record), so a query never
// touches the store.
//
// Public access: a PubliclyAccessible instance placed in its VPC gets an
// Amazon-owned public IP on its network interface (through EC2's port),
// mapped 1:1 through the VPC's internet gateway like an EC2 instance's;
// public DNS answers it. It is released with the interface (stop, delete)
// or when PubliclyAccessible is turned off.

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// endpointHash is the 12-character part of the endpoint names of an
// account's region: AWS uses one per account and region, so a DB instance
// deleted and created again under its identifier keeps its name.
func endpointHash(sc state.Scope) string {
	sum := sha256.Sum256([]byte("rds-endpoint/" + sc.Account + "/" + sc.Region))
	b := make([]byte, 12)
	for i := range b {
		b[i] = lowerAlnum[int(sum[i])%len(lowerAlnum)]
	}
	return string(b)
}

// endpointAddress is a DB instance's endpoint name (Endpoint.Address).
func endpointAddress(sc state.Scope, id string) string {
	return id + "." + endpointHash(sc) + "." + sc.Region + "." + strings.TrimSuffix(dnszone.RDSDomain, ".")
}

// checkPublicAccess refuses PubliclyAccessible in a VPC (that of a DB
// subnet group; "" is none) that lacks an internet gateway or DNS support
// and hostnames, with AWS's InvalidVPCNetworkStateFault. verb is "create"
// or "modify".
func (s *Service) checkPublicAccess(ctx context.Context, sc state.Scope, vpcID, verb string) error {
	if s.cfg.EC2 == nil || vpcID == "" {
		return nil
	}
	v, found, err := s.cfg.EC2.VPC(ctx, sc.Account, sc.Region, vpcID)
	if err != nil {
		return fmt.Errorf("read VPC %s: %w", vpcID, err)
	}
	switch {
	case !found:
		return nil // the subnet group's own checks report a VPC that is gone
	case !v.InternetGateway:
		return api.Errorf(http.StatusBadRequest, "InvalidVPCNetworkStateFault", "Cannot %s a publicly accessible DBInstance. The specified VPC has no internet gateway attached.", verb)
	case !v.DNSSupport || !v.DNSHostnames:
		return api.Errorf(http.StatusBadRequest, "InvalidVPCNetworkStateFault", "Cannot %s a publicly accessible DBInstance. The specified VPC does not support DNS resolution, DNS hostnames, or both. Update the VPC and then try again", verb)
	}
	return nil
}

// publicCheck is the VPC whose public access a request was checked for
// before its write transaction (asked: the request asks for public
// access), which the transaction confirms is still the instance's
// (sgcheck.go).
type publicCheck struct {
	asked bool
	vpc   string
}

// confirm fails with errChanged when vpc, the instance's VPC as the write
// transaction reads it, is not the one checked.
func (p publicCheck) confirm(vpc string) error {
	if p.asked && vpc != p.vpc {
		return errChanged
	}
	return nil
}

// checkCreatePublic applies checkPublicAccess to CreateDBInstance.
func (s *Service) checkCreatePublic(ctx context.Context, sc state.Scope, in *rdsapi.CreateDBInstanceMessage) (publicCheck, error) {
	if !deref(in.PubliclyAccessible) {
		return publicCheck{}, nil
	}
	vpcID, err := s.subnetGroupVPC(ctx, sc, in.DBSubnetGroupName)
	if err != nil {
		return publicCheck{}, err
	}
	return publicCheck{asked: true, vpc: vpcID}, s.checkPublicAccess(ctx, sc, vpcID, "create")
}

// checkModifyPublic applies checkPublicAccess to ModifyDBInstance.
func (s *Service) checkModifyPublic(ctx context.Context, sc state.Scope, in *rdsapi.ModifyDBInstanceMessage) (publicCheck, error) {
	if !deref(in.PubliclyAccessible) {
		return publicCheck{}, nil
	}
	vpcID, err := s.instanceGroupVPC(ctx, sc, deref(in.DBInstanceIdentifier))
	if err != nil {
		return publicCheck{}, err
	}
	return publicCheck{asked: true, vpc: vpcID}, s.checkPublicAccess(ctx, sc, vpcID, "modify")
}

// subnetGroupVPC is the VPC of DB subnet group name ("" for no group or a
// missing one, which the caller's transaction reports).
func (s *Service) subnetGroupVPC(ctx context.Context, sc state.Scope, name *string) (string, error) {
	if name == nil {
		return "", nil
	}
	var vpcID string
	err := s.store.View(ctx, func(tx state.Tx) error {
		g, err := subnetGroupOf(tx, sc, name)
		if g != nil {
			vpcID = deref(g.VpcId)
		}
		return err
	})
	return vpcID, err
}

// instanceGroupVPC is the VPC of instance id's DB subnet group ("" when it
// has none or does not exist).
func (s *Service) instanceGroupVPC(ctx context.Context, sc state.Scope, id string) (string, error) {
	var vpcID string
	err := s.store.View(ctx, func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, lookupID(strings.ToLower(id)))
		if found {
			vpcID = instanceVPC(&r)
		}
		return err
	})
	return vpcID, err
}

// endpointIndex keeps the endpoint set current.
type endpointIndex struct {
	mu    sync.Mutex // guards byKey and rebuilding set
	byKey map[string]dnszone.Endpoint
	set   atomic.Pointer[dnszone.EndpointSet]
	unsub func()
	done  chan struct{}
}

// EndpointSource is the DB instances' endpoint names for DNS servers.
func (s *Service) EndpointSource() dnszone.EndpointSource { return endpointSource{s} }

type endpointSource struct{ s *Service }

func (x endpointSource) Endpoints() *dnszone.EndpointSet {
	if set := x.s.dns.set.Load(); set != nil {
		return set
	}
	return dnszone.NewEndpointSet(dnszone.RDSDomain, nil)
}

// endpointOf is the DNS view of a record; ok is false when it has no name.
func endpointOf(sc state.Scope, r *records.Instance) (dnszone.Endpoint, bool) {
	if r.Endpoint == nil || deref(r.Endpoint.Address) == "" {
		return dnszone.Endpoint{}, false
	}
	e := dnszone.Endpoint{Name: strings.ToLower(deref(r.Endpoint.Address)) + ".", Account: sc.Account, Region: sc.Region}
	if r.ENI != nil {
		e.VPC = r.ENI.VPCID
		if ip, err := netip.ParseAddr(r.ENI.IP); err == nil {
			e.PrivateIPs = []netip.Addr{ip}
		}
		if ip, err := netip.ParseAddr(r.ENI.PublicIP); err == nil && deref(r.PubliclyAccessible) {
			e.PublicIPs = []netip.Addr{ip}
		}
	}
	return e, true
}

// startEndpoints follows the store and publishes the first set.
func (s *Service) startEndpoints() {
	d := &s.dns
	ch, unsub := s.store.Subscribe("")
	d.unsub, d.done = unsub, make(chan struct{})
	s.rebuildEndpoints()
	go func() {
		defer close(d.done)
		for ev := range ch {
			switch {
			case ev.Reset || ev.Resync:
				s.rebuildEndpoints()
			default:
				if _, _, ok := records.Instances.ParseKey(ev.Key); ok {
					s.refreshEndpoint(ev.Key)
				}
				s.refreshClusterEndpoints(ev.Key) // clusterdns.go
			}
		}
	}()
}

// stopEndpoints ends the subscription.
func (s *Service) stopEndpoints() {
	d := &s.dns
	if d.unsub == nil {
		return
	}
	d.unsub()
	<-d.done
	d.unsub = nil
}

// rebuildEndpoints re-reads every instance (at start, after a reset or a
// dropped event).
func (s *Service) rebuildEndpoints() {
	byKey := map[string]dnszone.Endpoint{}
	err := s.store.View(context.Background(), func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := records.Clusters.ParseKey(key); ok {
				cl, found, err := records.Clusters.Get(tx, sc, id)
				if err != nil || !found {
					return err
				}
				eps, err := clusterEndpoints(tx, sc, &cl)
				maps.Copy(byKey, eps)
				return err
			}
			sc, id, ok := records.Instances.ParseKey(key)
			if !ok {
				return nil
			}
			r, found, err := records.Instances.Get(tx, sc, id)
			if err != nil || !found {
				return err
			}
			if e, ok := endpointOf(sc, &r); ok {
				byKey[key] = e
			}
			return nil
		})
	})
	if err != nil {
		s.log.Warn("rds: read the endpoints for DNS", "err", err)
		return
	}
	d := &s.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byKey = byKey
	d.publish()
}

// refreshEndpoint re-reads one instance record.
func (s *Service) refreshEndpoint(key string) {
	sc, id, _ := records.Instances.ParseKey(key)
	var (
		e   dnszone.Endpoint
		has bool
	)
	err := s.store.View(context.Background(), func(tx state.Tx) error {
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found {
			return err
		}
		e, has = endpointOf(sc, &r)
		return nil
	})
	if err != nil {
		s.log.Warn("rds: read an endpoint for DNS", "key", key, "err", err)
		return
	}
	d := &s.dns
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.put(key, e, has) {
		d.publish()
	}
}

// put sets key's endpoint to e (has), or removes it, and reports whether
// that changed anything; called with mu held.
func (d *endpointIndex) put(key string, e dnszone.Endpoint, has bool) bool {
	if d.byKey == nil {
		d.byKey = map[string]dnszone.Endpoint{}
	}
	if old, ok := d.byKey[key]; ok == has && old.Equal(e) {
		return false
	}
	if has {
		d.byKey[key] = e
	} else {
		delete(d.byKey, key)
	}
	return true
}

// publish swaps in a new set; called with mu held.
func (d *endpointIndex) publish() {
	list := make([]dnszone.Endpoint, 0, len(d.byKey))
	for _, e := range d.byKey {
		list = append(list, e)
	}
	d.set.Store(dnszone.NewEndpointSet(dnszone.RDSDomain, list))
}
