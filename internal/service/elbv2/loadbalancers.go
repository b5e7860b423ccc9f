package elbv2

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/ec2port"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/elbv2/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Load balancers of type application: CreateLoadBalancer,
// DeleteLoadBalancer, DescribeLoadBalancers, SetSubnets,
// SetSecurityGroups and SetIpAddressType. A handler checks the request
// alone, then asks EC2 (its port opens transactions of its own, which
// cannot nest in ours) about the subnets, VPC and security groups, then
// checks against the records and writes in one transaction.

const (
	schemeInternetFacing = "internet-facing"
	schemeInternal       = "internal"
	typeApplication      = "application"
	ipv4                 = "ipv4"
)

// maxLoadBalancers is AWS's default quota of Application Load Balancers
// per region.
const maxLoadBalancers = 50

var lbNameChars = lazyregexp.New(`^[A-Za-z0-9-]+$`)

// checkLBName applies AWS's rules for a load balancer's name: at most 32
// characters, alphanumerics and hyphens, not beginning or ending with a
// hyphen, not beginning with "internal-".
func checkLBName(name string) error {
	switch {
	case name == "":
		return errValidation("A load balancer name must be specified")
	case len(name) > 32:
		return errValidation("The load balancer name '%s' cannot be longer than '32' characters", name)
	case !lbNameChars.MatchString(name):
		return errValidation("The load balancer name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return errValidation("The load balancer name '%s' cannot begin or end with '-'", name)
	case strings.HasPrefix(strings.ToLower(name), "internal-"):
		return errValidation("The load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

// checkLBType refuses the load balancer types minicloud does not run.
func checkLBType(typ string) error {
	switch typ {
	case typeApplication:
		return nil
	case "network", "gateway":
		return errValidation("minicloud does not run load balancers of type '%s' yet: only 'application' load balancers are supported", typ)
	}
	return errEnum(typ, "type", typeApplication, "network", "gateway")
}

// checkIPAddressType refuses what needs IPv6, which minicloud's VPCs do
// not have yet.
func checkIPAddressType(t string) error {
	switch t {
	case ipv4:
		return nil
	case "dualstack", "dualstack-without-public-ipv4":
		return errConfig("IP address type '%s' needs subnets with IPv6 CIDR blocks, and minicloud's VPCs have no IPv6 yet: use 'ipv4'", t)
	}
	return errEnum(t, "ipAddressType", ipv4, "dualstack", "dualstack-without-public-ipv4")
}

// subnetsOf are the subnet IDs a request names in Subnets or
// SubnetMappings (not both); an ALB's subnet mapping carries no addresses.
func subnetsOf(ids []string, mappings []elbv2api.SubnetMapping) ([]string, error) {
	if len(ids) > 0 && len(mappings) > 0 {
		return nil, errValidation("You can specify subnets or subnet mappings, not both")
	}
	for _, m := range mappings {
		if m.AllocationId != nil || m.PrivateIPv4Address != nil || m.IPv6Address != nil {
			return nil, errConfig("Application Load Balancers do not support Elastic IP addresses, private IPv4 addresses or IPv6 addresses in subnet mappings")
		}
		ids = append(ids, deref(m.SubnetId))
	}
	return ids, nil
}

// lbNetwork is what EC2 says of a load balancer's subnets and groups.
type lbNetwork struct {
	vpc     ec2port.VPC
	subnets []ec2port.Subnet // ordered by zone
	groups  []string
}

// resolveSubnets looks the subnets up and applies AWS's rules: they
// exist, are in one VPC (vpcID, when set), one per zone, in at least two
// zones.
func (s *Service) resolveSubnets(ctx context.Context, sc state.Scope, ids []string, vpcID string) ([]ec2port.Subnet, ec2port.VPC, error) {
	var out []ec2port.Subnet
	zones := map[string]bool{}
	for _, id := range ids {
		sn, found, err := s.subnet(ctx, sc, id)
		if err != nil {
			return nil, ec2port.VPC{}, err
		}
		if !found {
			return nil, ec2port.VPC{}, errCode("SubnetNotFound", "InvalidSubnetID.NotFound")
		}
		if vpcID == "" {
			vpcID = sn.VPCID
		}
		if sn.VPCID != vpcID {
			return nil, ec2port.VPC{}, errCode("InvalidSubnet", "Subnet '%s' is not in VPC '%s': the subnets of a load balancer must be in one VPC", id, vpcID)
		}
		if zones[sn.AvailabilityZone] {
			return nil, ec2port.VPC{}, errConfig("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		zones[sn.AvailabilityZone] = true
		out = append(out, sn)
	}
	if len(zones) < 2 {
		return nil, ec2port.VPC{}, errValidation("At least two subnets in two different Availability Zones must be specified")
	}
	slices.SortFunc(out, func(a, b ec2port.Subnet) int { return strings.Compare(a.AvailabilityZone, b.AvailabilityZone) })
	v, found, err := s.vpc(ctx, sc, vpcID)
	if err != nil {
		return nil, v, err
	}
	if !found {
		return nil, v, errCode("SubnetNotFound", "InvalidSubnetID.NotFound")
	}
	return out, v, nil
}

// resolveGroups checks security groups: they exist and are in the VPC.
// None means the VPC's default group.
func (s *Service) resolveGroups(ctx context.Context, sc state.Scope, vpc ec2port.VPC, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{vpc.DefaultSecurityGroup}, nil
	}
	var out []string
	for _, id := range ids {
		gv, found, err := s.groupVPC(ctx, sc, id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errCode("InvalidSecurityGroup", "The security group '%s' does not exist", id)
		}
		if gv != vpc.ID {
			return nil, errConfig("Security group '%s' does not belong to VPC '%s'", id, vpc.ID)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// The EC2 lookups, not found without a port.

// lookup asks EC2 for the object what (a subnet, a VPC…) named id through
// ask; without a port or an ID it is not found.
func lookup[T any](ctx context.Context, s *Service, sc state.Scope, what, id string,
	ask func(ec2port.Port, context.Context, string, string, string) (T, bool, error)) (T, bool, error) {
	var zero T
	if s.cfg.EC2 == nil || id == "" {
		return zero, false, nil
	}
	v, found, err := ask(s.cfg.EC2, ctx, sc.Account, sc.Region, id)
	if err != nil {
		return zero, false, fmt.Errorf("look up %s %s: %w", what, id, err)
	}
	return v, found, nil
}

func (s *Service) subnet(ctx context.Context, sc state.Scope, id string) (ec2port.Subnet, bool, error) {
	return lookup(ctx, s, sc, "subnet", id, ec2port.Port.Subnet)
}

func (s *Service) vpc(ctx context.Context, sc state.Scope, id string) (ec2port.VPC, bool, error) {
	return lookup(ctx, s, sc, "VPC", id, ec2port.Port.VPC)
}

func (s *Service) groupVPC(ctx context.Context, sc state.Scope, id string) (string, bool, error) {
	return lookup(ctx, s, sc, "security group", id, ec2port.Port.SecurityGroupVPC)
}

// zonesOf is the AvailabilityZones of a load balancer in subnets. AWS
// shows an Application Load Balancer's zones without addresses: its
// nodes' addresses change and are not published.
func zonesOf(subnets []ec2port.Subnet) []elbv2api.AvailabilityZone {
	out := make([]elbv2api.AvailabilityZone, 0, len(subnets))
	for _, sn := range subnets {
		out = append(out, elbv2api.AvailabilityZone{ZoneName: ptr(sn.AvailabilityZone), SubnetId: ptr(sn.ID),
			LoadBalancerAddresses: []elbv2api.LoadBalancerAddress{}})
	}
	return out
}

// CreateLoadBalancer implements elbv2api.Server. As on AWS it is
// idempotent: a load balancer of the same name and settings is returned
// as it is.
func (s *Service) CreateLoadBalancer(ctx context.Context, in *elbv2api.CreateLoadBalancerInput) (*elbv2api.CreateLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.Name)
	scheme := cmp.Or(deref(in.Scheme), schemeInternetFacing)
	ipType := cmp.Or(deref(in.IpAddressType), ipv4)
	if err := checkLBName(name); err != nil {
		return nil, err
	}
	if err := checkLBType(cmp.Or(deref(in.Type), typeApplication)); err != nil {
		return nil, err
	}
	if scheme != schemeInternetFacing && scheme != schemeInternal {
		return nil, errEnum(scheme, "scheme", schemeInternetFacing, schemeInternal)
	}
	if err := checkIPAddressType(ipType); err != nil {
		return nil, err
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return nil, errConfig("Customer-owned IPv4 pools are for load balancers on AWS Outposts, which minicloud does not have")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	ids, err := subnetsOf(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	net, err := s.resolveNetwork(ctx, sc, ids, "", in.SecurityGroups, scheme)
	if err != nil {
		return nil, err
	}
	var out records.LoadBalancer
	err = s.update(ctx, func(tx state.Tx) error {
		existing, err := lbByName(tx, sc, name)
		if err != nil {
			return err
		}
		if existing != nil {
			if !sameLB(existing, scheme, ipType, net, len(in.SecurityGroups) > 0) {
				return errCode("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
			}
			out = *existing
			return nil
		}
		if n, err := count(tx, sc, lbTable); err != nil || n >= maxLoadBalancers {
			return cmp.Or(err, errCode("TooManyLoadBalancers", "The quota for the number of load balancers has been reached"))
		}
		id := newID()
		out = records.LoadBalancer{ID: id, Tags: tags, Attributes: map[string]string{}}
		out.LoadBalancer = elbv2api.LoadBalancer{
			LoadBalancerArn:       ptr(lbARN(sc, name, id)),
			DNSName:               ptr(dnsName(sc, name, scheme, dnsNumber())),
			CanonicalHostedZoneId: ptr(canonicalZone(sc.Region)),
			CreatedTime:           ptr(s.now().Truncate(1e6)),
			LoadBalancerName:      ptr(name),
			Scheme:                ptr(scheme),
			VpcId:                 ptr(net.vpc.ID),
			State:                 &elbv2api.LoadBalancerState{Code: ptr("provisioning")},
			Type:                  ptr(typeApplication),
			AvailabilityZones:     zonesOf(net.subnets),
			SecurityGroups:        net.groups,
			IpAddressType:         ptr(ipType),
		}
		return lbTable.Put(tx, sc, id, out)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateLoadBalancerOutput{LoadBalancers: []elbv2api.LoadBalancer{describeLB(&out)}}, nil
}

// resolveNetwork asks EC2 about a load balancer's subnets (in VPC vpcID
// when set) and security groups; an internet-facing one needs the VPC's
// internet gateway.
func (s *Service) resolveNetwork(ctx context.Context, sc state.Scope, subnetIDs []string, vpcID string, groups []string, scheme string) (lbNetwork, error) {
	subnets, vpc, err := s.resolveSubnets(ctx, sc, subnetIDs, vpcID)
	if err != nil {
		return lbNetwork{}, err
	}
	if scheme == schemeInternetFacing && !vpc.InternetGateway {
		return lbNetwork{}, errCode("InvalidSubnet", "VPC %s has no internet gateway", vpc.ID)
	}
	gs, err := s.resolveGroups(ctx, sc, vpc, groups)
	if err != nil {
		return lbNetwork{}, err
	}
	return lbNetwork{vpc: vpc, subnets: subnets, groups: gs}, nil
}

// sameLB reports whether existing has the settings of a CreateLoadBalancer
// request (its security groups only when the request named some).
func sameLB(existing *records.LoadBalancer, scheme, ipType string, net lbNetwork, groups bool) bool {
	var subnets []string
	for _, sn := range net.subnets {
		subnets = append(subnets, sn.ID)
	}
	return deref(existing.Scheme) == scheme && deref(existing.IpAddressType) == ipType &&
		slices.Equal(existing.Subnets(), subnets) && (!groups || sameSet(existing.SecurityGroups, net.groups))
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// count is the number of records of t in sc.
func count[T any](tx state.Tx, sc state.Scope, t state.Table[T]) (int, error) {
	n := 0
	err := tx.Scan(t.Prefix(sc), func(string, []byte) error { n++; return nil })
	return n, err
}

// describeLB is the LoadBalancer shape of a record.
func describeLB(r *records.LoadBalancer) elbv2api.LoadBalancer {
	lb := r.LoadBalancer
	lb.AvailabilityZones = slices.Clone(lb.AvailabilityZones)
	for i := range lb.AvailabilityZones {
		if lb.AvailabilityZones[i].LoadBalancerAddresses == nil {
			lb.AvailabilityZones[i].LoadBalancerAddresses = []elbv2api.LoadBalancerAddress{}
		}
	}
	return lb
}

// DeleteLoadBalancer implements elbv2api.Server: the load balancer, its
// listeners and rules go at once (a load balancer already gone is not an
// error, as on AWS); the controller takes its nodes down.
func (s *Service) DeleteLoadBalancer(ctx context.Context, in *elbv2api.DeleteLoadBalancerInput) (*elbv2api.DeleteLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.LoadBalancerArn)
	var certs []string
	err := s.update(ctx, func(tx state.Tx) error {
		lb, err := getLB(tx, sc, arn)
		if state.IsCode(err, "LoadBalancerNotFound") {
			return nil
		}
		if err != nil {
			return err
		}
		if lbAttributes(&lb)["deletion_protection.enabled"] == "true" {
			return errCode("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
		}
		listeners, err := records.ListenersOf(tx, sc, lb.ID)
		if err != nil {
			return err
		}
		for _, l := range listeners {
			certs = append(certs, l.CertificateARNs()...)
			if err := deleteListener(tx, sc, &l); err != nil {
				return err
			}
		}
		slices.Sort(certs)
		certs = slices.Compact(certs)
		if err := lbTable.Delete(tx, sc, lb.ID); err != nil {
			return err
		}
		return records.Retired.Put(tx, sc, lb.ID, records.RetiredLB{ARN: arn, Nodes: lb.Nodes, Certificates: certs})
	})
	if err != nil {
		return nil, err
	}
	s.unuseCerts(ctx, sc, arn, certs)
	return &elbv2api.DeleteLoadBalancerOutput{}, nil
}

// DescribeLoadBalancers implements elbv2api.Server: every load balancer,
// or those named by ARN or by name, ordered by name.
func (s *Service) DescribeLoadBalancers(ctx context.Context, in *elbv2api.DescribeLoadBalancersInput) (*elbv2api.DescribeLoadBalancersOutput, error) {
	sc := scopeOf(ctx)
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, errValidation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var list []elbv2api.LoadBalancer
	err := s.view(ctx, func(tx state.Tx) error {
		switch {
		case len(in.LoadBalancerArns) > 0:
			for _, arn := range in.LoadBalancerArns {
				lb, err := getLB(tx, sc, arn)
				if err != nil {
					return err
				}
				list = append(list, describeLB(&lb))
			}
		case len(in.Names) > 0:
			var missing []string
			for _, name := range in.Names {
				lb, err := lbByName(tx, sc, name)
				if err != nil {
					return err
				}
				if lb == nil {
					missing = append(missing, name)
					continue
				}
				list = append(list, describeLB(lb))
			}
			if len(missing) > 0 {
				return errCode("LoadBalancerNotFound", "Load balancers '[%s]' not found", join(missing))
			}
		default:
			return lbTable.ForEachShared(tx, sc, func(_ string, lb *records.LoadBalancer) error {
				list = append(list, describeLB(lb))
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(dedupe(list, func(lb elbv2api.LoadBalancer) string { return deref(lb.LoadBalancerArn) }),
		in.PageSize, in.Marker, func(lb elbv2api.LoadBalancer) string { return deref(lb.LoadBalancerName) })
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeLoadBalancersOutput{LoadBalancers: page, NextMarker: next}, nil
}

// dedupe keeps the first of items with the same key.
func dedupe[T any](items []T, key func(T) string) []T {
	seen := map[string]bool{}
	out := items[:0:0]
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			out = append(out, it)
		}
	}
	return out
}

// SetSubnets implements elbv2api.Server: the controller gives the new
// subnets their nodes and takes down those of the subnets removed.
func (s *Service) SetSubnets(ctx context.Context, in *elbv2api.SetSubnetsInput) (*elbv2api.SetSubnetsOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.LoadBalancerArn)
	if in.IpAddressType != nil {
		if err := checkIPAddressType(*in.IpAddressType); err != nil {
			return nil, err
		}
	}
	ids, err := subnetsOf(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	var lb records.LoadBalancer
	if err := s.view(ctx, func(tx state.Tx) (err error) { lb, err = getLB(tx, sc, arn); return err }); err != nil {
		return nil, err
	}
	subnets, _, err := s.resolveSubnets(ctx, sc, ids, deref(lb.VpcId))
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx state.Tx) error {
		lb, err = getLB(tx, sc, arn)
		if err != nil {
			return err
		}
		lb.AvailabilityZones = zonesOf(subnets)
		return lbTable.Put(tx, sc, lb.ID, lb)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetSubnetsOutput{AvailabilityZones: describeLB(&lb).AvailabilityZones, IpAddressType: lb.IpAddressType}, nil
}

// SetSecurityGroups implements elbv2api.Server: the controller gives the
// nodes' network interfaces the new groups.
func (s *Service) SetSecurityGroups(ctx context.Context, in *elbv2api.SetSecurityGroupsInput) (*elbv2api.SetSecurityGroupsOutput, error) {
	sc := scopeOf(ctx)
	arn := deref(in.LoadBalancerArn)
	if in.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic != nil {
		return nil, errValidation("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic applies to Network Load Balancers only")
	}
	if len(in.SecurityGroups) == 0 {
		return nil, errValidation("At least one security group must be specified for an Application Load Balancer")
	}
	var lb records.LoadBalancer
	if err := s.view(ctx, func(tx state.Tx) (err error) { lb, err = getLB(tx, sc, arn); return err }); err != nil {
		return nil, err
	}
	groups, err := s.resolveGroups(ctx, sc, ec2port.VPC{ID: deref(lb.VpcId)}, in.SecurityGroups)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx state.Tx) error {
		lb, err = getLB(tx, sc, arn)
		if err != nil {
			return err
		}
		lb.SecurityGroups = groups
		return lbTable.Put(tx, sc, lb.ID, lb)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetSecurityGroupsOutput{SecurityGroupIds: groups}, nil
}

// SetIpAddressType implements elbv2api.Server: ipv4 only, minicloud has no
// IPv6 yet.
func (s *Service) SetIpAddressType(ctx context.Context, in *elbv2api.SetIpAddressTypeInput) (*elbv2api.SetIpAddressTypeOutput, error) {
	sc := scopeOf(ctx)
	if err := checkIPAddressType(deref(in.IpAddressType)); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(tx state.Tx) error { _, err := getLB(tx, sc, deref(in.LoadBalancerArn)); return err })
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetIpAddressTypeOutput{IpAddressType: ptr(ipv4)}, nil
}
