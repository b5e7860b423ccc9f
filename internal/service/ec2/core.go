package ec2

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// rtx is one operation's transaction: the store transaction, the caller's
// account and region, and the operation's clock.
type rtx struct {
	ctx   context.Context
	tx    state.Tx
	scope state.Scope
	now   time.Time
	req   *api.RequestInfo
	// publicPool is the range public IPs are allocated from.
	publicPool netip.Prefix
}

// update runs fn in a read-write transaction of the caller's scope; the
// caller's answer is sent only after it commits durably.
func (s *Service) update(ctx context.Context, fn func(*rtx) error) error {
	req := api.Request(ctx)
	return s.store.Update(ctx, func(tx state.Tx) error {
		return fn(&rtx{ctx: ctx, tx: tx, scope: state.Scope{Account: req.Account, Region: req.Region}, now: s.now().UTC(), req: req, publicPool: s.publicPool})
	})
}

// view runs fn in a read-only transaction of the caller's scope.
func (s *Service) view(ctx context.Context, fn func(*rtx) error) error {
	req := api.Request(ctx)
	return s.store.View(ctx, func(tx state.Tx) error {
		return fn(&rtx{ctx: ctx, tx: tx, scope: state.Scope{Account: req.Account, Region: req.Region}, now: s.now().UTC(), req: req, publicPool: s.publicPool})
	})
}

// idempotency keeps the ClientTokens of EC2's Create… calls.
var idempotency = state.Idempotency{Service: "ec2"}

// createOnce is the part of a Create… call with a ClientToken that runs in
// its write transaction: the resource an earlier call with the same token
// and parameters made, else a new one from create, recorded under the
// token (the same token with other parameters is
// IdempotentParameterMismatch).
func createOnce[T any](t *rtx, k *kind[T], operation, token, hash string, create func() (*T, error)) (*T, error) {
	prev, found, err := idempotency.Check(t.tx, t.scope, operation, token, hash)
	if err != nil {
		return nil, err
	}
	if found {
		return k.get(t, prev)
	}
	rec, err := create()
	if err != nil {
		return nil, err
	}
	return rec, idempotency.Record(t.tx, t.scope, operation, token, hash, k.id(rec))
}

// kind describes one EC2 resource type to the shared machinery: lookups with
// AWS's not-found and malformed errors, Describe with IDs and filters, tags.
type kind[T any] struct {
	prefix string // ID prefix: "vpc" for vpc-0123…
	table  state.Table[T]
	// resourceType is the TagSpecification ResourceType ("vpc", "security-group").
	resourceType string
	// noun names the ID in messages: "The vpc ID 'vpc-1' does not exist".
	noun      string
	notFound  string // "InvalidVpcID.NotFound"
	malformed string // "InvalidVpcID.Malformed"
	id        func(*T) string
	tags      func(*T) *[]ec2api.Tag
}

// taggable is what CreateTags, DeleteTags and DescribeTags need of a kind.
type taggable interface {
	idPrefix() string
	tagType() string
	retag(t *rtx, id string, fn func([]ec2api.Tag) []ec2api.Tag) error
	eachTagged(t *rtx, fn func(id string, tags []ec2api.Tag) error) error
}

// taggables lists every kind that can carry tags, by ID prefix.
var taggables = map[string]taggable{}

func register[T any](k *kind[T]) *kind[T] {
	if k.tags != nil {
		taggables[k.prefix] = k
	}
	return k
}

func (k *kind[T]) idPrefix() string { return k.prefix }
func (k *kind[T]) tagType() string  { return k.resourceType }

func (k *kind[T]) retag(t *rtx, id string, fn func([]ec2api.Tag) []ec2api.Tag) error {
	rec, err := k.get(t, id)
	if err != nil {
		return err
	}
	p := k.tags(rec)
	*p = fn(*p)
	return k.put(t, rec)
}

func (k *kind[T]) eachTagged(t *rtx, fn func(id string, tags []ec2api.Tag) error) error {
	return k.table.ForEach(t.tx, t.scope, func(id string, v T) error {
		return fn(id, *k.tags(&v))
	})
}

// validID reports whether id has the kind's prefix and an 8- or 17-digit hex
// suffix, as AWS IDs do.
func (k *kind[T]) validID(id string) bool { return state.ValidID(k.prefix, id) }

func (k *kind[T]) notFoundErr(ids ...string) error {
	if len(ids) == 1 {
		return api.Errorf(http.StatusBadRequest, k.notFound, "The %s '%s' does not exist", k.noun, ids[0])
	}
	return api.Errorf(http.StatusBadRequest, k.notFound, "The %ss '%s' do not exist", k.noun, strings.Join(ids, ", "))
}

func (k *kind[T]) malformedErr(id string) error {
	return api.Errorf(http.StatusBadRequest, k.malformed, "Invalid id: \"%s\"", id)
}

// find returns the record, or found=false.
func (k *kind[T]) find(t *rtx, id string) (*T, bool, error) {
	v, ok, err := k.table.Get(t.tx, t.scope, id)
	if err != nil || !ok {
		return nil, false, err
	}
	return &v, true, nil
}

// get returns the record or AWS's malformed/not-found error for id.
func (k *kind[T]) get(t *rtx, id string) (*T, error) {
	if !k.validID(id) {
		if k.malformed != "" {
			return nil, k.malformedErr(id)
		}
		return nil, k.notFoundErr(id)
	}
	v, ok, err := k.find(t, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, k.notFoundErr(id)
	}
	return v, nil
}

