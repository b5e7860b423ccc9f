package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/diagram"
	"github.com/minicloud/minicloud/internal/service/ec2"
)

// Diagram draws the architecture of an account and region from live state
// (GET /_minicloud/diagram, `minicloud diagram`).
// It refuses a region EC2 does not have, and it writes nothing: in
// particular its EC2 reads do not create the region's default VPC
// (ec2.WithoutDefaultVPC), which the data plane would then build on the host.
func (s *Server) Diagram(ctx context.Context, account, region string) (string, error) {
	if !ec2.KnownRegion(region) {
		return "", api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "unknown region %q", region)
	}
	ctx = ec2.WithoutDefaultVPC(ctx)
	return diagram.Draw(ctx, diagram.Sources{
		Network:   diagramEC2{s.ec2},
		Databases: diagramRDS{s.rds},
		Records:   diagramRoute53{s.route53},
	}, account, region)
}

// The diagram reads each service only through its own read-only API
// operations, called in-process as the account would call them.

type ec2Reader interface {
	DescribeVpcs(context.Context, *ec2api.DescribeVpcsRequest) (*ec2api.DescribeVpcsResult, error)
	DescribeSubnets(context.Context, *ec2api.DescribeSubnetsRequest) (*ec2api.DescribeSubnetsResult, error)
	DescribeRouteTables(context.Context, *ec2api.DescribeRouteTablesRequest) (*ec2api.DescribeRouteTablesResult, error)
	DescribeInternetGateways(context.Context, *ec2api.DescribeInternetGatewaysRequest) (*ec2api.DescribeInternetGatewaysResult, error)
	DescribeNetworkAcls(context.Context, *ec2api.DescribeNetworkAclsRequest) (*ec2api.DescribeNetworkAclsResult, error)
	DescribeInstances(context.Context, *ec2api.DescribeInstancesRequest) (*ec2api.DescribeInstancesResult, error)
	DescribeAddresses(context.Context, *ec2api.DescribeAddressesRequest) (*ec2api.DescribeAddressesResult, error)
	DescribeSecurityGroups(context.Context, *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error)
}

func requestCtx(ctx context.Context, account, region, service, op string) context.Context {
	return api.WithRequest(ctx, &api.RequestInfo{Account: account, Region: region, Service: service, Operation: op})
}

type diagramEC2 struct{ ec2 ec2Reader }

