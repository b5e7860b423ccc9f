package logs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// queryRecord is an Insights query in state.db: what was asked and, once
// it ran, its results (at most its limit of rows).
type queryRecord struct {
	ID, Query string
	Groups    []string
	// From and To bound event times in ms, [From, To).
	From, To int64
	Limit    int
	Status   string
	Created  int64
	Results  [][]logsapi.ResultField
	Matched  float64
	Scanned  float64
	Bytes    float64
}

var queries = state.Table[queryRecord]{Service: "logs", Kind: "query"}

// Insights' limits, AWS's: concurrent queries per account and region,
// groups per query, rows per query.
const (
	maxConcurrentQueries = 30
	maxQueryGroups       = 50
	maxQueryRows         = 10000
	defaultQueryRows     = 10000
	// queryRetention is how long a query and its results are kept: AWS's
	// quotas page, "Results from a query are retrievable for 7 days".
	queryRetention = 7 * 24 * time.Hour
)

// queryRunner runs queries in the background, one goroutine each; a
// query that was running when minicloud stopped reports Failed.
type queryRunner struct {
	s       *Service
	mu      sync.Mutex
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
	// scopes hold queries: the prune visits only them. The first prune
	// adds the scopes a previous run left (scanned).
	scopes  map[state.Scope]bool
	scanned bool
}

func newQueryRunner(s *Service) *queryRunner {
	return &queryRunner{s: s, running: map[string]context.CancelFunc{}, scopes: map[state.Scope]bool{}}
}

func (r *queryRunner) stop() {
	r.mu.Lock()
	for _, cancel := range r.running {
		cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *queryRunner) active(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// start runs fn for query id unless too many run in the scope already.
func (r *queryRunner) start(id string, fn func(ctx context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.running) >= maxConcurrentQueries {
		return errLimit("The maximum number of concurrent queries (%d) has been reached.", maxConcurrentQueries)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.running[id] = cancel
	r.wg.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, id)
			r.mu.Unlock()
			cancel()
		}()
		fn(ctx)
	})
	return nil
}

func (r *queryRunner) addScope(sc state.Scope) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scopes[sc] = true
}

