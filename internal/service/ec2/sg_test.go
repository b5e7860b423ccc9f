package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// sgVPC creates a VPC and returns its ID.
func sgVPC(t *testing.T, e *testEnv, cidr string) string {
	t.Helper()
	out, err := e.ec2.CreateVpc(e.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Vpc.VpcId)
}

func sgCreate(t *testing.T, e *testEnv, vpcID, name string) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("d " + name)}
	if vpcID != "" {
		in.VpcId = aws.String(vpcID)
	}
	out, err := e.ec2.CreateSecurityGroup(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

func sgGet(t *testing.T, e *testEnv, id string) types.SecurityGroup {
	t.Helper()
	out, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("got %d groups", len(out.SecurityGroups))
	}
	return out.SecurityGroups[0]
}

func sgTCP(port int32, cidr string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
		IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}}}
}

func TestDefaultSecurityGroupOfNewVPC(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	out, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("want the default group only, got %d", len(out.SecurityGroups))
	}
	g := out.SecurityGroups[0]
	if aws.ToString(g.GroupName) != "default" || aws.ToString(g.Description) != "default VPC security group" || aws.ToString(g.OwnerId) == "" {
		t.Fatalf("default group: %+v", g)
	}
	if len(g.IpPermissions) != 1 || aws.ToString(g.IpPermissions[0].IpProtocol) != "-1" || g.IpPermissions[0].FromPort != nil ||
		len(g.IpPermissions[0].UserIdGroupPairs) != 1 || aws.ToString(g.IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(g.GroupId) ||
		aws.ToString(g.IpPermissions[0].UserIdGroupPairs[0].UserId) != aws.ToString(g.OwnerId) {
		t.Fatalf("default ingress: %+v", g.IpPermissions)
	}
	if len(g.IpPermissionsEgress) != 1 || aws.ToString(g.IpPermissionsEgress[0].IpProtocol) != "-1" ||
		len(g.IpPermissionsEgress[0].IpRanges) != 1 || aws.ToString(g.IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Fatalf("default egress: %+v", g.IpPermissionsEgress)
	}
	// The default group cannot be deleted.
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: g.GroupId})
	wantCode(t, err, "CannotDelete")
	// Its rules carry sgr- IDs.
	rules, err := e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{
		{Name: aws.String("group-id"), Values: []string{aws.ToString(g.GroupId)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.SecurityGroupRules) != 2 {
		t.Fatalf("rules: %+v", rules.SecurityGroupRules)
	}
	for _, r := range rules.SecurityGroupRules {
		id := aws.ToString(r.SecurityGroupRuleId)
		if len(id) != 21 || id[:4] != "sgr-" || aws.ToInt32(r.FromPort) != -1 || aws.ToInt32(r.ToPort) != -1 || aws.ToString(r.GroupOwnerId) == "" {
			t.Fatalf("rule: %+v", r)
		}
		if !aws.ToBool(r.IsEgress) && (r.ReferencedGroupInfo == nil || aws.ToString(r.ReferencedGroupInfo.GroupId) != aws.ToString(g.GroupId)) {
			t.Fatalf("ingress rule: %+v", r)
		}
		if aws.ToBool(r.IsEgress) && aws.ToString(r.CidrIpv4) != "0.0.0.0/0" {
			t.Fatalf("egress rule: %+v", r)
		}
	}
}

func TestCreateSecurityGroupValidation(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	sgCreate(t, e, vpc, "web")
	cases := []struct {
		name, desc, vpc, code string
	}{
		{name: "web", desc: "x", vpc: vpc, code: "InvalidGroup.Duplicate"},
		{name: "sg-abc", desc: "x", vpc: vpc, code: "InvalidParameterValue"},
		{name: "default", desc: "x", vpc: vpc, code: "InvalidParameterValue"},
		{name: "x", desc: "x", vpc: "vpc-0123456789abcdef0", code: "InvalidVpcID.NotFound"},
		{name: "x", desc: "x", vpc: "nope", code: "InvalidVpcID.Malformed"},
		{name: "x", desc: "é", vpc: vpc, code: "InvalidParameterValue"},
	}
	for _, c := range cases {
		in := &ec2.CreateSecurityGroupInput{VpcId: aws.String(c.vpc), GroupName: aws.String(c.name), Description: aws.String(c.desc)}
		_, err := e.ec2.CreateSecurityGroup(e.ctx, in)
		wantCode(t, err, c.code)
	}
	// The duplicate message names the VPC, as AWS's does.
	_, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("x"), VpcId: aws.String(vpc)})
	if want := "The security group 'web' already exists for VPC '" + vpc + "'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	// The same name in another VPC is fine.
	sgCreate(t, e, sgVPC(t, e, "10.1.0.0/16"), "web")
}

