package ec2

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
)

// The VPC network seam.
//
// DesiredNetwork exports the desired network of every account and region in
// neutral types, so the network controller (internal/netctl) can drive the
// data plane (internal/vpcnet and its firewall) without reading this
// package's records. It is a pure function of the store: one read-only
// transaction, nothing cached, the same answer for the same state, in a
// deterministic order (VPCs by Key; subnets, NAT gateways, ENIs by ID;
// public IPs by address; routes by destination).
//
// IDs. The data plane names kernel objects after resource IDs and needs
// them unique per host, while two accounts may hold identical CIDRs and
// names. Every VPC, subnet, NAT gateway and ENI ID is minted by
// state.NewID: the kind's prefix and 17 random hex digits (68 bits), so the
// IDs themselves are host-wide unique for any practical number of
// resources (a collision among 10^4 VPCs has a probability around 10^-13)
// and VPCSpec.ID can be handed to vpcnet as is. VPCSpec.Key
// (account/region/vpc-id) is what identifies a VPC across accounts in logs.
// Public IPs are unique host-wide by construction (ipam.go).

// NetworkSpec is the desired network of all accounts and regions.
type NetworkSpec struct {
	VPCs []VPCSpec
}

// VPCSpec is one VPC as the data plane needs it.
type VPCSpec struct {
	// Key is account/region/vpc-id.
	Key             string
	Account, Region string
	// ID is the vpc- ID, unique per host (see above): vpcnet's VPC ID.
	ID string
	// CIDRs are the associated IPv4 blocks, primary first.
	CIDRs []netip.Prefix
	// Resolver is the Amazon-provided DNS resolver of the VPC, the primary
	// CIDR's base + 2, which security groups do not filter.
	Resolver netip.Addr
	// DNSSupport and DNSHostnames are the VPC's enableDnsSupport and
	// enableDnsHostnames attributes: the resolver answers at all, and
	// answers public DNS names.
	DNSSupport, DNSHostnames bool
	Subnets                  []SubnetSpec
	// InternetGateway is true when an internet gateway is attached.
	InternetGateway bool
	// PublicIPs are the 1:1 mappings of Elastic IPs and auto-assigned
	// public IPs to private addresses of the VPC's ENIs (NAT gateways'
	// addresses are in NATGateways instead).
	PublicIPs []PublicIPSpec
	// NATGateways are the public NAT gateways that are pending or
	// available (deleting, deleted, failed and private ones are absent).
	NATGateways []NATGatewaySpec
	ENIs        []ENISpec
}

// SubnetSpec is one subnet with its effective route table and network ACL.
type SubnetSpec struct {
	ID   string
	CIDR netip.Prefix
	// RouteTableID is the effective route table: the subnet's explicit
	// association, else the VPC's main route table.
	RouteTableID string
	Routes       []RouteSpec
	// ACL is the network ACL associated with the subnet (the VPC's default
	// ACL should the association be missing), in the firewall's model:
	// every entry of both directions, the "*" rules included as data.
	ACL firewall.NetworkACL
}

// RouteTarget is the kind of a route's target as the data plane sees it.
type RouteTarget string

// Route targets. Targets the data plane cannot realise — network
// interfaces and instances (appliance routing), VPC peering, transit,
// local and carrier gateways, egress-only internet gateways, private NAT
// gateways — are RouteBlackhole, and so is any route whose target is gone
// (a detached internet gateway, a deleted NAT gateway or endpoint), as
// DescribeRouteTables reports it. RouteSpec.TargetID keeps the original
// target for logs; for RouteGatewayEndpoint it is the vpce- ID the data
// plane routes to.
const (
	RouteLocal           RouteTarget = "local"
	RouteIGW             RouteTarget = "igw"
	RouteNAT             RouteTarget = "nat"
	RouteGatewayEndpoint RouteTarget = "vpce"
	RouteBlackhole       RouteTarget = "blackhole"
)

// RouteSpec is one IPv4 route of a subnet's effective route table. IPv6
// routes are left out (the data plane is IPv4 only); a route to a prefix
// list is expanded into one route per CIDR of the list.
type RouteSpec struct {
	Destination  netip.Prefix
	Target       RouteTarget
	NATGatewayID string // with RouteNAT
	TargetID     string // the stored target: local, igw-…, nat-…, eni-…, pcx-…
}

