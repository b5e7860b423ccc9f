package ec2

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// The VPC endpoint seam.
//
// The endpoint handlers never run anything: they record endpoints, their
// interfaces and routes. An endpoint controller of the data plane
// (internal/vpce) makes interface endpoints real — their ENIs placed in
// namespaces, minicloud's API served there, their DNS names answered —
// and reports back. The contract, from the controller's side:
//
//  1. It watches the store's "ec2"/"vpce" keys and converges every
//     endpoint towards DesiredEndpoint (or the whole list,
//     DesiredEndpoints, after a Reset or Resync). Every change of what an
//     endpoint serves (subnets and so interfaces, security groups, private
//     DNS, policy) rewrites the endpoint's record; a deleted endpoint's
//     record is gone, and its interfaces with it.
//  2. An interface endpoint is recorded "pending" when a controller is
//     configured (WithEndpointRuntime) and when subnets are added to it;
//     once every one of its interfaces serves, the controller calls
//     ReportEndpointAvailable, which makes a pending endpoint "available"
//     and does nothing to any other (a late report is harmless).
//  3. Without a controller, interface endpoints are "available" at once,
//     as before the data plane served them: nothing would ever report.
//
// Gateway endpoints are recorded "available" at once, as AWS does: their
// routes are in their route tables, which the network controller
// (internal/netctl) realises; the endpoint controller gives each a
// namespace holding its service's addresses (EndpointSpec.Addrs) and
// serves them there, and routes to it are blackholes until it has.

// WithEndpointRuntime says an endpoint controller serves interface
// endpoints and reports them available.
func WithEndpointRuntime() Option { return func(s *Service) { s.endpointRuntime = true } }

// EndpointSpec is one VPC endpoint as the endpoint controller needs it.
type EndpointSpec struct {
	// Key is account/region/vpce-id.
	Key             string
	Account, Region string
	ID, VPCID       string
	// Type is Interface or Gateway.
	Type string
	// Service is the catalogue's short name ("sts", "s3"); ServiceName
	// the full one (com.amazonaws.us-east-1.sts).
	Service, ServiceName string
	// State is the recorded state: pending or available.
	State string
	// Policy is the endpoint policy document.
	Policy string
	// PrivateDNS are the service names the VPC's resolver answers with
	// the interfaces' addresses when private DNS is on (none when off):
	// "sts.us-east-1.amazonaws.com", or a wildcard "*.s3.us-east-1…".
	PrivateDNS []string
	// Names are the endpoint-specific names (DnsEntries): the regional one
	// answering every interface's address, one per zone answering that
	// zone's.
	Names []EndpointName
	// ENIs are the endpoint's interfaces, by subnet order.
	ENIs []EndpointENI
	// Addrs are a gateway endpoint's addresses: those of its service's
	// prefix list (its public service addresses), which the routes to it
	// carry.
	Addrs []netip.Addr
}

// EndpointName is an endpoint-specific DNS name and its addresses.
type EndpointName struct {
	Name  string
	Addrs []netip.Addr
}

// EndpointENI is one interface of an interface endpoint.
type EndpointENI struct {
	ID, SubnetID, AvailabilityZone string
	MAC                            net.HardwareAddr
	IP                             netip.Addr
}

// EndpointKey reports whether a store key (Event.Key) is a VPC endpoint's
// record and, if so, whose.
func EndpointKey(key string) (account, region, id string, ok bool) {
	sc, id, ok := vpcEndpoints.table.ParseKey(key)
	return sc.Account, sc.Region, id, ok
}

// DesiredEndpoint returns one endpoint; found is false when it does not
// exist.
func (s *Service) DesiredEndpoint(ctx context.Context, account, region, id string) (spec EndpointSpec, found bool, err error) {
	err = s.view(scoped(ctx, account, region, "DescribeVpcEndpoints"), func(t *rtx) error {
		e, ok, err := vpcEndpoints.find(t, id)
		if err != nil || !ok {
			return err
		}
		spec, err = vpceSpec(t, e)
		found = err == nil
		return err
	})
	return spec, found, err
}

// DesiredEndpoints returns every endpoint of every account and region.
func (s *Service) DesiredEndpoints(ctx context.Context) ([]EndpointSpec, error) {
	var out []EndpointSpec
	err := s.store.View(ctx, func(tx state.Tx) error {
		scopes, err := tableScopes(tx, vpcEndpoints.table)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			t := s.scopeTx(ctx, tx, sc)
			recs, err := vpcEndpoints.all(t)
			if err != nil {
				return err
			}
			for _, e := range recs {
				spec, err := vpceSpec(t, e)
				if err != nil {
					return err
				}
				out = append(out, spec)
			}
		}
		return nil
	})
	return out, err
}

