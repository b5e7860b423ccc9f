package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Routes are stored with State "active"; Describe recomputes the state from
// the target's current state ("blackhole" once an internet gateway is
// detached or deleted, a NAT gateway deleted, a network interface deleted,
// an instance stopped or terminated), so it follows the target without
// anything having to update route tables.

// rtbLocalRoute is the route to a VPC CIDR every route table has.
func rtbLocalRoute(cidr string) ec2api.Route {
	return ec2api.Route{DestinationCidrBlock: new(cidr), GatewayId: new("local"), Origin: new("CreateRouteTable"), State: new("active")}
}

// rtbNew stores a new route table of v with the local routes; main makes
// it the VPC's main route table.
func rtbNew(t *rtx, v *vpcRecord, main bool, tags []ec2api.Tag) (*routeTableRecord, error) {
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	id := state.NewID("rtb")
	r := &routeTableRecord{RouteTable: ec2api.RouteTable{
		RouteTableId:    new(id),
		VpcId:           v.VpcId,
		OwnerId:         new(t.scope.Account),
		Associations:    []ec2api.RouteTableAssociation{},
		PropagatingVgws: []ec2api.PropagatingVgw{},
		Tags:            tags,
	}}
	for _, p := range vpcCIDRs(v) {
		r.Routes = append(r.Routes, rtbLocalRoute(p.String()))
	}
	if main {
		r.Associations = append(r.Associations, rtbAssoc(id, true, "", ""))
	}
	return r, routeTables.put(t, r)
}

func rtbAssoc(rtbID string, main bool, subnetID, gatewayID string) ec2api.RouteTableAssociation {
	a := ec2api.RouteTableAssociation{
		Main:                    new(main),
		RouteTableAssociationId: new(state.NewID("rtbassoc")),
		RouteTableId:            new(rtbID),
		AssociationState:        &ec2api.RouteTableAssociationState{State: new("associated")},
	}
	if subnetID != "" {
		a.SubnetId = new(subnetID)
	}
	if gatewayID != "" {
		a.GatewayId = new(gatewayID)
	}
	return a
}

func rtbIsMain(r *routeTableRecord) bool {
	for _, a := range r.Associations {
		if deref(a.Main) {
			return true
		}
	}
	return false
}

