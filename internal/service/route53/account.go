package route53

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/state"
)

// accountLimits are AWS's default quotas per account (GetAccountLimit).
// Only the reusable delegation sets' is enforced; minicloud has no
// traffic policies.
var accountLimits = map[string]int{
	"MAX_HEALTH_CHECKS_BY_OWNER":            200,
	"MAX_HOSTED_ZONES_BY_OWNER":             500,
	"MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER": 5,
	"MAX_REUSABLE_DELEGATION_SETS_BY_OWNER": 100,
	"MAX_TRAFFIC_POLICIES_BY_OWNER":         50,
}

// zoneLimits are AWS's default quotas per hosted zone (GetHostedZoneLimit).
var zoneLimits = map[string]int{
	"MAX_RRSETS_BY_ZONE":          10000,
	"MAX_VPCS_ASSOCIATED_BY_ZONE": 300,
}

// GetAccountLimit reports one of the account's quotas and its use.
func (s *Service) GetAccountLimit(ctx context.Context, in *route53api.GetAccountLimitRequest) (*route53api.GetAccountLimitResponse, error) {
	typ := deref(in.Type)
	limit, ok := accountLimits[typ]
	if !ok {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER, MAX_HEALTH_CHECKS_BY_OWNER, MAX_REUSABLE_DELEGATION_SETS_BY_OWNER, MAX_HOSTED_ZONES_BY_OWNER, MAX_TRAFFIC_POLICIES_BY_OWNER]", typ)
	}
	count := 0
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		switch typ {
		case "MAX_HEALTH_CHECKS_BY_OWNER":
			count, err = countRows(tx, sc, healthChecks)
		case "MAX_HOSTED_ZONES_BY_OWNER":
			count, err = countRows(tx, sc, zones)
		case "MAX_REUSABLE_DELEGATION_SETS_BY_OWNER":
			count, err = countRows(tx, sc, delegationSets)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &route53api.GetAccountLimitResponse{Limit: &route53api.AccountLimit{Type: new(typ), Value: new(int64(limit))}, Count: new(int64(count))}, nil
}

// GetHostedZoneLimit reports one of a zone's quotas and its use.
func (s *Service) GetHostedZoneLimit(ctx context.Context, in *route53api.GetHostedZoneLimitRequest) (*route53api.GetHostedZoneLimitResponse, error) {
	typ := deref(in.Type)
	limit, ok := zoneLimits[typ]
	if !ok {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [MAX_RRSETS_BY_ZONE, MAX_VPCS_ASSOCIATED_BY_ZONE]", typ)
	}
	z, err := s.zone(ctx, deref(in.HostedZoneId))
	if err != nil {
		return nil, err
	}
	count := z.Count
	if typ == "MAX_VPCS_ASSOCIATED_BY_ZONE" {
		if !z.Private {
			return nil, api.Errorf(http.StatusBadRequest, "HostedZoneNotPrivate", "The specified hosted zone is a public hosted zone, not a private hosted zone.")
		}
		count = len(z.VPCs)
	}
	return &route53api.GetHostedZoneLimitResponse{Limit: &route53api.HostedZoneLimit{Type: new(typ), Value: new(int64(limit))}, Count: new(int64(count))}, nil
}

// checkerIPRanges are the ROUTE53_HEALTHCHECKS ranges AWS publishes (the
// list its documentation shows for GetCheckerIpRanges). minicloud's own
// checker probes from the host, not from these.
var checkerIPRanges = []string{
	"15.177.0.0/18",
	"54.183.255.128/26",
	"54.228.16.0/26",
	"54.232.40.64/26",
	"54.241.32.64/26",
	"54.243.31.192/26",
	"54.244.52.192/26",
	"54.245.168.0/26",
	"54.248.220.0/26",
	"54.250.253.192/26",
	"54.251.31.128/26",
	"54.252.79.128/26",
	"54.252.254.192/26",
	"54.255.254.192/26",
	"107.23.255.0/26",
	"176.34.159.192/26",
	"177.71.207.128/26",
}

