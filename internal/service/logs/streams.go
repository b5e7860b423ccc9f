package logs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// CreateLogStream creates a stream in an existing group.
func (s *Service) CreateLogStream(ctx context.Context, in *logsapi.CreateLogStreamRequest) (*logsapi.Empty, error) {
	if err := checkStreamOf(in.LogGroupName, in.LogStreamName); err != nil {
		return nil, err
	}
	sc, group, name := scopeOf(ctx), *in.LogGroupName, *in.LogStreamName
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if _, found, err := streams.Get(tx, sc, childID(group, name)); err != nil || found {
			return cmpOr(err, errExists("The specified log stream already exists"))
		}
		return streams.Put(tx, sc, childID(group, name), streamRecord{Group: group, Name: name, Created: nowMillis(s.now()), Gen: newGen()})
	})
	if err != nil {
		return nil, fmt.Errorf("create log stream %s: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

// checkStreamOf checks the group and stream members most stream
// operations take.
func checkStreamOf(group, stream *string) error {
	if err := checkGroupName(group); err != nil {
		return err
	}
	return checkStreamName(stream)
}

// DeleteLogStream deletes a stream and its events.
func (s *Service) DeleteLogStream(ctx context.Context, in *logsapi.DeleteLogStreamRequest) (*logsapi.Empty, error) {
	if err := checkStreamOf(in.LogGroupName, in.LogStreamName); err != nil {
		return nil, err
	}
	sc, group, name := scopeOf(ctx), *in.LogGroupName, *in.LogStreamName
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if _, found, err := streams.Get(tx, sc, childID(group, name)); err != nil || !found {
			return cmpOr(err, errNoStream)
		}
		return streams.Delete(tx, sc, childID(group, name))
	})
	if err != nil {
		return nil, fmt.Errorf("delete log stream %s: %w", name, err)
	}
	if err := s.events.dropStream(streamKey{sc.Account, sc.Region, group, name}); err != nil {
		return nil, fmt.Errorf("delete log stream %s: events: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

// groupStreams lists a group's streams in name order; a missing group is
// ResourceNotFoundException.
func (s *Service) groupStreams(ctx context.Context, sc state.Scope, group string) (groupRecord, []streamRecord, error) {
	var g groupRecord
	var out []streamRecord
	err := s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if g, found, err = groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		return forEachChild(tx, streams, sc, group, func(r streamRecord) error {
			out = append(out, r)
			return nil
		})
	})
	return g, out, err
}

// describeStreamsPage is DescribeLogStreams' default and largest page.
const describeStreamsPage = 50

// DescribeLogStreams lists a group's streams by name or by last event
// time, either way round, in pages.
func (s *Service) DescribeLogStreams(ctx context.Context, in *logsapi.DescribeLogStreamsRequest) (*logsapi.DescribeLogStreamsResponse, error) {
	sc := scopeOf(ctx)
	group, err := groupOf(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	order := cmpOr(deref(in.OrderBy), "LogStreamName")
	if order != "LogStreamName" && order != "LastEventTime" {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", order)
	}
	if order == "LastEventTime" && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	if err := checkLimit(in.Limit, "limit", describeStreamsPage); err != nil {
		return nil, err
	}
	offset, err := untokenOffset("streams", in.NextToken)
	if err != nil {
		return nil, err
	}
	_, recs, err := s.groupStreams(ctx, sc, group)
	if err != nil {
		return nil, fmt.Errorf("describe log streams: %w", err)
	}
	prefix := deref(in.LogStreamNamePrefix)
	type row struct {
		rec streamRecord
		sum streamSummary
	}
	var rows []row
	for _, r := range recs {
		if strings.HasPrefix(r.Name, prefix) {
			rows = append(rows, row{r, s.events.summary(streamKey{sc.Account, sc.Region, group, r.Name}, r.identity())})
		}
	}
	if order == "LastEventTime" {
		// Streams without events sort first, as having the oldest.
		slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.sum.Last, b.sum.Last) })
	}
	if deref(in.Descending) {
		slices.Reverse(rows)
	}
	limit := int(cmpOr(deref(in.Limit), describeStreamsPage))
	out := &logsapi.DescribeLogStreamsResponse{LogStreams: []logsapi.LogStream{}}
	for i := offset; i < len(rows); i++ {
		if len(out.LogStreams) == limit {
			out.NextToken = api.PageToken("streams", strconv.Itoa(i))
			break
		}
		r := rows[i]
		ls := logsapi.LogStream{
			LogStreamName:       ptr(r.rec.Name),
			CreationTime:        ptr(r.rec.Created),
			Arn:                 ptr(streamARN(sc, group, r.rec.Name)),
			StoredBytes:         ptr(int64(0)), // deprecated: AWS answers 0
			UploadSequenceToken: ptr(sequenceToken(r.sum.NextSeq)),
		}
		if r.sum.HasEvents {
			ls.FirstEventTimestamp, ls.LastEventTimestamp, ls.LastIngestionTime = ptr(r.sum.First), ptr(r.sum.Last), ptr(r.sum.LastIngest)
		}
		out.LogStreams = append(out.LogStreams, ls)
	}
	return out, nil
}

// sequenceToken is the (no longer required) token of a stream's next
// put, in AWS's form: a long decimal number.
func sequenceToken(next uint64) string { return fmt.Sprintf("49%054d", next) }
