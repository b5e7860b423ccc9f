package ssm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// instanceFilterKeys are DescribeInstanceInformation's filter keys (with
// tag-key and tag:<key> in Filters).
var instanceFilterKeys = []string{"InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds", "IamRole", "ResourceType", "AssociationStatus"}

// information is an agent's InstanceInformation as it is now.
func (a *agents) information(st *agentStatus, ping string) ssmapi.InstanceInformation {
	i := st.inst
	info := ssmapi.InstanceInformation{InstanceId: new(i.ID), PingStatus: new(ping), LastPingDateTime: new(st.lastPing.Truncate(1e6)),
		AgentVersion: new(agentVersion), IsLatestVersion: new(false), PlatformType: new("Linux"), PlatformName: new(i.PlatformName),
		PlatformVersion: new(i.PlatformVersion), ResourceType: new("EC2Instance"), IPAddress: new(i.PrivateIP), ComputerName: new(i.Hostname),
		SourceId: new(i.ID), SourceType: new("AWS::EC2::Instance")}
	if st.roleName != "" {
		info.IamRole = new(st.roleName)
	}
	return info
}

// instanceFilter is one checked filter: a key and the values it accepts.
type instanceFilter struct {
	key    string
	values []string
}

func (f instanceFilter) match(info ssmapi.InstanceInformation, tags map[string]string) bool {
	var have []string
	switch {
	case f.key == "InstanceIds":
		have = []string{*info.InstanceId}
	case f.key == "AgentVersion":
		have = []string{*info.AgentVersion}
	case f.key == "PingStatus":
		have = []string{*info.PingStatus}
	case f.key == "PlatformTypes":
		have = []string{*info.PlatformType}
	case f.key == "IamRole":
		have = []string{deref(info.IamRole)}
	case f.key == "ResourceType":
		have = []string{*info.ResourceType}
	case f.key == "tag-key":
		for k := range tags {
			have = append(have, k)
		}
	case strings.HasPrefix(f.key, "tag:"):
		v, ok := tags[f.key[4:]]
		if !ok {
			return false
		}
		have = []string{v}
	}
	return slices.ContainsFunc(f.values, func(w string) bool { return slices.Contains(have, w) })
}

// DescribeInstanceInformation lists the managed instances of the region:
// every instance whose agent has registered, with its PingStatus.
func (s *Service) DescribeInstanceInformation(ctx context.Context, in *ssmapi.DescribeInstanceInformationRequest) (*ssmapi.DescribeInstanceInformationResult, error) {
	var v violations
	v.rangeInt(in.MaxResults, "maxResults", 5, 50)
	for i, f := range in.InstanceInformationFilterList {
		v.enum(f.Key, fmt.Sprintf("instanceInformationFilterList.%d.member.key", i+1), instanceFilterKeys)
		v.listLen(f.ValueSet, fmt.Sprintf("instanceInformationFilterList.%d.member.valueSet", i+1), 1, 100)
	}
	for i, f := range in.Filters {
		v.length(f.Key, fmt.Sprintf("filters.%d.member.key", i+1), 1, 0)
		v.listLen(f.Values, fmt.Sprintf("filters.%d.member.values", i+1), 1, 100)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.InstanceInformationFilterList) > 0 && len(in.Filters) > 0 {
		return nil, errValidation("You can use either InstanceInformationFilterList or Filters in a single request.")
	}
	var fs []instanceFilter
	for _, f := range in.InstanceInformationFilterList {
		fs = append(fs, instanceFilter{key: *f.Key, values: f.ValueSet})
	}
	for _, f := range in.Filters {
		key := *f.Key
		if !slices.Contains(instanceFilterKeys, key) && key != "tag-key" && !strings.HasPrefix(key, "tag:") {
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid.", key)
		}
		fs = append(fs, instanceFilter{key: key, values: f.Values})
	}
	for _, f := range fs {
		if f.key == "PingStatus" {
			for _, val := range f.values {
				if !slices.Contains([]string{"Online", "ConnectionLost", "Inactive"}, val) {
					return nil, clientError("InvalidInstanceInformationFilterValue", "The filter value %s is not valid for PingStatus. Valid values: Online, ConnectionLost, Inactive.", val)
				}
			}
		}
	}
	sc := scopeOf(ctx)
	now := s.cfg.Now().UTC()
	var items []ssmapi.InstanceInformation
	for _, st := range s.agents.snapshot(sc.Account, sc.Region) {
		info := s.agents.information(&st, s.agents.pingStatus(&st, now))
		if !slices.ContainsFunc(fs, func(f instanceFilter) bool { return !f.match(info, st.inst.Tags) }) {
			items = append(items, info)
		}
	}
	size := pageSize(in.MaxResults, 50)
	page, next, err := state.Paginate(items, size, deref(in.NextToken), pageOptions, func(i ssmapi.InstanceInformation) string { return *i.InstanceId })
	if err != nil {
		return nil, err
	}
	return &ssmapi.DescribeInstanceInformationResult{InstanceInformationList: page, NextToken: tokenOf(next)}, nil
}
