package ec2_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	svc "github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcnet/firewall"
)

// specVPC returns the VPC of the spec with the vpc- ID.
func specVPC(t *testing.T, s *svc.NetworkSpec, id string) svc.VPCSpec {
	t.Helper()
	for _, v := range s.VPCs {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("VPC %s not in the spec", id)
	return svc.VPCSpec{}
}

func specSubnet(v svc.VPCSpec, id string) (svc.SubnetSpec, bool) {
	for _, s := range v.Subnets {
		if s.ID == id {
			return s, true
		}
	}
	return svc.SubnetSpec{}, false
}

func specENI(v svc.VPCSpec, id string) (svc.ENISpec, bool) {
	for _, e := range v.ENIs {
		if e.ID == id {
			return e, true
		}
	}
	return svc.ENISpec{}, false
}

func specGroup(e svc.ENISpec, id string) (firewall.SecurityGroup, bool) {
	for _, g := range e.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return firewall.SecurityGroup{}, false
}

func routesString(rs []svc.RouteSpec) string {
	var out []string
	for _, r := range rs {
		s := r.Destination.String() + "→" + string(r.Target)
		if r.NATGatewayID != "" {
			s += ":" + r.NATGatewayID
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// TestDesiredNetwork builds a VPC through the API and checks what
// DesiredNetwork makes of every part of it.
func TestDesiredNetwork(t *testing.T) {
	e := newEnv(t, "")
	c, ctx := e.ec2, e.ctx
	vpcID := vpcTCreate(t, c, "10.0.0.0/16")
	vpcTMust(c.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("10.1.0.0/16")}))
	pubSub := vpcTSubnet(t, c, vpcID, "10.0.1.0/24", "")
	privSub := vpcTSubnet(t, c, vpcID, "10.0.2.0/24", "")
	natSub := vpcTSubnet(t, c, vpcID, "10.1.3.0/24", "")

	igw := aws.ToString(vpcTMust(c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	vpcTMust(c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))

	// Security groups: web admits tcp 80 from anywhere and tcp 80-81 from
	// members of app (two rules of one permission, merged).
	defSG := aws.ToString(vpcTMust(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		vpcTFilter("vpc-id", vpcID), vpcTFilter("group-name", "default")}})).SecurityGroups[0].GroupId)
	web := aws.ToString(vpcTMust(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpcID, GroupName: aws.String("web"), Description: aws.String("web")})).GroupId)
	app := aws.ToString(vpcTMust(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: &vpcID, GroupName: aws.String("app"), Description: aws.String("app")})).GroupId)
	vpcTMust(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &web, IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8081),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &app}}, IpRanges: []types.IpRange{{CidrIp: aws.String("192.0.2.0/24")}}},
		{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(8), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}},
	}}))

	// ENIs: the web server in the public subnet with a secondary address,
	// two app members in the private subnet.
	webENI := vpcTMust(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &pubSub, Groups: []string{web},
		PrivateIpAddress: aws.String("10.0.1.10"), SecondaryPrivateIpAddressCount: aws.Int32(1)})).NetworkInterface
	app1 := vpcTMust(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &privSub, Groups: []string{app},
		PrivateIpAddress: aws.String("10.0.2.20"), SecondaryPrivateIpAddressCount: aws.Int32(1)})).NetworkInterface
	app2 := vpcTMust(c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &privSub, Groups: []string{app, defSG},
		PrivateIpAddress: aws.String("10.0.2.30")})).NetworkInterface
	webID, app1ID, app2ID := aws.ToString(webENI.NetworkInterfaceId), aws.ToString(app1.NetworkInterfaceId), aws.ToString(app2.NetworkInterfaceId)
	app1Second := aws.ToString(app1.PrivateIpAddresses[1].PrivateIpAddress)
	if aws.ToBool(app1.PrivateIpAddresses[0].Primary) == false {
		app1Second = aws.ToString(app1.PrivateIpAddresses[0].PrivateIpAddress)
	}

	// An Elastic IP on the web ENI.
	eip := vpcTMust(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
	vpcTMust(c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: &webID}))

	// A NAT gateway in natSub, another one deleted.
	natEIP := vpcTMust(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
	nat := aws.ToString(vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &natSub, AllocationId: natEIP.AllocationId})).NatGateway.NatGatewayId)
	goneEIP := vpcTMust(c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc}))
	gone := aws.ToString(vpcTMust(c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: &natSub, AllocationId: goneEIP.AllocationId})).NatGateway.NatGatewayId)

	// Route tables: public (default via the IGW) for pubSub; private
	// (default via the NAT gateway, a /24 via the deleted one, one to an
	// ENI and one to a prefix list) for privSub; natSub keeps the main.
	pubRtb := aws.ToString(vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &pubRtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	vpcTMust(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &pubRtb, SubnetId: &pubSub}))
	privRtb := aws.ToString(vpcTMust(c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpcID})).RouteTable.RouteTableId)
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &privRtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: &nat}))
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &privRtb, DestinationCidrBlock: aws.String("192.0.2.0/24"), NatGatewayId: &gone}))
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &privRtb, DestinationCidrBlock: aws.String("172.16.0.0/12"), NetworkInterfaceId: &app2ID}))
	pls := vpcTMust(c.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{})).PrefixLists
	s3 := pls[slices.IndexFunc(pls, func(p types.PrefixList) bool { return strings.HasSuffix(aws.ToString(p.PrefixListName), ".s3") })]
	vpcTMust(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &privRtb, DestinationPrefixListId: s3.PrefixListId, GatewayId: &igw}))
	vpcTMust(c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &privRtb, SubnetId: &privSub}))
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &gone}))

	// A custom network ACL for privSub.
	acl := aws.ToString(vpcTMust(c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: &vpcID})).NetworkAcl.NetworkAclId)
	vpcTMust(c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: &acl, RuleNumber: aws.Int32(200), Protocol: aws.String("tcp"), Egress: aws.Bool(false),
		RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.0.0.0/16"), PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}}))
	vpcTMust(c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: &acl, RuleNumber: aws.Int32(100), Protocol: aws.String("icmp"), Egress: aws.Bool(false),
		RuleAction: types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0"), IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}}))
	vpcTMust(c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: &acl, RuleNumber: aws.Int32(100), Protocol: aws.String("-1"), Egress: aws.Bool(true),
		RuleAction: types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")}))
	accs := vpcTMust(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{vpcTFilter("association.subnet-id", privSub)}})).NetworkAcls
	var assocID string
	for _, a := range accs[0].Associations {
		if aws.ToString(a.SubnetId) == privSub {
			assocID = aws.ToString(a.NetworkAclAssociationId)
		}
	}
	vpcTMust(c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: &assocID, NetworkAclId: &acl}))
	defACL := aws.ToString(accs[0].NetworkAclId)

	spec, err := e.srv.EC2().DesiredNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := specVPC(t, spec, vpcID)
	sub := func(id string) svc.SubnetSpec {
		s, ok := specSubnet(v, id)
		if !ok {
			t.Fatalf("subnet %s not in the spec", id)
		}
		return s
	}
	eni := func(id string) svc.ENISpec {
		s, ok := specENI(v, id)
		if !ok {
			t.Fatalf("ENI %s not in the spec", id)
		}
		return s
	}
	group := func(eniID, id string) firewall.SecurityGroup {
		g, ok := specGroup(eni(eniID), id)
		if !ok {
			t.Fatalf("group %s not on %s", id, eniID)
		}
		return g
	}
	webIPs := eni(webID)
	natIP := netip.MustParseAddr(aws.ToString(natEIP.PublicIp))

	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"key", v.Key, "000000000000/us-east-1/" + vpcID},
		{"cidrs", v.CIDRs, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.1.0.0/16")}},
		{"resolver", v.Resolver, netip.MustParseAddr("10.0.0.2")},
		{"igw", v.InternetGateway, true},
		{"subnet ids", func() []string {
			var ids []string
			for _, s := range v.Subnets {
				ids = append(ids, s.ID)
			}
			return ids
		}(), func() []string { ids := []string{pubSub, privSub, natSub}; slices.Sort(ids); return ids }()},
		{"subnet cidr", sub(privSub).CIDR, netip.MustParsePrefix("10.0.2.0/24")},
		{"public routes", routesString(sub(pubSub).Routes), "0.0.0.0/0→igw,10.0.0.0/16→local,10.1.0.0/16→local"},
		{"public rtb", sub(pubSub).RouteTableID, pubRtb},
		{"private routes", routesString(sub(privSub).Routes),
			"0.0.0.0/0→nat:" + nat + ",10.0.0.0/16→local,10.1.0.0/16→local,172.16.0.0/12→blackhole,192.0.2.0/24→blackhole,198.19.255.242/32→igw"}, // the S3 list: its service address in the default pool
		{"eni route target", sub(privSub).Routes[3].TargetID, app2ID},
		{"main routes", routesString(sub(natSub).Routes), "10.0.0.0/16→local,10.1.0.0/16→local"},
		{"default acl", sub(pubSub).ACL.ID, defACL},
		{"default acl entries", sub(pubSub).ACL.Entries, []firewall.ACLEntry{
			{RuleNumber: 100, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0"), Allow: true},
			{RuleNumber: 32767, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
			{RuleNumber: 100, Egress: true, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0"), Allow: true},
			{RuleNumber: 32767, Egress: true, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
		}},
		{"custom acl", sub(privSub).ACL.ID, acl},
		{"custom acl entries", sub(privSub).ACL.Entries, []firewall.ACLEntry{
			{RuleNumber: 100, Protocol: 1, PortFrom: -1, PortTo: -1, ICMPType: 8, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
			{RuleNumber: 200, Protocol: 6, PortFrom: 22, PortTo: 22, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("10.0.0.0/16"), Allow: true},
			{RuleNumber: 32767, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
			{RuleNumber: 100, Egress: true, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0"), Allow: true},
			{RuleNumber: 32767, Egress: true, Protocol: -1, PortFrom: -1, PortTo: -1, ICMPType: -1, ICMPCode: -1, CIDR: netip.MustParsePrefix("0.0.0.0/0")},
		}},
		{"public ips", v.PublicIPs, []svc.PublicIPSpec{{Public: netip.MustParseAddr(aws.ToString(eip.PublicIp)), Private: netip.MustParseAddr("10.0.1.10"), ENIID: webID}}},
		{"nat gateways", v.NATGateways, []svc.NATGatewaySpec{{ID: nat, SubnetID: natSub, PublicIP: natIP}}},
		{"eni ip", webIPs.IP, netip.MustParseAddr("10.0.1.10")},
		{"eni secondary", len(webIPs.SecondaryIPs), 1},
		{"eni mac", webIPs.MAC.String(), aws.ToString(webENI.MacAddress)},
		{"eni subnet", webIPs.SubnetID, pubSub},
		{"eni unattached", fmt.Sprintf("%q %d %s", webIPs.InstanceID, webIPs.DeviceIndex, webIPs.InterfaceType), `"" 0 interface`},
		{"eni groups", func() []string {
			var ids []string
			for _, g := range eni(app2ID).Groups {
				ids = append(ids, g.ID)
			}
			return ids
		}(), []string{app, defSG}},
		{"web ingress", group(webID, web).Ingress, []firewall.SGRule{
			{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}},
			{Protocol: "tcp", FromPort: 8080, ToPort: 8081, CIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
				Peers: addrs("10.0.2.20", app1Second, "10.0.2.30")},
			{Protocol: "icmp", FromPort: 8, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		}},
		{"web egress", group(webID, web).Egress, []firewall.SGRule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}}},
		{"default self reference", group(app2ID, defSG).Ingress, []firewall.SGRule{{Protocol: "-1", FromPort: -1, ToPort: -1, Peers: addrs("10.0.2.30")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", tc.got, tc.want)
			}
		})
	}

	// The NAT gateway's own ENI is listed (no groups), its EIP is not a
	// 1:1 mapping.
	for _, e := range v.ENIs {
		if e.InterfaceType == "nat_gateway" && len(e.Groups) != 0 {
			t.Errorf("NAT gateway ENI %s has groups", e.ID)
		}
	}

	// Deterministic: the same state gives the same spec.
	again, err := e.srv.EC2().DesiredNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec, again) {
		t.Error("DesiredNetwork is not deterministic")
	}

	// Changes follow: detaching the IGW blackholes its routes, a deleted NAT
	// gateway disappears, a member leaving app leaves the peers.
	vpcTMust(c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: aws.String(aws.ToString(vpcTMust(c.DescribeAddresses(ctx,
		&ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(eip.AllocationId)}})).Addresses[0].AssociationId))}))
	vpcTMust(c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: &nat}))
	vpcTMust(c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpcID}))
	vpcTMust(c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: &app1ID, Groups: []string{defSG}}))
	spec, err = e.srv.EC2().DesiredNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v = specVPC(t, spec, vpcID)
	if v.InternetGateway || len(v.PublicIPs) != 0 || len(v.NATGateways) != 0 {
		t.Errorf("after detach: igw %v, public IPs %v, NAT gateways %v", v.InternetGateway, v.PublicIPs, v.NATGateways)
	}
	if got := routesString(sub(pubSub).Routes); got != "0.0.0.0/0→blackhole,10.0.0.0/16→local,10.1.0.0/16→local" {
		t.Errorf("after detach: public routes %s", got)
	}
	if got := sub(privSub).Routes[0]; got.Target != svc.RouteBlackhole || got.TargetID != nat {
		t.Errorf("after NAT deletion: %+v", got)
	}
	if got := group(webID, web).Ingress[1].Peers; !reflect.DeepEqual(got, addrs("10.0.2.30")) {
		t.Errorf("after membership change: peers %v", got)
	}
}