func TestCreateSecurityGroupDefaultVPCAndTags(t *testing.T) {
	e := newEnv(t, "")
	out, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 1 {
		t.Fatalf("tags: %+v", out.Tags)
	}
	vpcs, err := e.ec2.DescribeVpcs(e.ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := sgGet(t, e, aws.ToString(out.GroupId))
	if len(vpcs.Vpcs) != 1 || aws.ToString(g.VpcId) != aws.ToString(vpcs.Vpcs[0].VpcId) {
		t.Fatalf("group VPC %s, default VPCs %+v", aws.ToString(g.VpcId), vpcs.Vpcs)
	}
	// A new group has only the allow-all egress rule.
	if len(g.IpPermissions) != 0 || len(g.IpPermissionsEgress) != 1 || aws.ToString(g.IpPermissionsEgress[0].IpProtocol) != "-1" {
		t.Fatalf("rules: %+v / %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	// By name in the default VPC.
	byName, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"app", "default"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byName.SecurityGroups) != 2 {
		t.Fatalf("by name: %d", len(byName.SecurityGroups))
	}
	_, err = e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
	wantCode(t, err, "InvalidGroup.NotFound")
	for _, f := range []struct {
		name, value string
		want        int
	}{
		{"tag:env", "dev", 1}, {"tag-key", "env", 1}, {"group-name", "app", 1}, {"description", "ap*", 1},
		{"egress.ip-permission.cidr", "0.0.0.0/0", 2}, {"egress.ip-permission.protocol", "-1", 2},
		{"ip-permission.group-name", "default", 1}, {"owner-id", "000000000000", 2}, {"owner-id", "999999999999", 0},
	} {
		out, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String(f.name), Values: []string{f.value}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SecurityGroups) != f.want {
			t.Errorf("filter %s=%s: got %d, want %d", f.name, f.value, len(out.SecurityGroups), f.want)
		}
	}
	_, err = e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound")
	// Delete by name in the default VPC.
	if _, err := e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("app")})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: out.GroupId})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{})
	wantCode(t, err, "MissingParameter")
}

