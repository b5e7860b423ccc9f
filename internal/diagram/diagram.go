package diagram

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Network is EC2's side of an account and region.
type Network interface {
	Network(ctx context.Context, account, region string) (NetworkState, error)
}

// Databases is RDS's side: the DB instances of an account and region.
type Databases interface {
	Databases(ctx context.Context, account, region string) ([]Database, error)
}

// Records is Route 53's side: the address records of an account's public
// hosted zones (Route 53 is global).
type Records interface {
	Records(ctx context.Context, account string) ([]Record, error)
}

// NetworkState is what the diagram needs of EC2.
type NetworkState struct {
	VPCs           []VPC
	Subnets        []Subnet
	Instances      []Instance
	Addresses      []Address
	SecurityGroups []SecurityGroup
}

// VPC is one VPC.
type VPC struct {
	ID, CIDR, Name string
	Default        bool
	// InternetGateway is the attached gateway's ID, "" without one.
	InternetGateway string
}

// Subnet is one subnet; Public means its route table sends 0.0.0.0/0 to an
// internet gateway.
type Subnet struct {
	ID, VPCID, AZ, CIDR, Name string
	Public                    bool
	// NetworkACL is the subnet's ACL when it is not the VPC's default one.
	NetworkACL string
}

// Instance is one EC2 instance (terminated ones are left out by the
// caller or here).
type Instance struct {
	ID, Name, State, SubnetID, PrivateIP, PublicIP string
	Groups                                         []string
}

// Address is an Elastic IP.
type Address struct {
	AllocationID, PublicIP, InstanceID string
}

// SecurityGroup is a group with its ingress rules.
type SecurityGroup struct {
	ID, Name string
	Ingress  []Rule
}

// Rule is one ingress permission: protocol ("tcp", "udp", "icmp", "-1"),
// port range (-1 or 0..65535), and sources.
type Rule struct {
	Protocol         string
	FromPort, ToPort int32
	CIDRs, Groups    []string
}

// Database is one RDS DB instance.
type Database struct {
	ID, Engine, Status, Address string
	Port                        int32
	AZ                          string
	// SubnetIDs are its DB subnet group's subnets; it is drawn in the one
	// of its AZ.
	SubnetIDs []string
	Groups    []string
}

// Record is one address record (A, AAAA, or an alias) of a public zone.
type Record struct {
	Zone, Name, Type string
	Values           []string
}

// Sources are where Draw reads live state.
type Sources struct {
	Network   Network
	Databases Databases
	Records   Records
}

// Draw reads the account's current state and builds its diagram.
func Draw(ctx context.Context, src Sources, account, region string) (string, error) {
	var st State
	var err error
	if src.Network != nil {
		if st.Network, err = src.Network.Network(ctx, account, region); err != nil {
			return "", fmt.Errorf("diagram: read the network: %w", err)
		}
	}
	if src.Databases != nil {
		if st.Databases, err = src.Databases.Databases(ctx, account, region); err != nil {
			return "", fmt.Errorf("diagram: read the databases: %w", err)
		}
	}
	if src.Records != nil {
		if st.Records, err = src.Records.Records(ctx, account); err != nil {
			return "", fmt.Errorf("diagram: read the DNS records: %w", err)
		}
	}
	return Build(st), nil
}

// State is everything one diagram shows.
type State struct {
	Network   NetworkState
	Databases []Database
	Records   []Record
}

// Build renders st as a Mermaid flowchart.
func Build(st State) string {
	b := &builder{st: st}
	return b.build()
}

type builder struct {
	st    State
	lines []string
}

func (b *builder) line(indent int, format string, args ...any) {
	b.lines = append(b.lines, strings.Repeat("    ", indent)+fmt.Sprintf(format, args...))
}

func (b *builder) build() string {
	ix := indexState(b.st)
	b.line(0, "graph TD")
	reach := b.dns(ix)
	vpcs := slices.Clone(b.st.Network.VPCs)
	slices.SortFunc(vpcs, func(x, y VPC) int { return strings.Compare(x.ID, y.ID) })
	for _, v := range vpcs {
		b.vpc(ix, v)
	}
	b.databaseEdges(ix)
	b.lines = append(b.lines, reach...)
	return strings.Join(b.lines, "\n") + "\n"
}

// stateIndex is the state looked up by ID, as the diagram draws it.
type stateIndex struct {
	// instances are the instances that are not terminated.
	instances map[string]Instance
	// byPublicIP maps a public IP to the node a DNS record of it points
	// at: its Elastic IP, else the instance that has it.
	byPublicIP map[string]string
	subnets    map[string]Subnet
	// dbSubnet is the subnet each database is drawn in: the one of its
	// group that is in its AZ.
	dbSubnet map[string]string
	groups   map[string]SecurityGroup
}

