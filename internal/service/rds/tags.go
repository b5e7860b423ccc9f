package rds

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// Tagging (AddTagsToResource, ListTagsForResource, RemoveTagsFromResource).
//
// A resource is named by its ARN, arn:<partition>:rds:<region>:<account>:
// <type>:<name>, and its tags live in its own record, where the create call
// put them (DBInstance.TagList, DBSnapshot.TagList, the subnet and parameter
// groups' Tags): one copy, so DescribeDBInstances' and DescribeDBSnapshots'
// TagList and ListTagsForResource cannot disagree. The implicit default
// parameter group has no record; its tags are kept in defaultGroupTags.
//
// Validation follows the Tag shape's documentation in the RDS model: keys of
// 1 to 128 and values of at most 256 Unicode characters, neither starting
// with "aws:" or "rds:", made of letters, digits, white space and _ . : / =
// + - @; at most 50 tags on a resource (state.MaxTagsPerResource).

// tagTarget is one taggable resource read in a transaction: its tags and
// how to store new ones.
type tagTarget struct {
	tags []rdsapi.Tag
	put  func(tags []rdsapi.Tag) error
}

// tagCharset is the Tag shape's documented Java regex,
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.
var tagCharset = lazyregexp.New(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func errBadResourceName(name string) error {
	// AWS's wording, two spaces included, as clients have quoted it
	// (e.g. hashicorp/terraform#1908).
	return errInvalidParam("Invalid resource name:  %s", name)
}

func errNoSuchResourceHere() error {
	// What AWS answers for a well-formed RDS ARN that names nothing it can
	// tag in the caller's account and region (hashicorp/terraform-provider-aws#15758).
	return errInvalidParam("The specified resource name does not match an RDS resource in this region.")
}

// checkTags validates tags given to a create call or AddTagsToResource.
func checkTags(tags []rdsapi.Tag) error {
	if len(tags) > state.MaxTagsPerResource {
		return errTagQuota()
	}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		switch {
		case k == "":
			return errInvalidParam("Tag keys must not be empty.")
		case utf8.RuneCountInString(k) > state.MaxTagKeyLen:
			return errInvalidParam("Tag keys must be at most %d characters long: %s", state.MaxTagKeyLen, k)
		case utf8.RuneCountInString(v) > state.MaxTagValueLen:
			return errInvalidParam("Tag values must be at most %d characters long: %s", state.MaxTagValueLen, k)
		case reservedTagPrefix(k):
			return errInvalidParam("Tag keys cannot start with the reserved prefixes \"aws:\" or \"rds:\": %s", k)
		case reservedTagPrefix(v):
			return errInvalidParam("Tag values cannot start with the reserved prefixes \"aws:\" or \"rds:\": %s", v)
		case !tagCharset.MatchString(k):
			return errInvalidParam(`Tag keys may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + \ - @`)
		case !tagCharset.MatchString(v):
			return errInvalidParam(`Tag values may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + \ - @`)
		}
	}
	return nil
}

func errTagQuota() error {
	return errInvalidParam("A resource can have at most %d tags.", state.MaxTagsPerResource)
}

// reservedTagPrefix reports whether s starts with "aws:" or "rds:", in any
// letter case (state.IsReservedTagKey's rule, with RDS's second prefix).
func reservedTagPrefix(s string) bool {
	return state.IsReservedTagKey(s) || len(s) >= 4 && strings.EqualFold(s[:4], "rds:")
}

