package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// vpceService is one AWS service that minicloud offers VPC endpoints for.
type vpceService struct {
	short string // "s3", "ecr.dkr"
	typ   string // Gateway | Interface
	// privateDNS is the service's private DNS name pattern ("" for none);
	// %r stands for the region.
	privateDNS string
}

// vpceServices is the catalogue DescribeVpcEndpointServices answers: the
// services minicloud models. S3 and DynamoDB have gateway endpoints (S3
// also an interface one); the rest are interface endpoints.
var vpceServices = []vpceService{
	{"dynamodb", "Gateway", ""},
	{"ec2", "Interface", "ec2.%r.amazonaws.com"},
	{"ec2messages", "Interface", "ec2messages.%r.amazonaws.com"},
	{"ecr.api", "Interface", "api.ecr.%r.amazonaws.com"},
	{"ecr.dkr", "Interface", "*.dkr.ecr.%r.amazonaws.com"},
	{"ecs", "Interface", "ecs.%r.amazonaws.com"},
	{"elasticloadbalancing", "Interface", "elasticloadbalancing.%r.amazonaws.com"},
	{"execute-api", "Interface", "*.execute-api.%r.amazonaws.com"},
	{"kms", "Interface", "kms.%r.amazonaws.com"},
	{"logs", "Interface", "logs.%r.amazonaws.com"},
	{"monitoring", "Interface", "monitoring.%r.amazonaws.com"},
	{"rds", "Interface", "rds.%r.amazonaws.com"},
	{"s3", "Gateway", ""},
	{"s3", "Interface", "*.s3.%r.amazonaws.com"},
	{"secretsmanager", "Interface", "secretsmanager.%r.amazonaws.com"},
	{"sns", "Interface", "sns.%r.amazonaws.com"},
	{"sqs", "Interface", "sqs.%r.amazonaws.com"},
	{"ssm", "Interface", "ssm.%r.amazonaws.com"},
	{"ssmmessages", "Interface", "ssmmessages.%r.amazonaws.com"},
	{"sts", "Interface", "sts.%r.amazonaws.com"},
}

// vpceDefaultPolicy is the full-access policy AWS attaches when none is given.
const vpceDefaultPolicy = `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`

func vpceServiceName(region, short string) string { return "com.amazonaws." + region + "." + short }

// vpceHash is a stable hex digest for IDs derived from names.
func vpceHash(s string, n int) string {
	sum := sha256.Sum256([]byte("minicloud/vpce/" + s))
	return hex.EncodeToString(sum[:])[:n]
}

// vpceFindService returns the catalogue entry of name with type typ.
func vpceFindService(region, name, typ string) (vpceService, bool, bool) {
	exists := false
	for _, sv := range vpceServices {
		if vpceServiceName(region, sv.short) == name {
			exists = true
			if sv.typ == typ {
				return sv, true, true
			}
		}
	}
	return vpceService{}, exists, false
}

// vpceHostedZone is a per-region, stable stand-in for the Route 53 zone
// AWS hosts vpce.amazonaws.com names in.
func vpceHostedZone(region string) string {
	return "Z" + strings.ToUpper(vpceHash("zone/"+region, 12))
}

// vpceDNSEntries are an interface endpoint's names: the regional one, one
// per zone of its subnets and, with private DNS, the service's own name.
func vpceDNSEntries(region string, e *vpcEndpointRecord, zones []string, sv vpceService) []ec2api.DnsEntry {
	id := deref(e.VpcEndpointId)
	zone := vpceHostedZone(region)
	out := []ec2api.DnsEntry{{DnsName: new(vpceDNSName(region, id, sv.short, "")), HostedZoneId: new(zone)}}
	slices.Sort(zones)
	for _, z := range slices.Compact(zones) {
		out = append(out, ec2api.DnsEntry{DnsName: new(vpceDNSName(region, id, sv.short, z)), HostedZoneId: new(zone)})
	}
	if deref(e.PrivateDnsEnabled) && sv.privateDNS != "" {
		out = append(out, ec2api.DnsEntry{DnsName: new(strings.ReplaceAll(sv.privateDNS, "%r", region)), HostedZoneId: new("Z" + strings.ToUpper(vpceHash("private/"+id, 20)))})
	}
	return out
}