func (k *kind[T]) put(t *rtx, rec *T) error { return k.table.Put(t.tx, t.scope, k.id(rec), *rec) }

func (k *kind[T]) del(t *rtx, id string) error { return k.table.Delete(t.tx, t.scope, id) }

// deleteWhere deletes every record of the scope that match accepts.
func (k *kind[T]) deleteWhere(t *rtx, match func(*T) bool) error {
	var ids []string
	err := k.table.ForEachShared(t.tx, t.scope, func(id string, r *T) error {
		if match(r) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := k.del(t, id); err != nil {
			return err
		}
	}
	return nil
}

// all returns every record of the scope, in ID order.
func (k *kind[T]) all(t *rtx) ([]*T, error) {
	list, err := k.table.List(t.tx, t.scope)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out, nil
}

// describe implements the common shape of Describe*: the named IDs (all of
// which must exist, else NotFound naming the missing ones) or all records,
// then the filters. values returns every filter this kind supports, with the
// record's values for it (nil when it has none); tag filters are built in.
func (k *kind[T]) describe(t *rtx, ids []string, filters []ec2api.Filter, values func(*T) map[string][]string) ([]*T, error) {
	fs := toFilters(filters)
	if len(ids) > 0 {
		var (
			recs    []*T
			missing []string
		)
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if !k.validID(id) && k.malformed != "" {
				return nil, k.malformedErr(id)
			}
			rec, ok, err := k.find(t, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				missing = append(missing, id)
				continue
			}
			recs = append(recs, rec)
		}
		if len(missing) > 0 {
			return nil, k.notFoundErr(missing...)
		}
		out := recs[:0]
		for _, rec := range recs {
			ok, err := k.matches(rec, fs, values)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, rec)
			}
		}
		return out, nil
	}
	if len(fs) == 0 {
		return k.all(t)
	}
	// Filter the shared decoded records and copy only those that match: a
	// filtered Describe over many records returns few of them.
	var out []*T
	err := k.table.ForEachShared(t.tx, t.scope, func(_ string, rec *T) error {
		ok, err := k.matches(rec, fs, values)
		if ok {
			out = append(out, state.Clone(rec))
		}
		return err
	})
	return out, err
}

// matches applies filters to rec. The filter values are computed only when
// a filter other than the tag filters asks for them.
func (k *kind[T]) matches(rec *T, fs []state.Filter, values func(*T) map[string][]string) (bool, error) {
	if len(fs) == 0 {
		return true, nil
	}
	var tags []state.Tag
	if k.tags != nil {
		tags = fromAPITags(*k.tags(rec))
	}
	var vals map[string][]string
	return state.MatchWithTags(fs, tags, func(name string) ([]string, bool) {
		if vals == nil {
			vals = values(rec)
		}
		v, ok := vals[name]
		return v, ok
	})
}

func toFilters(in []ec2api.Filter) []state.Filter {
	out := make([]state.Filter, 0, len(in))
	for _, f := range in {
		name := "null"
		if f.Name != nil {
			name = *f.Name
		}
		out = append(out, state.Filter{Name: name, Values: f.Values})
	}
	return out
}

// page applies EC2's MaxResults/NextToken to a Describe result. Without
// MaxResults EC2 returns everything.
func page[T any](items []*T, maxResults *int32, nextToken *string, id func(*T) string, min, max int) ([]*T, *string, error) {
	tok := ""
	if nextToken != nil {
		tok = *nextToken
	}
	out, next, err := state.Paginate(items, maxResults, tok, state.PageOptions{Min: min, Max: max}, id)
	if err != nil {
		return nil, nil, err
	}
	if next == "" {
		return out, nil, nil
	}
	return out, &next, nil
}

func fromAPITags(in []ec2api.Tag) []state.Tag {
	out := make([]state.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, state.Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func toAPITags(in []state.Tag) []ec2api.Tag {
	out := make([]ec2api.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, ec2api.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return out
}

// tagsFor returns the validated tags that TagSpecifications give a resource
// of resourceType; allowed lists the types the operation creates.
func tagsFor(specs []ec2api.TagSpecification, resourceType string, allowed ...string) ([]ec2api.Tag, error) {
	ss := make([]state.TagSpecification, 0, len(specs))
	for _, s := range specs {
		ss = append(ss, state.TagSpecification{ResourceType: deref(s.ResourceType), Tags: fromAPITags(s.Tags)})
	}
	tags, err := state.TagsFor(ss, resourceType, allowed...)
	if err != nil {
		return nil, err
	}
	return toAPITags(tags), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func errInvalidParam(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errMissingParam(name string) error {
	return api.Errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", name)
}

func errDependency(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "DependencyViolation", format, args...)
}

func errCombination(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

// sortedIDs returns m's keys in order, for deterministic output.
func sortedIDs[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// one returns a one-element filter value list, or nil for "".
func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// ptrValues turns optional strings into filter values.
func ptrValues(ps ...*string) []string {
	var out []string
	for _, p := range ps {
		if p != nil && *p != "" {
			out = append(out, *p)
		}
	}
	return out
}

func boolValue(b *bool) []string {
	if b == nil {
		return nil
	}
	return []string{fmt.Sprint(*b)}
}

// apiErr returns a client error (HTTP 400) with an EC2 error code.
func apiErr(code, format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}
