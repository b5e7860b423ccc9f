package elbv2

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Tags (AddTags, RemoveTags, DescribeTags) of load balancers, target
// groups, listeners and rules, kept in each resource's record (a default
// rule's in its listener's). AWS's limits: at most 50 tags on a resource
// (keys starting with "aws:" are AWS's and not counted), keys of 1 to 128
// and values of at most 256 characters, at most 20 resources per call.

const (
	maxTags          = 50
	maxTagResources  = 20
	reservedTagStart = "aws:"
)

// checkTags validates the tags of a create call or AddTags and returns
// them sorted by key.
func checkTags(tags []elbv2api.Tag) ([]elbv2api.Tag, error) {
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := deref(t.Key), deref(t.Value)
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		case utf8.RuneCountInString(v) > 256:
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", v)
		case strings.HasPrefix(strings.ToLower(k), reservedTagStart):
			return nil, errValidation("Tag keys starting with 'aws:' are reserved for internal use: '%s'", k)
		case seen[k]:
			return nil, errCode("DuplicateTagKeys", "Tag key '%s' was specified more than once", k)
		}
		seen[k] = true
	}
	if len(tags) > maxTags {
		return nil, errTooManyTags()
	}
	return mergeTags(nil, tags), nil
}

func errTooManyTags() error {
	return errCode("TooManyTags", "The quota for the number of tags that can be assigned to a resource has been reached")
}

// mergeTags is have with add applied, sorted by key.
func mergeTags(have, add []elbv2api.Tag) []elbv2api.Tag {
	m := map[string]string{}
	for _, t := range have {
		m[deref(t.Key)] = deref(t.Value)
	}
	for _, t := range add {
		m[deref(t.Key)] = deref(t.Value)
	}
	return tagsOf(m)
}

func tagsOf(m map[string]string) []elbv2api.Tag {
	st := make([]state.Tag, 0, len(m))
	for k, v := range m {
		st = append(st, state.Tag{Key: k, Value: v})
	}
	st = state.MergeTags(nil, st)
	out := make([]elbv2api.Tag, 0, len(st))
	for _, t := range st {
		out = append(out, elbv2api.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

func countUserTags(tags []elbv2api.Tag) int {
	n := 0
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(deref(t.Key)), reservedTagStart) {
			n++
		}
	}
	return n
}

// tagged is a taggable resource read in a transaction: its tags and how
// to store new ones.
type tagged struct {
	tags []elbv2api.Tag
	put  func(tags []elbv2api.Tag) error
}

// taggedResource reads the resource an ARN names, of whatever kind.
func taggedResource(tx state.Tx, sc state.Scope, arn string) (tagged, error) {
	a, err := state.ParseARN(arn)
	kind := ""
	if err == nil && a.Service == arnService {
		kind, _, _ = strings.Cut(a.Resource, "/")
	}
	switch kind {
	case "loadbalancer":
		lb, err := getLB(tx, sc, arn)
		return tagged{lb.Tags, func(t []elbv2api.Tag) error { lb.Tags = t; return lbTable.Put(tx, sc, lb.ID, lb) }}, err
	case "targetgroup":
		tg, err := getTG(tx, sc, arn)
		return tagged{tg.Tags, func(t []elbv2api.Tag) error { tg.Tags = t; return tgTable.Put(tx, sc, tg.ID, tg) }}, err
	case "listener":
		l, err := getListener(tx, sc, arn)
		return tagged{l.Tags, func(t []elbv2api.Tag) error { l.Tags = t; return putListener(tx, sc, &l) }}, err
	case "listener-rule":
		ref, err := getRule(tx, sc, arn)
		if err != nil {
			return tagged{}, err
		}
		if ref.rule == nil {
			l := ref.listener
			return tagged{l.DefaultRuleTags, func(t []elbv2api.Tag) error { l.DefaultRuleTags = t; return putListener(tx, sc, &l) }}, nil
		}
		r := *ref.rule
		return tagged{r.Tags, func(t []elbv2api.Tag) error { r.Tags = t; return ruleTable.Put(tx, sc, ref.key, r) }}, nil
	}
	return tagged{}, errValidation("'%s' is not a valid resource ARN", arn)
}

func checkTagResources(arns []string) error {
	if len(arns) > maxTagResources {
		return errValidation("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxTagResources)
	}
	return nil
}

// AddTags implements elbv2api.Server: all resources or none.
func (s *Service) AddTags(ctx context.Context, in *elbv2api.AddTagsInput) (*elbv2api.AddTagsOutput, error) {
	sc := scopeOf(ctx)
	if err := checkTagResources(in.ResourceArns); err != nil {
		return nil, err
	}
	add, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx state.Tx) error {
		for _, arn := range in.ResourceArns {
			r, err := taggedResource(tx, sc, arn)
			if err != nil {
				return err
			}
			tags := mergeTags(r.tags, add)
			if countUserTags(tags) > maxTags {
				return errTooManyTags()
			}
			if err := r.put(tags); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.AddTagsOutput{}, nil
}

// RemoveTags implements elbv2api.Server.
func (s *Service) RemoveTags(ctx context.Context, in *elbv2api.RemoveTagsInput) (*elbv2api.RemoveTagsOutput, error) {
	sc := scopeOf(ctx)
	if err := checkTagResources(in.ResourceArns); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx state.Tx) error {
		for _, arn := range in.ResourceArns {
			r, err := taggedResource(tx, sc, arn)
			if err != nil {
				return err
			}
			m := map[string]string{}
			for _, t := range r.tags {
				m[deref(t.Key)] = deref(t.Value)
			}
			for _, k := range in.TagKeys {
				delete(m, k)
			}
			if err := r.put(tagsOf(m)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveTagsOutput{}, nil
}

// DescribeTags implements elbv2api.Server.
func (s *Service) DescribeTags(ctx context.Context, in *elbv2api.DescribeTagsInput) (*elbv2api.DescribeTagsOutput, error) {
	sc := scopeOf(ctx)
	if err := checkTagResources(in.ResourceArns); err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeTagsOutput{TagDescriptions: []elbv2api.TagDescription{}}
	err := s.view(ctx, func(tx state.Tx) error {
		for _, arn := range in.ResourceArns {
			r, err := taggedResource(tx, sc, arn)
			if err != nil {
				return err
			}
			out.TagDescriptions = append(out.TagDescriptions, elbv2api.TagDescription{ResourceArn: ptr(arn), Tags: nonNil(r.tags)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