// GetCheckerIpRanges returns the health checkers' ranges.
func (s *Service) GetCheckerIpRanges(context.Context, *route53api.GetCheckerIpRangesRequest) (*route53api.GetCheckerIpRangesResponse, error) {
	return &route53api.GetCheckerIpRangesResponse{CheckerIpRanges: append([]string(nil), checkerIPRanges...)}, nil
}

// ListTagsForResources lists the tags of up to 10 zones or health checks.
func (s *Service) ListTagsForResources(ctx context.Context, in *route53api.ListTagsForResourcesRequest) (*route53api.ListTagsForResourcesResponse, error) {
	if n := len(in.ResourceIds); n == 0 || n > 10 {
		return nil, errInvalidInput("1 validation error detected: Value '%v' at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1", in.ResourceIds)
	}
	out := &route53api.ListTagsForResourcesResponse{ResourceTagSets: []route53api.ResourceTagSet{}}
	for _, id := range in.ResourceIds {
		one, err := s.ListTagsForResource(ctx, &route53api.ListTagsForResourceRequest{ResourceType: in.ResourceType, ResourceId: new(id)})
		if err != nil {
			return nil, err
		}
		out.ResourceTagSets = append(out.ResourceTagSets, *one.ResourceTagSet)
	}
	return out, nil
}

// ListHostedZonesByVPC lists the account's private zones associated with
// a VPC, in zone ID order; NextToken is the next zone's ID.
func (s *Service) ListHostedZonesByVPC(ctx context.Context, in *route53api.ListHostedZonesByVPCRequest) (*route53api.ListHostedZonesByVPCResponse, error) {
	vpc := &route53api.VPC{VPCId: in.VPCId, VPCRegion: in.VPCRegion}
	if err := validVPC(vpc); err != nil {
		return nil, err
	}
	n, err := maxItems(in.MaxItems, 100, 100)
	if err != nil {
		return nil, err
	}
	list, err := s.listZones(ctx)
	if err != nil {
		return nil, err
	}
	next := deref(in.NextToken)
	if next != "" && !validNextZone(next) {
		return nil, api.Errorf(http.StatusBadRequest, "InvalidPaginationToken", "The value that you specified to get the second or subsequent page of results is invalid.")
	}
	account := api.Request(ctx).Account
	out := &route53api.ListHostedZonesByVPCResponse{HostedZoneSummaries: []route53api.HostedZoneSummary{}, MaxItems: new(strconv.Itoa(n))}
	for _, z := range list {
		if !z.Private || z.ID < next || !hasVPC(z.VPCs, *vpc) {
			continue
		}
		if len(out.HostedZoneSummaries) == n {
			out.NextToken = new(z.ID)
			break
		}
		out.HostedZoneSummaries = append(out.HostedZoneSummaries, route53api.HostedZoneSummary{
			HostedZoneId: new(z.ID),
			Name:         new(escapeName(z.Name)),
			Owner:        &route53api.HostedZoneOwner{OwningAccount: new(account)},
		})
	}
	return out, nil
}

// countRows counts the rows of table t in sc.
func countRows[T any](tx state.Tx, sc state.Scope, t state.Table[T]) (int, error) {
	n := 0
	err := t.ForEach(tx, sc, func(string, T) error { n++; return nil })
	return n, err
}

func validNextZone(tok string) bool { return len(tok) > 1 && tok[0] == 'Z' }

func hasVPC(vpcs []route53api.VPC, v route53api.VPC) bool {
	for _, o := range vpcs {
		if sameVPC(o, v) {
			return true
		}
	}
	return false
}

// maxVPCAuthorizations is how many authorizations a zone may hold (AWS
// documents no number; its error exists, and 100 keeps it finite).
const maxVPCAuthorizations = 100