// PublicIPSpec maps a public IP 1:1 to a private address of an ENI.
type PublicIPSpec struct {
	Public, Private netip.Addr
	ENIID           string
}

// NATGatewaySpec is a public NAT gateway.
type NATGatewaySpec struct {
	ID       string
	SubnetID string
	PublicIP netip.Addr
}

// ENISpec is one network interface: what the instance runtime plugs in and
// the security groups the firewall enforces on it.
type ENISpec struct {
	ID       string
	SubnetID string
	MAC      net.HardwareAddr
	// IP is the primary private address; SecondaryIPs the others.
	IP           netip.Addr
	SecondaryIPs []netip.Addr
	DeviceIndex  int
	// InstanceID is the instance the ENI is attached to, "" when none.
	InstanceID string
	// InterfaceType is interface, nat_gateway, vpc_endpoint, …
	InterfaceType string
	// Groups are the ENI's security groups, rules converted: prefix lists
	// expanded to their CIDRs, and rules referencing a group resolved to
	// the current private addresses (primary and secondary) of every ENI
	// in that group (Peers), which is why a change of membership changes
	// the spec of every ENI whose groups reference the group. Rules with
	// the same protocol and ports in one direction are merged, as
	// DescribeSecurityGroups groups them into one IpPermission.
	Groups []firewall.SecurityGroup
}

