package cli_test

import (
	"slices"
	"strings"
	"testing"
)

type vpcEndpointOut struct {
	VpcEndpointId, VpcEndpointType, ServiceName, State, PolicyDocument string
	PrivateDnsEnabled                                                  bool
	SubnetIds, RouteTableIds, NetworkInterfaceIds                      []string
	DnsEntries                                                         []struct{ DnsName, HostedZoneId string }
}

// TestVpcEndpoints creates, describes, modifies and deletes an interface
// endpoint (STS, private DNS) and a gateway endpoint (S3, with its prefix
// list route) with each AWS CLI.
func TestVpcEndpoints(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off")
			env := awsEnv(t)
			ec2 := func(args ...string) result {
				t.Helper()
				return cli.aws(t, s, env, append([]string{"ec2"}, args...)...)
			}
			vpc := decode[struct{ Vpc struct{ VpcId string } }](t, ec2("create-vpc", "--cidr-block", "10.70.0.0/16")).Vpc.VpcId
			if r := ec2("modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", `{"Value":true}`); r.code != 0 {
				t.Fatalf("modify-vpc-attribute: %s", r)
			}
			subnet := decode[struct{ Subnet struct{ SubnetId string } }](t, ec2("create-subnet", "--vpc-id", vpc, "--cidr-block", "10.70.1.0/24",
				"--availability-zone", "us-east-1a")).Subnet.SubnetId
			ifc := decode[struct{ VpcEndpoint vpcEndpointOut }](t, ec2("create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
				"--service-name", "com.amazonaws.us-east-1.sts", "--subnet-ids", subnet)).VpcEndpoint
			if ifc.State != "pending" || !ifc.PrivateDnsEnabled || len(ifc.NetworkInterfaceIds) != 1 {
				t.Errorf("create-vpc-endpoint (Interface): %+v", ifc)
			}
			rtb := decode[struct {
				RouteTables []struct{ RouteTableId string }
			}](t, ec2("describe-route-tables", "--filters", "Name=vpc-id,Values="+vpc)).RouteTables[0].RouteTableId
			gw := decode[struct{ VpcEndpoint vpcEndpointOut }](t, ec2("create-vpc-endpoint", "--vpc-id", vpc,
				"--service-name", "com.amazonaws.us-east-1.s3", "--route-table-ids", rtb)).VpcEndpoint
			if gw.VpcEndpointType != "Gateway" || !slices.Equal(gw.RouteTableIds, []string{rtb}) {
				t.Errorf("create-vpc-endpoint (Gateway): %+v", gw)
			}

			eps := decode[struct{ VpcEndpoints []vpcEndpointOut }](t, ec2("describe-vpc-endpoints", "--vpc-endpoint-ids", ifc.VpcEndpointId)).VpcEndpoints
			if len(eps) != 1 || eps[0].State != "available" || len(eps[0].DnsEntries) != 3 ||
				!strings.HasSuffix(eps[0].DnsEntries[0].DnsName, ".sts.us-east-1.vpce.amazonaws.com") ||
				eps[0].DnsEntries[2].DnsName != "sts.us-east-1.amazonaws.com" {
				t.Errorf("describe-vpc-endpoints: %+v", eps)
			}
			// The S3 prefix list holds S3's service address of the public
			// range (198.18.0.0/16 here), which the route carries.
			pls := decode[struct {
				PrefixLists []struct {
					PrefixListId, PrefixListName string
					Cidrs                        []string
				}
			}](t,
				ec2("describe-prefix-lists", "--filters", "Name=prefix-list-name,Values=com.amazonaws.us-east-1.s3")).PrefixLists
			if len(pls) != 1 || !slices.Equal(pls[0].Cidrs, []string{"198.18.255.242/32"}) {
				t.Fatalf("describe-prefix-lists: %+v", pls)
			}
			routes := decode[struct {
				RouteTables []struct {
					Routes []struct{ DestinationPrefixListId, GatewayId, State string }
				}
			}](t, ec2("describe-route-tables", "--route-table-ids", rtb)).RouteTables[0].Routes
			if !slices.ContainsFunc(routes, func(r struct{ DestinationPrefixListId, GatewayId, State string }) bool {
				return r.DestinationPrefixListId == pls[0].PrefixListId && r.GatewayId == gw.VpcEndpointId && r.State == "active"
			}) {
				t.Errorf("the gateway endpoint's route is missing: %+v", routes)
			}

			if r := ec2("modify-vpc-endpoint", "--vpc-endpoint-id", ifc.VpcEndpointId, "--no-private-dns-enabled"); r.code != 0 {
				t.Fatalf("modify-vpc-endpoint: %s", r)
			}
			r := ec2("modify-vpc-endpoint", "--vpc-endpoint-id", ifc.VpcEndpointId, "--policy-document", `{"Statement":[]}`)
			if r.code == 0 || !strings.Contains(r.stderr, "InvalidPolicyDocument") {
				t.Errorf("an invalid endpoint policy: %s", r)
			}
			gws := decode[struct{ VpcEndpoints []vpcEndpointOut }](t, ec2("describe-vpc-endpoints", "--filters", "Name=vpc-endpoint-type,Values=Gateway")).VpcEndpoints
			if len(gws) != 1 || gws[0].VpcEndpointId != gw.VpcEndpointId {
				t.Errorf("describe-vpc-endpoints, gateways: %+v", gws)
			}
			del := decode[struct{ Unsuccessful []any }](t, ec2("delete-vpc-endpoints", "--vpc-endpoint-ids", ifc.VpcEndpointId, gw.VpcEndpointId))
			if len(del.Unsuccessful) != 0 {
				t.Errorf("delete-vpc-endpoints: %+v", del)
			}
		})
	}
}