// CreateVPCAssociationAuthorization lets another account associate one of
// its VPCs with this private zone.
func (s *Service) CreateVPCAssociationAuthorization(ctx context.Context, in *route53api.CreateVPCAssociationAuthorizationRequest) (*route53api.CreateVPCAssociationAuthorizationResponse, error) {
	if err := validVPC(in.VPC); err != nil {
		return nil, err
	}
	var z *zoneRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		if z, err = getZone(tx, sc, deref(in.HostedZoneId)); err != nil {
			return err
		}
		if !z.Private {
			return errInvalidInput("The hosted zone %s is a public hosted zone: only private hosted zones can be associated with VPCs.", z.ID)
		}
		if hasVPC(z.AuthorizedVPCs, *in.VPC) {
			return nil // AWS answers an existing authorization as created
		}
		if len(z.AuthorizedVPCs) >= maxVPCAuthorizations {
			return api.Errorf(http.StatusBadRequest, "TooManyVPCAssociationAuthorizations", "You've created the maximum number of authorizations that can be created for the specified hosted zone.")
		}
		z.AuthorizedVPCs = append(z.AuthorizedVPCs, route53api.VPC{VPCId: in.VPC.VPCId, VPCRegion: in.VPC.VPCRegion})
		return zones.Put(tx, sc, z.ID, *z)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.CreateVPCAssociationAuthorizationResponse{HostedZoneId: new(z.ID), VPC: &route53api.VPC{VPCId: in.VPC.VPCId, VPCRegion: in.VPC.VPCRegion}}, nil
}

// DeleteVPCAssociationAuthorization withdraws an authorization.
func (s *Service) DeleteVPCAssociationAuthorization(ctx context.Context, in *route53api.DeleteVPCAssociationAuthorizationRequest) (*route53api.DeleteVPCAssociationAuthorizationResponse, error) {
	if err := validVPC(in.VPC); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		z, err := getZone(tx, sc, deref(in.HostedZoneId))
		if err != nil {
			return err
		}
		for i, v := range z.AuthorizedVPCs {
			if sameVPC(v, *in.VPC) {
				z.AuthorizedVPCs = append(z.AuthorizedVPCs[:i:i], z.AuthorizedVPCs[i+1:]...)
				return zones.Put(tx, sc, z.ID, *z)
			}
		}
		return api.Errorf(http.StatusNotFound, "VPCAssociationAuthorizationNotFound", "The VPC %s in %s region has not been authorized to be associated with the hosted zone %s.", deref(in.VPC.VPCId), deref(in.VPC.VPCRegion), z.ID)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.DeleteVPCAssociationAuthorizationResponse{}, nil
}

// ListVPCAssociationAuthorizations lists a zone's authorizations; NextToken
// is the index of the next one.
func (s *Service) ListVPCAssociationAuthorizations(ctx context.Context, in *route53api.ListVPCAssociationAuthorizationsRequest) (*route53api.ListVPCAssociationAuthorizationsResponse, error) {
	n, err := maxItems(in.MaxResults, 50, 50)
	if err != nil {
		return nil, err
	}
	start := 0
	if tok := deref(in.NextToken); tok != "" {
		if start, err = strconv.Atoi(tok); err != nil || start < 0 {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidPaginationToken", "The value that you specified to get the second or subsequent page of results is invalid.")
		}
	}
	z, err := s.zone(ctx, deref(in.HostedZoneId))
	if err != nil {
		return nil, err
	}
	out := &route53api.ListVPCAssociationAuthorizationsResponse{HostedZoneId: new(z.ID), VPCs: []route53api.VPC{}}
	for i := start; i < len(z.AuthorizedVPCs); i++ {
		if len(out.VPCs) == n {
			out.NextToken = new(fmt.Sprint(i))
			break
		}
		out.VPCs = append(out.VPCs, z.AuthorizedVPCs[i])
	}
	return out, nil
}
