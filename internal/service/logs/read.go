package logs

import (
	"cmp"
	"context"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/service/logs/filterpattern"
	"github.com/minicloud/minicloud/internal/state"
)

// Reads answer at most maxReadEvents events and maxReadBytes (message
// bytes + 26 each), AWS's 10,000 events or 1 MB.
const (
	maxReadEvents = 10000
	maxReadBytes  = 1 << 20
)

// position orders a stream's events: time, then acceptance.
type position struct {
	Time int64
	Seq  uint64
}

func posOf(e event) position { return position{e.Time, e.Seq} }

func (p position) compare(q position) int {
	return cmp.Or(cmp.Compare(p.Time, q.Time), cmp.Compare(p.Seq, q.Seq))
}

// GetLogEvents' tokens are "f/" or "b/" and digits, as AWS's: the position
// the next page starts at (forward) or ends before (backward).
func streamToken(dir byte, p position) *string {
	return ptr(fmt.Sprintf("%c/%020d%020d", dir, uint64(p.Time), p.Seq))
}

func parseStreamToken(t string) (dir byte, p position, err error) {
	bad := errInvalid("The specified nextToken is invalid.")
	if len(t) != 42 || (t[0] != 'f' && t[0] != 'b') || t[1] != '/' {
		return 0, p, bad
	}
	ts, err1 := strconv.ParseUint(t[2:22], 10, 64)
	seq, err2 := strconv.ParseUint(t[22:], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, p, bad
	}
	return t[0], position{int64(ts), seq}, nil
}

// timeRange is a request's [startTime, endTime), narrowed to what the
// group's retention still keeps (expired events are hidden at once, before
// the sweep deletes them).
func (s *Service) timeRange(start, end *int64, retentionDays int32) (int64, int64) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if start != nil {
		from = *start
	}
	if end != nil {
		to = *end
	}
	return max(from, retentionCutoff(s.now(), retentionDays)), to
}

