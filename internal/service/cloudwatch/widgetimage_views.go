package cloudwatch

import (
	"image"
	"image/color"
	"math"
)

// singleValue draws each line's latest value, large, under its label,
// in a grid of cells (150 pixels wide or more).
func singleValue(img *image.RGBA, area image.Rectangle, entries []entry) {
	if len(entries) == 0 {
		return
	}
	cols := max(1, min(len(entries), area.Dx()/150))
	rows := (len(entries) + cols - 1) / cols
	cw, ch := area.Dx()/cols, area.Dy()/rows
	for i, e := range entries {
		cell := image.Rect(area.Min.X+(i%cols)*cw, area.Min.Y+(i/cols)*ch, area.Min.X+(i%cols+1)*cw, area.Min.Y+(i/cols+1)*ch)
		fillRect(img, image.Rect(cell.Min.X, cell.Min.Y+3, cell.Min.X+swatch, cell.Min.Y+3+swatch), e.style.color)
		drawText(img, cell.Min.X+swatch+4, cell.Min.Y+1, fitText(e.label, cell.Dx()-swatch-8), mutedColor)
		text := "-"
		if v, ok := e.last(); ok {
			text = shortValue(v)
		}
		room := image.Rect(cell.Min.X, cell.Min.Y+legendRow+4, cell.Max.X-pad, cell.Max.Y-4)
		scale := min(6, room.Dx()/max(1, textWidth(text)), room.Dy()/glyphH)
		if scale < 1 {
			continue
		}
		drawScaled(img, room.Min.X, room.Min.Y, scale, text, titleColor)
	}
}

// bars draws a horizontal bar per line, as long as its latest value on
// a scale from zero (negative values draw none), the value written after
// it, and the scale's numbers under the bars.
func bars(img *image.RGBA, area image.Rectangle, entries []entry) {
	hi := 0.0
	for _, e := range entries {
		if v, ok := e.last(); ok {
			hi = math.Max(hi, v)
		}
	}
	ax := newYAxis(axisOptions{}, 0, hi, max(2, area.Dx()/80), nil)
	x0, x1 := area.Min.X+ax.width/2, area.Max.X-ax.width/2-1
	y1 := area.Max.Y - glyphH - 6
	if x1-x0 < 10 || y1-area.Min.Y < 10 {
		return
	}
	x := func(v float64) int { return x0 + int(math.Round(float64(x1-x0)*(v-ax.lo)/(ax.hi-ax.lo))) }
	for i, t := range ax.ticks {
		xt := x(t)
		for y := area.Min.Y; y < y1; y++ {
			img.Set(xt, y, gridColor)
		}
		drawText(img, xt-textWidth(ax.labels[i])/2, y1+5, ax.labels[i], textColor)
	}
	slot := (y1 - area.Min.Y) / max(1, len(entries))
	barH := max(1, min(32, slot*2/3))
	for i, e := range entries {
		v, ok := e.last()
		if !ok || v <= 0 {
			continue
		}
		top := area.Min.Y + i*slot + (slot-barH)/2
		fillRect(img, image.Rect(x0+1, top, x(v), top+barH), e.style.color)
	}
	hline(img, x0, x1, y1, axisColor)
	for y := area.Min.Y; y <= y1; y++ {
		img.Set(x0, y, axisColor)
	}
}

// pie draws a slice per line with a positive latest value, its angle its
// share of their sum, clockwise from twelve o'clock.
func pie(img *image.RGBA, area image.Rectangle, entries []entry) {
	var vals []float64
	sum := 0.0
	for _, e := range entries {
		v, ok := e.last()
		if !ok || v < 0 {
			v = 0
		}
		vals = append(vals, v)
		sum += v
	}
	r := float64(min(area.Dx(), area.Dy()))/2 - 2
	if sum <= 0 || r < 4 {
		centerText(img, area, noData, mutedColor)
		return
	}
	cx, cy := float64(area.Min.X+area.Dx()/2), float64(area.Min.Y+area.Dy()/2)
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy > r*r {
				continue
			}
			// The angle clockwise from twelve o'clock, as a share of the turn.
			a := math.Atan2(dx, -dy) / (2 * math.Pi)
			if a < 0 {
				a++
			}
			acc := 0.0
			for i, v := range vals {
				acc += v / sum
				if a < acc || i == len(vals)-1 {
					img.SetRGBA(x, y, entries[i].style.color)
					break
				}
			}
		}
	}
}

// gaugeTrack is the unfilled part of a gauge's arc.
var gaugeTrack = color.RGBA{0xe9, 0xeb, 0xed, 0xff}

// gauge draws a half ring per line, from the left axis' min (left end) to
// its max (right end; both default to 0 and 100), filled in the line's
// colour up to its latest value, which is written under it.
func gauge(img *image.RGBA, area image.Rectangle, entries []entry, o axisOptions) {
	lo, hi := o.bounds(0, 100)
	n := max(1, len(entries))
	cw := area.Dx() / n
	for i, e := range entries {
		cell := image.Rect(area.Min.X+i*cw, area.Min.Y, area.Min.X+(i+1)*cw, area.Max.Y)
		r := math.Min(float64(cell.Dx())/2-4, float64(cell.Dy()-glyphH-8)) // the ring's outer radius
		if r < 8 {
			continue
		}
		inner := r * 0.65
		cx, cy := float64(cell.Min.X)+float64(cell.Dx())/2, float64(cell.Min.Y)+r+2
		v, ok := e.last()
		frac := 0.0
		if ok {
			frac = math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
		}
		for y := int(cy - r); y <= int(cy); y++ {
			for x := int(cx - r); x <= int(cx+r); x++ {
				dx, dy := float64(x)+0.5-cx, cy-(float64(y)+0.5)
				d := math.Hypot(dx, dy)
				if d > r || d < inner || dy < 0 {
					continue
				}
				// The share of the half turn from the left end.
				c := gaugeTrack
				if math.Atan2(dy, -dx)/math.Pi <= frac && ok {
					c = e.style.color
				}
				img.SetRGBA(x, y, c)
			}
		}
		text := "-"
		if ok {
			text = shortValue(v)
		}
		// The value large in the ring's hole, the scale's ends under it.
		scale := max(1, min(4, int(inner*1.4)/max(1, textWidth(text)), int(inner*0.6)/glyphH))
		drawScaled(img, int(cx)-textWidth(text)*scale/2, int(cy)-glyphH*scale, scale, text, titleColor)
		l, h := shortValue(lo), shortValue(hi)
		drawText(img, int(cx-(r+inner)/2)-textWidth(l)/2, int(cy)+4, l, mutedColor)
		drawText(img, int(cx+(r+inner)/2)-textWidth(h)/2, int(cy)+4, h, mutedColor)
	}
}
