package ec2

import (
	"context"
	"strings"

	"github.com/minicloud/minicloud/internal/state"
)

// tagReader is a taggable kind whose record, and so its tags, is one
// lookup away (security group rules, which live inside their group, are
// not).
type tagReader interface {
	tagsOf(t *rtx, id string) (map[string]string, bool, error)
}

func (k *kind[T]) tagsOf(t *rtx, id string) (map[string]string, bool, error) {
	rec, found, err := k.find(t, id)
	if err != nil || !found {
		return nil, false, err
	}
	tags := *k.tags(rec)
	m := make(map[string]string, len(tags))
	for _, tag := range tags {
		m[deref(tag.Key)] = deref(tag.Value)
	}
	return m, true, nil
}

// ResourceTags answers an EC2 resource's tags by its ARN
// (arn:aws:ec2:region:account:type/id), for IAM enforcement's
// aws:ResourceTag/… (package authz's ResourceTagger).
func (s *Service) ResourceTags(ctx context.Context, arn string) (map[string]string, bool, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return nil, false, nil
	}
	_, id, ok := strings.Cut(parts[5], "/")
	if !ok {
		return nil, false, nil
	}
	k, err := taggableFor(id)
	if err != nil {
		return nil, false, nil
	}
	r, ok := k.(tagReader)
	if !ok {
		return nil, false, nil
	}
	var (
		tags  map[string]string
		found bool
	)
	err = s.store.View(ctx, func(tx state.Tx) error {
		t := &rtx{ctx: ctx, tx: tx, scope: state.Scope{Account: parts[4], Region: parts[3]}, now: s.now().UTC()}
		tags, found, err = r.tagsOf(t, id)
		return err
	})
	return tags, found, err
}
