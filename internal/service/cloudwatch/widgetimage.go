package cloudwatch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/cloudwatchapi"
)

// metricWidget is GetMetricWidgetImage's MetricWidget ("Metric Widget
// Structure and Syntax"): the metric widget's properties plus the image's
// size and time range. Members it does not draw yet (title, labels and
// the legend's text, timezone) are accepted.
type metricWidget struct {
	Metrics [][]any `json:"metrics"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	Start   string  `json:"start"`
	End     string  `json:"end"`
	Period  int32   `json:"period"`
	Stat    string  `json:"stat"`
	Stacked bool    `json:"stacked"`
	View    string  `json:"view"`
	Title   string  `json:"title"`
	YAxis   struct {
		Left struct{ Min, Max *float64 } `json:"left"`
	} `json:"yAxis"`
	Annotations struct {
		Horizontal []struct {
			Value float64 `json:"value"`
			Color string  `json:"color"`
			Fill  string  `json:"fill"`
		} `json:"horizontal"`
		Vertical []struct {
			Value string `json:"value"`
			Color string `json:"color"`
		} `json:"vertical"`
	} `json:"annotations"`
}

// palette is the console's default line colours, in order.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// GetMetricWidgetImage draws a metric widget's lines (or stacked areas)
// over its time range, with horizontal and vertical annotations, as a
// PNG. Text (title, axis labels, legend names) is not drawn yet: the
// standard library has no font, see NOTES-CW.md.
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
	queries, colors := w.queries()
	qs, err := s.dataQueries(ctx, &cloudwatchapi.GetMetricDataInput{MetricDataQueries: queries, StartTime: &start, EndTime: &end})
	if err != nil {
		return nil, err
	}
	results, err := s.evaluate(qs, start, end)
	if err != nil {
		return nil, err
	}
	img := w.draw(results, colors, start, end)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode widget image: %w", err)
	}
	return &cloudwatchapi.GetMetricWidgetImageOutput{MetricWidgetImage: buf.Bytes()}, nil
}

var isoDuration = regexp.MustCompile(`^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

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
// by query id (the console's palette in line order, unless "color").
func (w *metricWidget) queries() ([]cloudwatchapi.MetricDataQuery, map[string]color.RGBA) {
	var out []cloudwatchapi.MetricDataQuery
	colors := map[string]color.RGBA{}
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
		colors[*q.Id] = parseColor(cmpOrString(c, palette[i%len(palette)]))
	}
	return out, colors
}

// parseColor reads "#rrggbb"; anything else is the console's grey.
func parseColor(s string) color.RGBA {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.RGBA{0x7f, 0x7f, 0x7f, 0xff}
	}
	return color.RGBA{r, g, b, 0xff}
}

// Image layout, in pixels.
const (
	marginLeft, marginRight, marginTop, marginBottom = 50, 20, 20, 40
	lineWidth                                        = 2
)

// plot maps times and values to pixels of the plot area.
type plot struct {
	img            *image.RGBA
	x0, y0, x1, y1 int // plot area: x0..x1 left to right, y0 top, y1 bottom
	start, end     time.Time
	lo, hi         float64
}

func (p *plot) x(t time.Time) float64 {
	return float64(p.x0) + float64(p.x1-p.x0)*t.Sub(p.start).Seconds()/p.end.Sub(p.start).Seconds()
}

func (p *plot) y(v float64) float64 {
	return float64(p.y1) - float64(p.y1-p.y0)*(v-p.lo)/(p.hi-p.lo)
}