func TestAuthorizeRevokeSecurityGroup(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	web := sgCreate(t, e, vpc, "web")
	db := sgCreate(t, e, vpc, "db")
	other := sgCreate(t, e, sgVPC(t, e, "10.9.0.0/16"), "other")

	out, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("ssh")}, {CidrIp: aws.String("10.0.0.0/8")}}},
		{IpProtocol: aws.String("6"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}},
		{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(8), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
	}, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroupRule, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.Return) || len(out.SecurityGroupRules) != 4 {
		t.Fatalf("authorize: %+v", out)
	}
	if r := out.SecurityGroupRules[2]; aws.ToString(r.IpProtocol) != "tcp" || aws.ToString(r.CidrIpv6) != "::/0" || len(r.Tags) != 1 {
		t.Fatalf("normalised rule: %+v", r)
	}
	// Referencing db from web's ingress.
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(web)}}}}}); err != nil {
		t.Fatal(err)
	}
	g := sgGet(t, e, web)
	if len(g.IpPermissions) != 3 || len(g.IpPermissions[0].IpRanges) != 2 || aws.ToString(g.IpPermissions[0].IpRanges[0].Description) != "ssh" ||
		aws.ToInt32(g.IpPermissions[2].FromPort) != 8 || aws.ToInt32(g.IpPermissions[2].ToPort) != -1 {
		t.Fatalf("permissions: %+v", g.IpPermissions)
	}

	errs := []struct {
		name string
		in   *ec2.AuthorizeSecurityGroupIngressInput
		code string
	}{
		{"duplicate", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(22, "0.0.0.0/0")}}, "InvalidPermission.Duplicate"},
		{"from>to", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}}}, "InvalidParameterValue"},
		{"no ports", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}}}, "InvalidParameterValue"},
		{"icmp type", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(256), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}}}, "InvalidParameterValue"},
		{"icmp code without type", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(-1), ToPort: aws.Int32(3), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}}}, "InvalidParameterValue"},
		{"bad protocol", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("bogus"), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}}}, "InvalidParameterValue"},
		{"bad cidr", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(80, "1.2.3.4/40")}}, "InvalidParameterValue"},
		{"missing peer group", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-0123456789abcdef0")}}}}}, "InvalidGroup.NotFound"},
		{"peer in other VPC", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other)}}}}}, "InvalidGroup.NotFound"},
		{"missing group", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"), IpPermissions: []types.IpPermission{sgTCP(80, "0.0.0.0/0")}}, "InvalidGroup.NotFound"},
		{"malformed group", &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-xyz"), IpPermissions: []types.IpPermission{sgTCP(80, "0.0.0.0/0")}}, "InvalidGroupId.Malformed"},
	}
	for _, c := range errs {
		_, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, c.in)
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		wantCode(t, err, c.code)
	}
	_, err = e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(22, "0.0.0.0/0")}})
	if want := `the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists`; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %v", err)
	}
	// A failed request adds nothing (the duplicate is the second permission).
	_, err = e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(8080, "0.0.0.0/0"), sgTCP(22, "0.0.0.0/0")}})
	wantCode(t, err, "InvalidPermission.Duplicate")
	if g := sgGet(t, e, web); len(g.IpPermissions) != 3 {
		t.Fatalf("partial authorize kept: %+v", g.IpPermissions)
	}

	// Legacy top-level parameters.
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(web), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	// Egress.
	eg, err := e.ec2.AuthorizeSecurityGroupEgress(e.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(53, "8.8.8.8/32"),
		{IpProtocol: aws.String("50"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(eg.SecurityGroupRules) != 2 || !aws.ToBool(eg.SecurityGroupRules[0].IsEgress) || aws.ToInt32(eg.SecurityGroupRules[1].FromPort) != -1 {
		t.Fatalf("egress: %+v", eg.SecurityGroupRules)
	}
	_, err = e.ec2.AuthorizeSecurityGroupEgress(e.ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	wantCode(t, err, "InvalidPermission.Duplicate")

	// Revoke by permission, by rule ID; unknown rules in a non-default VPC.
	rev, err := e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(80, "0.0.0.0/0")}})
	if err != nil || !aws.ToBool(rev.Return) || len(rev.UnknownIpPermissions) != 0 {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	_, err = e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(80, "0.0.0.0/0")}})
	wantCode(t, err, "InvalidPermission.NotFound")
	if _, err := e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	// An egress rule ID is not an ingress rule.
	_, err = e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(web), SecurityGroupRuleIds: []string{aws.ToString(eg.SecurityGroupRules[0].SecurityGroupRuleId)}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	if _, err := e.ec2.RevokeSecurityGroupEgress(e.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(web), IpPermissions: []types.IpPermission{sgTCP(53, "8.8.8.8/32")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.RevokeSecurityGroupEgress(e.ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(web)})
	wantCode(t, err, "MissingParameter")
	g = sgGet(t, e, web)
	if len(g.IpPermissions) != 3 || len(g.IpPermissions[0].IpRanges) != 1 || aws.ToString(g.IpPermissions[0].IpRanges[0].CidrIp) != "10.0.0.0/8" || len(g.IpPermissionsEgress) != 2 {
		t.Fatalf("after revoke: %+v / %+v", g.IpPermissions, g.IpPermissionsEgress)
	}

	// web is referenced by db's rule: DependencyViolation until revoked.
	_, err = e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	wantCode(t, err, "DependencyViolation")
	if want := "resource " + web + " has a dependent object"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %v", err)
	}
	if _, err := e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(web)}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(web)}); err != nil {
		t.Fatal(err)
	}
	// A group referencing itself can be deleted.
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(db), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(db)}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.DeleteSecurityGroup(e.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(db)}); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeUnknownInDefaultVPC(t *testing.T) {
	e := newEnv(t, "")
	id := sgCreate(t, e, "", "app")
	out, err := e.ec2.RevokeSecurityGroupIngress(e.ctx, &ec2.RevokeSecurityGroupIngressInput{GroupName: aws.String("app"), IpPermissions: []types.IpPermission{sgTCP(22, "0.0.0.0/0")}})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.Return) || len(out.UnknownIpPermissions) != 1 || aws.ToString(out.UnknownIpPermissions[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Fatalf("unknown: %+v", out)
	}
	// Authorize and revoke by group name in the default VPC.
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("app"), IpPermissions: []types.IpPermission{sgTCP(22, "0.0.0.0/0")}}); err != nil {
		t.Fatal(err)
	}
	if g := sgGet(t, e, id); len(g.IpPermissions) != 1 {
		t.Fatalf("%+v", g.IpPermissions)
	}
}

