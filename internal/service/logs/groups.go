package logs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// groupRecord is a log group in state.db.
type groupRecord struct {
	Name    string
	Created int64 // ms
	// RetentionDays is 0 for never expire.
	RetentionDays int32
	KmsKeyID      string
	Class         string
	Tags          map[string]string
}

// streamRecord is a log stream in state.db; its events' summary comes
// from the event store.
type streamRecord struct {
	Group, Name string
	Created     int64
	// Gen tells this incarnation of the stream from one deleted before
	// with the same name (random, set at creation; 0 in records older than
	// it, whose identity is then Created). The event files keep it, so a
	// sweep or a put never mixes the incarnations' events.
	Gen uint64 `json:",omitempty"`
}

// identity is what the stream's event file records of it.
func (r streamRecord) identity() uint64 {
	if r.Gen != 0 {
		return r.Gen
	}
	return uint64(r.Created)
}

// newGen draws a stream record's Gen.
func newGen() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

var (
	groups  = state.Table[groupRecord]{Service: "logs", Kind: "group"}
	streams = state.Table[streamRecord]{Service: "logs", Kind: "stream"}
)

// childID is the id of a group's stream or filter: neither name may hold
// ':', so "<group>:" prefixes exactly one group's children.
func childID(group, name string) string { return group + ":" + name }

// forEachChild scans t's records of one group.
func forEachChild[T any](tx state.Tx, t state.Table[T], sc state.Scope, group string, fn func(v T) error) error {
	return tx.Scan(t.Prefix(sc)+childID(group, ""), func(key string, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return fn(v)
	})
}

// retentionDays are PutRetentionPolicy's allowed values.
var retentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var groupClasses = []string{"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"}

func groupARN(sc state.Scope, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", state.PartitionOf(sc.Region), sc.Region, sc.Account, name)
}

func streamARN(sc state.Scope, group, stream string) string {
	return groupARN(sc, group) + ":log-stream:" + stream
}

func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return errInvalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errInvalid("Invalid tag key or value: %s", k)
		}
	}
	return nil
}

