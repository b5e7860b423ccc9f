package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// AWS-managed prefix lists. AWS publishes, per region, the prefix lists
// com.amazonaws.<region>.s3 and com.amazonaws.<region>.dynamodb, owned by
// "AWS", which gateway endpoints route to. Their IDs are per-region
// constants (pl-63a5400a is us-east-1's S3 list); minicloud derives a
// stable 8-hex-digit ID per region and service from a hash, so the same
// region always shows the same ID.
//
// The CIDRs are the addresses S3's and DynamoDB's regional names resolve
// to and minicloud serves them on: their public service addresses
// (vpcnet.ServiceAddress of the public pool, one /32 each), so that a
// gateway endpoint's route really carries that traffic and a security
// group rule naming the list really matches it. A public pool too small to
// keep service addresses (tests' tiny pools) falls back to addresses that
// can never be routed to the internet and do not collide with the pool or
// any RFC 1918 VPC CIDR: RFC 5737's TEST-NET-2 for S3 and TEST-NET-3 for
// DynamoDB.
const (
	prefixListS3CIDR       = "198.51.100.0/24" // RFC 5737 TEST-NET-2
	prefixListDynamoDBCIDR = "203.0.113.0/24"  // RFC 5737 TEST-NET-3
)

// prefixListCIDR is the CIDR of service's list for the public pool.
func prefixListCIDR(pool netip.Prefix, service, fallback string) string {
	if a := vpcnet.ServiceAddress(pool, service); a.IsValid() {
		return netip.PrefixFrom(a, 32).String()
	}
	return fallback
}

// prefixListInfo is one AWS-managed prefix list of a region.
type prefixListInfo struct {
	ID, Name string
	Cidrs    []string
}

// prefixListID is the deterministic pl- ID of a service's list in region.
func prefixListID(name string) string {
	sum := sha256.Sum256([]byte("minicloud/prefix-list/" + name))
	return "pl-" + hex.EncodeToString(sum[:4])
}

// prefixListsOf returns the region's AWS-managed prefix lists for the
// public pool, in ID order.
func prefixListsOf(region string, pool netip.Prefix) []prefixListInfo {
	out := []prefixListInfo{
		{Name: "com.amazonaws." + region + ".s3", Cidrs: []string{prefixListCIDR(pool, vpcnet.ServiceS3, prefixListS3CIDR)}},
		{Name: "com.amazonaws." + region + ".dynamodb", Cidrs: []string{prefixListCIDR(pool, vpcnet.ServiceDynamoDB, prefixListDynamoDBCIDR)}},
	}
	for i := range out {
		out[i].ID = prefixListID(out[i].Name)
	}
	if out[1].ID < out[0].ID {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// prefixListByID finds one of the region's lists by ID.
func prefixListByID(region string, pool netip.Prefix, id string) (prefixListInfo, bool) {
	for _, p := range prefixListsOf(region, pool) {
		if p.ID == id {
			return p, true
		}
	}
	return prefixListInfo{}, false
}

// prefixListByName finds one of the region's lists by name.
func prefixListByName(region string, pool netip.Prefix, name string) (prefixListInfo, bool) {
	for _, p := range prefixListsOf(region, pool) {
		if p.Name == name {
			return p, true
		}
	}
	return prefixListInfo{}, false
}

func prefixListNotFound(id string) error {
	return apiErr("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist.", id)
}

// prefixListSelect applies IDs (all must exist) and filters.
func prefixListSelect(region string, pool netip.Prefix, ids []string, filters []ec2api.Filter, values func(p prefixListInfo) map[string][]string) ([]*prefixListInfo, error) {
	fs := toFilters(filters)
	var picked []prefixListInfo
	if len(ids) > 0 {
		for _, id := range ids {
			p, ok := prefixListByID(region, pool, id)
			if !ok {
				return nil, prefixListNotFound(id)
			}
			picked = append(picked, p)
		}
	} else {
		picked = prefixListsOf(region, pool)
	}
	var out []*prefixListInfo
	for _, p := range picked {
		vals := values(p)
		ok, err := state.MatchWithTags(fs, nil, func(name string) ([]string, bool) { v, ok := vals[name]; return v, ok })
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, &p)
		}
	}
	return out, nil
}