// GetLogEvents reads one stream in time order: from the head
// (startFromHead) or, by default, the newest page; tokens walk forward
// and backward, and the forward token stays the same at the end.
func (s *Service) GetLogEvents(ctx context.Context, in *logsapi.GetLogEventsRequest) (*logsapi.GetLogEventsResponse, error) {
	sc := scopeOf(ctx)
	group, err := groupOf(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	if err := checkLimit(in.Limit, "limit", maxReadEvents); err != nil {
		return nil, err
	}
	var dir byte
	var at position
	if in.NextToken != nil {
		if dir, at, err = parseStreamToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	var g groupRecord
	err = s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if g, found, err = groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if _, found, err = streams.Get(tx, sc, childID(group, *in.LogStreamName)); err != nil || !found {
			return cmpOr(err, errNoStream)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	from, to := s.timeRange(in.StartTime, in.EndTime, g.RetentionDays)
	// A token bounds the read too: only the batches on its side are decoded.
	switch dir {
	case 'f':
		from = max(from, at.Time)
	case 'b':
		to = min(to, at.Time+1)
	}
	evs, err := s.events.events(streamKey{sc.Account, sc.Region, group, *in.LogStreamName}, from, to)
	if err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	limit := int(cmpOr(deref(in.Limit), maxReadEvents))
	// The page is evs[lo:hi]: forward pages grow from lo, backward ones
	// (and the default newest page) from hi.
	var lo, hi int
	forward := dir == 'f' || dir == 0 && deref(in.StartFromHead)
	switch {
	case dir == 'f':
		lo, _ = slices.BinarySearchFunc(evs, at, func(e event, p position) int { return posOf(e).compare(p) })
	case dir == 'b':
		hi, _ = slices.BinarySearchFunc(evs, at, func(e event, p position) int { return posOf(e).compare(p) })
	case forward:
		lo = 0
	default:
		hi = len(evs)
	}
	if forward {
		hi = lo
		// A page holds at least one event, whatever its size, or paging
		// would never move past it.
		for size := 0; hi < len(evs) && hi-lo < limit && (hi == lo || size+len(evs[hi].Message)+eventOverhead <= maxReadBytes); hi++ {
			size += len(evs[hi].Message) + eventOverhead
		}
	} else {
		lo = hi
		for size := 0; lo > 0 && hi-lo < limit && (hi == lo || size+len(evs[lo-1].Message)+eventOverhead <= maxReadBytes); lo-- {
			size += len(evs[lo-1].Message) + eventOverhead
		}
	}
	out := &logsapi.GetLogEventsResponse{Events: make([]logsapi.OutputLogEvent, 0, hi-lo)}
	for _, e := range evs[lo:hi] {
		out.Events = append(out.Events, logsapi.OutputLogEvent{Timestamp: ptr(e.Time), Message: ptr(e.Message), IngestionTime: ptr(e.Ingest)})
	}
	// Where the page starts and ends, as positions: an empty page keeps
	// the position it was asked at, so the token comes back unchanged.
	start, end := at, at
	switch {
	case hi > lo:
		start, end = posOf(evs[lo]), posOf(evs[hi-1])
		end.Seq++
	case dir == 0 && len(evs) > 0 && forward:
		start, end = posOf(evs[0]), posOf(evs[0])
	case dir == 0 && len(evs) > 0:
		start, end = posOf(evs[len(evs)-1]), posOf(evs[len(evs)-1])
		start.Seq++
		end.Seq++
	case dir == 0:
		start, end = position{Time: max(from, 0)}, position{Time: max(from, 0)}
	}
	out.NextForwardToken, out.NextBackwardToken = streamToken('f', end), streamToken('b', start)
	return out, nil
}

// eventID is unique per event of a group, digits only as AWS's.
func eventID(stream string, e event) string {
	return fmt.Sprintf("%020d%010d%020d", uint64(e.Time), crc32.ChecksumIEEE([]byte(stream)), e.Seq)
}

// filterPosition orders a group's events across streams.
type filterPosition struct {
	Time   int64
	Stream string
	Seq    uint64
}

func (p filterPosition) compare(q filterPosition) int {
	return cmp.Or(cmp.Compare(p.Time, q.Time), strings.Compare(p.Stream, q.Stream), cmp.Compare(p.Seq, q.Seq))
}

// compilePattern compiles a filter pattern; its error is AWS's
// InvalidParameterException with the compiler's message.
func compilePattern(p *string) (*filterpattern.Pattern, error) {
	if len(deref(p)) > 1024 {
		return nil, errInvalid("1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	pat, err := filterpattern.Compile(deref(p))
	if err != nil {
		return nil, errInvalid("%s", err.Error())
	}
	return pat, nil
}

// FilterLogEvents searches a group's streams (all, by name or by prefix)
// for events matching a filter pattern, interleaved in time order (AWS
// always interleaves now), in pages.
func (s *Service) FilterLogEvents(ctx context.Context, in *logsapi.FilterLogEventsRequest) (*logsapi.FilterLogEventsResponse, error) {
	sc := scopeOf(ctx)
	group, err := groupOf(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("You cannot specify both LogStreamNames and LogStreamNamePrefix.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, errInvalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	if err := checkLimit(in.Limit, "limit", maxReadEvents); err != nil {
		return nil, err
	}
	pat, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	after, err := untoken("filter", in.NextToken)
	if err != nil {
		return nil, err
	}
	var resume *filterPosition
	if after != "" {
		t, rest, ok1 := strings.Cut(after, "/")
		seq, stream, ok2 := strings.Cut(rest, "/")
		tv, err1 := strconv.ParseInt(t, 10, 64)
		sv, err2 := strconv.ParseUint(seq, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return nil, errInvalid("The specified nextToken is invalid.")
		}
		resume = &filterPosition{tv, stream, sv}
	}
	g, recs, err := s.groupStreams(ctx, sc, group)
	if err != nil {
		return nil, fmt.Errorf("filter log events: %w", err)
	}
	from, to := s.timeRange(in.StartTime, in.EndTime, g.RetentionDays)
	if resume != nil {
		from = max(from, resume.Time)
	}
	type hit struct {
		pos filterPosition
		e   event
	}
	var hits []hit
	out := &logsapi.FilterLogEventsResponse{Events: []logsapi.FilteredLogEvent{}, SearchedLogStreams: []logsapi.SearchedLogStream{}}
	for _, r := range recs {
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, r.Name) || !strings.HasPrefix(r.Name, deref(in.LogStreamNamePrefix)) {
			continue
		}
		evs, err := s.events.events(streamKey{sc.Account, sc.Region, group, r.Name}, from, to)
		if err != nil {
			return nil, fmt.Errorf("filter log events: %w", err)
		}
		for _, e := range evs {
			p := filterPosition{e.Time, r.Name, e.Seq}
			if resume != nil && p.compare(*resume) <= 0 {
				continue
			}
			if _, ok := pat.Match(e.Message); ok {
				hits = append(hits, hit{p, e})
			}
		}
		out.SearchedLogStreams = append(out.SearchedLogStreams, logsapi.SearchedLogStream{LogStreamName: ptr(r.Name), SearchedCompletely: ptr(true)})
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.pos.compare(b.pos) })
	limit := int(cmpOr(deref(in.Limit), maxReadEvents))
	size := 0
	for i, h := range hits {
		if i == limit || i > 0 && size+len(h.e.Message)+eventOverhead > maxReadBytes {
			last := hits[i-1].pos
			out.NextToken = api.PageToken("filter", fmt.Sprintf("%d/%d/%s", last.Time, last.Seq, last.Stream))
			break
		}
		size += len(h.e.Message) + eventOverhead
		out.Events = append(out.Events, logsapi.FilteredLogEvent{
			LogStreamName: ptr(h.pos.Stream), Timestamp: ptr(h.e.Time), Message: ptr(h.e.Message),
			IngestionTime: ptr(h.e.Ingest), EventId: ptr(eventID(h.pos.Stream, h.e)),
		})
	}
	return out, nil
}
