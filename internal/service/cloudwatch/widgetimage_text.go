package cloudwatch

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Widget text is X11's 7×13 fixed font (golang.org/x/image/font/basicfont):
// a bitmap, so images are the same byte for byte on every machine, and
// legible at the console's 11–12 px text size. Larger text (the title's
// weight, singleValue's numbers) is that font scaled or overstruck.
var face = basicfont.Face7x13

const (
	glyphW   = 7  // advance of every glyph
	glyphH   = 13 // line height
	glyphAsc = 11 // baseline below the line's top
)

var (
	textColor  = color.RGBA{0x44, 0x44, 0x44, 0xff}
	titleColor = color.RGBA{0x16, 0x19, 0x1f, 0xff}
	mutedColor = color.RGBA{0x68, 0x70, 0x78, 0xff}
)

// textWidth is s's width in pixels at scale 1.
func textWidth(s string) int { return font.MeasureString(face, s).Round() }

// fitText cuts s to at most width pixels, ending it with "..." if cut.
func fitText(s string, width int) string {
	if textWidth(s) <= width {
		return s
	}
	r := []rune(s)
	n := width/glyphW - 3
	if n <= 0 {
		return ""
	}
	return string(r[:min(n, len(r))]) + "..."
}

// drawText draws s with its line's top-left corner at (x, top).
func drawText(img draw.Image, x, top int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, top+glyphAsc)}
	d.DrawString(s)
}

// drawBold overstrikes s one pixel to the right, as terminals make bold
// from a bitmap font.
func drawBold(img draw.Image, x, top int, s string, c color.RGBA) {
	drawText(img, x, top, s, c)
	drawText(img, x+1, top, s, c)
}

// textMask renders s at scale 1 into an alpha mask.
func textMask(s string) *image.Alpha {
	m := image.NewAlpha(image.Rect(0, 0, max(textWidth(s), 1), glyphH))
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: face, Dot: fixed.P(0, glyphAsc)}
	d.DrawString(s)
	return m
}

// drawScaled draws s scale times its size (each pixel a scale×scale
// square), its top-left corner at (x, top).
func drawScaled(img *image.RGBA, x, top, scale int, s string, c color.RGBA) {
	m := textMask(s)
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			if m.AlphaAt(xx, y).A == 0 {
				continue
			}
			draw.Draw(img, image.Rect(x+xx*scale, top+y*scale, x+(xx+1)*scale, top+(y+1)*scale), image.NewUniform(c), image.Point{}, draw.Src)
		}
	}
}

// drawVertical draws s turned a quarter left (read bottom to top), its
// centre at (cx, cy): the y axes' labels.
func drawVertical(img *image.RGBA, cx, cy int, s string, c color.RGBA) {
	m := textMask(s)
	w, h := m.Bounds().Dx(), m.Bounds().Dy()
	x0, y0 := cx-h/2, cy+w/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if m.AlphaAt(x, y).A != 0 {
				img.SetRGBA(x0+y, y0-x, c)
			}
		}
	}
}

// niceStep is the 1, 2 or 5 × 10ⁿ step that cuts span into at most n
// intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// yTicks are the labelled values of an axis from lo to hi, step apart.
func yTicks(lo, hi, step float64) []float64 {
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		out = append(out, cleanZero(v))
	}
	return out
}

func cleanZero(v float64) float64 {
	if math.Abs(v) < 1e-12 {
		return 0
	}
	return v
}

// siPrefixes shorten large axis numbers as the console does (1.5k, 20M).
var siPrefixes = []struct {
	div    float64
	suffix string
}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}

// formatTick writes an axis value with as many decimals as the step
// needs, large values with an SI suffix.
func formatTick(v, step, largest float64) string {
	suffix := ""
	if largest >= 1e4 {
		for _, p := range siPrefixes {
			if largest >= p.div {
				v, step, suffix = v/p.div, step/p.div, p.suffix
				break
			}
		}
	}
	dec := 0
	if step > 0 && step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	return strconv.FormatFloat(v, 'f', dec, 64) + suffix
}

// shortValue writes a single value (singleValue, bar and pie views): at
// most three decimals, trailing zeros dropped, large values with an SI
// suffix.
func shortValue(v float64) string {
	suffix := ""
	if a := math.Abs(v); a >= 1e4 {
		for _, p := range siPrefixes {
			if a >= p.div {
				v, suffix = v/p.div, p.suffix
				break
			}
		}
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s + suffix
}

// timeSteps are the candidate spacings of the time axis' labels.
var timeSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// timeTick is a labelled time of the x axis.
type timeTick struct {
	t     time.Time
	label string
}

// timeTicks are the labels of [start, end] in loc that fit width pixels:
// the closest spacing whose labels do not touch, aligned to whole
// minutes, hours or days of loc. A label is HH:MM, or MM/DD at midnight
// of a range longer than a day (and for every label when they are days
// apart), as the console writes them.
func timeTicks(start, end time.Time, loc *time.Location, width int) []timeTick {
	span := end.Sub(start)
	if span <= 0 || width <= 0 {
		return nil
	}
	const gap = 24 // pixels between two labels
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if n := float64(span) / float64(s); n*float64(textWidth("00:00")+gap) <= float64(width) {
			step = s
			break
		}
	}
	_, off := start.In(loc).Zone()
	sec, o := int64(step/time.Second), int64(off)
	first := (start.Unix() + o + sec - 1) / sec * sec
	var out []timeTick
	for u := first; u-o <= end.Unix(); u += sec {
		t := time.Unix(u-o, 0).In(loc)
		label := t.Format("15:04")
		if step >= 24*time.Hour || (span > 24*time.Hour && t.Hour() == 0 && t.Minute() == 0) {
			label = t.Format("01/02")
		}
		out = append(out, timeTick{t, label})
	}
	return out
}

// widgetZone reads a widget's timezone: "+HHMM" or "-HHMM" from UTC;
// empty, "UTC" and anything else are UTC (the image is made on a server,
// which has no browser's local zone; "LOCAL" is the server's UTC too).
func widgetZone(s string) *time.Location {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return time.UTC
	}
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return time.UTC
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone(s, off)
}