// CreateLogGroup creates a group; an existing name is
// ResourceAlreadyExistsException.
func (s *Service) CreateLogGroup(ctx context.Context, in *logsapi.CreateLogGroupRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	class := cmpOr(deref(in.LogGroupClass), "STANDARD")
	if !slices.Contains(groupClasses, class) {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [%s]", class, strings.Join(groupClasses, ", "))
	}
	if len(deref(in.KmsKeyId)) > 256 {
		return nil, errInvalid("1 validation error detected: Value at 'kmsKeyId' failed to satisfy constraint: Member must have length less than or equal to 256")
	}
	sc, name := scopeOf(ctx), *in.LogGroupName
	rec := groupRecord{Name: name, Created: nowMillis(s.now()), KmsKeyID: deref(in.KmsKeyId), Class: class, Tags: in.Tags}
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, name); err != nil || found {
			return cmpOr(err, errExists("The specified log group already exists"))
		}
		return groups.Put(tx, sc, name, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("create log group %s: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

func cmpOr[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

// DeleteLogGroup deletes a group with its streams, events and filters.
func (s *Service) DeleteLogGroup(ctx context.Context, in *logsapi.DeleteLogGroupRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	sc, name := scopeOf(ctx), *in.LogGroupName
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, name); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		for _, prefix := range []string{streams.Prefix(sc), metricFilters.Prefix(sc), subscriptionFilters.Prefix(sc)} {
			err := tx.Scan(prefix+childID(name, ""), func(key string, _ []byte) error { return tx.Delete(key) })
			if err != nil {
				return err
			}
		}
		return groups.Delete(tx, sc, name)
	})
	if err != nil {
		return nil, fmt.Errorf("delete log group %s: %w", name, err)
	}
	if err := s.events.dropGroup(groupKey{sc.Account, sc.Region, name}); err != nil {
		return nil, fmt.Errorf("delete log group %s: events: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

// describeGroupsPage is DescribeLogGroups' default and largest page.
const describeGroupsPage = 50

// DescribeLogGroups lists groups in name order: by prefix or by a
// case-insensitive substring (logGroupNamePattern), by class, in pages.
func (s *Service) DescribeLogGroups(ctx context.Context, in *logsapi.DescribeLogGroupsRequest) (*logsapi.DescribeLogGroupsResponse, error) {
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if in.LogGroupNamePrefix != nil {
		if err := checkGroupName(in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
	}
	if err := checkLimit(in.Limit, "limit", describeGroupsPage); err != nil {
		return nil, err
	}
	after, err := untoken("groups", in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := int(cmpOr(deref(in.Limit), describeGroupsPage))
	sc := scopeOf(ctx)
	prefix, pattern := deref(in.LogGroupNamePrefix), strings.ToLower(deref(in.LogGroupNamePattern))
	out := &logsapi.DescribeLogGroupsResponse{LogGroups: []logsapi.LogGroup{}}
	err = s.state.View(ctx, func(tx state.Tx) error {
		return groups.ForEach(tx, sc, func(name string, g groupRecord) error {
			if name <= after || !strings.HasPrefix(name, prefix) || !strings.Contains(strings.ToLower(name), pattern) ||
				in.LogGroupClass != nil && g.Class != *in.LogGroupClass {
				return nil
			}
			if len(out.LogGroups) == limit {
				out.NextToken = api.PageToken("groups", *out.LogGroups[limit-1].LogGroupName)
				return state.ErrStop
			}
			count := 0
			err := forEachChild(tx, metricFilters, sc, name, func(metricFilterRecord) error { count++; return nil })
			if err != nil {
				return err
			}
			out.LogGroups = append(out.LogGroups, s.apiGroup(sc, g, count))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe log groups: %w", err)
	}
	return out, nil
}

func (s *Service) apiGroup(sc state.Scope, g groupRecord, filters int) logsapi.LogGroup {
	arn := groupARN(sc, g.Name)
	out := logsapi.LogGroup{
		LogGroupName:      ptr(g.Name),
		CreationTime:      ptr(g.Created),
		MetricFilterCount: ptr(int32(filters)),
		Arn:               ptr(arn + ":*"), // AWS writes the group's ARN with a trailing :* here
		LogGroupArn:       ptr(arn),
		StoredBytes:       ptr(s.events.groupStored(groupKey{sc.Account, sc.Region, g.Name})),
		LogGroupClass:     ptr(g.Class),
	}
	if g.RetentionDays > 0 {
		out.RetentionInDays = ptr(g.RetentionDays)
	}
	if g.KmsKeyID != "" {
		out.KmsKeyId = ptr(g.KmsKeyID)
	}
	return out
}

// updateGroup runs fn on a group's record in a write transaction.
func (s *Service) updateGroup(ctx context.Context, sc state.Scope, name string, fn func(*groupRecord) error) error {
	return s.state.Update(ctx, func(tx state.Tx) error {
		g, found, err := groups.Get(tx, sc, name)
		if err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if err := fn(&g); err != nil {
			return err
		}
		return groups.Put(tx, sc, name, g)
	})
}

// PutRetentionPolicy sets a group's retention (the allowed day counts only).
func (s *Service) PutRetentionPolicy(ctx context.Context, in *logsapi.PutRetentionPolicyRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
	}
	if !slices.Contains(retentionDays, *in.RetentionInDays) {
		return nil, errInvalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", *in.RetentionInDays, retentionDays)
	}
	err := s.updateGroup(ctx, scopeOf(ctx), *in.LogGroupName, func(g *groupRecord) error {
		g.RetentionDays = *in.RetentionInDays
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("put retention policy: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// DeleteRetentionPolicy makes a group's events never expire.
func (s *Service) DeleteRetentionPolicy(ctx context.Context, in *logsapi.DeleteRetentionPolicyRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	err := s.updateGroup(ctx, scopeOf(ctx), *in.LogGroupName, func(g *groupRecord) error {
		g.RetentionDays = 0
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete retention policy: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// groupOf resolves a group given by name or by identifier (its name or
// ARN, with or without the trailing :*); exactly one must be given.
func groupOf(sc state.Scope, name, identifier *string) (string, error) {
	switch {
	case name != nil && identifier != nil:
		return "", errInvalid("LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
	case name != nil:
		return *name, checkGroupName(name)
	case identifier != nil:
		id := strings.TrimSuffix(*identifier, ":*")
		if rest, ok := strings.CutPrefix(id, "arn:"); ok {
			prefix := strings.TrimPrefix(groupARN(sc, ""), "arn:")
			g, ok := strings.CutPrefix(rest, prefix)
			if !ok {
				return "", errNoGroup
			}
			return g, nil
		}
		return id, checkGroupName(&id)
	}
	return "", errInvalid("Either LogGroupName or LogGroupIdentifier must be specified.")
}

// groupOfARN resolves a tagging ARN: only log groups are taggable here.
func groupOfARN(sc state.Scope, arn *string) (string, error) {
	if arn == nil {
		return "", required(arn, "resourceArn")
	}
	name, ok := strings.CutPrefix(strings.TrimSuffix(*arn, ":*"), groupARN(sc, ""))
	if !ok || name == "" {
		return "", errNotFound("The specified resource does not exist.")
	}
	return name, nil
}

func (s *Service) tag(ctx context.Context, group string, tags map[string]string, code string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.updateGroup(ctx, scopeOf(ctx), group, func(g *groupRecord) error {
		merged := maps.Clone(g.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > 50 {
			return api.Errorf(http.StatusBadRequest, code, "A resource can have no more than 50 tags.")
		}
		g.Tags = merged
		return nil
	})
}

func (s *Service) untag(ctx context.Context, group string, keys []string) error {
	return s.updateGroup(ctx, scopeOf(ctx), group, func(g *groupRecord) error {
		for _, k := range keys {
			delete(g.Tags, k)
		}
		return nil
	})
}

func (s *Service) tagsOf(ctx context.Context, group string) (map[string]string, error) {
	var tags map[string]string
	err := s.state.View(ctx, func(tx state.Tx) error {
		g, found, err := groups.Get(tx, scopeOf(ctx), group)
		if err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		tags = g.Tags
		return nil
	})
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, err
}

// TagLogGroup adds tags (the older API; TagResource is its successor).
func (s *Service) TagLogGroup(ctx context.Context, in *logsapi.TagLogGroupRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if err := s.tag(ctx, *in.LogGroupName, in.Tags, "InvalidParameterException"); err != nil {
		return nil, fmt.Errorf("tag log group: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// UntagLogGroup removes tags by key.
func (s *Service) UntagLogGroup(ctx context.Context, in *logsapi.UntagLogGroupRequest) (*logsapi.Empty, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if err := s.untag(ctx, *in.LogGroupName, in.Tags); err != nil {
		return nil, fmt.Errorf("untag log group: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// ListTagsLogGroup answers a group's tags.
func (s *Service) ListTagsLogGroup(ctx context.Context, in *logsapi.ListTagsLogGroupRequest) (*logsapi.ListTagsLogGroupResponse, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	tags, err := s.tagsOf(ctx, *in.LogGroupName)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return &logsapi.ListTagsLogGroupResponse{Tags: tags}, nil
}

// TagResource tags a log group by ARN.
func (s *Service) TagResource(ctx context.Context, in *logsapi.TagResourceRequest) (*logsapi.Empty, error) {
	group, err := groupOfARN(scopeOf(ctx), in.ResourceArn)
	if err == nil {
		err = s.tag(ctx, group, in.Tags, "TooManyTagsException")
	}
	if err != nil {
		return nil, fmt.Errorf("tag resource: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// UntagResource removes a log group's tags by ARN.
func (s *Service) UntagResource(ctx context.Context, in *logsapi.UntagResourceRequest) (*logsapi.Empty, error) {
	group, err := groupOfARN(scopeOf(ctx), in.ResourceArn)
	if err == nil {
		err = s.untag(ctx, group, in.TagKeys)
	}
	if err != nil {
		return nil, fmt.Errorf("untag resource: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// ListTagsForResource answers a log group's tags by ARN.
func (s *Service) ListTagsForResource(ctx context.Context, in *logsapi.ListTagsForResourceRequest) (*logsapi.ListTagsForResourceResponse, error) {
	group, err := groupOfARN(scopeOf(ctx), in.ResourceArn)
	var tags map[string]string
	if err == nil {
		tags, err = s.tagsOf(ctx, group)
	}
	if err != nil {
		return nil, fmt.Errorf("list tags for resource: %w", err)
	}
	return &logsapi.ListTagsForResourceResponse{Tags: tags}, nil
}

// AssociateKmsKey records a group's KMS key (minicloud does not encrypt
// with it: there is no KMS yet).
func (s *Service) AssociateKmsKey(ctx context.Context, in *logsapi.AssociateKmsKeyRequest) (*logsapi.Empty, error) {
	if err := required(in.KmsKeyId, "kmsKeyId"); err != nil {
		return nil, err
	}
	if err := s.setKmsKey(ctx, in.LogGroupName, in.ResourceIdentifier, *in.KmsKeyId); err != nil {
		return nil, fmt.Errorf("associate kms key: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// DisassociateKmsKey forgets a group's KMS key.
func (s *Service) DisassociateKmsKey(ctx context.Context, in *logsapi.DisassociateKmsKeyRequest) (*logsapi.Empty, error) {
	if err := s.setKmsKey(ctx, in.LogGroupName, in.ResourceIdentifier, ""); err != nil {
		return nil, fmt.Errorf("disassociate kms key: %w", err)
	}
	return &logsapi.Empty{}, nil
}

func (s *Service) setKmsKey(ctx context.Context, name, resource *string, key string) error {
	sc := scopeOf(ctx)
	if resource != nil {
		// Query-result keys (arn:…:query-result:*) have nothing to record.
		if name != nil {
			return errInvalid("LogGroupName and ResourceIdentifier are mutually exclusive parameters.")
		}
		if strings.Contains(*resource, ":query-result:") {
			return nil
		}
	}
	group, err := groupOf(sc, name, resource)
	if err != nil {
		return err
	}
	return s.updateGroup(ctx, sc, group, func(g *groupRecord) error {
		g.KmsKeyID = key
		return nil
	})
}