// vpceDNSName is an interface endpoint's own DNS name: the regional one
// (zone ""), else zone's, as AWS names them
// (vpce-<id>-<8 chars>[-<zone>].<service>.<region>.vpce.amazonaws.com).
func vpceDNSName(region, id, short, zone string) string {
	base := id + "-" + vpceHash(id, 8)
	if zone != "" {
		base += "-" + zone
	}
	return base + "." + short + "." + region + ".vpce.amazonaws.com"
}

// vpceRefreshDNS recomputes an interface endpoint's DNS entries from its
// network interfaces.
func vpceRefreshDNS(t *rtx, e *vpcEndpointRecord) error {
	if deref(e.VpcEndpointType) != "Interface" {
		return nil
	}
	sv, _, _ := vpceFindService(t.scope.Region, deref(e.ServiceName), "Interface")
	var zones []string
	for _, id := range e.NetworkInterfaceIds {
		n, ok, err := networkInterfaces.find(t, id)
		if err != nil {
			return err
		}
		if ok {
			zones = append(zones, deref(n.AvailabilityZone))
		}
	}
	e.DnsEntries = vpceDNSEntries(t.scope.Region, e, zones, sv)
	return nil
}

// vpceCheckPrivateDNS enforces that private DNS needs both VPC DNS
// attributes.
func vpceCheckPrivateDNS(v *vpcRecord) error {
	if !v.EnableDNSSupport || !v.EnableDNSHostnames {
		return apiErr("InvalidParameter", "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for %s", deref(v.VpcId))
	}
	return nil
}

// vpceAddRouteTables adds the gateway endpoint's prefix-list route to each
// route table.
func vpceAddRouteTables(t *rtx, e *vpcEndpointRecord, ids []string) error {
	pl, ok := prefixListByName(t.scope.Region, t.publicPool, deref(e.ServiceName))
	if !ok {
		return nil
	}
	for _, id := range ids {
		r, err := routeTables.get(t, id)
		if err != nil {
			return err
		}
		if deref(r.VpcId) != deref(e.VpcId) {
			return apiErr("InvalidRouteTableId.NotFound", "The routeTable ID '%s' does not exist in vpc %s", id, deref(e.VpcId))
		}
		if slices.Contains(e.RouteTableIds, id) {
			continue
		}
		for _, rt := range r.Routes {
			if deref(rt.DestinationPrefixListId) == pl.ID {
				return apiErr("RouteAlreadyExists", "route table %s already has a route with destination-prefix-list-id %s", id, pl.ID)
			}
		}
		r.Routes = append(r.Routes, ec2api.Route{DestinationPrefixListId: new(pl.ID), GatewayId: e.VpcEndpointId, Origin: new("CreateRoute"), State: new("active")})
		if err := routeTables.put(t, r); err != nil {
			return err
		}
		e.RouteTableIds = append(e.RouteTableIds, id)
	}
	return nil
}

// vpceRemoveRouteTables removes the endpoint's routes from route tables.
func vpceRemoveRouteTables(t *rtx, e *vpcEndpointRecord, ids []string) error {
	for _, id := range ids {
		if !slices.Contains(e.RouteTableIds, id) {
			if _, err := routeTables.get(t, id); err != nil {
				return err
			}
			continue
		}
		r, ok, err := routeTables.find(t, id)
		if err != nil {
			return err
		}
		if ok {
			r.Routes = slices.DeleteFunc(r.Routes, func(rt ec2api.Route) bool { return deref(rt.GatewayId) == deref(e.VpcEndpointId) })
			if err := routeTables.put(t, r); err != nil {
				return err
			}
		}
		e.RouteTableIds = slices.DeleteFunc(e.RouteTableIds, func(x string) bool { return x == id })
	}
	return nil
}