func indexState(st State) *stateIndex {
	n := st.Network
	ix := &stateIndex{instances: map[string]Instance{}, byPublicIP: map[string]string{}, subnets: map[string]Subnet{},
		dbSubnet: map[string]string{}, groups: map[string]SecurityGroup{}}
	for _, in := range n.Instances {
		if in.State != "terminated" {
			ix.instances[in.ID] = in
		}
	}
	hasEIP := map[string]bool{}
	for _, a := range n.Addresses {
		ix.byPublicIP[a.PublicIP] = nodeID("eip", a.AllocationID)
		if _, ok := ix.instances[a.InstanceID]; ok {
			hasEIP[a.InstanceID] = true
		}
	}
	// In ID order, so that the text stays the same even for state that
	// gives two instances one address.
	for _, id := range sortedKeys(ix.instances) {
		if in := ix.instances[id]; !hasEIP[id] && in.PublicIP != "" {
			ix.byPublicIP[in.PublicIP] = nodeID("i", in.ID)
		}
	}
	for _, s := range n.Subnets {
		ix.subnets[s.ID] = s
	}
	for _, d := range st.Databases {
		for _, id := range d.SubnetIDs {
			if s, ok := ix.subnets[id]; ok && s.AZ == d.AZ {
				ix.dbSubnet[d.ID] = id
				break
			}
		}
	}
	for _, g := range n.SecurityGroups {
		ix.groups[g.ID] = g
	}
	return ix
}

// dns draws Route 53 and its records that resolve to a node, and returns
// the comments that say how to reach each from this machine.
func (b *builder) dns(ix *stateIndex) (reach []string) {
	records := slices.Clone(b.st.Records)
	slices.SortFunc(records, func(x, y Record) int { return strings.Compare(x.Name+x.Type, y.Name+y.Type) })
	if len(records) == 0 {
		return nil
	}
	zones := []string{}
	var edges []string
	for _, r := range records {
		if z := strings.TrimSuffix(r.Zone, "."); !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
		name := strings.TrimSuffix(r.Name, ".")
		for _, v := range r.Values {
			if target, ok := ix.byPublicIP[v]; ok {
				edges = append(edges, fmt.Sprintf("Route53 -- %s --> %s", label("DNS Resolution: "+name), target))
				reach = append(reach, fmt.Sprintf("%%%% reach http://%[1]s/ from this machine: curl --resolve %[1]s:80:%[2]s http://%[1]s/", name, v))
			}
		}
	}
	b.line(1, "User -- Request --> Route53")
	b.line(1, "Route53%s", shape("Route 53: "+strings.Join(zones, ", "), "[]"))
	for _, e := range edges {
		b.line(1, "%s", e)
	}
	return reach
}

// vpc draws a VPC with its Elastic IPs and its AZs, unless it is a default
// VPC nobody uses: that is AWS's furniture, not architecture.
func (b *builder) vpc(ix *stateIndex, v VPC) {
	n := b.st.Network
	vsubnets, used := ix.subnetsOf(n.Subnets, v.ID)
	if v.Default && !used {
		return
	}
	title := "VPC " + v.ID + " " + v.CIDR
	if v.Name != "" {
		title = "VPC " + v.Name + " " + v.CIDR
	}
	b.line(1, "subgraph %s [%s]", nodeID("vpc", v.ID), label(title))
	// Elastic IPs sit in the VPC, as in the notes: they are mapped 1:1
	// onto an instance's private address by the VPC's internet gateway.
	var eips []Address
	for _, a := range n.Addresses {
		if in, ok := ix.instances[a.InstanceID]; ok && ix.subnets[in.SubnetID].VPCID == v.ID {
			eips = append(eips, a)
		}
	}
	slices.SortFunc(eips, func(x, y Address) int { return strings.Compare(x.AllocationID, y.AllocationID) })
	for _, a := range eips {
		b.line(2, "%s%s", nodeID("eip", a.AllocationID), shape("Elastic IP "+a.PublicIP, "[]"))
	}
	azs := map[string][]Subnet{}
	for _, s := range vsubnets {
		azs[s.AZ] = append(azs[s.AZ], s)
	}
	for _, az := range sortedKeys(azs) {
		b.line(2, "subgraph %s [%s]", nodeID("az", v.ID+"-"+az), label("AZ "+az))
		ss := azs[az]
		slices.SortFunc(ss, func(x, y Subnet) int { return strings.Compare(x.CIDR+x.ID, y.CIDR+y.ID) })
		for _, s := range ss {
			b.subnet(ix, s)
		}
		b.line(2, "end")
	}
	for _, a := range eips {
		via := "1:1 NAT"
		if v.InternetGateway != "" {
			via = "1:1 NAT at " + v.InternetGateway
		}
		b.line(2, "%s -- %s --> %s", nodeID("eip", a.AllocationID), label(via), nodeID("i", a.InstanceID))
	}
	b.line(1, "end")
}

