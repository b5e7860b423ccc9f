package ec2

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// KnownRegion reports whether name is one of the regions DescribeRegions
// lists (with AllRegions). Callers outside the API (the diagram) check it
// before they read a region, as they have no signature scope to trust.
func KnownRegion(name string) bool {
	_, ok := regionByName(name)
	return ok
}

func regionByName(name string) (regionInfo, bool) {
	for _, r := range commercialRegions {
		if r.Name == name {
			return r, true
		}
	}
	return regionInfo{}, false
}

// regionOrSynthetic returns the catalogue entry of a region; a region AWS does
// not have (test suites invent some) gets three zones a–c with IDs formed as
// AWS forms them, so code that needs two AZs works in any region.
func regionOrSynthetic(name string) regionInfo {
	if r, ok := regionByName(name); ok {
		return r
	}
	prefix := abbreviate(name)
	return regionInfo{Name: name, OptIn: optInNotRequired, ZoneIDPrefix: prefix,
		Zones: []zoneInfo{{"a", prefix + "-az1"}, {"b", prefix + "-az2"}, {"c", prefix + "-az3"}}}
}

// abbreviate turns "xx-north-9" into "xxn9", the AZ ID prefix convention.
func abbreviate(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 || parts[1] == "" {
		return strings.ReplaceAll(region, "-", "")
	}
	return parts[0] + parts[1][:1] + parts[2]
}

// DescribeRegions lists the regions enabled for the account (all of them with
// AllRegions), or those named.
func (s *Service) DescribeRegions(ctx context.Context, in *ec2api.DescribeRegionsRequest) (*ec2api.DescribeRegionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "endpoint", "region-name", "opt-in-status"); err != nil {
		return nil, err
	}
	var pick []regionInfo
	if len(in.RegionNames) > 0 {
		for _, name := range in.RegionNames {
			r, ok := regionByName(name)
			if !ok {
				return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid region: %s", name)
			}
			pick = append(pick, r)
		}
	} else {
		all := in.AllRegions != nil && *in.AllRegions
		for _, r := range commercialRegions {
			if all || r.OptIn != notOptedIn {
				pick = append(pick, r)
			}
		}
	}
	out := &ec2api.DescribeRegionsResult{Regions: []ec2api.Region{}}
	for _, r := range pick {
		endpoint := fmt.Sprintf("ec2.%s.amazonaws.com", r.Name)
		ok, err := state.Match(fs, func(name string) ([]string, bool) {
			switch name {
			case "endpoint":
				return []string{endpoint}, true
			case "region-name":
				return []string{r.Name}, true
			case "opt-in-status":
				return []string{r.OptIn}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Regions = append(out.Regions, ec2api.Region{Endpoint: new(endpoint), RegionName: new(r.Name), OptInStatus: new(r.OptIn)})
		}
	}
	return out, nil
}

// DescribeAvailabilityZones lists the zones of the request's region.
func (s *Service) DescribeAvailabilityZones(ctx context.Context, in *ec2api.DescribeAvailabilityZonesRequest) (*ec2api.DescribeAvailabilityZonesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "zone-name", "zone-id", "zone-type", "region-name", "state", "opt-in-status",
		"group-name", "group-long-name", "message", "network-border-group", "parent-zone-id", "parent-zone-name"); err != nil {
		return nil, err
	}
	region := regionOrSynthetic(ctxRegion(ctx))
	for _, n := range in.ZoneNames {
		if !hasZone(region, func(z zoneInfo) bool { return region.Name+z.Letter == n }) {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The zone '%s' does not exist.", n)
		}
	}
	for _, id := range in.ZoneIds {
		if !hasZone(region, func(z zoneInfo) bool { return z.ID == id }) {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The zone ID '%s' does not exist.", id)
		}
	}
	out := &ec2api.DescribeAvailabilityZonesResult{AvailabilityZones: []ec2api.AvailabilityZone{}}
	for _, z := range region.Zones {
		name := region.Name + z.Letter
		if len(in.ZoneNames) > 0 && !slices.Contains(in.ZoneNames, name) && !slices.Contains(in.ZoneIds, z.ID) {
			continue
		}
		if len(in.ZoneNames) == 0 && len(in.ZoneIds) > 0 && !slices.Contains(in.ZoneIds, z.ID) {
			continue
		}
		group := region.Name + "-zg-1"
		values := map[string]string{
			"zone-name": name, "zone-id": z.ID, "zone-type": "availability-zone", "region-name": region.Name,
			"state": "available", "opt-in-status": optInNotRequired, "group-name": group,
			"network-border-group": region.Name,
		}
		ok, err := state.Match(fs, func(f string) ([]string, bool) {
			if v, ok := values[f]; ok {
				return []string{v}, true
			}
			switch f {
			case "group-long-name", "message", "parent-zone-id", "parent-zone-name":
				return nil, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out.AvailabilityZones = append(out.AvailabilityZones, ec2api.AvailabilityZone{
			State:              new("available"),
			OptInStatus:        new(optInNotRequired),
			Messages:           []ec2api.AvailabilityZoneMessage{},
			RegionName:         new(region.Name),
			ZoneName:           new(name),
			ZoneId:             new(z.ID),
			GroupName:          new(group),
			NetworkBorderGroup: new(region.Name),
			ZoneType:           new("availability-zone"),
		})
	}
	return out, nil
}

func hasZone(r regionInfo, pred func(zoneInfo) bool) bool {
	for _, z := range r.Zones {
		if pred(z) {
			return true
		}
	}
	return false
}

// RegionNames are the regions DescribeRegions lists with AllRegions, for
// those who publish names per region (the service endpoints' DNS names).
func RegionNames() []string {
	out := make([]string, 0, len(commercialRegions))
	for _, r := range commercialRegions {
		out = append(out, r.Name)
	}
	return out
}