// rtbEach calls fn on every route table of the scope and stores those for
// which it returns true.
func rtbEach(t *rtx, fn func(*routeTableRecord) bool) error {
	all, err := routeTables.all(t)
	if err != nil {
		return err
	}
	for _, r := range all {
		if fn(r) {
			if err := routeTables.put(t, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// rtbEachOfVPC is rtbEach restricted to one VPC's route tables.
func rtbEachOfVPC(t *rtx, vpcID string, fn func(*routeTableRecord) bool) error {
	return rtbEach(t, func(r *routeTableRecord) bool { return deref(r.VpcId) == vpcID && fn(r) })
}

func rtbDropAssoc(as []ec2api.RouteTableAssociation, drop func(ec2api.RouteTableAssociation) bool) []ec2api.RouteTableAssociation {
	return slices.DeleteFunc(as, drop)
}

// rtbFindAssoc finds the route table holding association id.
func rtbFindAssoc(t *rtx, id string) (*routeTableRecord, int, error) {
	all, err := routeTables.all(t)
	if err != nil {
		return nil, -1, err
	}
	for _, r := range all {
		for i, a := range r.Associations {
			if deref(a.RouteTableAssociationId) == id {
				return r, i, nil
			}
		}
	}
	return nil, -1, nil
}

// rtbRouteState is a route's state from its target's current state.
func rtbRouteState(t *rtx, vpcID string, r ec2api.Route) string {
	gw := deref(r.GatewayId)
	switch {
	case gw == "local":
		return "active"
	case strings.HasPrefix(gw, "igw-"):
		g, ok, err := internetGateways.find(t, gw)
		if err != nil || !ok || igwAttachedVPC(g) != vpcID {
			return "blackhole"
		}
	case strings.HasPrefix(gw, "vpce-") || r.DestinationPrefixListId != nil && gw != "":
		e, ok, err := vpcEndpoints.find(t, gw)
		if err != nil || !ok || deref(e.State) == "deleted" {
			return "blackhole"
		}
	case r.NatGatewayId != nil:
		n, ok, err := natGateways.find(t, deref(r.NatGatewayId))
		if err != nil || !ok {
			return "blackhole"
		}
		if st := natState(n, t.now); st == "deleted" || st == "deleting" || st == "failed" {
			return "blackhole"
		}
	case r.InstanceId != nil:
		i, ok, err := instances.find(t, deref(r.InstanceId))
		if err != nil || !ok || i.State == nil {
			return "blackhole"
		}
		if st := deref(i.State.Name); st != "running" && st != "pending" {
			return "blackhole"
		}
	case r.NetworkInterfaceId != nil:
		_, ok, err := networkInterfaces.find(t, deref(r.NetworkInterfaceId))
		if err != nil || !ok {
			return "blackhole"
		}
	}
	return "active"
}

// rtbView returns the table as Describe shows it: route states computed.
func rtbView(t *rtx, r *routeTableRecord) ec2api.RouteTable {
	out := r.RouteTable
	out.Routes = make([]ec2api.Route, len(r.Routes))
	for i, rt := range r.Routes {
		rt.State = new(rtbRouteState(t, deref(r.VpcId), rt))
		out.Routes[i] = rt
	}
	return out
}

// CreateRouteTable creates a route table with the VPC's local routes.
func (s *Service) CreateRouteTable(ctx context.Context, in *ec2api.CreateRouteTableRequest) (*ec2api.CreateRouteTableResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	vpcID := deref(in.VpcId)
	if vpcID == "" {
		return nil, errMissingParam("VpcId")
	}
	tags, err := tagsFor(in.TagSpecifications, "route-table", "route-table")
	if err != nil {
		return nil, err
	}
	token := deref(in.ClientToken)
	hashIn := *in
	hashIn.ClientToken = nil
	hash := state.HashParams(hashIn)
	var out ec2api.RouteTable
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		r, err := createOnce(t, routeTables, "CreateRouteTable", token, hash, func() (*routeTableRecord, error) {
			v, err := vpcs.get(t, vpcID)
			if err != nil {
				return nil, err
			}
			return rtbNew(t, v, false, tags)
		})
		if err != nil {
			return err
		}
		out = rtbView(t, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &ec2api.CreateRouteTableResult{RouteTable: &out}
	if token != "" {
		res.ClientToken = new(token)
	}
	return res, nil
}

// DescribeRouteTables lists route tables with their routes' current state.
func (s *Service) DescribeRouteTables(ctx context.Context, in *ec2api.DescribeRouteTablesRequest) (*ec2api.DescribeRouteTablesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, rtbFilterNames...); err != nil {
		return nil, err
	}
	var views []*ec2api.RouteTable
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		recs, err := routeTables.describe(t, in.RouteTableIds, nil, nil)
		if err != nil {
			return err
		}
		for _, r := range recs {
			v := rtbView(t, r)
			vals := rtbFilterValues(&v)
			ok, err := state.MatchWithTags(fs, fromAPITags(v.Tags), func(name string) ([]string, bool) {
				x, ok := vals[name]
				return x, ok
			})
			if err != nil {
				return err
			}
			if ok {
				views = append(views, &v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(views, in.MaxResults, in.NextToken, func(r *ec2api.RouteTable) string { return deref(r.RouteTableId) }, 5, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeRouteTablesResult{RouteTables: []ec2api.RouteTable{}, NextToken: next}
	for _, r := range pg {
		out.RouteTables = append(out.RouteTables, *r)
	}
	return out, nil
}

var rtbFilterNames = []string{"association.gateway-id", "association.route-table-association-id", "association.route-table-id",
	"association.subnet-id", "association.main", "owner-id", "route-table-id", "route.destination-cidr-block",
	"route.destination-ipv6-cidr-block", "route.destination-prefix-list-id", "route.egress-only-internet-gateway-id",
	"route.gateway-id", "route.instance-id", "route.nat-gateway-id", "route.transit-gateway-id", "route.origin",
	"route.state", "route.vpc-peering-connection-id", "vpc-id"}

func rtbFilterValues(r *ec2api.RouteTable) map[string][]string {
	m := map[string][]string{
		"owner-id":       ptrValues(r.OwnerId),
		"route-table-id": ptrValues(r.RouteTableId),
		"vpc-id":         ptrValues(r.VpcId),
	}
	add := func(k string, p *string) {
		if p != nil && *p != "" {
			m[k] = append(m[k], *p)
		}
	}
	for _, a := range r.Associations {
		add("association.gateway-id", a.GatewayId)
		add("association.route-table-association-id", a.RouteTableAssociationId)
		add("association.route-table-id", a.RouteTableId)
		add("association.subnet-id", a.SubnetId)
		m["association.main"] = append(m["association.main"], boolValue(a.Main)...)
	}
	for _, rt := range r.Routes {
		add("route.destination-cidr-block", rt.DestinationCidrBlock)
		add("route.destination-ipv6-cidr-block", rt.DestinationIpv6CidrBlock)
		add("route.destination-prefix-list-id", rt.DestinationPrefixListId)
		add("route.egress-only-internet-gateway-id", rt.EgressOnlyInternetGatewayId)
		add("route.gateway-id", rt.GatewayId)
		add("route.instance-id", rt.InstanceId)
		add("route.nat-gateway-id", rt.NatGatewayId)
		add("route.transit-gateway-id", rt.TransitGatewayId)
		add("route.origin", rt.Origin)
		add("route.state", rt.State)
		add("route.vpc-peering-connection-id", rt.VpcPeeringConnectionId)
	}
	for _, k := range rtbFilterNames {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}

// DeleteRouteTable deletes a route table with no associations (the main
// table always has one).
func (s *Service) DeleteRouteTable(ctx context.Context, in *ec2api.DeleteRouteTableRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.RouteTableId)
	if id == "" {
		return nil, errMissingParam("RouteTableId")
	}
	err := s.update(ctx, func(t *rtx) error {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		if len(r.Associations) > 0 {
			return errDependency("The routeTable '%s' has dependencies and cannot be deleted.", id)
		}
		if err := vpcEndpointsDropRouteTable(t, id); err != nil {
			return err
		}
		return routeTables.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// rtbDest is a route's destination as given in a request.
type rtbDest struct {
	cidr, cidr6, prefixList string
}

func (d rtbDest) String() string {
	switch {
	case d.cidr != "":
		return d.cidr
	case d.cidr6 != "":
		return d.cidr6
	}
	return d.prefixList
}

func (d rtbDest) matches(r ec2api.Route) bool {
	switch {
	case d.cidr != "":
		return deref(r.DestinationCidrBlock) == d.cidr
	case d.cidr6 != "":
		return deref(r.DestinationIpv6CidrBlock) == d.cidr6
	}
	return deref(r.DestinationPrefixListId) == d.prefixList
}

// rtbParseDest validates exactly one destination.
func rtbParseDest(t *rtx, cidr, cidr6, pl *string) (rtbDest, error) {
	n := 0
	for _, p := range []*string{cidr, cidr6, pl} {
		if p != nil {
			n++
		}
	}
	if n == 0 {
		return rtbDest{}, errMissingParam("destinationCidrBlock")
	}
	if n > 1 {
		return rtbDest{}, errCombination("The parameter destinationCidrBlock cannot be used with the parameter destinationIpv6CidrBlock or destinationPrefixListId")
	}
	switch {
	case cidr != nil:
		p, ok := parseIPv4CIDR(*cidr)
		if !ok {
			return rtbDest{}, errInvalidParam("Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", *cidr)
		}
		return rtbDest{cidr: p.String()}, nil
	case cidr6 != nil:
		p, err := netip.ParsePrefix(*cidr6)
		if err != nil || !p.Addr().Is6() {
			return rtbDest{}, errInvalidParam("Value (%s) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", *cidr6)
		}
		return rtbDest{cidr6: p.Masked().String()}, nil
	}
	if _, ok := prefixListByID(t.scope.Region, t.publicPool, *pl); !ok {
		return rtbDest{}, apiErr("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist.", *pl)
	}
	return rtbDest{prefixList: *pl}, nil
}

// rtbTargetIn is a route's target as given in CreateRoute/ReplaceRoute.
type rtbTargetIn struct {
	gateway, nat, eni, instance, vpce, eigw, tgw, lgw, cgw, pcx, core *string
}

// rtbResolveTarget validates exactly one target against the route table's
// VPC and returns the route carrying it (destination not set).
func rtbResolveTarget(t *rtx, r *routeTableRecord, in rtbTargetIn) (ec2api.Route, error) {
	vpcID, rtbID := deref(r.VpcId), deref(r.RouteTableId)
	n := 0
	for _, p := range []*string{in.gateway, in.nat, in.eni, in.instance, in.vpce, in.eigw, in.tgw, in.lgw, in.cgw, in.pcx, in.core} {
		if p != nil {
			n++
		}
	}
	if n == 0 {
		return ec2api.Route{}, errMissingParam("gatewayId, natGatewayId, networkInterfaceId, instanceId, vpcEndpointId, egressOnlyInternetGatewayId, transitGatewayId, localGatewayId, carrierGatewayId, vpcPeeringConnectionId or coreNetworkArn")
	}
	if n > 1 {
		return ec2api.Route{}, errCombination("More than one target was specified for the route; specify exactly one.")
	}
	differ := func(what, id string) error {
		return errInvalidParam("route table %s and %s %s belong to different networks", rtbID, what, id)
	}
	endpoint := func(id string) (ec2api.Route, error) {
		e, err := vpcEndpoints.get(t, id)
		if err != nil {
			return ec2api.Route{}, err
		}
		if deref(e.VpcEndpointType) != "GatewayLoadBalancer" {
			return ec2api.Route{}, apiErr("RouteNotSupported", "Route table contains unsupported route target: %s. VPC Endpoints of this type cannot be used as route targets.", id)
		}
		if deref(e.VpcId) != vpcID {
			return ec2api.Route{}, differ("network gateway", id)
		}
		return ec2api.Route{GatewayId: new(id)}, nil
	}
	switch {
	case in.gateway != nil:
		id := *in.gateway
		switch {
		case strings.HasPrefix(id, "igw-"):
			g, err := internetGateways.get(t, id)
			if err != nil {
				return ec2api.Route{}, err
			}
			if igwAttachedVPC(g) != vpcID {
				return ec2api.Route{}, differ("network gateway", id)
			}
			return ec2api.Route{GatewayId: new(id)}, nil
		case strings.HasPrefix(id, "vpce-"):
			return endpoint(id)
		case id == "local":
			return ec2api.Route{}, errInvalidParam("Value (local) for parameter gatewayId is invalid. Use the LocalTarget parameter of ReplaceRoute to restore a local route.")
		}
		return ec2api.Route{}, apiErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	case in.vpce != nil:
		return endpoint(*in.vpce)
	case in.nat != nil:
		id := *in.nat
		g, ok, err := natGateways.find(t, id)
		if err != nil {
			return ec2api.Route{}, err
		}
		if !ok || natState(g, t.now) == "deleted" {
			return ec2api.Route{}, natNotFound(id)
		}
		if deref(g.VpcId) != vpcID {
			return ec2api.Route{}, differ("NAT gateway", id)
		}
		return ec2api.Route{NatGatewayId: new(id)}, nil
	case in.eni != nil:
		id := *in.eni
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			return ec2api.Route{}, err
		}
		if deref(e.VpcId) != vpcID {
			return ec2api.Route{}, errInvalidParam("Route table %s and interface %s belong to different networks", rtbID, id)
		}
		rt := ec2api.Route{NetworkInterfaceId: new(id)}
		if e.Attachment != nil && e.Attachment.InstanceId != nil {
			rt.InstanceId = new(*e.Attachment.InstanceId)
			rt.InstanceOwnerId = new(t.scope.Account)
		}
		return rt, nil
	case in.instance != nil:
		id := *in.instance
		inst, err := instances.get(t, id)
		if err != nil {
			return ec2api.Route{}, err
		}
		if len(inst.NetworkInterfaces) > 1 {
			return ec2api.Route{}, apiErr("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", id)
		}
		if len(inst.NetworkInterfaces) == 0 {
			return ec2api.Route{}, apiErr("IncorrectInstanceState", "The instance '%s' has no network interface.", id)
		}
		if deref(inst.VpcId) != vpcID {
			return ec2api.Route{}, errInvalidParam("Route table %s and instance %s belong to different networks", rtbID, id)
		}
		return ec2api.Route{InstanceId: new(id), InstanceOwnerId: new(t.scope.Account), NetworkInterfaceId: inst.NetworkInterfaces[0].NetworkInterfaceId}, nil
	case in.eigw != nil:
		return ec2api.Route{}, apiErr("InvalidGatewayID.NotFound", "The eigw ID '%s' does not exist", *in.eigw)
	case in.tgw != nil:
		return ec2api.Route{}, apiErr("InvalidTransitGatewayID.NotFound", "The transitGateway ID '%s' does not exist.", *in.tgw)
	case in.lgw != nil:
		return ec2api.Route{}, apiErr("InvalidLocalGatewayID.NotFound", "The localGateway ID '%s' does not exist.", *in.lgw)
	case in.cgw != nil:
		return ec2api.Route{}, apiErr("InvalidCarrierGatewayID.NotFound", "The CarrierGateway ID '%s' does not exist", *in.cgw)
	case in.pcx != nil:
		return ec2api.Route{}, apiErr("InvalidVpcPeeringConnectionID.NotFound", "The vpcPeeringConnection ID '%s' does not exist", *in.pcx)
	}
	return ec2api.Route{}, errInvalidParam("Value (%s) for parameter coreNetworkArn is invalid.", deref(in.core))
}

// rtbCheckLocalOverlap rejects a route whose destination is a VPC CIDR or
// inside one, unless it targets an interface or an instance.
func rtbCheckLocalOverlap(v *vpcRecord, d rtbDest, rt ec2api.Route) error {
	if d.cidr == "" {
		return nil
	}
	p := netip.MustParsePrefix(d.cidr)
	for _, vp := range vpcCIDRs(v) {
		if vp.Bits() <= p.Bits() && vp.Contains(p.Addr()) && rt.NetworkInterfaceId == nil {
			return errInvalidParam("The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", d.cidr)
		}
	}
	return nil
}

// CreateRoute adds a route to a route table.
func (s *Service) CreateRoute(ctx context.Context, in *ec2api.CreateRouteRequest) (*ec2api.CreateRouteResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.RouteTableId)
	if id == "" {
		return nil, errMissingParam("RouteTableId")
	}
	err := s.update(ctx, func(t *rtx) error {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		d, err := rtbParseDest(t, in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
		if err != nil {
			return err
		}
		rt, err := rtbResolveTarget(t, r, rtbTargetIn{gateway: in.GatewayId, nat: in.NatGatewayId, eni: in.NetworkInterfaceId,
			instance: in.InstanceId, vpce: in.VpcEndpointId, eigw: in.EgressOnlyInternetGatewayId, tgw: in.TransitGatewayId,
			lgw: in.LocalGatewayId, cgw: in.CarrierGatewayId, pcx: in.VpcPeeringConnectionId, core: in.CoreNetworkArn})
		if err != nil {
			return err
		}
		for _, have := range r.Routes {
			if d.matches(have) {
				return apiErr("RouteAlreadyExists", "The route identified by %s already exists.", d)
			}
		}
		v, err := vpcs.get(t, deref(r.VpcId))
		if err != nil {
			return err
		}
		if err := rtbCheckLocalOverlap(v, d, rt); err != nil {
			return err
		}
		rtbSetDest(&rt, d)
		rt.Origin, rt.State = new("CreateRoute"), new("active")
		r.Routes = append(r.Routes, rt)
		return routeTables.put(t, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteResult{Return: new(true)}, nil
}

func rtbSetDest(rt *ec2api.Route, d rtbDest) {
	switch {
	case d.cidr != "":
		rt.DestinationCidrBlock = new(d.cidr)
	case d.cidr6 != "":
		rt.DestinationIpv6CidrBlock = new(d.cidr6)
	default:
		rt.DestinationPrefixListId = new(d.prefixList)
	}
}

// ReplaceRoute changes the target of an existing route.
func (s *Service) ReplaceRoute(ctx context.Context, in *ec2api.ReplaceRouteRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.RouteTableId)
	if id == "" {
		return nil, errMissingParam("RouteTableId")
	}
	err := s.update(ctx, func(t *rtx) error {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		d, err := rtbParseDest(t, in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
		if err != nil {
			return err
		}
		idx := slices.IndexFunc(r.Routes, d.matches)
		if idx < 0 {
			return errInvalidParam("There is no route defined for '%s' in the route table. Use CreateRoute instead.", d)
		}
		old := r.Routes[idx]
		isLocal := deref(old.GatewayId) == "local" || deref(old.Origin) == "CreateRouteTable"
		if deref(in.LocalTarget) {
			if !isLocal {
				return errInvalidParam("The route identified by %s is not a local route; LocalTarget can only restore a local route.", d)
			}
			r.Routes[idx] = rtbLocalRoute(d.cidr)
			return routeTables.put(t, r)
		}
		rt, err := rtbResolveTarget(t, r, rtbTargetIn{gateway: in.GatewayId, nat: in.NatGatewayId, eni: in.NetworkInterfaceId,
			instance: in.InstanceId, vpce: in.VpcEndpointId, eigw: in.EgressOnlyInternetGatewayId, tgw: in.TransitGatewayId,
			lgw: in.LocalGatewayId, cgw: in.CarrierGatewayId, pcx: in.VpcPeeringConnectionId, core: in.CoreNetworkArn})
		if err != nil {
			return err
		}
		if isLocal && rt.NetworkInterfaceId == nil {
			return errInvalidParam("The local route %s can only be replaced by a route to a network interface.", d)
		}
		if !isLocal {
			v, err := vpcs.get(t, deref(r.VpcId))
			if err != nil {
				return err
			}
			if err := rtbCheckLocalOverlap(v, d, rt); err != nil {
				return err
			}
		}
		rtbSetDest(&rt, d)
		rt.Origin, rt.State = old.Origin, new("active")
		if isLocal {
			rt.Origin = new("CreateRoute")
		}
		r.Routes[idx] = rt
		return routeTables.put(t, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DeleteRoute removes a route; the local routes cannot be removed.
func (s *Service) DeleteRoute(ctx context.Context, in *ec2api.DeleteRouteRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.RouteTableId)
	if id == "" {
		return nil, errMissingParam("RouteTableId")
	}
	err := s.update(ctx, func(t *rtx) error {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		var d rtbDest
		switch {
		case in.DestinationCidrBlock != nil:
			d.cidr = *in.DestinationCidrBlock
			if p, err := netip.ParsePrefix(d.cidr); err == nil {
				d.cidr = p.Masked().String()
			}
		case in.DestinationIpv6CidrBlock != nil:
			d.cidr6 = *in.DestinationIpv6CidrBlock
		case in.DestinationPrefixListId != nil:
			d.prefixList = *in.DestinationPrefixListId
		default:
			return errMissingParam("destinationCidrBlock")
		}
		idx := slices.IndexFunc(r.Routes, d.matches)
		if idx < 0 {
			kind := "destination-cidr-block"
			switch {
			case d.cidr6 != "":
				kind = "destination-ipv6-cidr-block"
			case d.prefixList != "":
				kind = "destination-prefix-list-id"
			}
			return apiErr("InvalidRoute.NotFound", "no route with %s %s in route table %s", kind, d, id)
		}
		rt := r.Routes[idx]
		if deref(rt.GatewayId) == "local" {
			return errInvalidParam("cannot remove local route %s in route table %s", d, id)
		}
		if rt.DestinationPrefixListId != nil && strings.HasPrefix(deref(rt.GatewayId), "vpce-") {
			return errInvalidParam("Route in Route Table %s with destination %s is managed by VPC endpoint %s and cannot be deleted; modify the endpoint instead.", id, d, deref(rt.GatewayId))
		}
		r.Routes = slices.Delete(r.Routes, idx, idx+1)
		return routeTables.put(t, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// AssociateRouteTable associates a subnet, or an internet gateway (edge
// association), with a route table.
func (s *Service) AssociateRouteTable(ctx context.Context, in *ec2api.AssociateRouteTableRequest) (*ec2api.AssociateRouteTableResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.RouteTableId)
	if id == "" {
		return nil, errMissingParam("RouteTableId")
	}
	subnetID, gwID := deref(in.SubnetId), deref(in.GatewayId)
	if subnetID == "" && gwID == "" {
		return nil, errMissingParam("subnetId or gatewayId")
	}
	if subnetID != "" && gwID != "" {
		return nil, errCombination("The parameter subnetId cannot be used with the parameter gatewayId")
	}
	var assoc ec2api.RouteTableAssociation
	err := s.update(ctx, func(t *rtx) error {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		vpcID := deref(r.VpcId)
		if subnetID != "" {
			sn, err := subnets.get(t, subnetID)
			if err != nil {
				return err
			}
			if deref(sn.VpcId) != vpcID {
				return errInvalidParam("Route table %s and subnet %s belong to different networks", id, subnetID)
			}
		} else {
			if !strings.HasPrefix(gwID, "igw-") {
				return apiErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", gwID)
			}
			g, err := internetGateways.get(t, gwID)
			if err != nil {
				return err
			}
			if igwAttachedVPC(g) != vpcID {
				return errInvalidParam("Route table %s and network gateway %s belong to different networks", id, gwID)
			}
		}
		conflict := false
		if err := routeTables.table.ForEach(t.tx, t.scope, func(_ string, o routeTableRecord) error {
			for _, a := range o.Associations {
				if (subnetID != "" && deref(a.SubnetId) == subnetID) || (gwID != "" && deref(a.GatewayId) == gwID) {
					conflict = true
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if conflict {
			return apiErr("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", id)
		}
		assoc = rtbAssoc(id, false, subnetID, gwID)
		r.Associations = append(r.Associations, assoc)
		return routeTables.put(t, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateRouteTableResult{AssociationId: assoc.RouteTableAssociationId, AssociationState: assoc.AssociationState}, nil
}

// DisassociateRouteTable removes a subnet or gateway association; the
// subnet falls back to the main route table.
func (s *Service) DisassociateRouteTable(ctx context.Context, in *ec2api.DisassociateRouteTableRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.AssociationId)
	if id == "" {
		return nil, errMissingParam("AssociationId")
	}
	err := s.update(ctx, func(t *rtx) error {
		r, i, err := rtbFindAssoc(t, id)
		if err != nil {
			return err
		}
		if r == nil {
			return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
		}
		if deref(r.Associations[i].Main) {
			return errInvalidParam("cannot disassociate the main route table association %s", id)
		}
		r.Associations = slices.Delete(r.Associations, i, i+1)
		return routeTables.put(t, r)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ReplaceRouteTableAssociation moves an association to another route
// table of the same VPC; given the main association, it changes which
// table is main.
func (s *Service) ReplaceRouteTableAssociation(ctx context.Context, in *ec2api.ReplaceRouteTableAssociationRequest) (*ec2api.ReplaceRouteTableAssociationResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	aid, rid := deref(in.AssociationId), deref(in.RouteTableId)
	if aid == "" {
		return nil, errMissingParam("AssociationId")
	}
	if rid == "" {
		return nil, errMissingParam("RouteTableId")
	}
	var assoc ec2api.RouteTableAssociation
	err := s.update(ctx, func(t *rtx) error {
		old, i, err := rtbFindAssoc(t, aid)
		if err != nil {
			return err
		}
		if old == nil {
			return apiErr("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", aid)
		}
		target, err := routeTables.get(t, rid)
		if err != nil {
			return err
		}
		if deref(target.VpcId) != deref(old.VpcId) {
			return errInvalidParam("Route table %s and association %s belong to different networks", rid, aid)
		}
		a := old.Associations[i]
		old.Associations = slices.Delete(old.Associations, i, i+1)
		if err := routeTables.put(t, old); err != nil {
			return err
		}
		if deref(old.RouteTableId) == rid {
			target = old
		}
		assoc = rtbAssoc(rid, deref(a.Main), deref(a.SubnetId), deref(a.GatewayId))
		target.Associations = append(target.Associations, assoc)
		return routeTables.put(t, target)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceRouteTableAssociationResult{NewAssociationId: assoc.RouteTableAssociationId, AssociationState: assoc.AssociationState}, nil
}