// draw paints the widget: white ground, grid, lines or stacked areas,
// annotations, axes, and a legend of colour swatches.
func (w *metricWidget) draw(results []result, colors map[string]color.RGBA, start, end time.Time) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w.Width, w.Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	p := &plot{img: img, x0: marginLeft, y0: marginTop, x1: w.Width - marginRight, y1: w.Height - marginBottom, start: start, end: end}
	if p.x1 <= p.x0 || p.y1 <= p.y0 || !end.After(start) {
		return img
	}
	// Stacked: each series drawn on the sum of those before it, per time.
	type line struct {
		ts   []time.Time
		lo   []float64
		hi   []float64
		c    color.RGBA
		area bool
	}
	var lines []line
	base := map[int64]float64{}
	p.lo, p.hi = 0, math.Inf(-1)
	for _, r := range results {
		l := line{c: colors[r.id], area: w.Stacked}
		for k, t := range r.s.ts {
			v := r.s.vs[k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			b := 0.0
			if w.Stacked {
				b = base[t]
				base[t] += v
			}
			l.ts, l.lo, l.hi = append(l.ts, time.Unix(t, 0)), append(l.lo, b), append(l.hi, b+v)
			p.lo, p.hi = math.Min(p.lo, b+v), math.Max(p.hi, b+v)
		}
		lines = append(lines, l)
	}
	for _, a := range w.Annotations.Horizontal {
		p.lo, p.hi = math.Min(p.lo, a.Value), math.Max(p.hi, a.Value)
	}
	if math.IsInf(p.hi, -1) || p.hi <= p.lo {
		p.hi = p.lo + 1
	}
	p.hi += (p.hi - p.lo) * 0.05 // headroom, so the top line is not on the frame
	if w.YAxis.Left.Min != nil {
		p.lo = *w.YAxis.Left.Min
	}
	if w.YAxis.Left.Max != nil && *w.YAxis.Left.Max > p.lo {
		p.hi = *w.YAxis.Left.Max
	}

	grid := color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	for i := 0; i <= 4; i++ {
		y := p.y0 + (p.y1-p.y0)*i/4
		hline(img, p.x0, p.x1, y, grid)
	}
	for _, a := range w.Annotations.Horizontal {
		c := parseColor(cmpOrString(a.Color, "#d62728"))
		y := int(math.Round(p.y(a.Value)))
		fill := c
		fill.A = 0x30
		switch a.Fill {
		case "above":
			p.fill(p.x0, max(p.y0, 0), p.x1, y, fill)
		case "below":
			p.fill(p.x0, y, p.x1, p.y1, fill)
		}
		hline(img, p.x0, p.x1, y, c)
	}
	for _, a := range w.Annotations.Vertical {
		t, err := time.Parse(time.RFC3339, a.Value)
		if err != nil || t.Before(start) || t.After(end) {
			continue
		}
		c := parseColor(cmpOrString(a.Color, "#d62728"))
		x := int(math.Round(p.x(t)))
		for y := p.y0; y <= p.y1; y++ {
			img.Set(x, y, c)
		}
	}
	for _, l := range lines {
		if l.area {
			fill := l.c
			fill.A = 0x60
			for k := 1; k < len(l.ts); k++ {
				p.area(l.ts[k-1], l.ts[k], l.lo[k-1], l.hi[k-1], l.lo[k], l.hi[k], fill)
			}
		}
		for k := range l.ts {
			x, y := p.x(l.ts[k]), p.y(l.hi[k])
			if k == 0 {
				p.dot(x, y, l.c)
				continue
			}
			p.segment(p.x(l.ts[k-1]), p.y(l.hi[k-1]), x, y, l.c)
		}
	}
	axis := color.RGBA{0x55, 0x55, 0x55, 0xff}
	hline(img, p.x0, p.x1, p.y1, axis)
	for y := p.y0; y <= p.y1; y++ {
		img.Set(p.x0, y, axis)
	}
	// Legend: a swatch per visible series, under the plot.
	for i, l := range lines {
		x := p.x0 + i*20
		if x+12 > p.x1 {
			break
		}
		p.fill(x, p.y1+20, x+12, p.y1+32, l.c)
	}
	return img
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

// fill blends c over the rectangle [x0, x1) × [y0, y1).
func (p *plot) fill(x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(p.img, image.Rect(x0, y0, x1, y1), image.NewUniform(premultiply(c)), image.Point{}, draw.Over)
}

func premultiply(c color.RGBA) color.RGBA {
	a := uint16(c.A)
	return color.RGBA{uint8(uint16(c.R) * a / 255), uint8(uint16(c.G) * a / 255), uint8(uint16(c.B) * a / 255), c.A}
}

// area fills, column by column, between two interpolated edges.
func (p *plot) area(t0, t1 time.Time, lo0, hi0, lo1, hi1 float64, c color.RGBA) {
	xa, xb := int(math.Round(p.x(t0))), int(math.Round(p.x(t1)))
	// [xa, xb): the next interval starts at xb, and a column filled twice
	// would be darker.
	for x := xa; x < xb; x++ {
		f := 0.0
		if xb > xa {
			f = float64(x-xa) / float64(xb-xa)
		}
		top := int(math.Round(p.y(hi0 + (hi1-hi0)*f)))
		bottom := int(math.Round(p.y(lo0 + (lo1-lo0)*f)))
		p.fill(x, max(top, p.y0), x+1, min(bottom, p.y1), c)
	}
}

// segment draws a line lineWidth pixels thick, clipped to the plot area.
func (p *plot) segment(xa, ya, xb, yb float64, c color.RGBA) {
	n := int(math.Max(math.Abs(xb-xa), math.Abs(yb-ya))) + 1
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		p.dot(xa+(xb-xa)*f, ya+(yb-ya)*f, c)
	}
}

func (p *plot) dot(x, y float64, c color.RGBA) {
	cx, cy := int(math.Round(x)), int(math.Round(y))
	for dx := 0; dx < lineWidth; dx++ {
		for dy := 0; dy < lineWidth; dy++ {
			px, py := cx+dx-lineWidth/2, cy+dy-lineWidth/2
			if px >= p.x0 && px <= p.x1 && py >= p.y0 && py <= p.y1 {
				p.img.SetRGBA(px, py, c)
			}
		}
	}
}