// DescribePrefixLists lists the AWS-managed prefix lists of the region.
func (s *Service) DescribePrefixLists(ctx context.Context, in *ec2api.DescribePrefixListsRequest) (*ec2api.DescribePrefixListsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := ctxRegion(ctx)
	if err := state.CheckFilterNames(toFilters(in.Filters), "prefix-list-id", "prefix-list-name"); err != nil {
		return nil, err
	}
	sel, err := prefixListSelect(region, s.publicPool, in.PrefixListIds, in.Filters, func(p prefixListInfo) map[string][]string {
		return map[string][]string{"prefix-list-id": {p.ID}, "prefix-list-name": {p.Name}}
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(sel, in.MaxResults, in.NextToken, func(p *prefixListInfo) string { return p.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribePrefixListsResult{PrefixLists: []ec2api.PrefixList{}, NextToken: next}
	for _, p := range pg {
		out.PrefixLists = append(out.PrefixLists, ec2api.PrefixList{PrefixListId: new(p.ID), PrefixListName: new(p.Name), Cidrs: p.Cidrs})
	}
	return out, nil
}

// DescribeManagedPrefixLists lists the region's prefix lists; minicloud has
// only the AWS-managed ones.
func (s *Service) DescribeManagedPrefixLists(ctx context.Context, in *ec2api.DescribeManagedPrefixListsRequest) (*ec2api.DescribeManagedPrefixListsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := ctxRegion(ctx)
	if err := state.CheckFilterNames(toFilters(in.Filters), "owner-id", "prefix-list-id", "prefix-list-name"); err != nil {
		return nil, err
	}
	sel, err := prefixListSelect(region, s.publicPool, in.PrefixListIds, in.Filters, func(p prefixListInfo) map[string][]string {
		return map[string][]string{"owner-id": {"AWS"}, "prefix-list-id": {p.ID}, "prefix-list-name": {p.Name}}
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(sel, in.MaxResults, in.NextToken, func(p *prefixListInfo) string { return p.ID }, 1, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeManagedPrefixListsResult{PrefixLists: []ec2api.ManagedPrefixList{}, NextToken: next}
	for _, p := range pg {
		out.PrefixLists = append(out.PrefixLists, ec2api.ManagedPrefixList{
			PrefixListId:   new(p.ID),
			AddressFamily:  new("IPv4"),
			State:          new("create-complete"),
			PrefixListArn:  new("arn:" + state.PartitionOf(region) + ":ec2:" + region + ":aws:prefix-list/" + p.ID),
			PrefixListName: new(p.Name),
			Tags:           []ec2api.Tag{},
			OwnerId:        new("AWS"),
		})
	}
	return out, nil
}

// GetManagedPrefixListEntries lists the CIDRs of a prefix list.
func (s *Service) GetManagedPrefixListEntries(ctx context.Context, in *ec2api.GetManagedPrefixListEntriesRequest) (*ec2api.GetManagedPrefixListEntriesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.PrefixListId)
	if id == "" {
		return nil, errMissingParam("PrefixListId")
	}
	p, ok := prefixListByID(ctxRegion(ctx), s.publicPool, id)
	if !ok {
		if !state.ValidID("pl", id) {
			return nil, apiErr("InvalidPrefixListId.Malformed", "Invalid id: \"%s\"", id)
		}
		return nil, prefixListNotFound(id)
	}
	if v := in.TargetVersion; v != nil && *v != 1 {
		return nil, errInvalidParam("The prefix list %s does not have version %s.", id, strconv.FormatInt(*v, 10))
	}
	entries := make([]*ec2api.PrefixListEntry, 0, len(p.Cidrs))
	for _, c := range p.Cidrs {
		entries = append(entries, &ec2api.PrefixListEntry{Cidr: new(c)})
	}
	pg, next, err := page(entries, in.MaxResults, in.NextToken, func(e *ec2api.PrefixListEntry) string { return deref(e.Cidr) }, 1, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2api.GetManagedPrefixListEntriesResult{Entries: []ec2api.PrefixListEntry{}, NextToken: next}
	for _, e := range pg {
		out.Entries = append(out.Entries, *e)
	}
	return out, nil
}
