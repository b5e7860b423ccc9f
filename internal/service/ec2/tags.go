package ec2

import (
	"context"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// taggableFor finds the kind of a resource ID by its prefix.
func taggableFor(id string) (taggable, error) {
	prefix, _, ok := strings.Cut(id, "-")
	if k, found := taggables[prefix]; ok && found {
		return k, nil
	}
	return nil, api.Errorf(http.StatusBadRequest, "InvalidID", "The ID '%s' is not valid", id)
}

// CreateTags adds or overwrites tags on resources of any kind.
func (s *Service) CreateTags(ctx context.Context, in *ec2api.CreateTagsRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.Resources) == 0 {
		return nil, errMissingParam("ResourceId.1")
	}
	add := fromAPITags(in.Tags)
	if err := state.ValidateTags(add); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		for _, id := range in.Resources {
			k, err := taggableFor(id)
			if err != nil {
				return err
			}
			// The transaction rolls back when the limit is exceeded.
			var limitErr error
			err = k.retag(t, id, func(existing []ec2api.Tag) []ec2api.Tag {
				limitErr = state.CheckTagLimit(fromAPITags(existing), add)
				return toAPITags(state.MergeTags(fromAPITags(existing), add))
			})
			if err != nil {
				return err
			}
			if limitErr != nil {
				return limitErr
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DeleteTags removes tags: a tag given with a value only when the value
// matches; with no tags at all, every user tag.
func (s *Service) DeleteTags(ctx context.Context, in *ec2api.DeleteTagsRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.Resources) == 0 {
		return nil, errMissingParam("ResourceId.1")
	}
	remove := make([]state.TagKeyValue, 0, len(in.Tags))
	for _, t := range in.Tags {
		remove = append(remove, state.TagKeyValue{Key: deref(t.Key), Value: t.Value})
	}
	err := s.update(ctx, func(t *rtx) error {
		for _, id := range in.Resources {
			k, err := taggableFor(id)
			if err != nil {
				return err
			}
			if err := k.retag(t, id, func(existing []ec2api.Tag) []ec2api.Tag {
				return toAPITags(state.RemoveTags(fromAPITags(existing), remove))
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DescribeTags lists the tags of every resource in the region.
func (s *Service) DescribeTags(ctx context.Context, in *ec2api.DescribeTagsRequest) (*ec2api.DescribeTagsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "key", "value", "resource-id", "resource-type"); err != nil {
		return nil, err
	}
	var all []*ec2api.TagDescription
	err := s.view(ctx, func(t *rtx) error {
		for _, prefix := range sortedIDs(taggables) {
			k := taggables[prefix]
			err := k.eachTagged(t, func(id string, tags []ec2api.Tag) error {
				for _, tag := range tags {
					vals := map[string][]string{"key": {deref(tag.Key)}, "value": {deref(tag.Value)}, "resource-id": {id}, "resource-type": {k.tagType()}}
					ok, err := state.Match(fs, func(name string) ([]string, bool) { v, ok := vals[name]; return v, ok })
					if err != nil {
						return err
					}
					if ok {
						all = append(all, &ec2api.TagDescription{Key: tag.Key, Value: tag.Value, ResourceId: new(id), ResourceType: new(k.tagType())})
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, in.MaxResults, in.NextToken, func(d *ec2api.TagDescription) string { return deref(d.ResourceId) + "\x00" + deref(d.Key) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeTagsResult{NextToken: next, Tags: []ec2api.TagDescription{}}
	for _, d := range pg {
		out.Tags = append(out.Tags, *d)
	}
	return out, nil
}