// tableScopes lists the accounts and regions that hold records of tbl, by
// account then region.
func tableScopes[T any](tx state.Tx, tbl state.Table[T]) ([]state.Scope, error) {
	seen := map[state.Scope]bool{}
	err := tx.Scan("", func(key string, _ []byte) error {
		if sc, _, ok := tbl.ParseKey(key); ok {
			seen[sc] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]state.Scope, 0, len(seen))
	for sc := range seen {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b state.Scope) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return out, nil
}

// scopeTx is a transaction of scope sc for a controller's read, outside
// any request.
func (s *Service) scopeTx(ctx context.Context, tx state.Tx, sc state.Scope) *rtx {
	return &rtx{ctx: ctx, tx: tx, scope: sc, now: s.now().UTC(), req: &api.RequestInfo{Account: sc.Account, Region: sc.Region}, publicPool: s.publicPool}
}

// ReportEndpointAvailable makes a pending endpoint available.
func (s *Service) ReportEndpointAvailable(ctx context.Context, account, region, id string) error {
	return s.update(scoped(ctx, account, region, "ModifyVpcEndpoint"), func(t *rtx) error {
		e, ok, err := vpcEndpoints.find(t, id)
		if err != nil || !ok || deref(e.State) != "pending" {
			return err
		}
		e.State = new("available")
		return vpcEndpoints.put(t, e)
	})
}

// vpceSpec converts one endpoint.
func vpceSpec(t *rtx, e *vpcEndpointRecord) (EndpointSpec, error) {
	id := deref(e.VpcEndpointId)
	spec := EndpointSpec{
		Key:     state.Key(t.scope.Account, t.scope.Region, id),
		Account: t.scope.Account, Region: t.scope.Region,
		ID: id, VPCID: deref(e.VpcId), Type: deref(e.VpcEndpointType),
		ServiceName: deref(e.ServiceName), State: deref(e.State), Policy: deref(e.PolicyDocument),
	}
	spec.Service = strings.TrimPrefix(spec.ServiceName, "com.amazonaws."+t.scope.Region+".")
	if spec.Type == "Gateway" {
		if pl, ok := prefixListByName(t.scope.Region, t.publicPool, spec.ServiceName); ok {
			for _, c := range pl.Cidrs {
				// Only single addresses are served (the fallback lists of a
				// pool too small for service addresses are not).
				if p, err := netip.ParsePrefix(c); err == nil && p.IsSingleIP() {
					spec.Addrs = append(spec.Addrs, p.Addr())
				}
			}
		}
		return spec, nil
	}
	if spec.Type != "Interface" {
		return spec, nil
	}
	sv, _, _ := vpceFindService(t.scope.Region, spec.ServiceName, "Interface")
	if deref(e.PrivateDnsEnabled) && sv.privateDNS != "" {
		spec.PrivateDNS = []string{strings.ReplaceAll(sv.privateDNS, "%r", t.scope.Region)}
	}
	regional := EndpointName{Name: vpceDNSName(t.scope.Region, id, spec.Service, "")}
	zones := map[string]*EndpointName{}
	for _, eniID := range e.NetworkInterfaceIds {
		n, ok, err := networkInterfaces.find(t, eniID)
		if err != nil {
			return spec, err
		}
		if !ok {
			continue
		}
		ip, _ := netip.ParseAddr(deref(n.PrivateIpAddress))
		mac, _ := net.ParseMAC(deref(n.MacAddress))
		az := deref(n.AvailabilityZone)
		spec.ENIs = append(spec.ENIs, EndpointENI{ID: eniID, SubnetID: deref(n.SubnetId), AvailabilityZone: az, MAC: mac, IP: ip})
		regional.Addrs = append(regional.Addrs, ip)
		z := zones[az]
		if z == nil {
			z = &EndpointName{Name: vpceDNSName(t.scope.Region, id, spec.Service, az)}
			zones[az] = z
		}
		z.Addrs = append(z.Addrs, ip)
	}
	spec.Names = append(spec.Names, regional)
	for _, az := range slices.Sorted(mapKeys(zones)) {
		spec.Names = append(spec.Names, *zones[az])
	}
	return spec, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// vpceCheckPolicy validates an endpoint policy as AWS does: a resource
// policy (with Principal), in either policy language version.
func vpceCheckPolicy(doc *string) error {
	if doc == nil {
		return nil
	}
	if _, err := iampolicy.Parse(*doc, iampolicy.Resource); err != nil {
		return apiErr("InvalidPolicyDocument", "The Policy Document is not valid. %v", err)
	}
	return nil
}
