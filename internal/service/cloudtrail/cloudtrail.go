package cloudtrail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudtrailapi"
)

// Config is what the service is built from.
type Config struct {
	// Dir keeps the events ("" = memory only, --ephemeral).
	Dir string
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
	// SweepInterval is how often events past Retention are deleted (0:
	// an hour).
	SweepInterval time.Duration
}

// Service is CloudTrail: the gateway's Recorder and the cloudtrail API.
type Service struct {
	cfg      Config
	store    *store
	stopOnce sync.Once
}

// New opens the event store in cfg.Dir.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Hour
	}
	st, err := openStore(cfg.Dir, cfg.Now, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: st}, nil
}

// Handlers is the service's operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return cloudtrailapi.Handlers(s) }

// Info describes the service.
func (s *Service) Info() *api.ServiceInfo { return cloudtrailapi.Info }

// Start starts the writer and the retention sweep.
func (s *Service) Start(context.Context) error {
	s.store.start(s.cfg.SweepInterval)
	return nil
}

// Stop writes the events still queued and closes the files. It runs after
// the HTTP listener stopped, so every answered call is queued by then.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() { err = s.store.stopStore(ctx) })
	return err
}

// Reset deletes every event.
func (s *Service) Reset(context.Context) error { return s.store.reset() }

// Health reports the writer's last failure, if any.
func (s *Service) Health() map[string]any {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	h := map[string]any{"status": "ok", "retentionDays": int(Retention / (24 * time.Hour))}
	if s.store.werr != nil {
		h["status"], h["error"] = "degraded", s.store.werr.Error()
	}
	return h
}

// Record queues an answered call (api.Recorder): its event is built and
// written by the writer, off the request path.
func (s *Service) Record(c *api.Call) {
	if s.store.queue == nil {
		return // not started: nothing serves yet
	}
	s.store.enqueue(queued{call: c})
}

// Flush waits until every call recorded before it is written.
func (s *Service) Flush(ctx context.Context) { s.store.flush(ctx) }

