package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func aclOf(t *testing.T, e *testEnv, id string) types.NetworkAcl {
	t.Helper()
	out, err := e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkAcls) != 1 {
		t.Fatalf("got %d ACLs", len(out.NetworkAcls))
	}
	return out.NetworkAcls[0]
}

// aclEntries renders entries as "E100allow-1 0.0.0.0/0" for comparison.
func aclEntries(a types.NetworkAcl) []string {
	var out []string
	for _, e := range a.Entries {
		dir := "I"
		if aws.ToBool(e.Egress) {
			dir = "E"
		}
		out = append(out, dir+aclItoa(aws.ToInt32(e.RuleNumber))+string(e.RuleAction)+aws.ToString(e.Protocol)+" "+aws.ToString(e.CidrBlock)+aws.ToString(e.Ipv6CidrBlock))
	}
	return out
}

func aclItoa(n int32) string {
	if n == 0 {
		return "0"
	}
	s := ""
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	if neg {
		s = "-" + s
	}
	return s
}

func aclSameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDefaultNetworkACLOfNewVPC(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	sub, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkAcls) != 1 {
		t.Fatalf("default ACLs: %d", len(out.NetworkAcls))
	}
	a := out.NetworkAcls[0]
	want := []string{"E100allow-1 0.0.0.0/0", "E32767deny-1 0.0.0.0/0", "I100allow-1 0.0.0.0/0", "I32767deny-1 0.0.0.0/0"}
	if got := aclEntries(a); !aclSameStrings(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	if !aws.ToBool(a.IsDefault) || aws.ToString(a.OwnerId) == "" || len(a.Associations) != 1 ||
		aws.ToString(a.Associations[0].SubnetId) != aws.ToString(sub.Subnet.SubnetId) || aws.ToString(a.Associations[0].NetworkAclId) != aws.ToString(a.NetworkAclId) {
		t.Fatalf("default ACL: %+v", a)
	}
	_, err = e.ec2.DeleteNetworkAcl(e.ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: a.NetworkAclId})
	wantCode(t, err, "InvalidParameterValue")

	// Deleting the subnet removes its association.
	if _, err := e.ec2.DeleteSubnet(e.ctx, &ec2.DeleteSubnetInput{SubnetId: sub.Subnet.SubnetId}); err != nil {
		t.Fatal(err)
	}
	if a := aclOf(t, e, aws.ToString(a.NetworkAclId)); len(a.Associations) != 0 {
		t.Fatalf("associations after DeleteSubnet: %+v", a.Associations)
	}
}