// PruneQueries deletes the queries (records and results) created more
// than 7 days ago, as AWS stops answering them then; the sweep runs it.
// GetQueryResults of a pruned query answers as for an unknown one.
func (s *Service) PruneQueries(ctx context.Context) error {
	r := s.queries
	r.mu.Lock()
	scanned := r.scanned
	r.mu.Unlock()
	if !scanned {
		// Once per start: the scopes with queries from before it. The
		// store has no index of scopes, so this reads every key once.
		found := map[state.Scope]bool{}
		if err := s.state.View(ctx, func(tx state.Tx) error {
			return tx.Scan("", func(key string, _ []byte) error {
				if sc, _, ok := queries.ParseKey(key); ok {
					found[sc] = true
				}
				return nil
			})
		}); err != nil {
			return fmt.Errorf("prune queries: %w", err)
		}
		r.mu.Lock()
		maps.Copy(r.scopes, found)
		r.scanned = true
		r.mu.Unlock()
	}
	r.mu.Lock()
	scopes := slices.Collect(maps.Keys(r.scopes))
	r.mu.Unlock()
	cutoff := nowMillis(s.now().Add(-queryRetention))
	var errs []error
	for _, sc := range scopes {
		var old []string
		err := s.state.View(ctx, func(tx state.Tx) error {
			return queries.ForEach(tx, sc, func(id string, q queryRecord) error {
				// A query still running keeps its record until it ends.
				if q.Created < cutoff && !r.active(id) {
					old = append(old, id)
				}
				return nil
			})
		})
		if err == nil && len(old) > 0 {
			err = s.state.Update(ctx, func(tx state.Tx) error {
				for _, id := range old {
					if err := queries.Delete(tx, sc, id); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("prune queries: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (r *queryRunner) cancel(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cancel, ok := r.running[id]
	if ok {
		cancel()
	}
	return ok
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// queryGroups resolves StartQuery's group members: exactly one of the
// three, each group existing.
func (s *Service) queryGroups(ctx context.Context, sc state.Scope, in *logsapi.StartQueryRequest) ([]string, error) {
	given := 0
	var names []string
	if in.LogGroupName != nil {
		given++
		names = append(names, *in.LogGroupName)
	}
	if len(in.LogGroupNames) > 0 {
		given++
		names = append(names, in.LogGroupNames...)
	}
	if len(in.LogGroupIdentifiers) > 0 {
		given++
		for _, id := range in.LogGroupIdentifiers {
			g, err := groupOf(sc, nil, &id)
			if err != nil {
				return nil, err
			}
			names = append(names, g)
		}
	}
	switch {
	case given == 0:
		return nil, errInvalid("Query must specify log groups, either logGroupName, logGroupNames or logGroupIdentifiers.")
	case given > 1:
		return nil, errInvalid("logGroupName, logGroupNames and logGroupIdentifiers are mutually exclusive parameters.")
	case len(names) > maxQueryGroups:
		return nil, errInvalid("A query can search at most %d log groups.", maxQueryGroups)
	}
	err := s.state.View(ctx, func(tx state.Tx) error {
		for _, name := range names {
			if _, found, err := groups.Get(tx, sc, name); err != nil || !found {
				return cmpOr(err, errNotFound("Log group '%s' does not exist for account ID '%s'", name, sc.Account))
			}
		}
		return nil
	})
	return names, err
}

// StartQuery checks and records a query, then runs it in the background.
func (s *Service) StartQuery(ctx context.Context, in *logsapi.StartQueryRequest) (*logsapi.StartQueryResponse, error) {
	if err := required(in.QueryString, "queryString"); err != nil {
		return nil, err
	}
	if len(*in.QueryString) > 10000 {
		return nil, errInvalid("1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length less than or equal to 10000")
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'startTime' or 'endTime' failed to satisfy constraint: Member must not be null")
	}
	if *in.StartTime > *in.EndTime {
		return nil, errInvalid("End time should not be before the start time")
	}
	if err := checkLimit(in.Limit, "limit", maxQueryRows); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	names, err := s.queryGroups(ctx, sc, in)
	if err != nil {
		return nil, fmt.Errorf("start query: %w", err)
	}
	run, err := parseQuery(*in.QueryString)
	if err != nil {
		return nil, err
	}
	rec := queryRecord{ID: newQueryID(), Query: *in.QueryString, Groups: names, From: *in.StartTime * 1000,
		To: (*in.EndTime + 1) * 1000, Limit: int(cmpOr(deref(in.Limit), defaultQueryRows)), Status: "Running", Created: nowMillis(s.now())}
	if err := s.state.Update(ctx, func(tx state.Tx) error { return queries.Put(tx, sc, rec.ID, rec) }); err != nil {
		return nil, fmt.Errorf("start query: %w", err)
	}
	s.queries.addScope(sc)
	err = s.queries.start(rec.ID, func(qctx context.Context) {
		res, err := func() (res queryResult, err error) {
			// The engine runs a client's query: a bug it hits fails the
			// query, not the process (this goroutine is no request's).
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("query engine: %v", p)
				}
			}()
			return run(qctx, s.queryEvents(sc, rec))
		}()
		switch {
		case qctx.Err() != nil:
			rec.Status = "Cancelled"
		case err != nil:
			rec.Status = "Failed"
			s.cfg.Logger.Warn("logs: query failed", "query", rec.ID, "err", err)
		default:
			rec.Status = "Complete"
			rec.Results, rec.Matched, rec.Scanned, rec.Bytes = res.rows, float64(res.matched), float64(res.scanned), res.bytes
			if len(rec.Results) > rec.Limit {
				rec.Results = rec.Results[:rec.Limit]
			}
		}
		// Stopping the service cancels qctx too: write with a fresh context.
		if err := s.state.Update(context.WithoutCancel(qctx), func(tx state.Tx) error { return queries.Put(tx, sc, rec.ID, rec) }); err != nil {
			s.cfg.Logger.Warn("logs: query result", "query", rec.ID, "err", err)
		}
	})
	if err != nil {
		_ = s.state.Update(ctx, func(tx state.Tx) error { return queries.Delete(tx, sc, rec.ID) })
		return nil, err
	}
	return &logsapi.StartQueryResponse{QueryId: ptr(rec.ID)}, nil
}

// queryResult is what a query engine answers.
type queryResult struct {
	rows             [][]logsapi.ResultField
	matched, scanned int64
	bytes            float64
}

// queryEvent is one event as a query sees it.
type queryEvent struct {
	event
	Account, Group, Stream, Ptr string
}

// queryEvents walks the query's groups' streams over its time range
// (what retention keeps), one stream at a time.
func (s *Service) queryEvents(sc state.Scope, q queryRecord) func(yield func(queryEvent) bool) {
	return func(yield func(queryEvent) bool) {
		ctx := context.Background()
		for _, group := range q.Groups {
			g, recs, err := s.groupStreams(ctx, sc, group)
			if err != nil {
				continue // deleted since the query started
			}
			from, to := s.timeRange(&q.From, &q.To, g.RetentionDays)
			for _, r := range recs {
				key := streamKey{sc.Account, sc.Region, group, r.Name}
				// Streamed: the engine folds events as they come, so a query
				// holds one batch per stream, not its whole range.
				c := s.events.cursor(key, r.identity(), from, to, position{Time: math.MinInt64}, true)
				for e, ok := c.Next(); ok; e, ok = c.Next() {
					if !yield(queryEvent{event: e, Account: sc.Account, Group: group, Stream: r.Name, Ptr: recordPointer(key, e)}) {
						c.Close()
						return
					}
				}
				c.Close()
				if err := c.Err(); err != nil {
					s.cfg.Logger.Warn("logs: query read", "group", group, "stream", r.Name, "err", err)
				}
			}
		}
	}
}

// GetQueryResults answers a query's status, statistics and rows.
func (s *Service) GetQueryResults(ctx context.Context, in *logsapi.GetQueryResultsRequest) (*logsapi.GetQueryResultsResponse, error) {
	rec, err := s.query(ctx, in.QueryId)
	if err != nil {
		return nil, fmt.Errorf("get query results: %w", err)
	}
	results := rec.Results
	if results == nil {
		results = [][]logsapi.ResultField{}
	}
	return &logsapi.GetQueryResultsResponse{Results: results, Status: ptr(rec.Status),
		Statistics: &logsapi.QueryStatistics{RecordsMatched: ptr(rec.Matched), RecordsScanned: ptr(rec.Scanned), BytesScanned: ptr(rec.Bytes)}}, nil
}

func (s *Service) query(ctx context.Context, id *string) (queryRecord, error) {
	if err := required(id, "queryId"); err != nil {
		return queryRecord{}, err
	}
	sc := scopeOf(ctx)
	var rec queryRecord
	err := s.state.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if *id != "" {
			rec, found, err = queries.Get(tx, sc, *id)
		}
		if err != nil || !found {
			return cmpOr(err, errNotFound("Query does not exist."))
		}
		return nil
	})
	if err == nil && rec.Status == "Running" && !s.queries.active(rec.ID) {
		rec.Status = "Failed" // was running when minicloud stopped
	}
	return rec, err
}

// StopQuery cancels a running query.
func (s *Service) StopQuery(ctx context.Context, in *logsapi.StopQueryRequest) (*logsapi.StopQueryResponse, error) {
	rec, err := s.query(ctx, in.QueryId)
	if err != nil {
		return nil, fmt.Errorf("stop query: %w", err)
	}
	if rec.Status != "Running" || !s.queries.cancel(rec.ID) {
		return nil, errInvalid("Query %s is not running.", rec.ID)
	}
	return &logsapi.StopQueryResponse{Success: ptr(true)}, nil
}

// DescribeQueries lists the region's queries, newest first, by group and
// status, in pages.
func (s *Service) DescribeQueries(ctx context.Context, in *logsapi.DescribeQueriesRequest) (*logsapi.DescribeQueriesResponse, error) {
	if err := checkLimit(in.MaxResults, "maxResults", 1000); err != nil {
		return nil, err
	}
	offset, err := untokenOffset("queries", in.NextToken)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var recs []queryRecord
	err = s.state.View(ctx, func(tx state.Tx) error {
		return queries.ForEach(tx, sc, func(_ string, r queryRecord) error {
			if r.Status == "Running" && !s.queries.active(r.ID) {
				r.Status = "Failed"
			}
			if (in.LogGroupName == nil || slices.Contains(r.Groups, *in.LogGroupName)) && (in.Status == nil || r.Status == *in.Status) {
				recs = append(recs, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe queries: %w", err)
	}
	slices.SortStableFunc(recs, func(a, b queryRecord) int { return int(b.Created - a.Created) })
	limit := int(cmpOr(deref(in.MaxResults), 1000))
	out := &logsapi.DescribeQueriesResponse{Queries: []logsapi.QueryInfo{}}
	for i := offset; i < len(recs); i++ {
		if len(out.Queries) == limit {
			out.NextToken = api.PageToken("queries", strconv.Itoa(i))
			break
		}
		r := recs[i]
		out.Queries = append(out.Queries, logsapi.QueryInfo{QueryId: ptr(r.ID), QueryString: ptr(r.Query), Status: ptr(r.Status),
			CreateTime: ptr(r.Created), LogGroupName: ptr(r.Groups[0])})
	}
	return out, nil
}

// recordPointer is an event's @ptr: opaque to clients, it names the
// stream and the event's position.
func recordPointer(k streamKey, e event) string {
	raw := strings.Join([]string{k.Account, k.Region, k.Group, k.Stream, strconv.FormatInt(e.Time, 10), strconv.FormatUint(e.Seq, 10)}, "\x00")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// GetLogRecord answers the event a query's @ptr names, with its fields.
func (s *Service) GetLogRecord(ctx context.Context, in *logsapi.GetLogRecordRequest) (*logsapi.GetLogRecordResponse, error) {
	if err := required(in.LogRecordPointer, "logRecordPointer"); err != nil {
		return nil, err
	}
	bad := errInvalid("The specified logRecordPointer is invalid.")
	raw, err := base64.RawURLEncoding.DecodeString(*in.LogRecordPointer)
	if err != nil {
		return nil, bad
	}
	p := strings.Split(string(raw), "\x00")
	if len(p) != 6 {
		return nil, bad
	}
	t, err1 := strconv.ParseInt(p[4], 10, 64)
	seq, err2 := strconv.ParseUint(p[5], 10, 64)
	sc := scopeOf(ctx)
	if err1 != nil || err2 != nil || p[0] != sc.Account || p[1] != sc.Region {
		return nil, bad
	}
	key := streamKey{p[0], p[1], p[2], p[3]}
	// What the group's retention dropped is gone for every read, as the
	// sweep will make it on disk.
	var g groupRecord
	found := false
	if err := s.state.View(ctx, func(tx state.Tx) error {
		g, found, err = groups.Get(tx, sc, key.Group)
		return err
	}); err != nil {
		return nil, fmt.Errorf("get log record: %w", err)
	}
	if !found || t < retentionCutoff(s.now(), g.RetentionDays) || t == math.MaxInt64 {
		return nil, errNotFound("The specified log record does not exist.")
	}
	evs, err := s.events.events(key, t, t+1)
	if err != nil {
		return nil, fmt.Errorf("get log record: %w", err)
	}
	i := slices.IndexFunc(evs, func(e event) bool { return e.Seq == seq })
	if i < 0 {
		return nil, errNotFound("The specified log record does not exist.")
	}
	e := evs[i]
	return &logsapi.GetLogRecordResponse{LogRecord: map[string]string{
		"@timestamp":     strconv.FormatInt(e.Time, 10),
		"@ingestionTime": strconv.FormatInt(e.Ingest, 10),
		"@message":       e.Message,
		"@logStream":     key.Stream,
		"@log":           key.Account + ":" + key.Group,
	}}, nil
}