// DesiredNetwork returns the desired network of every account and region,
// read in one transaction.
func (s *Service) DesiredNetwork(ctx context.Context) (*NetworkSpec, error) {
	out := &NetworkSpec{VPCs: []VPCSpec{}}
	err := s.store.View(ctx, func(tx state.Tx) error {
		list, err := tableScopes(tx, vpcs.table)
		if err != nil {
			return err
		}
		for _, sc := range list {
			v, err := netSpecScope(s.scopeTx(ctx, tx, sc))
			if err != nil {
				return err
			}
			out.VPCs = append(out.VPCs, v...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// netSpecScope builds the VPCs of one account and region.
func netSpecScope(t *rtx) ([]VPCSpec, error) {
	st, err := netSpecRead(t)
	if err != nil {
		return nil, err
	}
	groups := netSpecGroups(t, st.sgs, st.enis)
	attachedIGW := map[string]bool{}
	for _, g := range st.igws {
		if v := igwAttachedVPC(g); v != "" {
			attachedIGW[v] = true
		}
	}
	out := make([]VPCSpec, 0, len(st.vpcs))
	for _, v := range st.vpcs {
		out = append(out, netSpecVPC(t, st, v, groups, attachedIGW[deref(v.VpcId)]))
	}
	return out, nil
}

// netSpecRecords are the records of one account and region that the
// desired network is built from, read in one transaction.
type netSpecRecords struct {
	vpcs    []*vpcRecord
	subnets []*subnetRecord
	rtbs    []*routeTableRecord
	acls    []*networkACLRecord
	igws    []*igwRecord
	nats    []*natGatewayRecord
	enis    []*networkInterfaceRecord
	sgs     []*securityGroupRecord
}

func netSpecRead(t *rtx) (*netSpecRecords, error) {
	st := &netSpecRecords{}
	var err error
	if st.vpcs, err = vpcs.all(t); err != nil {
		return nil, err
	}
	if st.subnets, err = subnets.all(t); err != nil {
		return nil, err
	}
	if st.rtbs, err = routeTables.all(t); err != nil {
		return nil, err
	}
	if st.acls, err = networkACLs.all(t); err != nil {
		return nil, err
	}
	if st.igws, err = internetGateways.all(t); err != nil {
		return nil, err
	}
	if st.nats, err = natGateways.all(t); err != nil {
		return nil, err
	}
	if st.enis, err = networkInterfaces.all(t); err != nil {
		return nil, err
	}
	if st.sgs, err = securityGroups.all(t); err != nil {
		return nil, err
	}
	return st, nil
}

// netSpecGroups converts every security group, by ID, with the members of
// each group (every private address of its ENIs) for the rules that
// reference it.
func netSpecGroups(t *rtx, sgs []*securityGroupRecord, enis []*networkInterfaceRecord) map[string]firewall.SecurityGroup {
	members := map[string][]netip.Addr{}
	for _, e := range enis {
		for _, g := range e.Groups {
			id := deref(g.GroupId)
			for _, pa := range e.PrivateIpAddresses {
				if a, err := netip.ParseAddr(deref(pa.PrivateIpAddress)); err == nil {
					members[id] = append(members[id], a)
				}
			}
		}
	}
	for id, m := range members {
		slices.SortFunc(m, func(a, b netip.Addr) int { return a.Compare(b) })
		members[id] = slices.Compact(m)
	}
	groups := map[string]firewall.SecurityGroup{}
	for _, g := range sgs {
		groups[deref(g.GroupId)] = netSpecGroup(t, g, members)
	}
	return groups
}

// netSpecVPC builds one VPC: its subnets, NAT gateways, ENIs and public IPs.
func netSpecVPC(t *rtx, st *netSpecRecords, v *vpcRecord, groups map[string]firewall.SecurityGroup, igw bool) VPCSpec {
	vpcID := deref(v.VpcId)
	spec := VPCSpec{
		Key:     state.Key(t.scope.Account, t.scope.Region, vpcID),
		Account: t.scope.Account, Region: t.scope.Region,
		ID:              vpcID,
		CIDRs:           vpcCIDRs(v),
		DNSSupport:      v.EnableDNSSupport,
		DNSHostnames:    v.EnableDNSHostnames,
		InternetGateway: igw,
		Subnets:         netSpecSubnets(t, st, vpcID),
		PublicIPs:       []PublicIPSpec{},
		NATGateways:     netSpecNATs(t, st.nats, vpcID),
		ENIs:            []ENISpec{},
	}
	if len(spec.CIDRs) > 0 {
		spec.Resolver = addrAdd(spec.CIDRs[0].Masked().Addr(), 2)
	}
	for _, e := range st.enis {
		if deref(e.VpcId) != vpcID {
			continue
		}
		es, public := netSpecENI(e, groups)
		spec.ENIs = append(spec.ENIs, es)
		spec.PublicIPs = append(spec.PublicIPs, public...)
	}
	slices.SortFunc(spec.PublicIPs, func(a, b PublicIPSpec) int { return a.Public.Compare(b.Public) })
	return spec
}

// netSpecSubnets builds a VPC's subnets, each with its effective route
// table (its association, else the main table) and network ACL (its
// association, else the default ACL).
func netSpecSubnets(t *rtx, st *netSpecRecords, vpcID string) []SubnetSpec {
	var main *routeTableRecord
	for _, r := range st.rtbs {
		if deref(r.VpcId) == vpcID && rtbIsMain(r) {
			main = r
		}
	}
	var defaultACL *networkACLRecord
	for _, a := range st.acls {
		if deref(a.VpcId) == vpcID && deref(a.IsDefault) {
			defaultACL = a
		}
	}
	out := []SubnetSpec{}
	for _, sn := range st.subnets {
		if deref(sn.VpcId) != vpcID {
			continue
		}
		cidr, err := netip.ParsePrefix(deref(sn.CidrBlock))
		if err != nil {
			continue
		}
		ss := SubnetSpec{ID: deref(sn.SubnetId), CIDR: cidr, Routes: []RouteSpec{}}
		rtb := main
		for _, r := range st.rtbs {
			for _, a := range r.Associations {
				if deref(a.SubnetId) == ss.ID {
					rtb = r
				}
			}
		}
		if rtb != nil {
			ss.RouteTableID = deref(rtb.RouteTableId)
			ss.Routes = netSpecRoutes(t, vpcID, rtb)
		}
		acl := defaultACL
		for _, a := range st.acls {
			for _, as := range a.Associations {
				if deref(as.SubnetId) == ss.ID {
					acl = a
				}
			}
		}
		ss.ACL = netSpecACL(acl)
		out = append(out, ss)
	}
	return out
}

// netSpecNATs lists a VPC's public NAT gateways that are pending or
// available, with their primary public IPs.
func netSpecNATs(t *rtx, nats []*natGatewayRecord, vpcID string) []NATGatewaySpec {
	out := []NATGatewaySpec{}
	for _, n := range nats {
		if deref(n.VpcId) != vpcID || deref(n.ConnectivityType) == "private" {
			continue
		}
		if st := natState(n, t.now); st != "pending" && st != "available" {
			continue
		}
		for _, a := range n.NatGatewayAddresses {
			if !deref(a.IsPrimary) {
				continue
			}
			if ip, err := netip.ParseAddr(deref(a.PublicIp)); err == nil {
				out = append(out, NATGatewaySpec{ID: deref(n.NatGatewayId), SubnetID: deref(n.SubnetId), PublicIP: ip})
			}
		}
	}
	return out
}

// netSpecENI converts one ENI, with the public IPs mapped to its private
// addresses (a NAT gateway's are in its NATGatewaySpec instead).
func netSpecENI(e *networkInterfaceRecord, groups map[string]firewall.SecurityGroup) (ENISpec, []PublicIPSpec) {
	es := ENISpec{
		ID:            deref(e.NetworkInterfaceId),
		SubnetID:      deref(e.SubnetId),
		InstanceID:    eniInstanceOf(e),
		InterfaceType: deref(e.InterfaceType),
		Groups:        []firewall.SecurityGroup{},
	}
	if mac, err := net.ParseMAC(deref(e.MacAddress)); err == nil {
		es.MAC = mac
	}
	if e.Attachment != nil {
		es.DeviceIndex = int(deref(e.Attachment.DeviceIndex))
	}
	es.IP, _ = netip.ParseAddr(deref(e.PrivateIpAddress))
	var public []PublicIPSpec
	for _, pa := range e.PrivateIpAddresses {
		a, err := netip.ParseAddr(deref(pa.PrivateIpAddress))
		if err != nil {
			continue
		}
		if a != es.IP {
			es.SecondaryIPs = append(es.SecondaryIPs, a)
		}
		if pa.Association == nil || es.InterfaceType == "nat_gateway" {
			continue
		}
		if pub, err := netip.ParseAddr(deref(pa.Association.PublicIp)); err == nil {
			public = append(public, PublicIPSpec{Public: pub, Private: a, ENIID: es.ID})
		}
	}
	for _, g := range e.Groups {
		if sg, ok := groups[deref(g.GroupId)]; ok {
			es.Groups = append(es.Groups, sg)
		}
	}
	return es, public
}

// netSpecRoutes converts a route table's IPv4 routes.
func netSpecRoutes(t *rtx, vpcID string, r *routeTableRecord) []RouteSpec {
	out := []RouteSpec{}
	for _, rt := range r.Routes {
		var dests []netip.Prefix
		switch {
		case rt.DestinationCidrBlock != nil:
			if p, err := netip.ParsePrefix(*rt.DestinationCidrBlock); err == nil && p.Addr().Is4() {
				dests = append(dests, p.Masked())
			}
		case rt.DestinationPrefixListId != nil:
			if pl, ok := prefixListByID(t.scope.Region, t.publicPool, *rt.DestinationPrefixListId); ok {
				for _, c := range pl.Cidrs {
					if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
						dests = append(dests, p.Masked())
					}
				}
			}
		}
		if len(dests) == 0 {
			continue
		}
		spec := RouteSpec{Target: RouteBlackhole, TargetID: netSpecTargetID(rt)}
		gw := deref(rt.GatewayId)
		switch {
		case rtbRouteState(t, vpcID, rt) == "blackhole":
		case gw == "local":
			spec.Target = RouteLocal
		case strings.HasPrefix(gw, "igw-"):
			spec.Target = RouteIGW
		case strings.HasPrefix(gw, "vpce-"):
			spec.Target = RouteGatewayEndpoint
		case rt.NatGatewayId != nil:
			if n, ok, err := natGateways.find(t, *rt.NatGatewayId); err == nil && ok && deref(n.ConnectivityType) != "private" {
				spec.Target, spec.NATGatewayID = RouteNAT, *rt.NatGatewayId
			}
		}
		for _, d := range dests {
			s := spec
			s.Destination = d
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b RouteSpec) int {
		return cmp.Or(a.Destination.Addr().Compare(b.Destination.Addr()), cmp.Compare(a.Destination.Bits(), b.Destination.Bits()))
	})
	return out
}

// netSpecTargetID is the ID of a route's target as stored.
func netSpecTargetID(rt ec2api.Route) string {
	for _, p := range []*string{rt.GatewayId, rt.NatGatewayId, rt.NetworkInterfaceId, rt.InstanceId, rt.VpcPeeringConnectionId,
		rt.TransitGatewayId, rt.EgressOnlyInternetGatewayId, rt.LocalGatewayId, rt.CarrierGatewayId, rt.CoreNetworkArn} {
		if deref(p) != "" {
			return *p
		}
	}
	return ""
}

// netSpecACL converts a network ACL to the firewall's model.
func netSpecACL(a *networkACLRecord) firewall.NetworkACL {
	out := firewall.NetworkACL{Entries: []firewall.ACLEntry{}}
	if a == nil {
		return out
	}
	out.ID = deref(a.NetworkAclId)
	for _, e := range a.Entries {
		cidr := deref(e.CidrBlock)
		if cidr == "" {
			cidr = deref(e.Ipv6CidrBlock)
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			continue
		}
		proto, err := strconv.Atoi(deref(e.Protocol))
		if err != nil {
			continue
		}
		fe := firewall.ACLEntry{
			RuleNumber: int(deref(e.RuleNumber)),
			Egress:     deref(e.Egress),
			Protocol:   proto,
			PortFrom:   -1, PortTo: -1,
			ICMPType: -1, ICMPCode: -1,
			CIDR:  p.Masked(),
			Allow: deref(e.RuleAction) == "allow",
		}
		if (proto == 6 || proto == 17) && e.PortRange != nil {
			fe.PortFrom, fe.PortTo = int(deref(e.PortRange.From)), int(deref(e.PortRange.To))
		}
		if (proto == 1 || proto == 58) && e.IcmpTypeCode != nil {
			if e.IcmpTypeCode.Type != nil {
				fe.ICMPType = int(*e.IcmpTypeCode.Type)
			}
			if e.IcmpTypeCode.Code != nil {
				fe.ICMPCode = int(*e.IcmpTypeCode.Code)
			}
		}
		out.Entries = append(out.Entries, fe)
	}
	slices.SortStableFunc(out.Entries, func(a, b firewall.ACLEntry) int {
		if a.Egress != b.Egress {
			if a.Egress {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.RuleNumber, b.RuleNumber)
	})
	return out
}

// netSpecGroup converts a security group's rules, merging rules of one
// direction with the same protocol and ports.
func netSpecGroup(t *rtx, g *securityGroupRecord, members map[string][]netip.Addr) firewall.SecurityGroup {
	out := firewall.SecurityGroup{ID: deref(g.GroupId), Ingress: []firewall.SGRule{}, Egress: []firewall.SGRule{}}
	type key struct {
		egress   bool
		proto    string
		from, to int
	}
	index := map[key]int{}
	for _, r := range g.Rules {
		k := key{deref(r.IsEgress), deref(r.IpProtocol), int(deref(r.FromPort)), int(deref(r.ToPort))}
		if k.proto == "" {
			continue
		}
		list := &out.Ingress
		if k.egress {
			list = &out.Egress
		}
		i, ok := index[k]
		if !ok {
			*list = append(*list, firewall.SGRule{Protocol: k.proto, FromPort: k.from, ToPort: k.to})
			i = len(*list) - 1
			index[k] = i
		}
		fr := &(*list)[i]
		switch {
		case r.CidrIpv4 != nil:
			if p, err := netip.ParsePrefix(*r.CidrIpv4); err == nil {
				fr.CIDRs = append(fr.CIDRs, p.Masked())
			}
		case r.CidrIpv6 != nil:
			if p, err := netip.ParsePrefix(*r.CidrIpv6); err == nil {
				fr.CIDRs = append(fr.CIDRs, p.Masked())
			}
		case r.PrefixListId != nil:
			if pl, ok := prefixListByID(t.scope.Region, t.publicPool, *r.PrefixListId); ok {
				for _, c := range pl.Cidrs {
					if p, err := netip.ParsePrefix(c); err == nil {
						fr.CIDRs = append(fr.CIDRs, p.Masked())
					}
				}
			}
		case r.ReferencedGroupInfo != nil:
			fr.Peers = append(fr.Peers, members[deref(r.ReferencedGroupInfo.GroupId)]...)
		}
	}
	for _, list := range [][]firewall.SGRule{out.Ingress, out.Egress} {
		for i := range list {
			slices.SortFunc(list[i].CIDRs, func(a, b netip.Prefix) int {
				return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
			})
			list[i].CIDRs = slices.Compact(list[i].CIDRs)
			slices.SortFunc(list[i].Peers, func(a, b netip.Addr) int { return a.Compare(b) })
			list[i].Peers = slices.Compact(list[i].Peers)
		}
	}
	return out
}