// TestDesiredNetworkAccounts checks VPCs of several accounts and regions
// with the same CIDRs are all exported, with distinct keys and IDs, in
// key order.
func TestDesiredNetworkAccounts(t *testing.T) {
	e := newEnv(t, "")
	want := map[string]string{}
	for _, tc := range []struct{ region, key string }{{"us-east-1", "test"}, {"us-east-1", "111111111111"}, {"eu-west-1", "222222222222"}} {
		c := ec2Client(e.url, tc.region, tc.key)
		id := vpcTCreate(t, c, "10.0.0.0/16")
		vpcTSubnet(t, c, id, "10.0.1.0/24", "")
		acct := tc.key
		if acct == "test" {
			acct = "000000000000"
		}
		want[acct+"/"+tc.region+"/"+id] = id
	}
	spec, err := e.srv.EC2().DesiredNetwork(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var keys []string
	for _, v := range spec.VPCs {
		if ids[v.ID] {
			t.Errorf("VPC ID %s twice", v.ID)
		}
		ids[v.ID] = true
		keys = append(keys, v.Key)
		if v.Key != v.Account+"/"+v.Region+"/"+v.ID {
			t.Errorf("key %s of %s/%s/%s", v.Key, v.Account, v.Region, v.ID)
		}
		if id, ok := want[v.Key]; ok {
			if len(v.Subnets) != 1 || v.Subnets[0].CIDR != netip.MustParsePrefix("10.0.1.0/24") || v.ID != id {
				t.Errorf("%s: %+v", v.Key, v)
			}
			delete(want, v.Key)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing VPCs %v", want)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("VPCs not in key order: %v", keys)
	}
	// Default VPCs are there too: one per account and region used.
	if len(spec.VPCs) != 6 {
		t.Errorf("%d VPCs, want 3 + 3 default", len(spec.VPCs))
	}
}
