package dataplane_test

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestSecurityGroupSourceAndNetworkACL checks, from inside instances, a
// security group rule whose source is another security group (and that a
// change of membership is enforced at once), the statefulness of security
// groups, and network ACLs: rule order, replacing an entry, and their
// statelessness (replies need their own outbound entry). It runs in a
// custom VPC with Elastic IPs and in the default VPC with the public IPs
// its subnets assign at launch.
//
// A (SG web) and C (SG other) share subnet 1; B (SG db: tcp 5432 from
// members of web, and no egress rule at all, so its replies pass only as
// tracked flows) is in subnet 2, in another AZ. A and C run a probe server
// the host reaches on their public IPs; B answers its instance ID on 5432.
func TestSecurityGroupSourceAndNetworkACL(t *testing.T) {
	for _, tc := range []struct {
		name       string
		defaultVPC bool
	}{
		{"custom VPC, Elastic IPs", false},
		{"default VPC, public IPs assigned at launch", true},
	} {
		t.Run(tc.name, func(t *testing.T) { testSGSourceAndACL(t, tc.defaultVPC) })
	}
}

func testSGSourceAndACL(t *testing.T, defaultVPC bool) {
	e := newEnv(t)
	ctx := e.ctx
	var v vpc
	if defaultVPC {
		v = e.defaultVPC()
	} else {
		v = e.newVPC("10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/24")
	}
	web := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))
	db := e.newSG(v.id, "db", tcpFromGroup(5432, web))
	other := e.newSG(v.id, "other", tcpFrom(80, "0.0.0.0/0"))
	if _, err := e.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(db),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	insts := e.runAll(e.image(),
		launch{subnet: v.subnets[0], groups: []string{web}, userData: probeUserData(80)},
		launch{subnet: v.subnets[1], groups: []string{db}, userData: probeUserData(5432)},
		launch{subnet: v.subnets[0], groups: []string{other}, userData: probeUserData(80)},
	)
	aID, bID, cID := aws.ToString(insts[0].InstanceId), aws.ToString(insts[1].InstanceId), aws.ToString(insts[2].InstanceId)
	pubA, pubC := aws.ToString(insts[0].PublicIpAddress), aws.ToString(insts[2].PublicIpAddress)
	if !defaultVPC {
		pubA, pubC = e.eip(aID), e.eip(cID)
	}
	for _, s := range [][2]string{{pubA, aID}, {pubC, cID}} {
		if err := waitServing(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	toB := "http://" + aws.ToString(insts[1].PrivateIpAddress) + ":5432/id"

	// B's subnet's network ACL association, to swap in a custom ACL.
	acls, err := e.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{v.subnets[1]}}}})
	if err != nil || len(acls.NetworkAcls) != 1 {
		t.Fatalf("network ACL of %s: %v", v.subnets[1], err)
	}
	var assocB *string
	for _, as := range acls.NetworkAcls[0].Associations {
		if aws.ToString(as.SubnetId) == v.subnets[1] {
			assocB = as.NetworkAclAssociationId
		}
	}
	acl, err := e.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	aclID := acl.NetworkAcl.NetworkAclId
	entry := func(n int32, egress bool, proto, action, cidr string, from, to int32) *ec2.CreateNetworkAclEntryInput {
		in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String(proto), RuleAction: types.RuleAction(action), CidrBlock: aws.String(cidr)}
		if proto == "6" {
			in.PortRange = &types.PortRange{From: aws.Int32(from), To: aws.Int32(to)}
		}
		return in
	}
	for _, in := range []*ec2.CreateNetworkAclEntryInput{
		entry(100, false, "6", "deny", v.cidrs[0], 5432, 5432),   // A's subnet may not reach 5432…
		entry(200, false, "-1", "allow", "0.0.0.0/0", 0, 0),      // …though everything else is allowed in
		entry(100, true, "6", "allow", "0.0.0.0/0", 1024, 65535), // replies to ephemeral ports
	} {
		if _, err := e.ec2.CreateNetworkAclEntry(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	setGroups := func(id string, groups ...string) func() error {
		return func() error {
			_, err := e.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: groups})
			return err
		}
	}
	const reach, block, skip = "reaches", "is blocked", ""
	steps := []struct {
		name    string
		do      func() error
		a, c    string
		timeout time.Duration
	}{
		{name: "initially A (web) reaches B:5432, C (other) does not", a: reach, c: block, timeout: 5 * time.Second},
		{name: "C joins web (through the instance)", do: setGroups(cID, other, web), a: reach, c: reach},
		{name: "C leaves web (through its network interface)", do: func() error {
			_, err := e.ec2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: insts[2].NetworkInterfaces[0].NetworkInterfaceId, Groups: []string{other}})
			return err
		}, c: block},
		{name: "B's subnet gets an ACL denying 5432 from A's subnet at rule 100 ahead of allow-all at 200",
			do: func() error {
				_, err := e.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: assocB, NetworkAclId: aclID})
				return err
			}, a: block},
		{name: "rule 100 is replaced by an allow",
			do: func() error {
				in := entry(100, false, "6", "allow", v.cidrs[0], 5432, 5432)
				_, err := e.ec2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: in.NetworkAclId, RuleNumber: in.RuleNumber,
					Egress: in.Egress, Protocol: in.Protocol, RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, PortRange: in.PortRange})
				return err
			}, a: reach},
		{name: "the outbound ephemeral-port entry goes: the ACL is stateless, replies are dropped",
			do: func() error {
				_, err := e.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aclID, RuleNumber: aws.Int32(100), Egress: aws.Bool(true)})
				return err
			}, a: block},
		{name: "the outbound entry is back",
			do: func() error {
				_, err := e.ec2.CreateNetworkAclEntry(ctx, entry(100, true, "6", "allow", "0.0.0.0/0", 1024, 65535))
				return err
			}, a: reach},
	}
	for _, s := range steps {
		start := time.Now()
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if s.timeout == 0 {
			s.timeout = 2 * time.Second
		}
		for _, x := range []struct{ who, pub, want string }{{"A", pubA, s.a}, {"C", pubC, s.c}} {
			var err error
			switch x.want {
			case reach:
				err = reaches(x.pub, toB, bID, s.timeout)
			case block:
				err = blocked(x.pub, toB, s.timeout)
			}
			if err != nil {
				t.Fatalf("%s: %s %s B:5432 within %v: not so: %v", s.name, x.who, x.want, s.timeout, err)
			}
		}
		t.Logf("%s: as expected after %v", s.name, time.Since(start).Round(time.Millisecond))
	}
}

