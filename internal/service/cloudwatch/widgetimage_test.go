package cloudwatch_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// rowsOf returns the mean row of the pixels of colour c above the legend
// (the bottom 40 rows, where each line has a swatch) and how many there
// are.
func rowsOf(img image.Image, c color.RGBA) (float64, int) {
	sum, n := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y-40; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				sum += y
				n++
			}
		}
	}
	if n == 0 {
		return -1, 0
	}
	return float64(sum) / float64(n), n
}

func TestGetMetricWidgetImage(t *testing.T) {
	t.Parallel()
	cw := newClient(t, "")
	ctx := context.Background()
	putLowHigh(t, cw, "T/W", "")
	blue := color.RGBA{0x1f, 0x77, 0xb4, 0xff}  // the palette's first colour
	green := color.RGBA{0x00, 0xff, 0x00, 0xff} // given to the second line
	mark := color.RGBA{0x00, 0x00, 0xff, 0xff}  // the annotation
	render := func(t *testing.T, widget string) image.Image {
		t.Helper()
		return renderWidget(t, cw, widget, 400, 300)
	}

	t.Run("lines", func(t *testing.T) {
		img := render(t, `{"width":400,"height":300,"start":"-PT1H","period":60,"stat":"Average",
			"metrics":[["T/W","low"],[".","high",{"color":"#00ff00"}]],
			"annotations":{"horizontal":[{"value":50,"color":"#0000ff"}]}}`)
		yLow, nLow := rowsOf(img, blue)
		yHigh, nHigh := rowsOf(img, green)
		yMark, nMark := rowsOf(img, mark)
		// 30 minutes of a one-hour range: a line about half the plot wide.
		if nLow < 150 || nHigh < 150 || nMark < 300 {
			t.Fatalf("pixels: low %d, high %d, annotation %d", nLow, nHigh, nMark)
		}
		// Higher values are higher up; 50 lies between 10 and 90, and the
		// three are spaced as their values are (90-50 = 50-10).
		if !(yHigh < yMark && yMark < yLow) || abs((yMark-yHigh)-(yLow-yMark)) > 3 {
			t.Errorf("rows: high %.1f, annotation %.1f, low %.1f", yHigh, yMark, yLow)
		}
	})
	t.Run("stacked", func(t *testing.T) {
		img := render(t, `{"width":400,"height":300,"start":"-PT1H","period":60,"stacked":true,
			"metrics":[["T/W","low"],[".","high",{"color":"#00ff00"}]],
			"annotations":{"horizontal":[{"value":100,"color":"#0000ff"}]}}`)
		yHigh, _ := rowsOf(img, green)
		yMark, _ := rowsOf(img, mark)
		// high is drawn on top of low: its line is at 10 + 90 = 100.
		if abs(yHigh-yMark) > 2 {
			t.Errorf("stacked top line at row %.1f, the 100 annotation at %.1f", yHigh, yMark)
		}
	})
	t.Run("no data", func(t *testing.T) {
		img := render(t, `{"width":400,"height":300,"metrics":[["T/W","none"]]}`)
		if _, n := rowsOf(img, blue); n > 0 {
			t.Errorf("%d pixels of a line without data", n)
		}
	})

	for _, tc := range []struct{ widget, format, msg string }{
		{`{"metrics":`, "", "must be a valid JSON object"},
		{`{"metrics":[["T/W","low"]]}`, "jpeg", "OutputFormat"},
		{`{"metrics":[["T/W","low"]],"width":5000}`, "", "between 1 and 2000"},
		{`{"metrics":[["T/W","low"]],"start":"yesterday"}`, "", "yesterday"},
		{`{"metrics":[["T/W",{"stat":"Sum"},"x"]]}`, "", `/metrics/0/1 Invalid metric field type`},
	} {
		in := &cloudwatch.GetMetricWidgetImageInput{MetricWidget: aws.String(tc.widget)}
		if tc.format != "" {
			in.OutputFormat = aws.String(tc.format)
		}
		_, err := cw.GetMetricWidgetImage(ctx, in)
		wantCode(t, err, "InvalidParameterValue", tc.msg)
	}
}

// putLowHigh puts 30 minutes of two flat metrics, low at 10 and high at
// 90, in namespace ns and unit.
func putLowHigh(t *testing.T, cw *cloudwatch.Client, ns string, unit cwtypes.StandardUnit) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for i := 1; i <= 30; i++ {
		ts := minute(i)
		data = append(data,
			cwtypes.MetricDatum{MetricName: aws.String("low"), Value: aws.Float64(10), Timestamp: &ts, Unit: unit},
			cwtypes.MetricDatum{MetricName: aws.String("high"), Value: aws.Float64(90), Timestamp: &ts, Unit: unit})
	}
	if _, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}); err != nil {
		t.Fatal(err)
	}
}

var pngSeq atomic.Int64 // tells apart the PNGs of one test

// renderWidget asks for widget's image and decodes it, checking its
// size; CW_WIDGET_PNG_DIR=/tmp/x keeps the PNGs there, to look at.
func renderWidget(t *testing.T, cw *cloudwatch.Client, widget string, width, height int) image.Image {
	t.Helper()
	out, err := cw.GetMetricWidgetImage(context.Background(), &cloudwatch.GetMetricWidgetImageInput{MetricWidget: aws.String(widget)})
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("CW_WIDGET_PNG_DIR"); dir != "" {
		name := fmt.Sprintf("%s-%d.png", strings.ReplaceAll(t.Name(), "/", "_"), pngSeq.Add(1))
		if err := os.WriteFile(filepath.Join(dir, name), out.MetricWidgetImage, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(out.MetricWidgetImage))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Fatalf("size %v, want %d×%d", b, width, height)
	}
	return img
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
