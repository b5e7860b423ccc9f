package diagram

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// prototypeState is the prototype architecture as provision.sh builds it,
// plus the account's untouched default VPC.
func prototypeState() State {
	return State{
		Network: NetworkState{
			VPCs: []VPC{
				{ID: "vpc-default", CIDR: "172.31.0.0/16", Default: true},
				{ID: "vpc-1", CIDR: "10.0.0.0/16", Name: "prototype-vpc", InternetGateway: "igw-1"},
			},
			Subnets: []Subnet{
				{ID: "subnet-d", VPCID: "vpc-default", AZ: "us-east-1a", CIDR: "172.31.0.0/20", Public: true},
				{ID: "subnet-pub1", VPCID: "vpc-1", AZ: "us-east-1a", CIDR: "10.0.0.0/24", Public: true, NetworkACL: "acl-1"},
				{ID: "subnet-pub2", VPCID: "vpc-1", AZ: "us-east-1b", CIDR: "10.0.1.0/24", Public: true, NetworkACL: "acl-1"},
				{ID: "subnet-priv1", VPCID: "vpc-1", AZ: "us-east-1a", CIDR: "10.0.10.0/24"},
				{ID: "subnet-priv2", VPCID: "vpc-1", AZ: "us-east-1b", CIDR: "10.0.11.0/24"},
			},
			Instances: []Instance{
				{ID: "i-web", Name: "prototype-web", State: "running", SubnetID: "subnet-pub1", PrivateIP: "10.0.0.4", PublicIP: "198.18.0.5", Groups: []string{"sg-web"}},
				{ID: "i-old", State: "terminated", SubnetID: "subnet-pub1"},
			},
			Addresses: []Address{{AllocationID: "eipalloc-1", PublicIP: "198.18.0.5", InstanceID: "i-web"}},
			SecurityGroups: []SecurityGroup{
				{ID: "sg-web", Name: "web", Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0"}}}},
				{ID: "sg-db", Name: "db", Ingress: []Rule{{Protocol: "tcp", FromPort: 5432, ToPort: 5432, Groups: []string{"sg-web"}}}},
			},
		},
		Databases: []Database{{ID: "prototype-db", Engine: "postgres", Status: "available", Port: 5432, AZ: "us-east-1b",
			SubnetIDs: []string{"subnet-priv1", "subnet-priv2"}, Groups: []string{"sg-db"}}},
		Records: []Record{
			{Zone: "example.test.", Name: "app.example.test.", Type: "A", Values: []string{"198.18.0.5"}},
			{Zone: "example.test.", Name: "old.example.test.", Type: "A", Values: []string{"198.18.9.9"}},
		},
	}
}

const prototypeWant = `graph TD
    User -- Request --> Route53
    Route53["Route 53: example.test"]
    Route53 -- "DNS Resolution: app.example.test" --> eip_eipalloc_1
    subgraph vpc_vpc_1 ["VPC prototype-vpc 10.0.0.0/16"]
        eip_eipalloc_1["Elastic IP 198.18.0.5"]
        subgraph az_vpc_1_us_east_1a ["AZ us-east-1a"]
            subgraph subnet_subnet_pub1 ["public subnet 10.0.0.0/24 · NACL acl-1"]
                i_i_web["EC2 prototype-web i-web (running) 10.0.0.4"]
            end
            subgraph subnet_subnet_priv1 ["private subnet 10.0.10.0/24"]
                empty_subnet_priv1["subnet-priv1"]
            end
        end
        subgraph az_vpc_1_us_east_1b ["AZ us-east-1b"]
            subgraph subnet_subnet_pub2 ["public subnet 10.0.1.0/24 · NACL acl-1"]
                empty_subnet_pub2["subnet-pub2"]
            end
            subgraph subnet_subnet_priv2 ["private subnet 10.0.11.0/24"]
                db_prototype_db[("RDS prototype-db postgres (available)")]
            end
        end
        eip_eipalloc_1 -- "1:1 NAT at igw-1" --> i_i_web
    end
    i_i_web <-->|"tcp 5432, SG db ← web"| db_prototype_db
%% reach http://app.example.test/ from this machine: curl --resolve app.example.test:80:198.18.0.5 http://app.example.test/
`

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		st   func() State
		// want is the whole text when set; else the output must contain
		// every line of has and none of hasNot.
		want   string
		has    []string
		hasNot []string
	}{
		{name: "prototype", st: prototypeState, want: prototypeWant},
		{name: "empty account", st: func() State { return State{} }, want: "graph TD\n"},
		{
			name: "unused default VPC is not drawn, a used one is",
			st: func() State {
				st := prototypeState()
				st.Network.Instances = append(st.Network.Instances, Instance{ID: "i-d", State: "running", SubnetID: "subnet-d", PrivateIP: "172.31.0.9"})
				return st
			},
			has: []string{`    subgraph vpc_vpc_default ["VPC vpc-default 172.31.0.0/16"]`, `                i_i_d["EC2 i-d (running) 172.31.0.9"]`},
		},
		{
			name: "DB security group that does not admit web: no edge",
			st: func() State {
				st := prototypeState()
				st.Network.SecurityGroups[1].Ingress = []Rule{{Protocol: "tcp", FromPort: 5432, ToPort: 5432, Groups: []string{"sg-other"}}}
				return st
			},
			hasNot: []string{"<-->"},
		},
		{
			name: "DB admitting the instance's subnet by CIDR",
			st: func() State {
				st := prototypeState()
				st.Network.SecurityGroups[1].Ingress = []Rule{{Protocol: "tcp", FromPort: 5000, ToPort: 6000, CIDRs: []string{"10.0.0.0/24"}}}
				return st
			},
			has: []string{`    i_i_web <-->|"tcp 5432, SG db ← 10.0.0.0/24"| db_prototype_db`},
		},
		{
			name: "wrong port: no edge",
			st: func() State {
				st := prototypeState()
				st.Network.SecurityGroups[1].Ingress[0].FromPort, st.Network.SecurityGroups[1].Ingress[0].ToPort = 3306, 3306
				return st
			},
			hasNot: []string{"<-->"},
		},
		{
			name: "stopped instance keeps its EIP and record",
			st: func() State {
				st := prototypeState()
				st.Network.Instances[0].State = "stopped"
				return st
			},
			has: []string{`                i_i_web["EC2 prototype-web i-web (stopped) 10.0.0.4"]`,
				`    Route53 -- "DNS Resolution: app.example.test" --> eip_eipalloc_1`},
		},
		{
			name: "record to an auto-assigned public IP points at the instance",
			st: func() State {
				st := prototypeState()
				st.Network.Addresses = nil
				return st
			},
			has:    []string{`    Route53 -- "DNS Resolution: app.example.test" --> i_i_web`},
			hasNot: []string{"Elastic IP", "1:1 NAT"},
		},
		{
			name: "labels cannot break out of their quotes",
			st: func() State {
				st := prototypeState()
				st.Network.Instances[0].Name = `evil"] --> x["`
				return st
			},
			has: []string{`                i_i_web["EC2 evil#quot;] --> x[#quot; i-web (running) 10.0.0.4"]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.st())
			if tt.want != "" && got != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			lines := strings.Split(got, "\n")
			for _, h := range tt.has {
				if !slices.Contains(lines, h) {
					t.Errorf("no line %q in:\n%s", h, got)
				}
			}
			for _, h := range tt.hasNot {
				if strings.Contains(got, h) {
					t.Errorf("%q in:\n%s", h, got)
				}
			}
		})
	}
}

// Build must not depend on the order the services list things in.
func TestBuildOrderIndependent(t *testing.T) {
	st := prototypeState()
	slices.Reverse(st.Network.Subnets)
	slices.Reverse(st.Network.VPCs)
	slices.Reverse(st.Records)
	if got := Build(st); got != prototypeWant {
		t.Fatalf("reordered input gives:\n%s", got)
	}
}

type fakeSources struct {
	st  State
	err error
}

func (f fakeSources) Network(context.Context, string, string) (NetworkState, error) {
	return f.st.Network, f.err
}
func (f fakeSources) Databases(context.Context, string, string) ([]Database, error) {
	return f.st.Databases, nil
}
func (f fakeSources) Records(context.Context, string) ([]Record, error) { return f.st.Records, nil }

func TestDraw(t *testing.T) {
	f := fakeSources{st: prototypeState()}
	got, err := Draw(context.Background(), Sources{Network: f, Databases: f, Records: f}, "000000000000", "us-east-1")
	if err != nil || got != prototypeWant {
		t.Fatalf("Draw: %v\n%s", err, got)
	}
	f.err = errors.New("store closed")
	if _, err := Draw(context.Background(), Sources{Network: f, Databases: f, Records: f}, "000000000000", "us-east-1"); err == nil || !strings.Contains(err.Error(), "store closed") {
		t.Fatalf("Draw with a failing source: %v", err)
	}
}