// TestNATGateway checks that an instance in a private subnet, whose route
// table sends 0.0.0.0/0 to a NAT gateway in a public subnet, reaches a
// server on the host ("the internet") and is seen there as the NAT
// gateway's Elastic IP, while nothing on the host can connect to it.
func TestNATGateway(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	image := e.image()
	v := e.newVPC("10.1.0.0/16", "10.1.1.0/24", "10.1.2.0/24")
	public, private := v.subnets[0], v.subnets[1]
	sg := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))

	natEIP, err := e.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	nat, err := e.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(public), AllocationId: natEIP.AllocationId})
	if err != nil {
		t.Fatal(err)
	}
	rtb, err := e.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(v.id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb.RouteTable.RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: nat.NatGateway.NatGatewayId}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rtb.RouteTable.RouteTableId, SubnetId: aws.String(private)}); err != nil {
		t.Fatal(err)
	}

	// An instance in the public subnet tells the host its address on the
	// VPC's internet-gateway link (as a client's source address seen from
	// inside the VPC): there the host's services are "on the internet".
	w := e.runAll(image, launch{subnet: public, groups: []string{sg}, userData: probeUserData(80)})[0]
	wID := aws.ToString(w.InstanceId)
	pubW := e.eip(wID)
	if err := waitServing(pubW, wID); err != nil {
		t.Fatal(err)
	}
	hostAddr, err := fetch("http://" + pubW + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(hostAddr); ip == nil || !ip.IsLinkLocalUnicast() {
		t.Fatalf("the instance sees the host as %q, want its link-local gateway-link address", hostAddr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(hostAddr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{} // path → client address
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.RemoteAddr
		mu.Unlock()
		fmt.Fprintln(w, "hello from the internet")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// The private instance calls the host every 200 ms with its ID.
	phone := fmt.Sprintf(`
cat > /var/tmp/phone.sh <<'EOF'
tok=$(curl -s --noproxy '*' -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
id=$(curl -s --noproxy '*' -H "X-aws-ec2-metadata-token: $tok" http://169.254.169.254/latest/meta-data/instance-id)
while :; do curl -s --noproxy '*' -m 1 -o /dev/null "http://%s/from/$id"; sleep 0.2; done
EOF
nohup sh /var/tmp/phone.sh >/dev/null 2>&1 &
`, ln.Addr())
	p := e.runAll(image, launch{subnet: private, groups: []string{sg}, userData: probeUserData(80) + phone})[0]
	pID, pPriv := aws.ToString(p.InstanceId), aws.ToString(p.PrivateIpAddress)
	if p.PublicIpAddress != nil {
		t.Fatalf("the private instance has public IP %s", aws.ToString(p.PublicIpAddress))
	}

	var from string
	if err := eventually(5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if from = seen["/from/"+pID]; from == "" {
			return fmt.Errorf("no call from %s; calls: %v", pID, seen)
		}
		return nil
	}); err != nil {
		t.Fatalf("the private instance does not reach the host through the NAT gateway: %v", err)
	}
	if host, _, _ := net.SplitHostPort(from); host != aws.ToString(natEIP.PublicIp) {
		t.Fatalf("the host sees the private instance as %s, want the NAT gateway's public IP %s", host, aws.ToString(natEIP.PublicIp))
	}

	// The private instance serves on port 80 (its VPC neighbour reaches
	// it), yet the host cannot connect to it: the NAT gateway lets nothing
	// in.
	if err := reaches(pubW, "http://"+pPriv+"/id", pID, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	body, err := fetch("http://" + aws.ToString(natEIP.PublicIp) + "/id")
	if err == nil {
		t.Fatalf("the host connected through the NAT gateway's public IP: %q", body)
	}
	t.Logf("the host cannot connect through the NAT gateway's public IP: %v", err)
}

// TestOverlappingVPCs runs two VPCs with the same CIDR and an instance at
// the same private IP in each: each answers on its own Elastic IP with its
// own instance ID (which it learns from the metadata service of its VPC).
func TestOverlappingVPCs(t *testing.T) {
	e := newEnv(t)
	image := e.image()
	const privateIP = "10.0.1.10"
	type side struct {
		vpc      vpc
		id, eip  string
		instance types.Instance
	}
	sides := make([]*side, 2)
	var ls []launch
	for i := range sides {
		v := e.newVPC("10.0.0.0/16", "10.0.1.0/24")
		sg := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))
		sides[i] = &side{vpc: v}
		ls = append(ls, launch{subnet: v.subnets[0], groups: []string{sg}, privateIP: privateIP, userData: probeUserData(80)})
	}
	insts := e.runAll(image, ls...)
	for i, s := range sides {
		s.instance, s.id = insts[i], aws.ToString(insts[i].InstanceId)
		if got := aws.ToString(s.instance.PrivateIpAddress); got != privateIP {
			t.Fatalf("instance %s in %s has private IP %s, want %s", s.id, s.vpc.id, got, privateIP)
		}
		s.eip = e.eip(s.id)
	}
	for _, s := range sides {
		if err := waitServing(s.eip, s.id); err != nil {
			t.Fatalf("%s (%s): %v", s.id, s.vpc.id, err)
		}
	}

	// The first EIP moves to the instance of the other VPC, at the same
	// private IP, and back: whichever VPC sorts first, the address answers
	// from its new instance at once. (The second EIP, which the move
	// replaces, is not probed: once unmapped, the host has no route to it
	// into any VPC.)
	addr, err := e.ec2.DescribeAddresses(e.ctx, &ec2.DescribeAddressesInput{PublicIps: []string{sides[0].eip}})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []*side{sides[1], sides[0]} {
		if _, err := e.ec2.AssociateAddress(e.ctx, &ec2.AssociateAddressInput{AllocationId: addr.Addresses[0].AllocationId,
			InstanceId: aws.String(to.id), AllowReassociation: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := eventually(time.Second, func() error {
			got, err := fetch("http://" + sides[0].eip + "/id")
			if err == nil && got != to.id {
				err = fmt.Errorf("answered %q", got)
			}
			return err
		}); err != nil {
			t.Fatalf("%s moved to %s (%s): %v", sides[0].eip, to.id, to.vpc.id, err)
		}
		t.Logf("%s answers from %s (%s) %v after the move", sides[0].eip, to.id, to.vpc.id, time.Since(start).Round(time.Millisecond))
	}
}
