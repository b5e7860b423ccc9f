package elbv2

import (
	"context"
	"slices"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/service/elbv2/sslpolicy"
)

// DescribeAccountLimits and DescribeSSLPolicies: AWS's default quotas, and
// the table of security policies (package sslpolicy).

// accountLimits are AWS's default quotas, named and ordered as
// DescribeAccountLimits lists them. minicloud enforces those of
// Application Load Balancers.
var accountLimits = []struct {
	name string
	max  int
}{
	{"target-groups", maxTargetGroups},
	{"targets-per-application-load-balancer", 1000},
	{"listeners-per-application-load-balancer", maxListeners},
	{"rules-per-application-load-balancer", maxRulesPerLB},
	{"network-load-balancers", 50},
	{"targets-per-network-load-balancer", 3000},
	{"targets-per-availability-zone-per-network-load-balancer", 500},
	{"listeners-per-network-load-balancer", 50},
	{"condition-values-per-alb-rule", maxValuesPerRule},
	{"condition-wildcards-per-alb-rule", maxWildcardsPerRule},
	{"target-groups-per-application-load-balancer", 100},
	{"target-groups-per-action-on-application-load-balancer", maxForwardGroups},
	{"target-groups-per-action-on-network-load-balancer", 1},
	{"certificates-per-application-load-balancer", maxCertificates},
	{"certificates-per-network-load-balancer", 25},
	{"targets-per-target-group", maxTargetsPerGroup},
	{"target-id-registrations-per-application-load-balancer", 1000},
	{"network-load-balancer-enis-per-vpc", 1200},
	{"application-load-balancers", maxLoadBalancers},
	{"gateway-load-balancers", 100},
	{"gateway-load-balancers-per-vpc", 100},
	{"geneve-target-groups", 100},
	{"targets-per-availability-zone-per-gateway-load-balancer", 300},
}

// DescribeAccountLimits implements elbv2api.Server.
func (s *Service) DescribeAccountLimits(_ context.Context, in *elbv2api.DescribeAccountLimitsInput) (*elbv2api.DescribeAccountLimitsOutput, error) {
	type entry struct {
		key   string
		limit elbv2api.Limit
	}
	var list []entry
	for i, l := range accountLimits {
		list = append(list, entry{key: strconv.Itoa(1000 + i), limit: elbv2api.Limit{Name: ptr(l.name), Max: ptr(strconv.Itoa(l.max))}})
	}
	page, next, err := paginate(list, in.PageSize, in.Marker, func(e entry) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeAccountLimitsOutput{Limits: []elbv2api.Limit{}, NextMarker: next}
	for _, e := range page {
		out.Limits = append(out.Limits, e.limit)
	}
	return out, nil
}

// DescribeSSLPolicies implements elbv2api.Server: every policy, or those
// named (SSLPolicyNotFound for one that is not).
func (s *Service) DescribeSSLPolicies(_ context.Context, in *elbv2api.DescribeSSLPoliciesInput) (*elbv2api.DescribeSSLPoliciesOutput, error) {
	if t := deref(in.LoadBalancerType); t != "" && !slices.Contains([]string{"application", "network", "gateway"}, t) {
		return nil, errEnum(t, "loadBalancerType", "application", "network", "gateway")
	}
	type entry struct {
		key    string
		policy elbv2api.SslPolicy
	}
	var list []entry
	all := sslpolicy.All()
	if len(in.Names) > 0 {
		all = nil
		for _, n := range in.Names {
			p, ok := sslpolicy.Lookup(n)
			if !ok {
				return nil, errCode("SSLPolicyNotFound", "SSL policy '%s' not found", n)
			}
			all = append(all, p)
		}
	}
	if deref(in.LoadBalancerType) == "gateway" {
		all = nil
	}
	for i, p := range all {
		sp := elbv2api.SslPolicy{Name: ptr(p.Name), SslProtocols: p.Protocols, SupportedLoadBalancerTypes: sslpolicy.LoadBalancerTypes}
		for j, c := range p.Ciphers {
			sp.Ciphers = append(sp.Ciphers, elbv2api.Cipher{Name: ptr(c.Name), Priority: ptr(int32(j + 1))})
		}
		list = append(list, entry{key: strconv.Itoa(1000 + i), policy: sp})
	}
	page, next, err := paginate(list, in.PageSize, in.Marker, func(e entry) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeSSLPoliciesOutput{SslPolicies: []elbv2api.SslPolicy{}, NextMarker: next}
	for _, e := range page {
		out.SslPolicies = append(out.SslPolicies, e.policy)
	}
	return out, nil
}
