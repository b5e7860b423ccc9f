package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/state"
)

// metricFilterRecord is a metric filter in state.db.
type metricFilterRecord struct {
	Group, Name, Pattern string
	Transformations      []logsapi.MetricTransformation
	Created              int64
}

// subscriptionRecord is a subscription filter in state.db. minicloud
// records it; it delivers to no destination yet.
type subscriptionRecord struct {
	Group, Name, Pattern string
	Destination, Role    string
	Distribution         string
	Created              int64
}

var (
	metricFilters       = state.Table[metricFilterRecord]{Service: "logs", Kind: "metricfilter"}
	subscriptionFilters = state.Table[subscriptionRecord]{Service: "logs", Kind: "subscription"}
)

// AWS's quotas: metric filters and subscription filters per group.
const (
	maxMetricFilters       = 100
	maxSubscriptionFilters = 2
)

// standardUnits are CloudWatch's units (a metric filter's unit).
var standardUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
	"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

func groupMetricFilters(tx state.Tx, sc state.Scope, group string) ([]metricFilterRecord, error) {
	var out []metricFilterRecord
	err := forEachChild(tx, metricFilters, sc, group, func(r metricFilterRecord) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func checkFilterName(v *string) error { return checkName(v, "filterName", 512, plainRune) }

// metricNameRune is the model's [^:*$] for metric names and namespaces.
func metricNameRune(r rune) bool { return r != ':' && r != '*' && r != '$' }

func checkTransformation(t logsapi.MetricTransformation) error {
	for _, m := range []struct {
		v      *string
		member string
	}{{t.MetricName, "metricTransformations.1.member.metricName"}, {t.MetricNamespace, "metricTransformations.1.member.metricNamespace"}} {
		if err := checkName(m.v, m.member, 255, metricNameRune); err != nil {
			return err
		}
	}
	if err := required(t.MetricValue, "metricTransformations.1.member.metricValue"); err != nil {
		return err
	}
	v := *t.MetricValue
	if _, ok := finite(v); !ok && !strings.HasPrefix(v, "$") || len(v) > 100 {
		return errInvalid("Invalid metric value: %s. The metric value must be a number or a reference to a field ($.field or $field).", v)
	}
	if len(t.Dimensions) > 3 {
		return errInvalid("A metric filter can have at most 3 dimensions.")
	}
	if len(t.Dimensions) > 0 && t.DefaultValue != nil {
		return errInvalid("A metric filter with dimensions cannot have a default value.")
	}
	for k, ref := range t.Dimensions {
		if !strings.HasPrefix(ref, "$") {
			return errInvalid("Invalid dimension value for %s: %s. A dimension value must be a field of the filter pattern.", k, ref)
		}
	}
	if t.Unit != nil && !slices.Contains(standardUnits, *t.Unit) {
		return errInvalid("1 validation error detected: Value '%s' at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *t.Unit, strings.Join(standardUnits, ", "))
	}
	return nil
}

// checkFilterOf checks what both kinds of filter are put with: the
// group, the filter's name and a pattern that compiles.
func checkFilterOf(group, name, pattern *string) error {
	if err := checkGroupName(group); err != nil {
		return err
	}
	if err := checkFilterName(name); err != nil {
		return err
	}
	if err := required(pattern, "filterPattern"); err != nil {
		return err
	}
	_, err := compilePattern(pattern)
	return err
}

// PutMetricFilter creates or replaces a group's metric filter (100 at
// most per group, one transformation each).
func (s *Service) PutMetricFilter(ctx context.Context, in *logsapi.PutMetricFilterRequest) (*logsapi.Empty, error) {
	if err := checkFilterOf(in.LogGroupName, in.FilterName, in.FilterPattern); err != nil {
		return nil, err
	}
	if len(in.MetricTransformations) != 1 {
		return nil, errInvalid("1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1 and greater than or equal to 1")
	}
	if err := checkTransformation(in.MetricTransformations[0]); err != nil {
		return nil, err
	}
	sc, group, name := scopeOf(ctx), *in.LogGroupName, *in.FilterName
	rec := metricFilterRecord{Group: group, Name: name, Pattern: *in.FilterPattern, Transformations: in.MetricTransformations, Created: nowMillis(s.now())}
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		existing, err := groupMetricFilters(tx, sc, group)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(existing, func(r metricFilterRecord) bool { return r.Name == name }); i >= 0 {
			rec.Created = existing[i].Created
		} else if len(existing) >= maxMetricFilters {
			return errLimit("Resource limit exceeded.")
		}
		return metricFilters.Put(tx, sc, childID(group, name), rec)
	})
	if err != nil {
		return nil, fmt.Errorf("put metric filter %s: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

// DeleteMetricFilter deletes a metric filter.
func (s *Service) DeleteMetricFilter(ctx context.Context, in *logsapi.DeleteMetricFilterRequest) (*logsapi.Empty, error) {
	if err := s.deleteFilter(ctx, in.LogGroupName, in.FilterName, metricFilters.Prefix); err != nil {
		return nil, fmt.Errorf("delete metric filter: %w", err)
	}
	return &logsapi.Empty{}, nil
}

// DeleteSubscriptionFilter deletes a subscription filter.
func (s *Service) DeleteSubscriptionFilter(ctx context.Context, in *logsapi.DeleteSubscriptionFilterRequest) (*logsapi.Empty, error) {
	if err := s.deleteFilter(ctx, in.LogGroupName, in.FilterName, subscriptionFilters.Prefix); err != nil {
		return nil, fmt.Errorf("delete subscription filter: %w", err)
	}
	return &logsapi.Empty{}, nil
}

func (s *Service) deleteFilter(ctx context.Context, group, name *string, prefix func(state.Scope) string) error {
	if err := checkGroupName(group); err != nil {
		return err
	}
	if err := checkFilterName(name); err != nil {
		return err
	}
	sc := scopeOf(ctx)
	key := prefix(sc) + childID(*group, *name)
	return s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, *group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		if _, found := tx.Get(key); !found {
			return errNotFound("The specified filter does not exist.")
		}
		return tx.Delete(key)
	})
}

// describeFiltersPage is the filter listings' default and largest page.
const describeFiltersPage = 50

// DescribeMetricFilters lists metric filters: a group's (by name prefix)
// or the region's, by metric name and namespace, in pages.
func (s *Service) DescribeMetricFilters(ctx context.Context, in *logsapi.DescribeMetricFiltersRequest) (*logsapi.DescribeMetricFiltersResponse, error) {
	if in.FilterNamePrefix != nil && in.LogGroupName == nil {
		return nil, errInvalid("If you specify filterNamePrefix, you must also specify logGroupName.")
	}
	if (in.MetricName == nil) != (in.MetricNamespace == nil) {
		return nil, errInvalid("If you specify metricName or metricNamespace, you must specify both.")
	}
	if err := checkLimit(in.Limit, "limit", describeFiltersPage); err != nil {
		return nil, err
	}
	after, err := untoken("metricfilters", in.NextToken)
	if err != nil {
		return nil, err
	}
	sc, limit := scopeOf(ctx), int(cmpOr(deref(in.Limit), describeFiltersPage))
	prefix := metricFilters.Prefix(sc)
	if in.LogGroupName != nil {
		prefix += childID(*in.LogGroupName, deref(in.FilterNamePrefix))
	}
	out := &logsapi.DescribeMetricFiltersResponse{MetricFilters: []logsapi.MetricFilter{}}
	err = s.state.View(ctx, func(tx state.Tx) error {
		if in.LogGroupName != nil {
			if _, found, err := groups.Get(tx, sc, *in.LogGroupName); err != nil || !found {
				return cmpOr(err, errNoGroup)
			}
		}
		return scanRecords(tx, prefix, after, func(id string, r metricFilterRecord) (bool, error) {
			t := r.Transformations[0]
			if in.MetricName != nil && (deref(t.MetricName) != *in.MetricName || deref(t.MetricNamespace) != *in.MetricNamespace) {
				return false, nil
			}
			if len(out.MetricFilters) == limit {
				out.NextToken = api.PageToken("metricfilters", id)
				return false, state.ErrStop
			}
			out.MetricFilters = append(out.MetricFilters, logsapi.MetricFilter{FilterName: ptr(r.Name), FilterPattern: ptr(r.Pattern),
				MetricTransformations: r.Transformations, CreationTime: ptr(r.Created), LogGroupName: ptr(r.Group)})
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe metric filters: %w", err)
	}
	return out, nil
}

// scanRecords decodes the records under prefix whose ids sort after
// after. fn is given the id of the last record it took (the page's token
// when it stops) and says whether it took this one.
func scanRecords[T any](tx state.Tx, prefix, after string, fn func(prev string, v T) (bool, error)) error {
	prev := after
	return tx.Scan(prefix, func(key string, raw []byte) error {
		_, _, _, id, ok := state.SplitKey(key)
		if !ok || id <= after {
			return nil
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		took, err := fn(prev, v)
		if took {
			prev = id
		}
		return err
	})
}

// PutSubscriptionFilter records a subscription filter (2 per group, as
// AWS). Nothing is delivered to the destination yet.
func (s *Service) PutSubscriptionFilter(ctx context.Context, in *logsapi.PutSubscriptionFilterRequest) (*logsapi.Empty, error) {
	if err := checkFilterOf(in.LogGroupName, in.FilterName, in.FilterPattern); err != nil {
		return nil, err
	}
	if err := required(in.DestinationArn, "destinationArn"); err != nil {
		return nil, err
	}
	dist := cmpOr(deref(in.Distribution), "ByLogStream")
	if dist != "ByLogStream" && dist != "Random" {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'distribution' failed to satisfy constraint: Member must satisfy enum value set: [Random, ByLogStream]", dist)
	}
	sc, group, name := scopeOf(ctx), *in.LogGroupName, *in.FilterName
	rec := subscriptionRecord{Group: group, Name: name, Pattern: *in.FilterPattern, Destination: *in.DestinationArn,
		Role: deref(in.RoleArn), Distribution: dist, Created: nowMillis(s.now())}
	err := s.state.Update(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, group); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		var names []string
		if err := forEachChild(tx, subscriptionFilters, sc, group, func(r subscriptionRecord) error {
			names = append(names, r.Name)
			return nil
		}); err != nil {
			return err
		}
		if !slices.Contains(names, name) && len(names) >= maxSubscriptionFilters {
			return errLimit("Resource limit exceeded.")
		}
		return subscriptionFilters.Put(tx, sc, childID(group, name), rec)
	})
	if err != nil {
		return nil, fmt.Errorf("put subscription filter %s: %w", name, err)
	}
	return &logsapi.Empty{}, nil
}

// DescribeSubscriptionFilters lists a group's subscription filters.
func (s *Service) DescribeSubscriptionFilters(ctx context.Context, in *logsapi.DescribeSubscriptionFiltersRequest) (*logsapi.DescribeSubscriptionFiltersResponse, error) {
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkLimit(in.Limit, "limit", describeFiltersPage); err != nil {
		return nil, err
	}
	after, err := untoken("subscriptions", in.NextToken)
	if err != nil {
		return nil, err
	}
	sc, limit := scopeOf(ctx), int(cmpOr(deref(in.Limit), describeFiltersPage))
	out := &logsapi.DescribeSubscriptionFiltersResponse{SubscriptionFilters: []logsapi.SubscriptionFilter{}}
	err = s.state.View(ctx, func(tx state.Tx) error {
		if _, found, err := groups.Get(tx, sc, *in.LogGroupName); err != nil || !found {
			return cmpOr(err, errNoGroup)
		}
		prefix := subscriptionFilters.Prefix(sc) + childID(*in.LogGroupName, deref(in.FilterNamePrefix))
		return scanRecords(tx, prefix, after, func(id string, r subscriptionRecord) (bool, error) {
			if len(out.SubscriptionFilters) == limit {
				out.NextToken = api.PageToken("subscriptions", id)
				return false, state.ErrStop
			}
			out.SubscriptionFilters = append(out.SubscriptionFilters, logsapi.SubscriptionFilter{FilterName: ptr(r.Name),
				LogGroupName: ptr(r.Group), FilterPattern: ptr(r.Pattern), DestinationArn: ptr(r.Destination),
				RoleArn: optional(r.Role), Distribution: ptr(r.Distribution), CreationTime: ptr(r.Created)})
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("describe subscription filters: %w", err)
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TestMetricFilter matches messages against a pattern and answers what
// each match extracted (the pattern's named fields, $1… for JSON).
func (s *Service) TestMetricFilter(ctx context.Context, in *logsapi.TestMetricFilterRequest) (*logsapi.TestMetricFilterResponse, error) {
	if err := required(in.FilterPattern, "filterPattern"); err != nil {
		return nil, err
	}
	if n := len(in.LogEventMessages); n < 1 || n > 50 {
		return nil, errInvalid("1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length between 1 and 50")
	}
	pat, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	out := &logsapi.TestMetricFilterResponse{Matches: []logsapi.MetricFilterMatchRecord{}}
	for i, msg := range in.LogEventMessages {
		if m, ok := pat.Match(msg); ok {
			out.Matches = append(out.Matches, logsapi.MetricFilterMatchRecord{EventNumber: ptr(int64(i + 1)),
				EventMessage: ptr(msg), ExtractedValues: m.Extracted()})
		}
	}
	return out, nil
}

// publishFilters turns matching events into datapoints: one per matching
// event (its metricValue, at the event's time, with its dimensions), or
// the defaultValue once for a batch in which nothing matched.
func (s *Service) publishFilters(ctx context.Context, key streamKey, evs []event, filters []metricFilterRecord) error {
	if s.cfg.Metrics == nil || len(filters) == 0 {
		return nil
	}
	var data []metricport.Datum
	for _, f := range filters {
		pat, err := compilePattern(&f.Pattern)
		if err != nil {
			continue // stored patterns compiled when put; a newer compiler may differ
		}
		t := f.Transformations[0]
		matched := false
		for _, e := range evs {
			m, ok := pat.Match(e.Message)
			if !ok {
				continue
			}
			matched = true
			value, ok := metricValue(deref(t.MetricValue), m.Value)
			if !ok {
				continue
			}
			d := metricport.Datum{Namespace: deref(t.MetricNamespace), Name: deref(t.MetricName), Unit: cmpOr(deref(t.Unit), "None"),
				Time: time.UnixMilli(e.Time).UTC(), Value: value}
			complete := true
			for name, ref := range t.Dimensions {
				v, ok := m.Value(ref)
				if !ok || v == "" {
					complete = false
					break
				}
				d.Dims = append(d.Dims, metricport.Dim{Name: name, Value: v})
			}
			if complete {
				data = append(data, d)
			}
		}
		if !matched && t.DefaultValue != nil {
			data = append(data, metricport.Datum{Namespace: deref(t.MetricNamespace), Name: deref(t.MetricName),
				Unit: cmpOr(deref(t.Unit), "None"), Time: time.UnixMilli(evs[len(evs)-1].Time).UTC(), Value: *t.DefaultValue})
		}
	}
	if len(data) == 0 {
		return nil
	}
	return s.cfg.Metrics.Publish(ctx, key.Account, key.Region, data)
}

// metricValue is a transformation's value for one match: a number, or
// the number a field reference selects.
func metricValue(spec string, field func(string) (string, bool)) (float64, bool) {
	if strings.HasPrefix(spec, "$") {
		v, ok := field(spec)
		if !ok {
			return 0, false
		}
		spec = strings.Trim(v, `"`)
	}
	return finite(spec)
}

// finite is s as a finite number: ParseFloat also reads "NaN", "Inf" and
// hexadecimal floats, which no metric can hold.
func finite(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xX") {
		return 0, false
	}
	return f, true
}