func TestDescribeSecurityGroupRulesAndPagination(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	var ids []string
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		ids = append(ids, sgCreate(t, e, vpc, n))
	}
	var got []string
	var token *string
	for {
		out, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5), NextToken: token,
			Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.SecurityGroups {
			got = append(got, aws.ToString(g.GroupId))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(got) != 7 {
		t.Fatalf("paged %d groups, want 7", len(got))
	}
	_, err := e.ec2.DescribeSecurityGroups(e.ctx, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(2)})
	wantCode(t, err, "InvalidParameterValue")

	auth, err := e.ec2.AuthorizeSecurityGroupIngress(e.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ids[0]), IpPermissions: []types.IpPermission{sgTCP(22, "0.0.0.0/0")}})
	if err != nil {
		t.Fatal(err)
	}
	rid := aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)
	out, err := e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{rid}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroupRules) != 1 || aws.ToString(out.SecurityGroupRules[0].GroupId) != ids[0] || aws.ToInt32(out.SecurityGroupRules[0].FromPort) != 22 {
		t.Fatalf("rules: %+v", out.SecurityGroupRules)
	}
	// Rules are taggable with CreateTags and filterable by tag.
	if _, err := e.ec2.CreateTags(e.ctx, &ec2.CreateTagsInput{Resources: []string{rid}, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("ssh")}}}); err != nil {
		t.Fatal(err)
	}
	out, err = e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("tag:role"), Values: []string{"ssh"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroupRules) != 1 || aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId) != rid {
		t.Fatalf("by tag: %+v", out.SecurityGroupRules)
	}
	out, err = e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("security-group-rule-id"), Values: []string{rid}}}})
	if err != nil || len(out.SecurityGroupRules) != 1 {
		t.Fatalf("by id filter: %+v %v", out, err)
	}
	_, err = e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	_, err = e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"bad"}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.Malformed")
	_, err = e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	var n int
	token = nil
	for {
		out, err := e.ec2.DescribeSecurityGroupRules(e.ctx, &ec2.DescribeSecurityGroupRulesInput{MaxResults: aws.Int32(5), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.SecurityGroupRules)
		if token = out.NextToken; token == nil {
			break
		}
	}
	// 6 groups × 1 egress, 1 ingress, and the default groups' 2 each
	// (this VPC's and the default VPC's).
	if n != 6+1+4 {
		t.Fatalf("paged %d rules", n)
	}
}

func TestSecurityGroupDryRun(t *testing.T) {
	e := newEnv(t, "")
	_, err := e.ec2.CreateSecurityGroup(e.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("x"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
}
