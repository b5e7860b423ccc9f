package cloudwatch

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"time"
)

// Layout, in pixels.
const (
	pad       = 8  // around the image's edge
	lineWidth = 2  // of a metric line
	legendRow = 16 // a legend entry's height
	swatch    = 10 // a legend entry's colour square
)

// noData is what AWS writes on a widget none of whose lines has a
// datapoint in the range.
const noData = "No data available."

var (
	gridColor = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	axisColor = color.RGBA{0x55, 0x55, 0x55, 0xff}
)

// entry is one result as the views and the legend show it.
type entry struct {
	label string
	s     *series
	style lineStyle
}

// last is the entry's latest finite value.
func (e entry) last() (float64, bool) {
	for k := len(e.s.vs) - 1; k >= 0; k-- {
		if v := e.s.vs[k]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	return 0, false
}

// render draws the widget: title, legend, and the view in what is left.
func (w *metricWidget) render(results []result, styles map[string]*lineStyle, start, end time.Time) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w.Width, w.Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	var entries []entry
	seen := map[string]bool{}
	for i, r := range results {
		st := lineStyle{color: parseColor(palette[i%len(palette)])}
		if s := styles[r.id]; s != nil {
			st = *s
		}
		if seen[r.id] {
			// The second and later series of one expression (METRICS())
			// take the palette's colour of their place.
			st.color = parseColor(palette[i%len(palette)])
		}
		seen[r.id] = true
		entries = append(entries, entry{label: r.label, s: r.s, style: st})
	}
	area := img.Bounds().Inset(pad)
	if w.Title != "" {
		drawBold(img, area.Min.X, area.Min.Y, fitText(w.Title, area.Dx()-1), titleColor)
		area.Min.Y += glyphH + pad
	}
	if area.Empty() {
		return img
	}
	if w.View != "singleValue" {
		area = w.legend(img, area, entries)
	}
	if area.Dx() < 20 || area.Dy() < 20 {
		return img
	}
	has := false
	for _, e := range entries {
		if _, ok := e.last(); ok {
			has = true
		}
	}
	switch {
	case !has && w.View != "" && w.View != "timeSeries":
		centerText(img, area, noData, mutedColor)
	case w.View == "singleValue":
		singleValue(img, area, entries)
	case w.View == "bar":
		bars(img, area, entries)
	case w.View == "pie":
		pie(img, area, entries)
	case w.View == "gauge":
		gauge(img, area, entries, w.YAxis.Left)
	default:
		w.timeSeries(img, area, entries, start, end, has)
	}
	return img
}

// centerText writes s in the middle of r.
func centerText(img *image.RGBA, r image.Rectangle, s string, c color.RGBA) {
	s = fitText(s, r.Dx())
	drawText(img, r.Min.X+(r.Dx()-textWidth(s))/2, r.Min.Y+(r.Dy()-glyphH)/2, s, c)
}

// legendText is an entry's name in the legend: its label, and for the bar
// and pie views its value.
func (w *metricWidget) legendText(e entry) string {
	if w.View == "bar" || w.View == "pie" {
		if v, ok := e.last(); ok {
			return e.label + " " + shortValue(v)
		}
	}
	return e.label
}

// legend draws a colour square and name per entry and horizontal
// annotation with a label, under area (legend.position "bottom", the
// default, wrapping into rows) or at its right ("right", one a row, a
// third of the width at most), or nowhere ("hidden"); it answers the rest
// of area.
func (w *metricWidget) legend(img *image.RGBA, area image.Rectangle, entries []entry) image.Rectangle {
	type item struct {
		text string
		c    color.RGBA
	}
	var items []item
	for _, e := range entries {
		items = append(items, item{w.legendText(e), e.style.color})
	}
	for _, a := range w.Annotations.Horizontal {
		if a.Label != "" {
			items = append(items, item{a.Label, parseColor(cmpOrString(a.Color, defaultAnnotation))})
		}
	}
	if len(items) == 0 || w.Legend.Position == "hidden" {
		return area
	}
	const itemGap = 16
	draw1 := func(x, y, width int, it item) {
		fillRect(img, image.Rect(x, y+3, x+swatch, y+3+swatch), it.c)
		drawText(img, x+swatch+4, y+1, fitText(it.text, width-swatch-4), textColor)
	}
	if w.Legend.Position == "right" {
		width := 0
		for _, it := range items {
			width = max(width, swatch+4+textWidth(it.text))
		}
		width = min(width, area.Dx()/3)
		x := area.Max.X - width
		for i, it := range items {
			y := area.Min.Y + i*legendRow
			if y+legendRow > area.Max.Y {
				break
			}
			draw1(x, y, width, it)
		}
		area.Max.X = x - pad
		return area
	}
	// Bottom: place the rows first, to know how high they are.
	type placed struct {
		x, row, width int
		it            item
	}
	var ps []placed
	x, row := area.Min.X, 0
	for _, it := range items {
		width := min(swatch+4+textWidth(it.text), area.Dx())
		if x > area.Min.X && x+width > area.Max.X {
			x, row = area.Min.X, row+1
		}
		ps = append(ps, placed{x, row, width, it})
		x += width + itemGap
	}
	rows := min(row+1, max(1, area.Dy()/(3*legendRow)))
	top := area.Max.Y - rows*legendRow
	for _, p := range ps {
		if p.row < rows {
			draw1(p.x, top+p.row*legendRow, p.width, p.it)
		}
	}
	area.Max.Y = top - 4
	return area
}