// toState and fromState convert between the API's tags and state.Tag, so
// that merging is state.MergeTags' (a key given again overwrites; sorted).
func toState(tags []rdsapi.Tag) []state.Tag {
	out := make([]state.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, state.Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func fromState(tags []state.Tag) []rdsapi.Tag {
	out := make([]rdsapi.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, rdsapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

// tagTargetOf resolves an ARN in scope sc to its resource in tx.
func (s *Service) tagTargetOf(tx state.Tx, sc state.Scope, arn string) (tagTarget, error) {
	a, err := state.ParseARN(arn)
	if err != nil || a.Service != "rds" || !validAccount(a.Account) || a.Region == "" {
		return tagTarget{}, errBadResourceName(arn)
	}
	typ, name, ok := strings.Cut(a.Resource, ":")
	if !ok || name == "" {
		return tagTarget{}, errBadResourceName(arn)
	}
	if a.Account != sc.Account || a.Region != sc.Region || a.Partition != state.PartitionOf(sc.Region) {
		return tagTarget{}, errNoSuchResourceHere()
	}
	id := strings.ToLower(name)
	switch typ {
	case "db":
		r, found, err := records.Instances.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errInstanceNotFound(name))
		}
		return tagTarget{tags: r.TagList, put: func(t []rdsapi.Tag) error {
			r.TagList = t
			return records.Instances.Put(tx, sc, id, r)
		}}, nil
	case "snapshot":
		r, found, err := records.Snapshots.Get(tx, sc, id)
		if err != nil || !found || deref(r.Status) == records.SnapshotDeleting {
			return tagTarget{}, orNotFound(err, errSnapshotNotFound(name))
		}
		return tagTarget{tags: r.TagList, put: func(t []rdsapi.Tag) error {
			r.TagList = t
			return records.Snapshots.Put(tx, sc, id, r)
		}}, nil
	case "subgrp":
		r, found, err := records.SubnetGroups.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errSubnetGroupNotFound(name))
		}
		return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
			r.Tags = t
			return records.SubnetGroups.Put(tx, sc, id, r)
		}}, nil
	case "pg":
		if s.taggableDefault(id) {
			r, _, err := records.DefaultGroupTags.Get(tx, sc, id)
			if err != nil {
				return tagTarget{}, err
			}
			return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
				return records.DefaultGroupTags.Put(tx, sc, id, records.DefaultTags{Tags: t})
			}}, nil
		}
		r, found, err := records.ParamGroups.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errParamGroupNotFound(name))
		}
		return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
			r.Tags = t
			return records.ParamGroups.Put(tx, sc, id, r)
		}}, nil
	case "cluster":
		r, found, err := records.Clusters.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errClusterNotFound(name))
		}
		return tagTarget{tags: r.TagList, put: func(t []rdsapi.Tag) error {
			r.TagList = t
			return records.Clusters.Put(tx, sc, id, r)
		}}, nil
	case "cluster-snapshot":
		return clusterSnapshotTags(tx, sc, id, name)
	case "cluster-endpoint":
		r, found, err := records.ClusterEndpoints.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errClusterEndpointNotFound(name))
		}
		return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
			r.Tags = t
			return records.ClusterEndpoints.Put(tx, sc, id, r)
		}}, nil
	case "cluster-pg":
		if s.defaultClusterGroupEngine(id) != nil {
			r, _, err := records.DefaultClusterGroupTags.Get(tx, sc, id)
			if err != nil {
				return tagTarget{}, err
			}
			return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
				return records.DefaultClusterGroupTags.Put(tx, sc, id, records.DefaultTags{Tags: t})
			}}, nil
		}
		r, found, err := records.ClusterParamGroups.Get(tx, sc, id)
		if err != nil || !found {
			return tagTarget{}, orNotFound(err, errClusterParamGroupNotFound(name))
		}
		return tagTarget{tags: r.Tags, put: func(t []rdsapi.Tag) error {
			r.Tags = t
			return records.ClusterParamGroups.Put(tx, sc, id, r)
		}}, nil
	}
	return tagTarget{}, errNoSuchResourceHere()
}

func orNotFound(err, notFound error) error {
	if err != nil {
		return err
	}
	return notFound
}

// validAccount: an account ID is twelve digits.
func validAccount(a string) bool {
	if len(a) != 12 {
		return false
	}
	for _, c := range a {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// AddTagsToResource adds tags to a resource, overwriting the values of keys
// it has.
func (s *Service) AddTagsToResource(ctx context.Context, in *rdsapi.AddTagsToResourceMessage) (*rdsapi.Empty, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		t, err := s.tagTargetOf(tx, sc, deref(in.ResourceName))
		if err != nil {
			return err
		}
		merged := state.MergeTags(toState(t.tags), toState(in.Tags))
		if len(merged) > state.MaxTagsPerResource {
			return errTagQuota()
		}
		return t.put(fromState(merged))
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}

// ListTagsForResource lists a resource's tags. Filters are documented as
// not supported.
func (s *Service) ListTagsForResource(ctx context.Context, in *rdsapi.ListTagsForResourceMessage) (*rdsapi.TagListMessage, error) {
	sc := scopeOf(ctx)
	if len(in.Filters) > 0 {
		return nil, errInvalidParam("Unrecognized filter name: %s", deref(in.Filters[0].Name))
	}
	var tags []rdsapi.Tag
	err := s.store.View(ctx, func(tx state.Tx) error {
		t, err := s.tagTargetOf(tx, sc, deref(in.ResourceName))
		tags = t.tags
		return err
	})
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []rdsapi.Tag{}
	}
	return &rdsapi.TagListMessage{TagList: tags}, nil
}

// RemoveTagsFromResource removes the tags with the given keys; keys the
// resource does not have are ignored.
func (s *Service) RemoveTagsFromResource(ctx context.Context, in *rdsapi.RemoveTagsFromResourceMessage) (*rdsapi.Empty, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(ctx, func(tx state.Tx) error {
		t, err := s.tagTargetOf(tx, sc, deref(in.ResourceName))
		if err != nil {
			return err
		}
		remove := make([]state.TagKeyValue, 0, len(in.TagKeys))
		for _, k := range in.TagKeys {
			remove = append(remove, state.TagKeyValue{Key: k})
		}
		if len(remove) == 0 {
			// state.RemoveTags would remove everything (EC2's DeleteTags);
			// RDS removes only the keys named.
			return nil
		}
		return t.put(fromState(state.RemoveTags(toState(t.tags), remove)))
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.Empty{}, nil
}
