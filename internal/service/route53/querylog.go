package route53

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dns53"
	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/state"
)

// Query logging. A config names a public zone and a CloudWatch Logs group
// in us-east-1 (AWS's rule); every query the DNS server answers from the
// zone is written to the group as AWS writes it: one stream per zone and
// edge location ("<zone ID>/<edge>", minicloud's one edge being
// queryLogEdge), one line per query:
//
//	1.0 2017-12-13T08:15:50.235Z Z123412341234 example.com A NOERROR UDP FRA6 192.168.1.1 -
//
// (format version, time, zone ID, name, type, response code, protocol,
// edge location, resolver IP, EDNS client subnet or "-"). The DNS server
// hands queries to LogQuery, which only queues them; a goroutine writes
// them once a second through logport.Writer.

// queryLogEdge is the edge location minicloud's DNS server logs as.
const queryLogEdge = "MC1"

// maxQueuedQueries bounds the queries waiting to be written; beyond it
// they are dropped (counted in the log), never delaying an answer.
const maxQueuedQueries = 8192

type queryLogRecord struct {
	ID       string `json:"id"`
	ZoneID   string `json:"zoneId"`
	GroupARN string `json:"groupArn"`
}

var queryLogs = state.Table[queryLogRecord]{Service: "route53", Kind: "querylog"}

// logGroupARN is a CloudWatch Logs group's ARN, with or without ":*".
var logGroupARN = regexp.MustCompile(`^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([\w/.#-]{1,512})(:\*)?$`)

// queryLogTarget is where one zone's queries go.
type queryLogTarget struct {
	account, region, group string
}

// queryLogger holds the running state of query logging.
type queryLogger struct {
	writer logport.Writer
	groups logport.Groups

	mu      sync.Mutex
	targets map[string]queryLogTarget // zone ID →
	queue   []dns53.Query
	dropped int
}

// SetLogs connects query logging to CloudWatch Logs: w receives the
// queries, g says whether a config's group exists. Without it, configs
// are refused NoSuchCloudWatchLogsLogGroup and nothing is logged.
func (s *Service) SetLogs(w logport.Writer, g logport.Groups) {
	s.qlog.mu.Lock()
	s.qlog.writer, s.qlog.groups = w, g
	s.qlog.mu.Unlock()
}

// LogQuery queues a query the DNS server answered for the zone's query
// log, if it has one (dns53.Config.OnQuery).
func (s *Service) LogQuery(q dns53.Query) {
	l := &s.qlog
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.targets[q.ZoneID]; !ok || l.writer == nil {
		return
	}
	if len(l.queue) >= maxQueuedQueries {
		l.dropped++
		return
	}
	l.queue = append(l.queue, q)
}

// queryLogLine is a query as AWS's query logs write it.
func queryLogLine(q dns53.Query) string {
	subnet := q.Subnet
	if subnet == "" {
		subnet = "-"
	}
	client := "-"
	if q.Client.IsValid() {
		client = q.Client.String()
	}
	return fmt.Sprintf("1.0 %s %s %s %s %s %s %s %s %s", q.Time.UTC().Format("2006-01-02T15:04:05.000Z"), q.ZoneID, q.Name, q.Type, q.Rcode, q.Protocol, queryLogEdge, client, subnet)
}

// flushQueryLogs writes the queued queries, grouped by zone.
func (s *Service) flushQueryLogs(ctx context.Context) {
	l := &s.qlog
	l.mu.Lock()
	queue, dropped, w := l.queue, l.dropped, l.writer
	l.queue, l.dropped = nil, 0
	byZone := map[string][]logport.Event{}
	targets := map[string]queryLogTarget{}
	for _, q := range queue {
		t, ok := l.targets[q.ZoneID]
		if !ok {
			continue // the config went away meanwhile
		}
		targets[q.ZoneID] = t
		byZone[q.ZoneID] = append(byZone[q.ZoneID], logport.Event{Time: q.Time, Message: queryLogLine(q)})
	}
	l.mu.Unlock()
	if dropped > 0 {
		slog.Warn("route53: query log queue full, queries dropped", "dropped", dropped)
	}
	for zoneID, events := range byZone {
		t := targets[zoneID]
		if err := w.Write(ctx, t.account, t.region, t.group, zoneID+"/"+queryLogEdge, events); err != nil {
			slog.Warn("route53: query log", "zone", zoneID, "group", t.group, "err", err)
		}
	}
}

// runQueryLogs flushes the queue every interval until done is closed.
func (s *Service) runQueryLogs(done <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			s.flushQueryLogs(context.Background())
			return
		case <-t.C:
			s.flushQueryLogs(context.Background())
		}
	}
}

// target is where the config's queries go (false: an ARN that does not
// parse, which CreateQueryLoggingConfig never stores).
func (c *queryLogRecord) target() (queryLogTarget, bool) {
	m := logGroupARN.FindStringSubmatch(c.GroupARN)
	if m == nil {
		return queryLogTarget{}, false
	}
	return queryLogTarget{account: m[2], region: m[1], group: m[3]}, true
}

// reset replaces every zone's target (the service's rebuild from the store).
func (l *queryLogger) reset(targets map[string]queryLogTarget) {
	l.mu.Lock()
	l.targets = targets
	l.mu.Unlock()
}

// set starts (ok) or stops logging a zone's queries.
func (l *queryLogger) set(zoneID string, t queryLogTarget, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.targets == nil {
		l.targets = map[string]queryLogTarget{}
	}
	if ok {
		l.targets[zoneID] = t
	} else {
		delete(l.targets, zoneID)
	}
}