// yAxis is the scale of one y axis.
type yAxis struct {
	lo, hi, step float64
	ticks        []float64
	labels       []string
	width        int    // of the widest tick label
	title        string // label and unit, written along the axis
	used         bool
}

// newYAxis scales an axis to data from lo to hi (hi < lo: none) for n
// intervals or fewer: from zero or below, 5% headroom, then out to whole
// steps, unless min or max are given. Its title is the axis' label and,
// when its lines share one unit and showUnits is not false, that unit.
func newYAxis(o axisOptions, lo, hi float64, n int, lines []entry) yAxis {
	if hi < lo {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.05
	step := niceStep(hi-lo, n)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	lo, hi = o.bounds(lo, hi)
	a := yAxis{lo: lo, hi: hi, step: niceStep(hi-lo, n), used: true}
	a.ticks = yTicks(a.lo, a.hi, a.step)
	largest := math.Max(math.Abs(a.lo), math.Abs(a.hi))
	for _, t := range a.ticks {
		l := formatTick(t, a.step, largest)
		a.labels = append(a.labels, l)
		a.width = max(a.width, textWidth(l))
	}
	unit := ""
	for i, e := range lines {
		if i > 0 && e.style.unit != unit {
			unit = ""
			break
		}
		unit = e.style.unit
	}
	a.title = o.Label
	if unit != "" && unit != "None" && (o.ShowUnits == nil || *o.ShowUnits) {
		a.title = strings.TrimSpace(a.title + " " + unit)
	}
	return a
}

// plot maps times and values to pixels of the plot area for one y axis.
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

// on is p for axis a.
func (p plot) on(a yAxis) *plot {
	p.lo, p.hi = a.lo, a.hi
	return &p
}

const defaultAnnotation = "#d62728"

// timeSeries draws lines (or stacked areas) on the left axis and, for
// lines that ask, the right one, with the axes' numbers and titles, time
// labels, and annotations; "No data available." over empty axes.
func (w *metricWidget) timeSeries(img *image.RGBA, area image.Rectangle, entries []entry, start, end time.Time, has bool) {
	// Stacked: each series drawn on the sum of those before it on its
	// axis, per time.
	type line struct {
		ts    []time.Time
		lo    []float64
		hi    []float64
		c     color.RGBA
		right bool
	}
	var lines []line
	var sides [2][]entry
	base := [2]map[int64]float64{{}, {}}
	lo, hi := [2]float64{math.Inf(1), math.Inf(1)}, [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, e := range entries {
		side := 0
		if e.style.right {
			side = 1
		}
		sides[side] = append(sides[side], e)
		l := line{c: e.style.color, right: e.style.right}
		for k, t := range e.s.ts {
			v := e.s.vs[k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			b := 0.0
			if w.Stacked {
				b = base[side][t]
				base[side][t] += v
			}
			l.ts, l.lo, l.hi = append(l.ts, time.Unix(t, 0)), append(l.lo, b), append(l.hi, b+v)
			lo[side], hi[side] = math.Min(lo[side], b+v), math.Max(hi[side], b+v)
		}
		lines = append(lines, l)
	}
	for _, a := range w.Annotations.Horizontal {
		lo[0], hi[0] = math.Min(lo[0], a.Value), math.Max(hi[0], a.Value)
	}

	y0, y1 := area.Min.Y+glyphH/2, area.Max.Y-glyphH-6
	if y1-y0 < 10 {
		return
	}
	n := max(2, (y1-y0)/40)
	left := newYAxis(w.YAxis.Left, lo[0], hi[0], n, sides[0])
	right := yAxis{}
	if len(sides[1]) > 0 {
		right = newYAxis(w.YAxis.Right, lo[1], hi[1], n, sides[1])
		// With every line on the right and nothing else on the left, the
		// left axis has no numbers (the grid follows the right one).
		if len(sides[0]) == 0 && len(w.Annotations.Horizontal) == 0 && w.YAxis.Left.Label == "" {
			left = yAxis{lo: right.lo, hi: right.hi, ticks: right.ticks, labels: make([]string, len(right.ticks))}
		}
	}
	x0 := area.Min.X + left.width + 6
	if left.title != "" {
		x0 += glyphH + 4
	}
	x1 := area.Max.X - textWidth("00:00")/2
	if right.used {
		x1 = area.Max.X - right.width - 6
		if right.title != "" {
			x1 -= glyphH + 4
		}
	}
	if x1-x0 < 10 {
		return
	}
	p := &plot{img: img, x0: x0, y0: y0, x1: x1, y1: y1, start: start, end: end}
	if !end.After(start) {
		return
	}
	pl := p.on(left)

	// Grid and the axes' numbers (the right axis' numbers at its own
	// values' heights, without grid lines of their own).
	if has {
		for i, t := range left.ticks {
			y := int(math.Round(pl.y(t)))
			if t != left.lo {
				hline(img, x0, x1, y, gridColor)
			}
			drawText(img, x0-6-textWidth(left.labels[i]), y-glyphH/2, left.labels[i], textColor)
		}
		if right.used {
			pr := p.on(right)
			for i, t := range right.ticks {
				drawText(img, x1+6, int(math.Round(pr.y(t)))-glyphH/2, right.labels[i], textColor)
			}
		}
	}
	if left.title != "" {
		drawVertical(img, area.Min.X+glyphH/2, (y0+y1)/2, fitText(left.title, y1-y0), textColor)
	}
	if right.used && right.title != "" {
		drawVertical(img, area.Max.X-glyphH/2, (y0+y1)/2, fitText(right.title, y1-y0), textColor)
	}

	for _, a := range w.Annotations.Horizontal {
		c := parseColor(cmpOrString(a.Color, defaultAnnotation))
		y := int(math.Round(pl.y(a.Value)))
		fill := c
		fill.A = 0x30
		switch a.Fill {
		case "above":
			pl.fill(x0, y0, x1, y, fill)
		case "below":
			pl.fill(x0, y, x1, y1, fill)
		}
		if y >= y0 && y <= y1 {
			hline(img, x0, x1, y, c)
		}
	}
	for _, a := range w.Annotations.Vertical {
		t, err := time.Parse(time.RFC3339, a.Value)
		if err != nil || t.Before(start) || t.After(end) {
			continue
		}
		c := parseColor(cmpOrString(a.Color, defaultAnnotation))
		x := int(math.Round(pl.x(t)))
		for y := y0; y <= y1; y++ {
			img.Set(x, y, c)
		}
		if a.Label != "" {
			drawText(img, x+3, y0, fitText(a.Label, x1-x-3), c)
		}
	}
	for _, l := range lines {
		q := pl
		if l.right {
			q = p.on(right)
		}
		if w.Stacked {
			fill := l.c
			fill.A = 0x60
			for k := 1; k < len(l.ts); k++ {
				q.area(l.ts[k-1], l.ts[k], l.lo[k-1], l.hi[k-1], l.lo[k], l.hi[k], fill)
			}
		}
		for k := range l.ts {
			x, y := q.x(l.ts[k]), q.y(l.hi[k])
			if k == 0 {
				q.dot(x, y, l.c)
				continue
			}
			q.segment(q.x(l.ts[k-1]), q.y(l.hi[k-1]), x, y, l.c)
		}
	}

	hline(img, x0, x1, y1, axisColor)
	for y := y0; y <= y1; y++ {
		img.Set(x0, y, axisColor)
		if right.used {
			img.Set(x1, y, axisColor)
		}
	}
	for _, tk := range timeTicks(start, end, widgetZone(w.Timezone), x1-x0) {
		x := int(math.Round(pl.x(tk.t)))
		for y := y1; y <= y1+3; y++ {
			img.Set(x, y, axisColor)
		}
		lx := x - textWidth(tk.label)/2
		if lx >= area.Min.X && lx+textWidth(tk.label) <= img.Bounds().Max.X {
			drawText(img, lx, y1+5, tk.label, textColor)
		}
	}
	if !has {
		centerText(img, image.Rect(x0, y0, x1, y1), noData, mutedColor)
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

// fillRect paints r with c.
func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
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
