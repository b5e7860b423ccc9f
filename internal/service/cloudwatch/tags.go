package cloudwatch

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/state"
)

// taggedAlarm runs fn on the alarm an ARN names, in a write transaction
// when write is set; an ARN of no alarm of the caller's is
// ResourceNotFoundException, as AWS.
func (s *Service) taggedAlarm(ctx context.Context, arn *string, write bool, fn func(r *alarmRecord) error) error {
	sc := stateScope(ctx)
	name, ok := strings.CutPrefix(deref(arn), alarmARN(sc, ""))
	notFound := api.Errorf(http.StatusNotFound, "ResourceNotFoundException", "%s not found", deref(arn))
	if !ok || name == "" {
		return notFound
	}
	run := s.state.View
	if write {
		run = s.state.Update
	}
	return run(ctx, func(tx state.Tx) error {
		r, found, err := alarms.Get(tx, sc, name)
		if err != nil {
			return err
		}
		if !found {
			return notFound
		}
		if err := fn(&r); err != nil || !write {
			return err
		}
		return alarms.Put(tx, sc, name, r)
	})
}

// TagResource adds or replaces an alarm's tags (50 at most).
func (s *Service) TagResource(ctx context.Context, in *cloudwatchapi.TagResourceInput) (*cloudwatchapi.TagResourceOutput, error) {
	tags, err := apiTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.taggedAlarm(ctx, in.ResourceARN, true, func(r *alarmRecord) error {
		for _, t := range tags {
			r.Tags = slices.DeleteFunc(r.Tags, func(o state.Tag) bool { return o.Key == t.Key })
			r.Tags = append(r.Tags, t)
		}
		if len(r.Tags) > 50 {
			return api.Errorf(http.StatusBadRequest, "LimitExceededException", "The maximum number of tags for a resource is 50.")
		}
		slices.SortFunc(r.Tags, func(a, b state.Tag) int { return strings.Compare(a.Key, b.Key) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tag alarm: %w", err)
	}
	return &cloudwatchapi.TagResourceOutput{}, nil
}

// UntagResource removes tags by key; a key the alarm lacks is no error.
func (s *Service) UntagResource(ctx context.Context, in *cloudwatchapi.UntagResourceInput) (*cloudwatchapi.UntagResourceOutput, error) {
	err := s.taggedAlarm(ctx, in.ResourceARN, true, func(r *alarmRecord) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t state.Tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("untag alarm: %w", err)
	}
	return &cloudwatchapi.UntagResourceOutput{}, nil
}

// ListTagsForResource answers an alarm's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *cloudwatchapi.ListTagsForResourceInput) (*cloudwatchapi.ListTagsForResourceOutput, error) {
	out := &cloudwatchapi.ListTagsForResourceOutput{Tags: []cloudwatchapi.Tag{}}
	err := s.taggedAlarm(ctx, in.ResourceARN, false, func(r *alarmRecord) error {
		for _, t := range r.Tags {
			out.Tags = append(out.Tags, cloudwatchapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list alarm tags: %w", err)
	}
	return out, nil
}
