package cloudwatch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// metricWidget is GetMetricWidgetImage's MetricWidget ("Metric Widget
// Structure and Syntax"): the metric widget's properties plus the image's
// size and time range. Members it does not draw (liveData, sparkline,
// trend, region, accountId) are accepted and ignored.
type metricWidget struct {
	Metrics              [][]any `json:"metrics"`
	Width                int     `json:"width"`
	Height               int     `json:"height"`
	Start                string  `json:"start"`
	End                  string  `json:"end"`
	Period               int32   `json:"period"`
	Stat                 string  `json:"stat"`
	Stacked              bool    `json:"stacked"`
	View                 string  `json:"view"`
	Title                string  `json:"title"`
	Timezone             string  `json:"timezone"`
	SetPeriodToTimeRange bool    `json:"setPeriodToTimeRange"`
	Legend               struct {
		Position string `json:"position"` // bottom (default), right, hidden
	} `json:"legend"`
	YAxis struct {
		Left, Right axisOptions
	} `json:"yAxis"`
	Annotations struct {
		Horizontal []struct {
			Value float64 `json:"value"`
			Label string  `json:"label"`
			Color string  `json:"color"`
			Fill  string  `json:"fill"`
		} `json:"horizontal"`
		Vertical []struct {
			Value string `json:"value"`
			Label string `json:"label"`
			Color string `json:"color"`
		} `json:"vertical"`
	} `json:"annotations"`
}

// axisOptions is yAxis.left or yAxis.right.
type axisOptions struct {
	Min       *float64 `json:"min"`
	Max       *float64 `json:"max"`
	Label     string   `json:"label"`
	ShowUnits *bool    `json:"showUnits"`
}

// bounds are an axis' ends: the widget's min and max where it sets them
// (a max at or under the min is ignored), else lo and hi; never empty.
func (o axisOptions) bounds(lo, hi float64) (float64, float64) {
	if o.Min != nil {
		lo = *o.Min
	}
	if o.Max != nil && *o.Max > lo {
		hi = *o.Max
	}
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// lineStyle is how one metric line (query id) is drawn.
type lineStyle struct {
	color color.RGBA
	right bool   // on the right y axis
	unit  string // the unit of its data, if one
}

// palette is the console's default line colours, in order.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// GetMetricWidgetImage draws a metric widget as a PNG: the timeSeries
// view (lines or stacked areas on one or two y axes, annotations, time
// labels), or singleValue, bar, pie or gauge; with its title and legend.
func (s *Service) GetMetricWidgetImage(ctx context.Context, in *cloudwatchapi.GetMetricWidgetImageInput) (*cloudwatchapi.GetMetricWidgetImageOutput, error) {
	if in.MetricWidget == nil {
		return nil, errMissing("The parameter MetricWidget is required.")
	}
	if f := deref(in.OutputFormat); f != "" && f != "png" && f != "image/png" {
		return nil, errValue("The value %s for parameter OutputFormat is invalid. Only png is supported.", f)
	}
	var w metricWidget
	if err := json.Unmarshal([]byte(*in.MetricWidget), &w); err != nil {
		return nil, errValue("The parameter MetricWidget must be a valid JSON object: %v", err)
	}
	if msgs := validateDashboardBody(fmt.Sprintf(`{"widgets":[{"type":"metric","properties":%s}]}`, *in.MetricWidget)); len(msgs) > 0 {
		m := msgs[0]
		return nil, errValue("The parameter MetricWidget is invalid: %s %s", strings.TrimPrefix(m.DataPath, "/widgets/0/properties"), m.Message)
	}
	now := s.now()
	start, err := widgetTime(w.Start, now, -3*time.Hour)
	if err != nil {
		return nil, err
	}
	end, err := widgetTime(w.End, now, 0)
	if err != nil {
		return nil, err
	}
	w.Width, w.Height = cmp.Or(w.Width, 600), cmp.Or(w.Height, 400)
	if w.Width < 1 || w.Width > 2000 || w.Height < 1 || w.Height > 2000 {
		return nil, errValue("The parameters width and height of MetricWidget must be between 1 and 2000.")
	}
	if w.SetPeriodToTimeRange && w.View != "" && w.View != "timeSeries" && end.After(start) {
		// One period over the whole range, in whole minutes, as the
		// console asks for a bar, pie or number of the range.
		w.Period = int32((end.Sub(start) + time.Minute - 1) / time.Minute * 60)
	}
	queries, styles := w.queries()
	qs, err := s.dataQueries(ctx, &cloudwatchapi.GetMetricDataInput{MetricDataQueries: queries, StartTime: &start, EndTime: &end})
	if err != nil {
		return nil, err
	}
	results, err := s.evaluate(qs, start, end)
	if err != nil {
		return nil, err
	}
	s.lineUnits(qs, styles, start, end)
	img := w.render(results, styles, start, end)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode widget image: %w", err)
	}
	return &cloudwatchapi.GetMetricWidgetImageOutput{MetricWidgetImage: buf.Bytes()}, nil
}

