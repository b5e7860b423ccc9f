package ssm

import (
	"context"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Tags of Systems Manager's resources, by ResourceType: each kind that has
// tags says how its tags are read and written in a transaction.

// tagged is one resource's tags in a transaction, and how to keep them.
type tagged struct {
	tags []state.Tag
	save func([]state.Tag) error
}

// taggers find a resource of a ResourceType by its ResourceId; nil with no
// error when there is none.
var taggers = map[string]func(s *Service, tx state.Tx, sc state.Scope, id string) (*tagged, error){
	"Parameter": func(s *Service, tx state.Tx, sc state.Scope, id string) (*tagged, error) {
		ref, ok := parseReference(sc, id)
		if !ok || ref.selector != "" {
			return nil, nil
		}
		r, err := s.find(tx, sc, ref, s.now())
		if err != nil || r == nil {
			return nil, err
		}
		return &tagged{tags: r.Tags, save: func(t []state.Tag) error {
			r.Tags = t
			return params.Put(tx, sc, paramKey(r.Name), *r)
		}}, nil
	},
	"Document": func(s *Service, tx state.Tx, sc state.Scope, id string) (*tagged, error) {
		d, ok, err := documents.Get(tx, sc, id)
		if err != nil || !ok {
			return nil, err
		}
		return &tagged{tags: d.Tags, save: func(t []state.Tag) error {
			d.Tags = t
			return documents.Put(tx, sc, d.Name, d)
		}}, nil
	},
}

func errTooManyTags() error {
	return clientError("TooManyTagsError", "The Tags parameter has exceeded the limit of %d tags. Remove tags from the resource, and try again.", maxTagsPerResource)
}

// splitTags is a request's tags as keys and values, for checking.
func splitTags(tags []ssmapi.Tag) (keys, values []string) {
	for _, t := range tags {
		keys, values = append(keys, deref(t.Key)), append(values, deref(t.Value))
	}
	return keys, values
}

// tagsOf is a request's tags as stored: sorted by key, the last value of a
// key given twice kept.
func tagsOf(tags []ssmapi.Tag) []state.Tag {
	return mergeTags(nil, tags)
}

func mergeTags(have []state.Tag, add []ssmapi.Tag) []state.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		k, v := deref(t.Key), deref(t.Value)
		if i := slices.IndexFunc(out, func(e state.Tag) bool { return e.Key == k }); i >= 0 {
			out[i].Value = v
			continue
		}
		out = append(out, state.Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b state.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func apiTags(tags []state.Tag) []ssmapi.Tag {
	out := []ssmapi.Tag{}
	for _, t := range tags {
		out = append(out, ssmapi.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return out
}

// onTagged runs fn on the tags of the resource a tagging request names.
func (s *Service) onTagged(ctx context.Context, typ, id *string, write bool, fn func(t *tagged) error) error {
	var v violations
	v.enum(typ, "resourceType", resourceTypes)
	if err := v.Err(); err != nil {
		return err
	}
	sc := scopeOf(ctx)
	run := s.store.View
	if write {
		run = s.store.Update
	}
	return run(ctx, func(tx state.Tx) error {
		find, ok := taggers[*typ]
		if !ok {
			return clientError("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify the ID and try again.", *id)
		}
		t, err := find(s, tx, sc, *id)
		if err != nil {
			return err
		}
		if t == nil {
			return clientError("InvalidResourceId", "The resource ID \"%s\" is not valid. Verify the ID and try again.", *id)
		}
		return fn(t)
	})
}

// AddTagsToResource adds tags to a resource, or changes their values.
func (s *Service) AddTagsToResource(ctx context.Context, in *ssmapi.AddTagsToResourceRequest) (*ssmapi.AddTagsToResourceResult, error) {
	var v violations
	keys, values := splitTags(in.Tags)
	v.tagList(keys, values, "tags", 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.onTagged(ctx, in.ResourceType, in.ResourceId, true, func(t *tagged) error {
		merged := mergeTags(t.tags, in.Tags)
		if len(merged) > maxTagsPerResource {
			return errTooManyTags()
		}
		return t.save(merged)
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.AddTagsToResourceResult{}, nil
}

// RemoveTagsFromResource removes tags by key; a key the resource does not
// have is no error.
func (s *Service) RemoveTagsFromResource(ctx context.Context, in *ssmapi.RemoveTagsFromResourceRequest) (*ssmapi.RemoveTagsFromResourceResult, error) {
	err := s.onTagged(ctx, in.ResourceType, in.ResourceId, true, func(t *tagged) error {
		return t.save(slices.DeleteFunc(slices.Clone(t.tags), func(e state.Tag) bool { return slices.Contains(in.TagKeys, e.Key) }))
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.RemoveTagsFromResourceResult{}, nil
}

// ListTagsForResource answers a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *ssmapi.ListTagsForResourceRequest) (*ssmapi.ListTagsForResourceResult, error) {
	var out ssmapi.ListTagsForResourceResult
	err := s.onTagged(ctx, in.ResourceType, in.ResourceId, false, func(t *tagged) error {
		out.TagList = apiTags(t.tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