func clientError(code, format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

// lookupKeys are LookupEvents' attribute keys, each with what it matches.
var lookupKeys = map[string]func(e *indexed, v string) bool{
	"EventId":     func(e *indexed, v string) bool { return e.ID == v },
	"EventName":   func(e *indexed, v string) bool { return e.Name == v },
	"ReadOnly":    func(e *indexed, v string) bool { return strconv.FormatBool(e.ReadOnly) == v },
	"Username":    func(e *indexed, v string) bool { return e.Username == v },
	"EventSource": func(e *indexed, v string) bool { return e.Source == v },
	"AccessKeyId": func(e *indexed, v string) bool { return e.AccessKeyID == v },
	"ResourceType": func(e *indexed, v string) bool {
		for _, r := range e.Resources {
			if r.Type == v {
				return true
			}
		}
		return false
	},
	"ResourceName": func(e *indexed, v string) bool {
		for _, r := range e.Resources {
			if r.Name == v {
				return true
			}
		}
		return false
	},
}

// maxLookupResults is LookupEvents' page size limit (and default).
const maxLookupResults = 50

// LookupEvents answers the account's events in the request's region,
// newest first, within the last 90 days.
func (s *Service) LookupEvents(ctx context.Context, in *cloudtrailapi.LookupEventsRequest) (*cloudtrailapi.LookupEventsResponse, error) {
	info := api.Request(ctx)
	var match func(*indexed) bool
	switch len(in.LookupAttributes) {
	case 0:
	case 1:
		a := in.LookupAttributes[0]
		key, value := deref(a.AttributeKey), deref(a.AttributeValue)
		fn, ok := lookupKeys[key]
		if !ok {
			return nil, clientError("InvalidLookupAttributesException", "Lookup attribute key %s is not valid.", key)
		}
		if value == "" {
			return nil, clientError("InvalidLookupAttributesException", "Lookup attribute value is not valid.")
		}
		match = func(e *indexed) bool { return fn(e, value) }
	default:
		return nil, clientError("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
	}
	now := s.cfg.Now()
	start, end := s.store.cutoff(), now
	if in.StartTime != nil && in.StartTime.After(start) {
		start = *in.StartTime
	}
	if in.EndTime != nil {
		end = *in.EndTime
	}
	if in.StartTime != nil && in.EndTime != nil && in.StartTime.After(*in.EndTime) {
		return nil, clientError("InvalidTimeRangeException", "Start time must be before end time.")
	}
	limit := maxLookupResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxLookupResults {
			return nil, clientError("InvalidMaxResultsException", "A max results value of %d is invalid. Specify max results between 1 and %d.", *in.MaxResults, maxLookupResults)
		}
		limit = int(*in.MaxResults)
	}
	// A token resumes the same lookup only: it carries the parameters'
	// digest, as AWS requires a token to come with the same parameters.
	digest := lookupDigest(in)
	var after *indexed // the last event of the previous page
	if in.NextToken != nil {
		v, ok := api.ParsePageToken("lookup", in.NextToken)
		parts := strings.Split(v, ".")
		if !ok || len(parts) != 3 || parts[2] != digest {
			return nil, clientError("InvalidNextTokenException", "Invalid NextToken.")
		}
		nanos, err1 := strconv.ParseInt(parts[0], 10, 64)
		seq, err2 := strconv.ParseUint(parts[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, clientError("InvalidNextTokenException", "Invalid NextToken.")
		}
		after = &indexed{entry: &entry{Time: time.Unix(0, nanos)}, seq: seq}
	}
	out := &cloudtrailapi.LookupEventsResponse{Events: []cloudtrailapi.Event{}}
	if in.EventCategory != nil {
		return out, nil // Insights events: minicloud has none
	}
	// Calls answered just before this one may still be queued.
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	s.store.flush(fctx)
	cancel()
	page, more := s.store.lookup(scopeKey(info.Account, info.Region), start, end, after, match, limit)
	for _, ix := range page {
		ev, err := s.store.event(ix)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, eventOf(ix, string(ev)))
	}
	if more {
		last := page[len(page)-1]
		out.NextToken = api.PageToken("lookup", fmt.Sprintf("%d.%d.%s", last.Time.UnixNano(), last.seq, digest))
	}
	return out, nil
}

func eventOf(ix *indexed, ev string) cloudtrailapi.Event {
	e := cloudtrailapi.Event{EventId: new(ix.ID), EventName: new(ix.Name), ReadOnly: new(strconv.FormatBool(ix.ReadOnly)),
		EventTime: new(ix.Time), EventSource: new(ix.Source), CloudTrailEvent: new(ev), Resources: []cloudtrailapi.Resource{}}
	if ix.AccessKeyID != "" {
		e.AccessKeyId = new(ix.AccessKeyID)
	}
	if ix.Username != "" {
		e.Username = new(ix.Username)
	}
	for _, r := range ix.Resources {
		e.Resources = append(e.Resources, cloudtrailapi.Resource{ResourceType: new(r.Type), ResourceName: new(r.Name)})
	}
	return e
}

func lookupDigest(in *cloudtrailapi.LookupEventsRequest) string {
	h := sha256.New()
	for _, a := range in.LookupAttributes {
		fmt.Fprintf(h, "%s\x00%s\x00", deref(a.AttributeKey), deref(a.AttributeValue))
	}
	for _, t := range []*time.Time{in.StartTime, in.EndTime} {
		if t != nil {
			fmt.Fprintf(h, "%d", t.UnixNano())
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// lookup returns up to limit events of a scope in [start, end] that
// match, newest first, before after (in (time, seq) order) when it is
// set; more reports that older ones match too.
func (s *store) lookup(scope string, start, end time.Time, after *indexed, match func(*indexed) bool, limit int) (page []*indexed, more bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.byScope[scope]
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		if e.Time.After(end) {
			continue
		}
		if e.Time.Before(start) {
			break
		}
		if after != nil && (e.Time.After(after.Time) || e.Time.Equal(after.Time) && e.seq >= after.seq) {
			continue
		}
		if match != nil && !match(e) {
			continue
		}
		if len(page) == limit {
			return page, true
		}
		page = append(page, e)
	}
	return page, false
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
