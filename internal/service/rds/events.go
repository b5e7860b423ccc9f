package rds

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// DescribeEvents and DescribeEventCategories (records/events.go says who
// records which event). Event subscriptions need SNS, which minicloud does
// not have: CreateEventSubscription and the rest stay unimplemented
// (the gateway's NotImplemented).

// eventSweepEvery is how often the sweep deletes events older than
// records.EventRetention.
const eventSweepEvery = time.Hour

// DescribeEvents lists the events of the interval asked (the last Duration
// minutes, 60 by default, up to EndTime or now), oldest first, of one
// source or one source type, in the categories asked.
func (s *Service) DescribeEvents(ctx context.Context, in *rdsapi.DescribeEventsMessage) (*rdsapi.EventsMessage, error) {
	q, err := eventQueryOf(in, time.Now())
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	// The table's keys are in time order, and so the markers.
	type keyed struct {
		key string
		ev  rdsapi.Event
	}
	var all []keyed
	err = s.store.View(ctx, func(tx state.Tx) error {
		return records.Events.ForEach(tx, sc, func(id string, ev records.Event) error {
			if q.matches(&ev) {
				all = append(all, keyed{id, ev.Event})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := state.Paginate(all, in.MaxRecords, deref(in.Marker), pageOpts, func(e keyed) string { return e.key })
	if err != nil {
		return nil, err
	}
	out := &rdsapi.EventsMessage{Events: []rdsapi.Event{}}
	for _, e := range page {
		out.Events = append(out.Events, e.ev)
	}
	if next != "" {
		out.Marker = ptr(next)
	}
	return out, nil
}

// eventQuery is a DescribeEvents request, checked.
type eventQuery struct {
	id, typ    string
	start, end time.Time
	categories []string
}

// eventQueryOf checks a DescribeEvents request as AWS does and resolves
// its interval at now.
func eventQueryOf(in *rdsapi.DescribeEventsMessage, now time.Time) (eventQuery, error) {
	q := eventQuery{id: strings.ToLower(deref(in.SourceIdentifier)), typ: deref(in.SourceType)}
	if q.typ != "" && !validSourceType(q.typ) {
		return q, errInvalidParam("Invalid source type: %s", q.typ)
	}
	if q.id != "" && q.typ == "" {
		return q, errInvalidParam("Cannot specify source identifier without source type.")
	}
	if len(in.Filters) > 0 {
		return q, errInvalidParam("Unrecognized filter name: %s", deref(in.Filters[0].Name))
	}
	if d := in.Duration; d != nil && *d < 0 {
		return q, errInvalidParam("Invalid value %d for Duration. Must be a non-negative number of minutes.", *d)
	}
	q.end = now
	if in.EndTime != nil {
		q.end = *in.EndTime
	}
	switch {
	case in.StartTime != nil:
		q.start = *in.StartTime
		if in.EndTime == nil && in.Duration != nil {
			q.end = q.start.Add(time.Duration(*in.Duration) * time.Minute)
		}
	default:
		mins := int32(60)
		if in.Duration != nil {
			mins = *in.Duration
		}
		q.start = q.end.Add(-time.Duration(mins) * time.Minute)
	}
	for _, c := range in.EventCategories {
		q.categories = append(q.categories, strings.ToLower(c))
	}
	return q, nil
}

// matches reports whether ev is one q asks for.
func (q *eventQuery) matches(ev *records.Event) bool {
	if ev.Date == nil || ev.Date.Before(q.start) || ev.Date.After(q.end) {
		return false
	}
	if q.typ != "" && deref(ev.SourceType) != q.typ {
		return false
	}
	if q.id != "" && strings.ToLower(deref(ev.SourceIdentifier)) != q.id {
		return false
	}
	return len(q.categories) == 0 || slices.ContainsFunc(ev.EventCategories, func(c string) bool { return slices.Contains(q.categories, c) })
}

func validSourceType(t string) bool {
	return slices.ContainsFunc(records.EventCategories, func(m rdsapi.EventCategoriesMap) bool { return deref(m.SourceType) == t })
}

// DescribeEventCategories lists each source type's event categories, or
// one source type's.
func (s *Service) DescribeEventCategories(_ context.Context, in *rdsapi.DescribeEventCategoriesMessage) (*rdsapi.EventCategoriesMessage, error) {
	if len(in.Filters) > 0 {
		return nil, errInvalidParam("Unrecognized filter name: %s", deref(in.Filters[0].Name))
	}
	typ := deref(in.SourceType)
	if typ != "" && !validSourceType(typ) {
		return nil, errInvalidParam("Invalid source type: %s", typ)
	}
	out := &rdsapi.EventCategoriesMessage{EventCategoriesMapList: []rdsapi.EventCategoriesMap{}}
	for _, m := range records.EventCategories {
		if typ == "" || deref(m.SourceType) == typ {
			out.EventCategoriesMapList = append(out.EventCategoriesMapList, rdsapi.EventCategoriesMap{
				SourceType: m.SourceType, EventCategories: slices.Clone(m.EventCategories)})
		}
	}
	return out, nil
}

// noteParamUpdates records ModifyDBParameterGroup's changes to group name
// (AWS's RDS-EVENT-0037, one per parameter), once they are stored.
func (s *Service) noteParamUpdates(ctx context.Context, name string, params []rdsapi.Parameter) {
	sc := scopeOf(ctx)
	err := s.store.Update(ctx, func(tx state.Tx) error {
		g, found, err := records.ParamGroups.Get(tx, sc, name)
		if err != nil || !found {
			return err
		}
		for _, p := range params {
			err := records.Note(tx, sc, records.EvParamUpdated, name, deref(g.DBParameterGroupArn),
				deref(p.ParameterName), deref(p.ParameterValue), deref(p.ApplyMethod))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, state.ErrClosed) {
		s.log.Warn("rds: record parameter group events", "group", name, "err", err)
	}
}

// sweepEvents deletes the events older than records.EventRetention before
// now, in every account and region. It finds them in a read, so that the
// write (which holds the store's writers back) happens only when some
// are due.
func (s *Service) sweepEvents(ctx context.Context, now time.Time) error {
	cutoff := records.EventKey(now.Add(-records.EventRetention))[:20]
	var old []string
	err := s.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if _, id, ok := records.Events.ParseKey(key); ok && id < cutoff {
				old = append(old, key)
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return err
	}
	return s.store.Update(ctx, func(tx state.Tx) error {
		for _, k := range old {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// startEventSweep sweeps at once and then every eventSweepEvery until the
// returned stop, which waits for it to end.
func (s *Service) startEventSweep() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.runEventSweep(ctx)
	}()
	return func() { cancel(); <-done }
}

func (s *Service) runEventSweep(ctx context.Context) {
	t := time.NewTicker(eventSweepEvery)
	defer t.Stop()
	for {
		if err := s.sweepEvents(ctx, time.Now()); err != nil && ctx.Err() == nil && !errors.Is(err, state.ErrClosed) {
			s.log.Warn("rds: sweep events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