func TestCustomNetworkACLEntriesAndAssociation(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	other := sgVPC(t, e, "10.1.0.0/16")
	sub, err := e.ec2.CreateSubnet(e.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := e.ec2.CreateNetworkAcl(e.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(vpc), ClientToken: aws.String("tok"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkAcl, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(cr.NetworkAcl.NetworkAclId)
	if want := []string{"E32767deny-1 0.0.0.0/0", "I32767deny-1 0.0.0.0/0"}; !aclSameStrings(aclEntries(*cr.NetworkAcl), want) || aws.ToBool(cr.NetworkAcl.IsDefault) || len(cr.NetworkAcl.Tags) != 1 {
		t.Fatalf("custom ACL: %v %+v", aclEntries(*cr.NetworkAcl), cr.NetworkAcl)
	}
	// Idempotent retry returns the same ACL.
	again, err := e.ec2.CreateNetworkAcl(e.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(vpc), ClientToken: aws.String("tok"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkAcl, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	if err != nil || aws.ToString(again.NetworkAcl.NetworkAclId) != id {
		t.Fatalf("retry: %v %v", again, err)
	}
	otherACL, err := e.ec2.CreateNetworkAcl(e.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(other)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.CreateNetworkAcl(e.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String("vpc-0123456789abcdef0")})
	wantCode(t, err, "InvalidVpcID.NotFound")

	entry := func(n int32, egress bool, proto, action, cidr string, from, to int32) *ec2.CreateNetworkAclEntryInput {
		in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String(proto), RuleAction: types.RuleAction(action), CidrBlock: aws.String(cidr)}
		if from != 0 || to != 0 {
			in.PortRange = &types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
		}
		return in
	}
	for _, in := range []*ec2.CreateNetworkAclEntryInput{
		entry(200, false, "6", "allow", "0.0.0.0/0", 22, 22),
		entry(100, false, "6", "deny", "10.9.0.0/16", 22, 22),
		entry(100, true, "-1", "allow", "0.0.0.0/0", 0, 0),
	} {
		if _, err := e.ec2.CreateNetworkAclEntry(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	icmp := entry(300, false, "1", "allow", "0.0.0.0/0", 0, 0)
	icmp.IcmpTypeCode = &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}
	if _, err := e.ec2.CreateNetworkAclEntry(e.ctx, icmp); err != nil {
		t.Fatal(err)
	}
	a := aclOf(t, e, id)
	want := []string{"E100allow-1 0.0.0.0/0", "E32767deny-1 0.0.0.0/0", "I100deny6 10.9.0.0/16", "I200allow6 0.0.0.0/0", "I300allow1 0.0.0.0/0", "I32767deny-1 0.0.0.0/0"}
	if got := aclEntries(a); !aclSameStrings(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	if pr := a.Entries[3].PortRange; pr == nil || aws.ToInt32(pr.From) != 22 || aws.ToInt32(pr.To) != 22 {
		t.Fatalf("port range %+v", a.Entries[3])
	}
	if ic := a.Entries[4].IcmpTypeCode; ic == nil || aws.ToInt32(ic.Type) != 8 {
		t.Fatalf("icmp %+v", a.Entries[4])
	}

	noPorts := entry(400, false, "6", "allow", "0.0.0.0/0", 0, 0)
	noICMP := entry(400, false, "1", "allow", "0.0.0.0/0", 0, 0)
	noCIDR := entry(400, false, "-1", "allow", "0.0.0.0/0", 0, 0)
	noCIDR.CidrBlock = nil
	both := entry(400, false, "-1", "allow", "0.0.0.0/0", 0, 0)
	both.Ipv6CidrBlock = aws.String("::/0")
	for _, c := range []struct {
		name string
		in   *ec2.CreateNetworkAclEntryInput
		code string
	}{
		{"exists", entry(100, false, "-1", "allow", "0.0.0.0/0", 0, 0), "NetworkAclEntryAlreadyExists"},
		{"rule 0", entry(0, false, "-1", "allow", "0.0.0.0/0", 0, 0), "InvalidParameterValue"},
		{"rule 32767", entry(32767, false, "-1", "allow", "0.0.0.0/0", 0, 0), "InvalidParameterValue"},
		{"bad action", entry(400, false, "-1", "maybe", "0.0.0.0/0", 0, 0), "InvalidParameterValue"},
		{"bad protocol", entry(400, false, "300", "allow", "0.0.0.0/0", 0, 0), "InvalidParameterValue"},
		{"bad range", entry(400, false, "17", "allow", "0.0.0.0/0", 90, 80), "InvalidParameterValue"},
		{"bad cidr", entry(400, false, "-1", "allow", "10.0.0.0/99", 0, 0), "InvalidParameterValue"},
		{"tcp without ports", noPorts, "MissingParameter"},
		{"icmp without type", noICMP, "MissingParameter"},
		{"no cidr", noCIDR, "MissingParameter"},
		{"both cidrs", both, "InvalidParameterCombination"},
		{"no acl", func() *ec2.CreateNetworkAclEntryInput {
			in := entry(400, false, "-1", "allow", "0.0.0.0/0", 0, 0)
			in.NetworkAclId = aws.String("acl-0123456789abcdef0")
			return in
		}(), "InvalidNetworkAclID.NotFound"},
	} {
		_, err := e.ec2.CreateNetworkAclEntry(e.ctx, c.in)
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		wantCode(t, err, c.code)
	}

	// Replace and delete entries.
	rep := &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(100), Egress: aws.Bool(false),
		Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.9.0.0/16"), PortRange: &types.PortRange{From: aws.Int32(80), To: aws.Int32(81)}}
	if _, err := e.ec2.ReplaceNetworkAclEntry(e.ctx, rep); err != nil {
		t.Fatal(err)
	}
	rep.RuleNumber = aws.Int32(150)
	_, err = e.ec2.ReplaceNetworkAclEntry(e.ctx, rep)
	wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
	if _, err := e.ec2.DeleteNetworkAclEntry(e.ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(300), Egress: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DeleteNetworkAclEntry(e.ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(300), Egress: aws.Bool(false)})
	wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
	a = aclOf(t, e, id)
	want = []string{"E100allow-1 0.0.0.0/0", "E32767deny-1 0.0.0.0/0", "I100allow6 10.9.0.0/16", "I200allow6 0.0.0.0/0", "I32767deny-1 0.0.0.0/0"}
	if got := aclEntries(a); !aclSameStrings(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}

	// Filters.
	for _, f := range []struct {
		name, value string
		want        int
	}{
		{"entry.rule-number", "200", 1}, {"entry.port-range.from", "80", 1}, {"entry.protocol", "6", 1},
		{"entry.cidr", "10.9.0.0/16", 1}, {"entry.rule-action", "deny", 4}, {"tag:Name", "web", 1},
		{"network-acl-id", id, 1}, {"association.subnet-id", aws.ToString(sub.Subnet.SubnetId), 1},
	} {
		out, err := e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
			{Name: aws.String(f.name), Values: []string{f.value}}, {Name: aws.String("vpc-id"), Values: []string{vpc, other}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.NetworkAcls) != f.want {
			t.Errorf("filter %s=%s: %d, want %d", f.name, f.value, len(out.NetworkAcls), f.want)
		}
	}
	_, err = e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")

	// Move the subnet to the custom ACL and back.
	def, err := e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{aws.ToString(sub.Subnet.SubnetId)}}}})
	if err != nil || len(def.NetworkAcls) != 1 {
		t.Fatalf("%v %v", def, err)
	}
	defID := aws.ToString(def.NetworkAcls[0].NetworkAclId)
	var assoc string
	for _, as := range def.NetworkAcls[0].Associations {
		if aws.ToString(as.SubnetId) == aws.ToString(sub.Subnet.SubnetId) {
			assoc = aws.ToString(as.NetworkAclAssociationId)
		}
	}
	_, err = e.ec2.ReplaceNetworkAclAssociation(e.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: otherACL.NetworkAcl.NetworkAclId})
	wantCode(t, err, "InvalidParameterValue")
	rr, err := e.ec2.ReplaceNetworkAclAssociation(e.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	newAssoc := aws.ToString(rr.NewAssociationId)
	if len(newAssoc) != len("aclassoc-")+17 || newAssoc == assoc {
		t.Fatalf("new association %q", newAssoc)
	}
	if a := aclOf(t, e, id); len(a.Associations) != 1 || aws.ToString(a.Associations[0].NetworkAclAssociationId) != newAssoc {
		t.Fatalf("custom associations %+v", a.Associations)
	}
	if a := aclOf(t, e, defID); len(a.Associations) != 0 {
		t.Fatalf("default associations %+v", a.Associations)
	}
	_, err = e.ec2.ReplaceNetworkAclAssociation(e.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: aws.String(id)})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	// An associated ACL cannot be deleted.
	_, err = e.ec2.DeleteNetworkAcl(e.ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(id)})
	wantCode(t, err, "DependencyViolation")
	if _, err := e.ec2.ReplaceNetworkAclAssociation(e.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(newAssoc), NetworkAclId: aws.String(defID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.DeleteNetworkAcl(e.ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	wantCode(t, err, "InvalidNetworkAclID.NotFound")
	_, err = e.ec2.DeleteNetworkAcl(e.ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: aws.String("acl-zz")})
	wantCode(t, err, "InvalidNetworkAclID.Malformed")
}

func TestDescribeNetworkAclsPagination(t *testing.T) {
	e := newEnv(t, "")
	vpc := sgVPC(t, e, "10.0.0.0/16")
	for i := 0; i < 6; i++ {
		if _, err := e.ec2.CreateNetworkAcl(e.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(vpc)}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	var token *string
	for {
		out, err := e.ec2.DescribeNetworkAcls(e.ctx, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(5), NextToken: token,
			Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.NetworkAcls)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if n != 7 {
		t.Fatalf("paged %d ACLs, want 7", n)
	}
}