func (d diagramEC2) Network(ctx context.Context, account, region string) (diagram.NetworkState, error) {
	var st diagram.NetworkState
	rc := func(op string) context.Context { return requestCtx(ctx, account, region, "ec2", op) }
	vpcs, err := d.ec2.DescribeVpcs(rc("DescribeVpcs"), &ec2api.DescribeVpcsRequest{})
	if err != nil {
		return st, err
	}
	igws, err := d.ec2.DescribeInternetGateways(rc("DescribeInternetGateways"), &ec2api.DescribeInternetGatewaysRequest{})
	if err != nil {
		return st, err
	}
	igwOf := map[string]string{}
	for _, g := range igws.InternetGateways {
		for _, a := range g.Attachments {
			igwOf[deref(a.VpcId)] = deref(g.InternetGatewayId)
		}
	}
	for _, v := range vpcs.Vpcs {
		st.VPCs = append(st.VPCs, diagram.VPC{ID: deref(v.VpcId), CIDR: deref(v.CidrBlock), Name: nameTag(v.Tags),
			Default: v.IsDefault != nil && *v.IsDefault, InternetGateway: igwOf[deref(v.VpcId)]})
	}
	rts, err := d.ec2.DescribeRouteTables(rc("DescribeRouteTables"), &ec2api.DescribeRouteTablesRequest{})
	if err != nil {
		return st, err
	}
	// A subnet is public when its route table (its own, else its VPC's
	// main one) sends the default route to an internet gateway.
	toIGW := func(rt ec2api.RouteTable) bool {
		for _, r := range rt.Routes {
			if deref(r.DestinationCidrBlock) == "0.0.0.0/0" && strings.HasPrefix(deref(r.GatewayId), "igw-") && deref(r.State) != "blackhole" {
				return true
			}
		}
		return false
	}
	publicOf, mainPublic := map[string]bool{}, map[string]bool{}
	for _, rt := range rts.RouteTables {
		for _, a := range rt.Associations {
			if a.Main != nil && *a.Main {
				mainPublic[deref(rt.VpcId)] = toIGW(rt)
			} else if a.SubnetId != nil {
				publicOf[*a.SubnetId] = toIGW(rt)
			}
		}
	}
	acls, err := d.ec2.DescribeNetworkAcls(rc("DescribeNetworkAcls"), &ec2api.DescribeNetworkAclsRequest{})
	if err != nil {
		return st, err
	}
	aclOf := map[string]string{}
	for _, a := range acls.NetworkAcls {
		if a.IsDefault != nil && *a.IsDefault {
			continue
		}
		for _, as := range a.Associations {
			aclOf[deref(as.SubnetId)] = deref(a.NetworkAclId)
		}
	}
	sns, err := d.ec2.DescribeSubnets(rc("DescribeSubnets"), &ec2api.DescribeSubnetsRequest{})
	if err != nil {
		return st, err
	}
	for _, sn := range sns.Subnets {
		id := deref(sn.SubnetId)
		public, own := publicOf[id]
		if !own {
			public = mainPublic[deref(sn.VpcId)]
		}
		st.Subnets = append(st.Subnets, diagram.Subnet{ID: id, VPCID: deref(sn.VpcId), AZ: deref(sn.AvailabilityZone),
			CIDR: deref(sn.CidrBlock), Name: nameTag(sn.Tags), Public: public, NetworkACL: aclOf[id]})
	}
	insts, err := d.ec2.DescribeInstances(rc("DescribeInstances"), &ec2api.DescribeInstancesRequest{})
	if err != nil {
		return st, err
	}
	for _, r := range insts.Reservations {
		for _, in := range r.Instances {
			var state string
			if in.State != nil {
				state = deref(in.State.Name)
			}
			var groups []string
			for _, g := range in.SecurityGroups {
				groups = append(groups, deref(g.GroupId))
			}
			st.Instances = append(st.Instances, diagram.Instance{ID: deref(in.InstanceId), Name: nameTag(in.Tags), State: state,
				SubnetID: deref(in.SubnetId), PrivateIP: deref(in.PrivateIpAddress), PublicIP: deref(in.PublicIpAddress), Groups: groups})
		}
	}
	addrs, err := d.ec2.DescribeAddresses(rc("DescribeAddresses"), &ec2api.DescribeAddressesRequest{})
	if err != nil {
		return st, err
	}
	for _, a := range addrs.Addresses {
		st.Addresses = append(st.Addresses, diagram.Address{AllocationID: deref(a.AllocationId), PublicIP: deref(a.PublicIp), InstanceID: deref(a.InstanceId)})
	}
	sgs, err := d.ec2.DescribeSecurityGroups(rc("DescribeSecurityGroups"), &ec2api.DescribeSecurityGroupsRequest{})
	if err != nil {
		return st, err
	}
	for _, g := range sgs.SecurityGroups {
		sg := diagram.SecurityGroup{ID: deref(g.GroupId), Name: deref(g.GroupName)}
		for _, p := range g.IpPermissions {
			r := diagram.Rule{Protocol: deref(p.IpProtocol), FromPort: deref32(p.FromPort), ToPort: deref32(p.ToPort)}
			for _, c := range p.IpRanges {
				r.CIDRs = append(r.CIDRs, deref(c.CidrIp))
			}
			for _, u := range p.UserIdGroupPairs {
				r.Groups = append(r.Groups, deref(u.GroupId))
			}
			sg.Ingress = append(sg.Ingress, r)
		}
		st.SecurityGroups = append(st.SecurityGroups, sg)
	}
	return st, nil
}

type rdsReader interface {
	DescribeDBInstances(context.Context, *rdsapi.DescribeDBInstancesMessage) (*rdsapi.DBInstanceMessage, error)
}