// vpceGroups returns the endpoint's security groups as ENI group entries.
func vpceGroups(t *rtx, e *vpcEndpointRecord) ([]ec2api.GroupIdentifier, error) {
	out := []ec2api.GroupIdentifier{}
	for _, g := range e.Groups {
		out = append(out, ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	return out, nil
}

// vpceAddSubnets creates one network interface per subnet (one subnet per
// zone).
func vpceAddSubnets(t *rtx, e *vpcEndpointRecord, ids []string) error {
	zones := map[string]string{}
	for _, sid := range e.SubnetIds {
		if sn, ok, err := subnets.find(t, sid); err != nil {
			return err
		} else if ok {
			zones[deref(sn.AvailabilityZone)] = sid
		}
	}
	groups, err := vpceGroups(t, e)
	if err != nil {
		return err
	}
	for _, sid := range ids {
		if slices.Contains(e.SubnetIds, sid) {
			continue
		}
		sn, err := subnets.get(t, sid)
		if err != nil {
			return err
		}
		if deref(sn.VpcId) != deref(e.VpcId) {
			return apiErr("InvalidParameter", "The subnet ID '%s' does not belong to the VPC %s", sid, deref(e.VpcId))
		}
		if other, dup := zones[deref(sn.AvailabilityZone)]; dup {
			return apiErr("DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone of %s. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service. (%s)", sid, other)
		}
		zones[deref(sn.AvailabilityZone)] = sid
		eni, err := vpcManagedENI(t, sn, "vpc_endpoint", "VPC Endpoint Interface "+deref(e.VpcEndpointId), "", slices.Clone(groups))
		if err != nil {
			return err
		}
		e.SubnetIds = append(e.SubnetIds, sid)
		e.NetworkInterfaceIds = append(e.NetworkInterfaceIds, deref(eni.NetworkInterfaceId))
	}
	return nil
}

// vpceRemoveSubnets deletes the endpoint's interfaces in those subnets.
func vpceRemoveSubnets(t *rtx, e *vpcEndpointRecord, ids []string) error {
	for _, sid := range ids {
		if !slices.Contains(e.SubnetIds, sid) {
			if _, err := subnets.get(t, sid); err != nil {
				return err
			}
			continue
		}
		var keep []string
		for _, eniID := range e.NetworkInterfaceIds {
			n, ok, err := networkInterfaces.find(t, eniID)
			if err != nil {
				return err
			}
			if ok && deref(n.SubnetId) == sid {
				if err := networkInterfaces.del(t, eniID); err != nil {
					return err
				}
				continue
			}
			keep = append(keep, eniID)
		}
		if keep == nil {
			keep = []string{}
		}
		e.NetworkInterfaceIds = keep
		e.SubnetIds = slices.DeleteFunc(e.SubnetIds, func(x string) bool { return x == sid })
	}
	return nil
}

// vpceResolveGroups validates security group IDs of the endpoint's VPC.
func vpceResolveGroups(t *rtx, vpcID string, ids []string) ([]ec2api.SecurityGroupIdentifier, error) {
	var out []ec2api.SecurityGroupIdentifier
	for _, id := range ids {
		g, err := securityGroups.get(t, id)
		if err != nil {
			return nil, err
		}
		if deref(g.VpcId) != vpcID {
			return nil, apiErr("InvalidParameter", "The security group '%s' does not belong to the VPC %s", id, vpcID)
		}
		out = append(out, ec2api.SecurityGroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	return out, nil
}

// vpceSyncGroups copies the endpoint's groups onto its interfaces.
func vpceSyncGroups(t *rtx, e *vpcEndpointRecord) error {
	groups, err := vpceGroups(t, e)
	if err != nil {
		return err
	}
	for _, id := range e.NetworkInterfaceIds {
		n, ok, err := networkInterfaces.find(t, id)
		if err != nil {
			return err
		}
		if ok {
			n.Groups = slices.Clone(groups)
			if err := networkInterfaces.put(t, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateVpcEndpoint creates a gateway endpoint (routes to the service's
// prefix list in the given route tables) or an interface endpoint (one
// network interface per subnet).
func (s *Service) CreateVpcEndpoint(ctx context.Context, in *ec2api.CreateVpcEndpointRequest) (*ec2api.CreateVpcEndpointResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	r, err := vpceCheckCreate(in)
	if err != nil {
		return nil, err
	}
	var out vpcEndpointRecord
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		e, err := createOnce(t, vpcEndpoints, "CreateVpcEndpoint", r.token, r.hash, func() (*vpcEndpointRecord, error) { return vpceCreate(t, r, s.endpointRuntime) })
		if err != nil {
			return err
		}
		out = *e
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := out.VpcEndpoint
	if r.typ == "Interface" {
		// AWS answers "pending" while it provisions the interfaces; without
		// an endpoint controller they are ready at once, so Describe shows
		// "available".
		res.State = new("pending")
	}
	result := &ec2api.CreateVpcEndpointResult{VpcEndpoint: &res}
	if r.token != "" {
		result.ClientToken = new(r.token)
	}
	return result, nil
}

// vpceRequest is a CreateVpcEndpoint request checked on its own.
type vpceRequest struct {
	in               *ec2api.CreateVpcEndpointRequest
	vpcID, name, typ string // typ: Gateway | Interface
	tags             []ec2api.Tag
	token, hash      string
}

// vpceCheckCreate checks a CreateVpcEndpoint request without reading any
// state.
func vpceCheckCreate(in *ec2api.CreateVpcEndpointRequest) (*vpceRequest, error) {
	r := &vpceRequest{in: in, vpcID: deref(in.VpcId), name: deref(in.ServiceName), typ: orDefault(deref(in.VpcEndpointType), "Gateway")}
	if r.vpcID == "" {
		return nil, errMissingParam("VpcId")
	}
	if r.name == "" {
		return nil, errMissingParam("ServiceName")
	}
	switch r.typ {
	case "Gateway", "Interface":
	case "GatewayLoadBalancer", "Resource", "ServiceNetwork":
		return nil, apiErr("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", r.name)
	default:
		return nil, errInvalidParam("Value (%s) for parameter vpcEndpointType is invalid.", r.typ)
	}
	if at := deref(in.IpAddressType); at != "" && at != "ipv4" {
		return nil, errInvalidParam("IpAddressType %s is not supported by minicloud; use ipv4.", at)
	}
	tags, err := tagsFor(in.TagSpecifications, "vpc-endpoint", "vpc-endpoint")
	if err != nil {
		return nil, err
	}
	if r.tags = tags; r.tags == nil {
		r.tags = []ec2api.Tag{}
	}
	if err := vpceCheckPolicy(in.PolicyDocument); err != nil {
		return nil, err
	}
	r.token = deref(in.ClientToken)
	hashIn := *in
	hashIn.ClientToken = nil
	r.hash = state.HashParams(hashIn)
	return r, nil
}

// vpceCreate checks a new endpoint against its VPC and the catalogue and
// stores it with its routes or interfaces; an interface endpoint is
// pending when a controller will report it available (served).
func vpceCreate(t *rtx, r *vpceRequest, served bool) (*vpcEndpointRecord, error) {
	v, err := vpcs.get(t, r.vpcID)
	if err != nil {
		return nil, err
	}
	sv, exists, ok := vpceFindService(t.scope.Region, r.name, r.typ)
	if !ok {
		if exists {
			return nil, apiErr("InvalidParameter", "The VPC endpoint service %s does not support the VPC endpoint type %s.", r.name, r.typ)
		}
		return nil, apiErr("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", r.name)
	}
	now := t.now
	e := &vpcEndpointRecord{VpcEndpoint: ec2api.VpcEndpoint{
		VpcEndpointId:       new(state.NewID("vpce")),
		VpcEndpointType:     new(r.typ),
		VpcId:               new(r.vpcID),
		ServiceName:         new(r.name),
		State:               new("available"),
		PolicyDocument:      new(orDefault(deref(r.in.PolicyDocument), vpceDefaultPolicy)),
		RouteTableIds:       []string{},
		SubnetIds:           []string{},
		Groups:              []ec2api.SecurityGroupIdentifier{},
		NetworkInterfaceIds: []string{},
		DnsEntries:          []ec2api.DnsEntry{},
		PrivateDnsEnabled:   new(false),
		RequesterManaged:    new(false),
		CreationTimestamp:   &now,
		Tags:                r.tags,
		OwnerId:             new(t.scope.Account),
	}}
	if r.typ == "Gateway" {
		err = vpceCreateGateway(t, e, r.in)
	} else {
		err = vpceCreateInterface(t, e, r.in, v, sv)
		if served {
			e.State = new("pending")
		}
	}
	if err != nil {
		return nil, err
	}
	if err := vpcEndpoints.put(t, e); err != nil {
		return nil, err
	}
	return e, nil
}

// vpceCreateGateway gives a new gateway endpoint its routes.
func vpceCreateGateway(t *rtx, e *vpcEndpointRecord, in *ec2api.CreateVpcEndpointRequest) error {
	if len(in.SubnetIds) > 0 || len(in.SecurityGroupIds) > 0 {
		return apiErr("InvalidParameter", "Subnets and security groups are not supported for Gateway VPC endpoints.")
	}
	if deref(in.PrivateDnsEnabled) {
		return apiErr("InvalidParameter", "PrivateDnsEnabled is not supported for Gateway VPC endpoints.")
	}
	return vpceAddRouteTables(t, e, in.RouteTableIds)
}

// vpceCreateInterface gives a new interface endpoint its security groups
// (the VPC's default group unless given), its interfaces and DNS names;
// private DNS is on by default for services that have a name.
func vpceCreateInterface(t *rtx, e *vpcEndpointRecord, in *ec2api.CreateVpcEndpointRequest, v *vpcRecord, sv vpceService) error {
	if len(in.RouteTableIds) > 0 {
		return apiErr("InvalidParameter", "Route tables are not supported for Interface VPC endpoints.")
	}
	e.IpAddressType = new("ipv4")
	e.DnsOptions = &ec2api.DnsOptions{DnsRecordIpType: new("ipv4")}
	private := in.PrivateDnsEnabled == nil || *in.PrivateDnsEnabled
	if private && sv.privateDNS != "" {
		if err := vpceCheckPrivateDNS(v); err != nil {
			return err
		}
	}
	e.PrivateDnsEnabled = new(private && sv.privateDNS != "")
	vpcID := deref(v.VpcId)
	gids := in.SecurityGroupIds
	if len(gids) == 0 {
		def, err := vpceDefaultGroup(t, vpcID)
		if err != nil {
			return err
		}
		if def != "" {
			gids = []string{def}
		}
	}
	groups, err := vpceResolveGroups(t, vpcID, gids)
	if err != nil {
		return err
	}
	if e.Groups = groups; e.Groups == nil {
		e.Groups = []ec2api.SecurityGroupIdentifier{}
	}
	if err := vpceAddSubnets(t, e, in.SubnetIds); err != nil {
		return err
	}
	return vpceRefreshDNS(t, e)
}

// vpceDefaultGroup is the ID of the VPC's default security group, or "".
func vpceDefaultGroup(t *rtx, vpcID string) (string, error) {
	id := ""
	err := securityGroups.table.ForEach(t.tx, t.scope, func(gid string, g securityGroupRecord) error {
		if id == "" && deref(g.VpcId) == vpcID && deref(g.GroupName) == "default" {
			id = gid
		}
		return nil
	})
	return id, err
}

// DescribeVpcEndpoints lists VPC endpoints.
func (s *Service) DescribeVpcEndpoints(ctx context.Context, in *ec2api.DescribeVpcEndpointsRequest) (*ec2api.DescribeVpcEndpointsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := state.CheckFilterNames(toFilters(in.Filters), "service-name", "vpc-id", "vpc-endpoint-id", "vpc-endpoint-state", "vpc-endpoint-type", "ip-address-type"); err != nil {
		return nil, err
	}
	var recs []*vpcEndpointRecord
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		var err error
		recs, err = vpcEndpoints.describe(t, in.VpcEndpointIds, in.Filters, func(e *vpcEndpointRecord) map[string][]string {
			return map[string][]string{"service-name": ptrValues(e.ServiceName), "vpc-id": ptrValues(e.VpcId),
				"vpc-endpoint-id": ptrValues(e.VpcEndpointId), "vpc-endpoint-state": ptrValues(e.State),
				"vpc-endpoint-type": ptrValues(e.VpcEndpointType), "ip-address-type": ptrValues(e.IpAddressType)}
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(e *vpcEndpointRecord) string { return deref(e.VpcEndpointId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcEndpointsResult{VpcEndpoints: []ec2api.VpcEndpoint{}, NextToken: next}
	for _, e := range pg {
		out.VpcEndpoints = append(out.VpcEndpoints, e.VpcEndpoint)
	}
	return out, nil
}

// ModifyVpcEndpoint changes an endpoint's route tables, subnets, security
// groups, private DNS or policy.
func (s *Service) ModifyVpcEndpoint(ctx context.Context, in *ec2api.ModifyVpcEndpointRequest) (*ec2api.ModifyVpcEndpointResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.VpcEndpointId)
	if id == "" {
		return nil, errMissingParam("VpcEndpointId")
	}
	err := s.update(ctx, func(t *rtx) error {
		e, err := vpcEndpoints.get(t, id)
		if err != nil {
			return err
		}
		gateway := deref(e.VpcEndpointType) == "Gateway"
		if gateway && (len(in.AddSubnetIds) > 0 || len(in.RemoveSubnetIds) > 0 || len(in.AddSecurityGroupIds) > 0 || len(in.RemoveSecurityGroupIds) > 0 || in.PrivateDnsEnabled != nil) {
			return apiErr("InvalidParameter", "Subnets, security groups and private DNS are not supported for Gateway VPC endpoints.")
		}
		if !gateway && (len(in.AddRouteTableIds) > 0 || len(in.RemoveRouteTableIds) > 0) {
			return apiErr("InvalidParameter", "Route tables are not supported for Interface VPC endpoints.")
		}
		if deref(in.ResetPolicy) {
			e.PolicyDocument = new(vpceDefaultPolicy)
		} else if in.PolicyDocument != nil {
			if err := vpceCheckPolicy(in.PolicyDocument); err != nil {
				return err
			}
			e.PolicyDocument = new(*in.PolicyDocument)
		}
		if err := vpceAddRouteTables(t, e, in.AddRouteTableIds); err != nil {
			return err
		}
		if err := vpceRemoveRouteTables(t, e, in.RemoveRouteTableIds); err != nil {
			return err
		}
		if len(in.AddSecurityGroupIds) > 0 || len(in.RemoveSecurityGroupIds) > 0 {
			add, err := vpceResolveGroups(t, deref(e.VpcId), in.AddSecurityGroupIds)
			if err != nil {
				return err
			}
			for _, g := range add {
				if !slices.ContainsFunc(e.Groups, func(x ec2api.SecurityGroupIdentifier) bool { return deref(x.GroupId) == deref(g.GroupId) }) {
					e.Groups = append(e.Groups, g)
				}
			}
			e.Groups = slices.DeleteFunc(e.Groups, func(x ec2api.SecurityGroupIdentifier) bool {
				return slices.Contains(in.RemoveSecurityGroupIds, deref(x.GroupId))
			})
			if len(e.Groups) == 0 {
				return apiErr("InvalidParameter", "An interface VPC endpoint must have at least one security group.")
			}
		}
		if err := vpceRemoveSubnets(t, e, in.RemoveSubnetIds); err != nil {
			return err
		}
		added := len(e.NetworkInterfaceIds)
		if err := vpceAddSubnets(t, e, in.AddSubnetIds); err != nil {
			return err
		}
		if len(e.NetworkInterfaceIds) > added && s.endpointRuntime {
			// Pending until the new interfaces serve too.
			e.State = new("pending")
		}
		if !gateway {
			if err := vpceSyncGroups(t, e); err != nil {
				return err
			}
		}
		if in.PrivateDnsEnabled != nil {
			if *in.PrivateDnsEnabled {
				v, err := vpcs.get(t, deref(e.VpcId))
				if err != nil {
					return err
				}
				if err := vpceCheckPrivateDNS(v); err != nil {
					return err
				}
			}
			e.PrivateDnsEnabled = new(*in.PrivateDnsEnabled)
		}
		if err := vpceRefreshDNS(t, e); err != nil {
			return err
		}
		return vpcEndpoints.put(t, e)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyVpcEndpointResult{Return: new(true)}, nil
}

// DeleteVpcEndpoints deletes endpoints with their routes and interfaces;
// failures are reported per endpoint.
func (s *Service) DeleteVpcEndpoints(ctx context.Context, in *ec2api.DeleteVpcEndpointsRequest) (*ec2api.DeleteVpcEndpointsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.VpcEndpointIds) == 0 {
		return nil, errMissingParam("VpcEndpointId.1")
	}
	out := &ec2api.DeleteVpcEndpointsResult{Unsuccessful: []ec2api.UnsuccessfulItem{}}
	err := s.update(ctx, func(t *rtx) error {
		for _, id := range in.VpcEndpointIds {
			fail := func(code, msg string) {
				out.Unsuccessful = append(out.Unsuccessful, ec2api.UnsuccessfulItem{ResourceId: new(id),
					Error: &ec2api.UnsuccessfulItemError{Code: new(code), Message: new(msg)}})
			}
			if !vpcEndpoints.validID(id) {
				fail("InvalidVpcEndpointId.Malformed", "Invalid Id: '"+id+"'")
				continue
			}
			e, ok, err := vpcEndpoints.find(t, id)
			if err != nil {
				return err
			}
			if !ok {
				fail("InvalidVpcEndpoint.NotFound", "The VPC Endpoint Id '"+id+"' does not exist")
				continue
			}
			if err := vpceRemoveRouteTables(t, e, slices.Clone(e.RouteTableIds)); err != nil {
				return err
			}
			for _, eni := range e.NetworkInterfaceIds {
				if err := networkInterfaces.del(t, eni); err != nil {
					return err
				}
			}
			if err := vpcEndpoints.del(t, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vpcEndpointsDropSubnet forgets a deleted subnet in interface endpoints.
func vpcEndpointsDropSubnet(t *rtx, subnetID string) error {
	all, err := vpcEndpoints.all(t)
	if err != nil {
		return err
	}
	for _, e := range all {
		if slices.Contains(e.SubnetIds, subnetID) {
			e.SubnetIds = slices.DeleteFunc(e.SubnetIds, func(x string) bool { return x == subnetID })
			if err := vpcEndpoints.put(t, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// vpcEndpointsDropRouteTable forgets a deleted route table in gateway
// endpoints.
func vpcEndpointsDropRouteTable(t *rtx, rtbID string) error {
	all, err := vpcEndpoints.all(t)
	if err != nil {
		return err
	}
	for _, e := range all {
		if slices.Contains(e.RouteTableIds, rtbID) {
			e.RouteTableIds = slices.DeleteFunc(e.RouteTableIds, func(x string) bool { return x == rtbID })
			if err := vpcEndpoints.put(t, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// DescribeVpcEndpointServices lists the endpoint services minicloud offers.
func (s *Service) DescribeVpcEndpointServices(ctx context.Context, in *ec2api.DescribeVpcEndpointServicesRequest) (*ec2api.DescribeVpcEndpointServicesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "owner", "service-name", "service-type", "supported-ip-address-types", "service-region"); err != nil {
		return nil, err
	}
	region := regionOrSynthetic(ctxRegion(ctx))
	var zones []string
	for _, z := range region.Zones {
		zones = append(zones, region.Name+z.Letter)
	}
	for _, n := range in.ServiceNames {
		found := false
		for _, sv := range vpceServices {
			if vpceServiceName(region.Name, sv.short) == n {
				found = true
			}
		}
		if !found {
			return nil, apiErr("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", n)
		}
	}
	var details []*ec2api.ServiceDetail
	for _, sv := range vpceServices {
		name := vpceServiceName(region.Name, sv.short)
		if len(in.ServiceNames) > 0 && !slices.Contains(in.ServiceNames, name) {
			continue
		}
		d := &ec2api.ServiceDetail{
			ServiceName:                new(name),
			ServiceId:                  new("vpce-svc-" + vpceHash(name+"/"+sv.typ, 17)),
			ServiceType:                []ec2api.ServiceTypeDetail{{ServiceType: new(sv.typ)}},
			AvailabilityZones:          slices.Clone(zones),
			Owner:                      new("amazon"),
			BaseEndpointDnsNames:       []string{sv.short + "." + region.Name + ".vpce.amazonaws.com"},
			VpcEndpointPolicySupported: new(true),
			AcceptanceRequired:         new(false),
			ManagesVpcEndpoints:        new(false),
			Tags:                       []ec2api.Tag{},
			SupportedIpAddressTypes:    []string{"ipv4"},
		}
		if sv.typ == "Gateway" {
			d.BaseEndpointDnsNames = []string{name}
		}
		if sv.privateDNS != "" {
			p := strings.ReplaceAll(sv.privateDNS, "%r", region.Name)
			d.PrivateDnsName = new(p)
			d.PrivateDnsNames = []ec2api.PrivateDnsDetails{{PrivateDnsName: new(p)}}
			d.PrivateDnsNameVerificationState = new("verified")
		}
		vals := map[string][]string{"owner": {"amazon"}, "service-name": {name}, "service-type": {sv.typ},
			"supported-ip-address-types": {"ipv4"}, "service-region": {region.Name}}
		ok, err := state.MatchWithTags(fs, nil, func(n string) ([]string, bool) { v, ok := vals[n]; return v, ok })
		if err != nil {
			return nil, err
		}
		if ok {
			details = append(details, d)
		}
	}
	pg, next, err := page(details, in.MaxResults, in.NextToken, func(d *ec2api.ServiceDetail) string {
		return deref(d.ServiceName) + "\x00" + deref(d.ServiceType[0].ServiceType)
	}, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcEndpointServicesResult{ServiceNames: []string{}, ServiceDetails: []ec2api.ServiceDetail{}, NextToken: next}
	for _, d := range pg {
		out.ServiceDetails = append(out.ServiceDetails, *d)
		if !slices.Contains(out.ServiceNames, deref(d.ServiceName)) {
			out.ServiceNames = append(out.ServiceNames, deref(d.ServiceName))
		}
	}
	return out, nil
}
