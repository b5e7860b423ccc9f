package cloudwatch_test

import (
	"image"
	"image/color"
	"math"
	"testing"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// dark counts the pixels of r darker than mid-grey: text, and the axes.
func dark(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 < 0x80 && cg>>8 < 0x80 && cb>>8 < 0x80 {
				n++
			}
		}
	}
	return n
}

// box is the bounding box of the pixels of colour c in r (empty if none)
// and their count.
func box(img image.Image, r image.Rectangle, c color.RGBA) (image.Rectangle, int) {
	var b image.Rectangle
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == c.R && uint8(cg>>8) == c.G && uint8(cb>>8) == c.B {
				b = b.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return b, n
}

// xAxisRow is the row of the time axis: the one with most axis-grey
// pixels.
func xAxisRow(img image.Image) int {
	best, row := 0, -1
	for y := 0; y < img.Bounds().Dy(); y++ {
		_, n := box(img, image.Rect(0, y, img.Bounds().Dx(), y+1), color.RGBA{0x55, 0x55, 0x55, 0xff})
		if n > best {
			best, row = n, y
		}
	}
	return row
}

// TestWidgetImageText checks that the text of a widget is drawn where it
// belongs (not its glyphs), and the other views and options by their
// colours' geometry.
func TestWidgetImageText(t *testing.T) {
	t.Parallel()
	cw := newClient(t, "")
	putLowHigh(t, cw, "T/X", cwtypes.StandardUnitPercent)
	blue := color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	orange := color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	const w, h = 400, 300
	all := image.Rect(0, 0, w, h)
	render := func(t *testing.T, widget string) image.Image {
		t.Helper()
		return renderWidget(t, cw, widget, w, h)
	}
	lines := `"metrics":[["T/X","low"],[".","high"]],"width":400,"height":300,"start":"-PT1H","period":60`

	t.Run("timeSeries", func(t *testing.T) {
		img := render(t, `{`+lines+`,"title":"CPU of the fleet"}`)
		if n := dark(img, image.Rect(0, 0, w, 22)); n < 40 {
			t.Errorf("title band: %d dark pixels", n)
		}
		y1 := xAxisRow(img)
		if y1 < h/2 {
			t.Fatalf("time axis at row %d", y1)
		}
		// Numbers left of the plot (0 to 100 with the unit's title), time
		// labels under it.
		if n := dark(img, image.Rect(0, 30, 30, y1-5)); n < 60 {
			t.Errorf("left axis numbers: %d dark pixels", n)
		}
		if n := dark(img, image.Rect(40, y1+4, w, y1+18)); n < 60 {
			t.Errorf("time labels: %d dark pixels", n)
		}
		// Legend: each swatch, then its name to its right.
		for _, c := range []color.RGBA{blue, orange} {
			sw, n := box(img, image.Rect(0, y1+18, w, h), c)
			if n < 50 {
				t.Fatalf("legend swatch of %v: %d pixels", c, n)
			}
			if n := dark(img, image.Rect(sw.Max.X, sw.Min.Y-3, sw.Max.X+30, sw.Max.Y+3)); n < 20 {
				t.Errorf("legend name after %v: %d dark pixels", c, n)
			}
		}
		// No title: nothing dark in the top rows.
		if n := dark(render(t, `{`+lines+`}`), image.Rect(0, 0, w, 8)); n > 0 {
			t.Errorf("no title: %d dark pixels on top", n)
		}
	})
	t.Run("no data", func(t *testing.T) {
		img := render(t, `{"metrics":[["T/X","none"]],"width":400,"height":300}`)
		if n := dark(img, image.Rect(w/4, h/2-20, 3*w/4, h/2+20)); n < 60 {
			t.Errorf("no %q in the middle: %d dark pixels", "No data available.", n)
		}
		if n := dark(render(t, `{`+lines+`}`), image.Rect(w/4, h/2-20, 3*w/4, h/2+20)); n > 0 {
			t.Errorf("%d dark pixels in the middle of a widget with data", n)
		}
	})
	t.Run("legend", func(t *testing.T) {
		bottom := render(t, `{`+lines+`}`)
		right := render(t, `{`+lines+`,"legend":{"position":"right"}}`)
		hidden := render(t, `{`+lines+`,"legend":{"position":"hidden"}}`)
		y1 := xAxisRow(bottom)
		if _, n := box(bottom, image.Rect(0, y1+1, w, h), blue); n < 50 {
			t.Errorf("bottom legend: %d swatch pixels under the axis", n)
		}
		if _, n := box(right, image.Rect(0, xAxisRow(right)+1, w, h), blue); n > 0 {
			t.Errorf("right legend: %d swatch pixels under the axis", n)
		}
		if sw, n := box(right, image.Rect(2*w/3, 0, w, 60), blue); n < 50 || sw.Dx() > 12 {
			t.Errorf("right legend: swatch %v (%d pixels) not at the top right", sw, n)
		}
		if _, n := box(hidden, image.Rect(0, xAxisRow(hidden)+1, w, h), blue); n > 0 {
			t.Errorf("hidden legend: %d swatch pixels under the axis", n)
		}
		// A line's name is its label when it has one, else the metric's
		// name: a long label writes further right.
		labelled := render(t, `{"metrics":[["T/X","low",{"label":"the fleet's low water mark"}]],"width":400,"height":300}`)
		named := render(t, `{"metrics":[["T/X","low"]],"width":400,"height":300}`)
		extent := func(img image.Image) int {
			sw, _ := box(img, image.Rect(0, xAxisRow(img)+18, w, h), blue)
			x := sw.Max.X
			for c := sw.Max.X; c < w; c++ {
				if dark(img, image.Rect(c, sw.Min.Y-3, c+1, sw.Max.Y+3)) > 0 {
					x = c
				}
			}
			return x - sw.Max.X
		}
		if l, n := extent(labelled), extent(named); l < 150 || n > 30 {
			t.Errorf("legend names %d pixels (label) and %d pixels (metric name) long", l, n)
		}
		if xAxisRow(hidden) <= y1 {
			t.Errorf("hidden legend: the plot (axis at %d) is no taller than with one (%d)", xAxisRow(hidden), y1)
		}
	})
	t.Run("right axis", func(t *testing.T) {
		img := render(t, `{"metrics":[["T/X","low"],[".","high",{"yAxis":"right"}]],"width":400,"height":300,"start":"-PT1H","period":60,"legend":{"position":"hidden"}}`)
		// Each line alone on its axis, scaled to it: both in the upper
		// half (on one axis from 0 to 100, 10 would be near the bottom).
		lo, _ := box(img, all, blue)
		hi, _ := box(img, all, orange)
		if mid := xAxisRow(img) / 2; lo.Min.Y > mid || hi.Min.Y > mid {
			t.Errorf("left line at row %d, right line at row %d, half the plot at %d: not on their own scales", lo.Min.Y, hi.Min.Y, mid)
		}
		if n := dark(img, image.Rect(w-30, 20, w, xAxisRow(img)-5)); n < 60 {
			t.Errorf("right axis numbers: %d dark pixels", n)
		}
	})
	t.Run("right axis only", func(t *testing.T) {
		img := render(t, `{"metrics":[["T/X","low",{"yAxis":"right"}]],"width":400,"height":300,"start":"-PT1H","period":60,"legend":{"position":"hidden"}}`)
		y1 := xAxisRow(img)
		if n := dark(img, image.Rect(0, 0, 12, y1-5)); n > 0 {
			t.Errorf("left axis of no line: %d dark pixels", n)
		}
		if n := dark(img, image.Rect(w-30, 20, w, y1-5)); n < 30 {
			t.Errorf("right axis numbers: %d dark pixels", n)
		}
	})
	t.Run("timezone", func(t *testing.T) {
		utc := render(t, `{`+lines+`,"legend":{"position":"hidden"}}`)
		ist := render(t, `{`+lines+`,"legend":{"position":"hidden"},"timezone":"+0530"}`)
		y1 := xAxisRow(utc)
		band := image.Rect(0, y1+4, w, y1+18)
		same := true
		for y := band.Min.Y; y < band.Max.Y && same; y++ {
			for x := band.Min.X; x < band.Max.X; x++ {
				if utc.At(x, y) != ist.At(x, y) {
					same = false
					break
				}
			}
		}
		if same {
			t.Error("time labels at +0530 are those of UTC")
		}
	})
	t.Run("singleValue", func(t *testing.T) {
		img := render(t, `{`+lines+`,"view":"singleValue"}`)
		// Two cells side by side, each with a number several text lines
		// high.
		for _, half := range []image.Rectangle{image.Rect(0, 30, w/2, h), image.Rect(w/2, 30, w, h)} {
			top, bottom := -1, -1
			for y := half.Min.Y; y < half.Max.Y; y++ {
				if dark(img, image.Rect(half.Min.X, y, half.Max.X, y+1)) > 0 {
					if top < 0 {
						top = y
					}
					bottom = y
				}
			}
			if bottom-top < 3*13 {
				t.Errorf("cell %v: text %d pixels high, want a big number", half, bottom-top)
			}
		}
	})
	t.Run("bar", func(t *testing.T) {
		img := render(t, `{`+lines+`,"view":"bar","legend":{"position":"hidden"}}`)
		lo, _ := box(img, all, blue)
		hi, _ := box(img, all, orange)
		if r := float64(hi.Dx()) / float64(lo.Dx()); math.Abs(r-9) > 1 {
			t.Errorf("bars %d and %d pixels long: ratio %.1f, want 9 (90/10)", hi.Dx(), lo.Dx(), r)
		}
	})
	t.Run("gauge", func(t *testing.T) {
		img := render(t, `{"metrics":[["T/X","low"]],"width":400,"height":300,"start":"-PT1H","period":60,"view":"gauge","yAxis":{"left":{"min":0,"max":40}},"legend":{"position":"hidden"}}`)
		_, filled := box(img, all, blue)
		_, track := box(img, all, color.RGBA{0xe9, 0xeb, 0xed, 0xff})
		// 10 on a 0–40 gauge: a quarter of the ring filled.
		if f := float64(filled) / float64(filled+track); math.Abs(f-0.25) > 0.02 {
			t.Errorf("gauge filled %.3f of its ring (%d of %d pixels), want 0.25", f, filled, filled+track)
		}
	})
	t.Run("pie", func(t *testing.T) {
		img := render(t, `{`+lines+`,"view":"pie","legend":{"position":"hidden"}}`)
		_, lo := box(img, all, blue)
		_, hi := box(img, all, orange)
		if r := float64(hi) / float64(lo); math.Abs(r-9) > 0.5 {
			t.Errorf("slices of %d and %d pixels: ratio %.2f, want 9", hi, lo, r)
		}
	})
}