// lineUnits notes the unit of each metric line whose data in [start,
// end) are in one unit (the one asked for, else the one stored), for the
// axis labels.
func (s *Service) lineUnits(qs []*dataQuery, styles map[string]*lineStyle, start, end time.Time) {
	for _, dq := range qs {
		st := styles[deref(dq.in.Id)]
		if dq.expr != nil || st == nil {
			continue
		}
		if dq.q.Unit != "" {
			st.unit = dq.q.Unit
			continue
		}
		q := dq.q
		q.SplitUnits = true
		units := map[string]bool{}
		for _, p := range s.store.Query(q) {
			units[p.Unit] = true
		}
		if len(units) == 1 {
			for u := range units {
				st.unit = u
			}
		}
	}
}

var isoDuration = lazyregexp.New(`^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// widgetTime reads a widget's start or end: empty (def from now),
// "now", a negative ISO 8601 duration ("-PT3H", "-P7D") or a timestamp.
func widgetTime(v string, now time.Time, def time.Duration) (time.Time, error) {
	switch {
	case v == "":
		return now.Add(def), nil
	case v == "now":
		return now, nil
	}
	if m := isoDuration.FindStringSubmatch(v); m != nil && v != "-P" && v != "-PT" {
		var d time.Duration
		for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errValue("The value %s of MetricWidget start or end is neither a relative ISO 8601 duration nor a timestamp.", v)
	}
	return t.UTC(), nil
}

// queries turns the metric lines into GetMetricData queries, expanding
// "." (the line above's item at that place) and "..." (as many of the line
// above's first items as make the line as long), and the colour of each
// by query id (the console's palette in line order, unless "color"), and
// its axis.
func (w *metricWidget) queries() ([]cloudwatchapi.MetricDataQuery, map[string]*lineStyle) {
	var out []cloudwatchapi.MetricDataQuery
	styles := map[string]*lineStyle{}
	var prev []string
	for i, line := range w.Metrics {
		var items []string
		opts := map[string]any{}
		for j, it := range line {
			switch it := it.(type) {
			case string:
				switch {
				case it == "..." && j == 0:
					rest := 0
					for _, x := range line[1:] {
						if _, ok := x.(string); ok {
							rest++
						}
					}
					items = append(items, prev[:max(0, min(len(prev), len(prev)-rest))]...)
				case it == "." && j < len(prev):
					items = append(items, prev[j])
				default:
					items = append(items, it)
				}
			case map[string]any:
				opts = it
			}
		}
		prev = items
		q := cloudwatchapi.MetricDataQuery{Id: ptr(fmt.Sprintf("m%d", i+1))}
		if id, ok := opts["id"].(string); ok {
			q.Id = ptr(id)
		}
		if l, ok := opts["label"].(string); ok {
			q.Label = ptr(l)
		}
		if v, ok := opts["visible"].(bool); ok && !v {
			q.ReturnData = ptr(false)
		}
		if e, ok := opts["expression"].(string); ok {
			q.Expression = ptr(e)
		} else if len(items) >= 2 {
			m := cloudwatchapi.Metric{Namespace: ptr(items[0]), MetricName: ptr(items[1])}
			for k := 2; k+1 < len(items); k += 2 {
				m.Dimensions = append(m.Dimensions, cloudwatchapi.Dimension{Name: ptr(items[k]), Value: ptr(items[k+1])})
			}
			stat, _ := opts["stat"].(string)
			period := w.Period
			if p, ok := opts["period"].(float64); ok {
				period = int32(p)
			}
			q.MetricStat = &cloudwatchapi.MetricStat{Metric: &m, Stat: ptr(cmpOrString(stat, cmpOrString(w.Stat, "Average"))), Period: ptr(cmp.Or(period, 300))}
		}
		out = append(out, q)
		c, _ := opts["color"].(string)
		axis, _ := opts["yAxis"].(string)
		styles[*q.Id] = &lineStyle{color: parseColor(cmpOrString(c, palette[i%len(palette)])), right: axis == "right"}
	}
	return out, styles
}

// parseColor reads "#rrggbb"; anything else is the console's grey.
func parseColor(s string) color.RGBA {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.RGBA{0x7f, 0x7f, 0x7f, 0xff}
	}
	return color.RGBA{r, g, b, 0xff}
}
