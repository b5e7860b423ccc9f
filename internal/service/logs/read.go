package logs

import (
	"cmp"
	"context"
	"errors"
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
	var rec streamRecord
	err = s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if g, found, err = groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if rec, found, err = streams.Get(tx, sc, childID(group, *in.LogStreamName)); err != nil || !found {
			return cmpOr(err, errNoStream)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	from, to := s.timeRange(in.StartTime, in.EndTime, g.RetentionDays)
	limit := int(cmpOr(deref(in.Limit), maxReadEvents))
	forward := dir == 'f' || dir == 0 && deref(in.StartFromHead)
	// The page is read from where it starts: forward from the token's
	// position (or the head), backward from before it (or the end); only
	// the batches it reaches are decoded.
	start := at
	switch {
	case dir == 0 && forward:
		start = position{Time: math.MinInt64}
	case dir == 0:
		start = position{Time: math.MaxInt64, Seq: math.MaxUint64}
	}
	c := s.events.cursor(streamKey{sc.Account, sc.Region, group, *in.LogStreamName}, rec.identity(), from, to, start, forward)
	defer c.Close()
	var page []event
	// A page holds at least one event, whatever its size, or paging would
	// never move past it.
	for size := 0; len(page) < limit; {
		e, ok := c.Next()
		if !ok || len(page) > 0 && size+len(e.Message)+eventOverhead > maxReadBytes {
			break
		}
		size += len(e.Message) + eventOverhead
		page = append(page, e)
	}
	if err := c.Err(); err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	if !forward {
		slices.Reverse(page)
	}
	out := &logsapi.GetLogEventsResponse{Events: make([]logsapi.OutputLogEvent, 0, len(page))}
	for _, e := range page {
		out.Events = append(out.Events, logsapi.OutputLogEvent{Timestamp: ptr(e.Time), Message: ptr(e.Message), IngestionTime: ptr(e.Ingest)})
	}
	// Where the page starts and ends, as positions: an empty page keeps
	// the position it was asked at, so the token comes back unchanged.
	first, end := at, at
	switch {
	case len(page) > 0:
		first, end = posOf(page[0]), posOf(page[len(page)-1])
		end.Seq++
	case dir == 0:
		first, end = position{Time: max(from, 0)}, position{Time: max(from, 0)}
	}
	out.NextForwardToken, out.NextBackwardToken = streamToken('f', end), streamToken('b', first)
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
	out := &logsapi.FilterLogEventsResponse{Events: []logsapi.FilteredLogEvent{}, SearchedLogStreams: []logsapi.SearchedLogStream{}}
	// One cursor per stream, merged in (time, stream, sequence) order:
	// the page reads what it answers (and, for the token, up to the next
	// match), not every stream's whole range.
	var m filterMerge
	defer m.close()
	for _, r := range recs {
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, r.Name) || !strings.HasPrefix(r.Name, deref(in.LogStreamNamePrefix)) {
			continue
		}
		at := position{Time: math.MinInt64}
		if resume != nil {
			// After the resume position: later times in any stream; at its
			// time, streams after its stream, and its stream after its event.
			switch c := strings.Compare(r.Name, resume.Stream); {
			case c > 0:
				at = position{Time: resume.Time}
			case c == 0:
				at = position{Time: resume.Time, Seq: resume.Seq + 1}
			default:
				at = position{Time: resume.Time + 1}
			}
		}
		m.add(r.Name, s.events.cursor(streamKey{sc.Account, sc.Region, group, r.Name}, r.identity(), from, to, at, true))
		out.SearchedLogStreams = append(out.SearchedLogStreams, logsapi.SearchedLogStream{LogStreamName: ptr(r.Name), SearchedCompletely: ptr(true)})
	}
	limit := int(cmpOr(deref(in.Limit), maxReadEvents))
	size := 0
	var last filterPosition
	for {
		stream, e, ok := m.next()
		if !ok {
			break
		}
		if _, ok := pat.Match(e.Message); !ok {
			continue
		}
		if len(out.Events) == limit || len(out.Events) > 0 && size+len(e.Message)+eventOverhead > maxReadBytes {
			out.NextToken = api.PageToken("filter", fmt.Sprintf("%d/%d/%s", last.Time, last.Seq, last.Stream))
			break
		}
		size += len(e.Message) + eventOverhead
		last = filterPosition{e.Time, stream, e.Seq}
		out.Events = append(out.Events, logsapi.FilteredLogEvent{
			LogStreamName: ptr(stream), Timestamp: ptr(e.Time), Message: ptr(e.Message),
			IngestionTime: ptr(e.Ingest), EventId: ptr(eventID(stream, e)),
		})
	}
	if err := m.err(); err != nil {
		return nil, fmt.Errorf("filter log events: %w", err)
	}
	return out, nil
}

// filterMerge merges streams' cursors in (time, stream, sequence) order.
type filterMerge struct {
	heads []filterHead
	done  []*cursor // ended: kept for their errors and Close
}

type filterHead struct {
	stream string
	c      *cursor
	e      event
}

func (m *filterMerge) less(a, b filterHead) bool {
	return filterPosition{a.e.Time, a.stream, a.e.Seq}.compare(filterPosition{b.e.Time, b.stream, b.e.Seq}) < 0
}

func (m *filterMerge) add(stream string, c *cursor) {
	h := filterHead{stream: stream, c: c}
	m.heads = append(m.heads, h)
	if e, ok := c.Next(); ok {
		m.heads[len(m.heads)-1].e = e
		m.up(len(m.heads) - 1)
	} else {
		m.heads = m.heads[:len(m.heads)-1]
		m.done = append(m.done, c)
	}
}

// next pops the earliest event and refills from its stream.
func (m *filterMerge) next() (string, event, bool) {
	if len(m.heads) == 0 {
		return "", event{}, false
	}
	h := m.heads[0]
	if e, ok := h.c.Next(); ok {
		m.heads[0].e = e
	} else {
		m.done = append(m.done, h.c)
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads = m.heads[:last]
	}
	m.down(0)
	return h.stream, h.e, true
}

func (m *filterMerge) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !m.less(m.heads[i], m.heads[p]) {
			return
		}
		m.heads[i], m.heads[p] = m.heads[p], m.heads[i]
		i = p
	}
}

func (m *filterMerge) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(m.heads) && m.less(m.heads[l], m.heads[small]) {
			small = l
		}
		if r := l + 1; r < len(m.heads) && m.less(m.heads[r], m.heads[small]) {
			small = r
		}
		if small == i {
			return
		}
		m.heads[i], m.heads[small] = m.heads[small], m.heads[i]
		i = small
	}
}

func (m *filterMerge) err() error {
	var errs []error
	for _, c := range m.done {
		errs = append(errs, c.Err())
	}
	return errors.Join(errs...)
}

func (m *filterMerge) close() {
	for _, h := range m.heads {
		h.c.Close()
	}
	for _, c := range m.done {
		c.Close()
	}
}