func (c *queryLogRecord) api() *route53api.QueryLoggingConfig {
	return &route53api.QueryLoggingConfig{Id: new(c.ID), HostedZoneId: new(c.ZoneID), CloudWatchLogsLogGroupArn: new(c.GroupARN)}
}

func errNoSuchQueryLog(id string) error {
	return api.Errorf(http.StatusNotFound, "NoSuchQueryLoggingConfig", "There is no DNS query logging configuration with the specified ID: %s", id)
}

// CreateQueryLoggingConfig starts logging a public zone's queries to a
// log group that exists in us-east-1.
func (s *Service) CreateQueryLoggingConfig(ctx context.Context, in *route53api.CreateQueryLoggingConfigRequest) (*route53api.CreateQueryLoggingConfigResponse, error) {
	arn := deref(in.CloudWatchLogsLogGroupArn)
	m := logGroupARN.FindStringSubmatch(arn)
	if m == nil {
		return nil, errInvalidInput("The ARN for the CloudWatch Logs log group is invalid: %s", arn)
	}
	if m[1] != "us-east-1" {
		return nil, errInvalidInput("The CloudWatch Logs log group must be in the us-east-1 region: %s", arn)
	}
	s.qlog.mu.Lock()
	groups := s.qlog.groups
	s.qlog.mu.Unlock()
	exists := false
	if groups != nil {
		var err error
		if exists, err = groups.GroupExists(ctx, m[2], m[1], m[3]); err != nil {
			return nil, fmt.Errorf("route53: query logging group: %w", err)
		}
	}
	if !exists || m[2] != api.Request(ctx).Account {
		return nil, api.Errorf(http.StatusNotFound, "NoSuchCloudWatchLogsLogGroup", "There is no CloudWatch Logs log group with the specified ARN.")
	}
	var c queryLogRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		z, err := getZone(tx, sc, deref(in.HostedZoneId))
		if err != nil {
			return err
		}
		if z.Private {
			return errInvalidInput("Query logging is not supported for private hosted zones: %s", z.ID)
		}
		err = queryLogs.ForEach(tx, sc, func(_ string, o queryLogRecord) error {
			if o.ZoneID == z.ID {
				return api.Errorf(http.StatusConflict, "QueryLoggingConfigAlreadyExists", "You can create only one query logging configuration for a hosted zone, and a query logging configuration already exists for this hosted zone.")
			}
			return nil
		})
		if err != nil {
			return err
		}
		c = queryLogRecord{ID: newHealthCheckID(), ZoneID: z.ID, GroupARN: arn}
		return queryLogs.Put(tx, sc, c.ID, c)
	})
	if err != nil {
		return nil, err
	}
	t, _ := c.target()
	s.qlog.set(c.ZoneID, t, true)
	return &route53api.CreateQueryLoggingConfigResponse{QueryLoggingConfig: c.api(), Location: new("https://route53.amazonaws.com/2013-04-01/queryloggingconfig/" + c.ID)}, nil
}

// GetQueryLoggingConfig returns one config.
func (s *Service) GetQueryLoggingConfig(ctx context.Context, in *route53api.GetQueryLoggingConfigRequest) (*route53api.GetQueryLoggingConfigResponse, error) {
	id := deref(in.Id)
	var c queryLogRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var ok bool
		var err error
		if c, ok, err = queryLogs.Get(tx, sc, id); err == nil && !ok {
			return errNoSuchQueryLog(id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &route53api.GetQueryLoggingConfigResponse{QueryLoggingConfig: c.api()}, nil
}

// ListQueryLoggingConfigs lists the configs (of one zone with
// HostedZoneId) in ID order; NextToken is the next one's ID.
func (s *Service) ListQueryLoggingConfigs(ctx context.Context, in *route53api.ListQueryLoggingConfigsRequest) (*route53api.ListQueryLoggingConfigsResponse, error) {
	n, err := maxItems(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	var list []queryLogRecord
	err = s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		if in.HostedZoneId != nil {
			if _, err := getZone(tx, sc, *in.HostedZoneId); err != nil {
				return err
			}
		}
		list, err = queryLogs.List(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	zone, next := stripPrefix(in.HostedZoneId, "/hostedzone/"), deref(in.NextToken)
	out := &route53api.ListQueryLoggingConfigsResponse{QueryLoggingConfigs: []route53api.QueryLoggingConfig{}}
	for _, c := range list {
		if c.ID < next || (zone != "" && c.ZoneID != zone) {
			continue
		}
		if len(out.QueryLoggingConfigs) == n {
			out.NextToken = new(c.ID)
			break
		}
		out.QueryLoggingConfigs = append(out.QueryLoggingConfigs, *c.api())
	}
	return out, nil
}

// DeleteQueryLoggingConfig stops logging a zone's queries (the group and
// what it holds stay, as on AWS).
func (s *Service) DeleteQueryLoggingConfig(ctx context.Context, in *route53api.DeleteQueryLoggingConfigRequest) (*route53api.DeleteQueryLoggingConfigResponse, error) {
	id := deref(in.Id)
	var c queryLogRecord
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		var ok bool
		var err error
		if c, ok, err = queryLogs.Get(tx, sc, id); err != nil {
			return err
		} else if !ok {
			return errNoSuchQueryLog(id)
		}
		return queryLogs.Delete(tx, sc, id)
	})
	if err != nil {
		return nil, err
	}
	s.qlog.set(c.ZoneID, queryLogTarget{}, false)
	return &route53api.DeleteQueryLoggingConfigResponse{}, nil
}
