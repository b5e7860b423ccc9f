package logs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/state"
)

// PutLogEvents' limits, AWS's.
const (
	maxBatchBytes  = 1 << 20 // message bytes + eventOverhead each
	eventOverhead  = 26
	maxBatchEvents = 10000
	maxBatchSpan   = 24 * time.Hour
	maxPast        = 14 * 24 * time.Hour
	maxFuture      = 2 * time.Hour
)

// PutLogEvents appends a chronological batch to a stream. Events outside
// the accepted window are left out and reported in rejectedLogEventsInfo;
// the sequence token is accepted and ignored, as AWS does now.
func (s *Service) PutLogEvents(ctx context.Context, in *logsapi.PutLogEventsRequest) (*logsapi.PutLogEventsResponse, error) {
	if err := checkStreamOf(in.LogGroupName, in.LogStreamName); err != nil {
		return nil, err
	}
	evs, err := batchOf(in.LogEvents)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	key := streamKey{sc.Account, sc.Region, *in.LogGroupName, *in.LogStreamName}
	var g groupRecord
	var rec streamRecord
	var filters []metricFilterRecord
	err = s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if g, found, err = groups.Get(tx, sc, key.Group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if rec, found, err = streams.Get(tx, sc, childID(key.Group, key.Stream)); err != nil || !found {
			return cmpOr(err, errNoStream)
		}
		filters, err = groupMetricFilters(tx, sc, key.Group)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("put log events: %w", err)
	}
	kept, rejected := s.window(evs, g.RetentionDays)
	// The span rule is over the valid events: a batch with one event too
	// old and the rest current stores the rest (the API reference: "For
	// valid events (within 14 days in the past to 2 hours in future), the
	// time span in a single batch cannot exceed 24 hours").
	if len(kept) > 0 && time.Duration(kept[len(kept)-1].Time-kept[0].Time)*time.Millisecond > maxBatchSpan {
		return nil, errInvalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	seq, err := s.ingest(ctx, key, rec.identity(), kept, filters)
	if err != nil {
		return nil, fmt.Errorf("put log events: %w", err)
	}
	return &logsapi.PutLogEventsResponse{NextSequenceToken: ptr(sequenceToken(seq)), RejectedLogEventsInfo: rejected}, nil
}

// batchOf checks a batch by AWS's rules: present members, at most 10,000
// events and 1 MiB (26 bytes counted per event), chronological. A batch
// that breaks one is refused whole (the 24-hour span is checked over the
// events the window keeps).
func batchOf(in []logsapi.InputLogEvent) ([]event, error) {
	if len(in) == 0 {
		return nil, errInvalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in) > maxBatchEvents {
		return nil, errInvalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", maxBatchEvents)
	}
	out := make([]event, len(in))
	size := 0
	for i, e := range in {
		if e.Timestamp == nil || e.Message == nil {
			member := "timestamp"
			if e.Message == nil {
				member = "message"
			}
			return nil, errInvalid("1 validation error detected: Value null at 'logEvents.%d.member.%s' failed to satisfy constraint: Member must not be null", i+1, member)
		}
		if *e.Message == "" {
			return nil, errInvalid("1 validation error detected: Value '' at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		size += len(*e.Message) + eventOverhead
		if i > 0 && *e.Timestamp < out[i-1].Time {
			return nil, errInvalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
		out[i] = event{Time: *e.Timestamp, Message: *e.Message}
	}
	if size > maxBatchBytes {
		return nil, errInvalid("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	return out, nil
}

// window keeps the events AWS would accept now: not older than 14 days
// nor than the group's retention, not more than 2 hours ahead. The batch
// is chronological, so the rejected ones are a head and a tail, reported
// by index (tooOld and expired end indexes exclusive, tooNew inclusive).
func (s *Service) window(evs []event, retentionDays int32) ([]event, *logsapi.RejectedLogEventsInfo) {
	now := s.now()
	oldest, newest := nowMillis(now.Add(-maxPast)), nowMillis(now.Add(maxFuture))
	expired := retentionCutoff(now, retentionDays)
	start, end := 0, len(evs)
	var info logsapi.RejectedLogEventsInfo
	for start < end && (evs[start].Time < oldest || evs[start].Time < expired) {
		start++
	}
	tooOld, exp := 0, 0
	for i := range start {
		if evs[i].Time < oldest {
			tooOld = i + 1
		}
		if evs[i].Time < expired {
			exp = i + 1
		}
	}
	if tooOld > 0 {
		info.TooOldLogEventEndIndex = ptr(int32(tooOld))
	}
	if exp > 0 {
		info.ExpiredLogEventEndIndex = ptr(int32(exp))
	}
	for end > start && evs[end-1].Time > newest {
		end--
	}
	if end < len(evs) {
		info.TooNewLogEventStartIndex = ptr(int32(end))
	}
	if start == 0 && end == len(evs) {
		return evs, nil
	}
	return evs[start:end], &info
}

// ingest stores kept events durably, then runs the group's metric
// filters over them. It returns the stream's next sequence number.
func (s *Service) ingest(ctx context.Context, key streamKey, gen uint64, kept []event, filters []metricFilterRecord) (uint64, error) {
	if len(kept) > 0 {
		ingest := nowMillis(s.now())
		for i := range kept {
			kept[i].Ingest = ingest
		}
		if _, err := s.events.append(key, gen, kept); err != nil {
			return 0, err
		}
		// The events are stored: a metric that fails to publish is logged,
		// not an error of the put (AWS too acknowledges before it filters).
		if err := s.publishFilters(ctx, key, kept, filters); err != nil {
			s.cfg.Logger.Warn("logs: metric filters", "group", key.Group, "err", err)
		}
	}
	return s.events.summary(key, gen).NextSeq, nil
}

// GroupExists reports whether group exists in account's region.
func (w writer) GroupExists(ctx context.Context, account, region, group string) (bool, error) {
	var found bool
	err := w.s.state.View(ctx, func(tx state.Tx) error {
		var err error
		_, found, err = groups.Get(tx, state.Scope{Account: account, Region: region}, group)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("logs: group %s: %w", group, err)
	}
	return found, nil
}

// writer is the service as a logport.Writer.
type writer struct{ s *Service }

// Write creates the group and the stream when missing, drops what a
// client's put would have rejected, and stores the rest in order.
func (w writer) Write(ctx context.Context, account, region, group, stream string, events []logport.Event) error {
	s := w.s
	sc := state.Scope{Account: account, Region: region}
	if err := checkStreamOf(&group, &stream); err != nil {
		return fmt.Errorf("logs writer: %w", err)
	}
	var g groupRecord
	var rec streamRecord
	var filters []metricFilterRecord
	// Sources write every second or so: read first, and take the store's
	// write lock (and its fsync) only to create the group or the stream.
	missing := false
	err := s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if g, found, err = groups.Get(tx, sc, group); err != nil || !found {
			missing = true
			return err
		}
		if rec, found, err = streams.Get(tx, sc, childID(group, stream)); err != nil || !found {
			missing = true
			return err
		}
		filters, err = groupMetricFilters(tx, sc, group)
		return err
	})
	if err == nil && missing {
		err = s.state.Update(ctx, s.createForWriter(sc, group, stream, &g, &rec, &filters))
	}
	if err != nil {
		return fmt.Errorf("logs writer %s/%s: %w", group, stream, err)
	}
	return s.writeEvents(ctx, streamKey{account, region, group, stream}, rec.identity(), g, filters, events)
}

// createForWriter creates the group and the stream a source writes to,
// as AWS's services do for the groups they own, and reads the group's
// metric filters.
func (s *Service) createForWriter(sc state.Scope, group, stream string, g *groupRecord, rec *streamRecord, filters *[]metricFilterRecord) func(tx state.Tx) error {
	return func(tx state.Tx) error {
		var found bool
		var err error
		now := nowMillis(s.now())
		if *g, found, err = groups.Get(tx, sc, group); err != nil {
			return err
		} else if !found {
			*g = groupRecord{Name: group, Created: now, Class: "STANDARD"}
			if err := groups.Put(tx, sc, group, *g); err != nil {
				return err
			}
		}
		if *rec, found, err = streams.Get(tx, sc, childID(group, stream)); err != nil {
			return err
		} else if !found {
			*rec = streamRecord{Group: group, Name: stream, Created: now, Gen: newGen()}
			if err := streams.Put(tx, sc, childID(group, stream), *rec); err != nil {
				return err
			}
		}
		*filters, err = groupMetricFilters(tx, sc, group)
		return err
	}
}

// writeEvents stores a source's events in batches a client could have put.
func (s *Service) writeEvents(ctx context.Context, key streamKey, gen uint64, g groupRecord, filters []metricFilterRecord, events []logport.Event) error {
	group, stream := key.Group, key.Stream
	// A source's events come in order but may be many: cut them into
	// batches a client could have put, keeping what each window accepts.
	var errs []error
	for len(events) > 0 {
		n, size := 0, 0
		first := events[0].Time
		for n < len(events) && n < maxBatchEvents && size+len(events[n].Message)+eventOverhead <= maxBatchBytes &&
			events[n].Time.Sub(first) <= maxBatchSpan && (n == 0 || !events[n].Time.Before(events[n-1].Time)) {
			size += len(events[n].Message) + eventOverhead
			n++
		}
		n = max(n, 1) // a single oversized event goes alone
		batch := make([]event, 0, n)
		for _, e := range events[:n] {
			if e.Message != "" {
				// No client can put a larger event: cut it to the most a
				// batch holds (the reads' pages are sized for it).
				msg := e.Message
				if len(msg) > maxBatchBytes-eventOverhead {
					msg = strings.ToValidUTF8(msg[:maxBatchBytes-eventOverhead], "")
				}
				batch = append(batch, event{Time: e.Time.UnixMilli(), Message: msg})
			}
		}
		events = events[n:]
		kept, _ := s.window(batch, g.RetentionDays)
		if _, err := s.ingest(ctx, key, gen, kept, filters); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("logs writer %s/%s: %w", group, stream, err)
	}
	return nil
}

// Expire deletes the events older than their group's retention, as the
// background sweep does every SweepInterval (AWS takes up to 72 hours; the
// reads hide expired events at once, so only the disk waits for this).
// It also deletes the events of streams that no longer exist: a put that
// raced a DeleteLogStream or DeleteLogGroup may have appended after the
// delete dropped the stream's file.
func (s *Service) Expire(ctx context.Context) error {
	return s.expire(ctx, s.events.list())
}

// expire is Expire over the stream data listed. Its decisions hold for
// the data it listed only: data of a stream deleted and created again
// since (another incarnation, other data) is left alone.
func (s *Service) expire(ctx context.Context, listed map[streamKey]*streamData) error {
	byScope := map[state.Scope][]streamKey{}
	for k := range listed {
		sc := state.Scope{Account: k.Account, Region: k.Region}
		byScope[sc] = append(byScope[sc], k)
	}
	now := s.now()
	var errs []error
	for sc, keys := range byScope {
		retention := map[streamKey]int32{}
		var orphans []streamKey
		err := s.state.View(ctx, func(tx state.Tx) error {
			for _, k := range keys {
				g, found, err := groups.Get(tx, sc, k.Group)
				var rec streamRecord
				if err == nil && found {
					rec, found, err = streams.Get(tx, sc, childID(k.Group, k.Stream))
				}
				switch {
				case err != nil:
					return err
				case !found || !sameIncarnation(listed[k].gen, rec.identity()):
					orphans = append(orphans, k)
				default:
					retention[k] = g.RetentionDays
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, k := range orphans {
			errs = append(errs, s.events.dropIfSame(k, listed[k]))
		}
		for k, days := range retention {
			if days > 0 {
				if _, err := listed[k].expire(retentionCutoff(now, days)); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// retentionCutoff is the oldest event time (ms) a retention keeps.
func retentionCutoff(now time.Time, days int32) int64 {
	if days <= 0 {
		return -1 << 63
	}
	return nowMillis(now.Add(-time.Duration(days) * 24 * time.Hour))
}