type diagramRDS struct{ rds rdsReader }

func (d diagramRDS) Databases(ctx context.Context, account, region string) ([]diagram.Database, error) {
	var all []rdsapi.DBInstance
	// DescribeDBInstances answers in pages (100 by default): follow Marker.
	in := &rdsapi.DescribeDBInstancesMessage{}
	for {
		out, err := d.rds.DescribeDBInstances(requestCtx(ctx, account, region, "rds", "DescribeDBInstances"), in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.DBInstances...)
		if deref(out.Marker) == "" {
			break
		}
		in = &rdsapi.DescribeDBInstancesMessage{Marker: out.Marker}
	}
	var dbs []diagram.Database
	for _, in := range all {
		db := diagram.Database{ID: deref(in.DBInstanceIdentifier), Engine: deref(in.Engine), Status: deref(in.DBInstanceStatus),
			AZ: deref(in.AvailabilityZone)}
		if in.Endpoint != nil {
			db.Address, db.Port = deref(in.Endpoint.Address), deref32(in.Endpoint.Port)
		}
		if in.DBSubnetGroup != nil {
			for _, sn := range in.DBSubnetGroup.Subnets {
				db.SubnetIDs = append(db.SubnetIDs, deref(sn.SubnetIdentifier))
			}
		}
		for _, g := range in.VpcSecurityGroups {
			db.Groups = append(db.Groups, deref(g.VpcSecurityGroupId))
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

type route53Reader interface {
	ListHostedZones(context.Context, *route53api.ListHostedZonesRequest) (*route53api.ListHostedZonesResponse, error)
	ListResourceRecordSets(context.Context, *route53api.ListResourceRecordSetsRequest) (*route53api.ListResourceRecordSetsResponse, error)
}

type diagramRoute53 struct{ r53 route53Reader }

// Records lists the A and AAAA records of the account's public zones: what
// a person's resolver can reach through minicloud's DNS.
func (d diagramRoute53) Records(ctx context.Context, account string) ([]diagram.Record, error) {
	// Route 53 is global: its calls are signed for us-east-1.
	rc := func(op string) context.Context { return requestCtx(ctx, account, "us-east-1", "route53", op) }
	var out []diagram.Record
	in := &route53api.ListHostedZonesRequest{}
	for {
		zones, err := d.r53.ListHostedZones(rc("ListHostedZones"), in)
		if err != nil {
			return nil, err
		}
		for _, z := range zones.HostedZones {
			if z.Config != nil && z.Config.PrivateZone != nil && *z.Config.PrivateZone {
				continue
			}
			req := &route53api.ListResourceRecordSetsRequest{HostedZoneId: z.Id}
			for {
				rrs, err := d.r53.ListResourceRecordSets(rc("ListResourceRecordSets"), req)
				if err != nil {
					return nil, err
				}
				for _, rr := range rrs.ResourceRecordSets {
					if t := deref(rr.Type); t != "A" && t != "AAAA" {
						continue
					}
					r := diagram.Record{Zone: deref(z.Name), Name: deref(rr.Name), Type: deref(rr.Type)}
					for _, v := range rr.ResourceRecords {
						r.Values = append(r.Values, deref(v.Value))
					}
					out = append(out, r)
				}
				if rrs.IsTruncated == nil || !*rrs.IsTruncated {
					break
				}
				req = &route53api.ListResourceRecordSetsRequest{HostedZoneId: z.Id, StartRecordName: rrs.NextRecordName,
					StartRecordType: rrs.NextRecordType, StartRecordIdentifier: rrs.NextRecordIdentifier}
			}
		}
		if zones.IsTruncated == nil || !*zones.IsTruncated {
			return out, nil
		}
		in = &route53api.ListHostedZonesRequest{Marker: zones.NextMarker}
	}
}

func nameTag(tags []ec2api.Tag) string {
	for _, t := range tags {
		if deref(t.Key) == "Name" {
			return deref(t.Value)
		}
	}
	return ""
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