// subnetsOf lists a VPC's subnets, and whether an instance or a database
// is in one of them.
func (ix *stateIndex) subnetsOf(all []Subnet, vpcID string) (subnets []Subnet, used bool) {
	for _, s := range all {
		if s.VPCID != vpcID {
			continue
		}
		subnets = append(subnets, s)
		for _, in := range ix.instances {
			used = used || in.SubnetID == s.ID
		}
		for _, sid := range ix.dbSubnet {
			used = used || sid == s.ID
		}
	}
	return subnets, used
}

// subnet draws a subnet with its instances and databases.
func (b *builder) subnet(ix *stateIndex, s Subnet) {
	kind := "private subnet"
	if s.Public {
		kind = "public subnet"
	}
	t := kind + " " + s.CIDR
	if s.Name != "" {
		t += " " + s.Name
	}
	if s.NetworkACL != "" {
		t += " · NACL " + s.NetworkACL
	}
	b.line(3, "subgraph %s [%s]", nodeID("subnet", s.ID), label(t))
	empty := true
	for _, id := range sortedKeys(ix.instances) {
		in := ix.instances[id]
		if in.SubnetID != s.ID {
			continue
		}
		empty = false
		name := "EC2 " + in.ID
		if in.Name != "" {
			name = "EC2 " + in.Name + " " + in.ID
		}
		b.line(4, "%s%s", nodeID("i", in.ID), shape(name+" ("+in.State+") "+in.PrivateIP, "[]"))
	}
	for _, d := range sortedDBs(b.st.Databases) {
		if ix.dbSubnet[d.ID] != s.ID {
			continue
		}
		empty = false
		b.line(4, "%s%s", nodeID("db", d.ID), shape(fmt.Sprintf("RDS %s %s (%s)", d.ID, d.Engine, d.Status), "[()]"))
	}
	if empty {
		// Mermaid draws an empty subgraph only with a node in it.
		b.line(4, "%s%s", nodeID("empty", s.ID), shape(s.ID, "[]"))
	}
	b.line(3, "end")
}

// databaseEdges draws instance ↔ database where the database's security
// groups let the instance in on its port: the path the data really takes.
func (b *builder) databaseEdges(ix *stateIndex) {
	for _, d := range sortedDBs(b.st.Databases) {
		if _, ok := ix.dbSubnet[d.ID]; !ok {
			continue
		}
		for _, id := range sortedKeys(ix.instances) {
			if via := allowedBy(ix.groups, d, ix.instances[id]); via != "" {
				b.line(1, "%s <-->|%s| %s", nodeID("i", id), label(fmt.Sprintf("tcp %d, SG %s", d.Port, via)), nodeID("db", d.ID))
			}
		}
	}
}

// allowedBy names the rule of d's security groups that admits in on d's
// port ("db ← web" for a group source, "db ← 10.0.0.0/16" for a CIDR), or
// "" when none does. A stopped instance keeps its edge: the path is the
// security groups', whether or not anything runs on it right now.
func allowedBy(groups map[string]SecurityGroup, d Database, in Instance) string {
	ip, _ := netip.ParseAddr(in.PrivateIP)
	for _, gid := range d.Groups {
		g, ok := groups[gid]
		if !ok {
			continue
		}
		for _, r := range g.Ingress {
			if !r.covers(d.Port) {
				continue
			}
			for _, src := range r.Groups {
				if slices.Contains(in.Groups, src) {
					return g.Name + " ← " + nameOf(groups, src)
				}
			}
			for _, c := range r.CIDRs {
				if p, err := netip.ParsePrefix(c); err == nil && ip.IsValid() && p.Contains(ip) {
					return g.Name + " ← " + c
				}
			}
		}
	}
	return ""
}

func (r Rule) covers(port int32) bool {
	switch r.Protocol {
	case "-1", "all":
		return true
	case "tcp", "6":
		return r.FromPort <= port && port <= r.ToPort
	}
	return false
}

func nameOf(groups map[string]SecurityGroup, id string) string {
	if g, ok := groups[id]; ok && g.Name != "" {
		return g.Name
	}
	return id
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedDBs(dbs []Database) []Database {
	out := slices.Clone(dbs)
	slices.SortFunc(out, func(x, y Database) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// nodeID makes a Mermaid identifier from a kind and an AWS ID (Mermaid IDs
// allow letters, digits and underscores safely).
func nodeID(kind, id string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte('_')
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// label quotes text for Mermaid; a double quote cannot appear inside one.
func label(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

// shape wraps a label in a node shape: "[]" a box, "[()]" a cylinder.
func shape(s, kind string) string {
	open, close := kind[:len(kind)/2], kind[len(kind)/2:]
	return open + label(s) + close
}
