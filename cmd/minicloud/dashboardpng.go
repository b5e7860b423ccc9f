package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// defaultCell is the pixel size of one unit of the dashboard grid that
// dashboard-png renders a widget at: a widget 6 units wide and 6 high (the
// console's default) is 300×300 pixels, the full 24-unit width 1,200.
const defaultCell = 50

// maxWidgetPixels is GetMetricWidgetImage's largest width and height.
const maxWidgetPixels = 2000

// dashboardWidget is a widget of a dashboard body, as far as rendering it
// needs.
type dashboardWidget struct {
	Type       string                     `json:"type"`
	Width      int                        `json:"width"`
	Height     int                        `json:"height"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// dashboardPNG renders each metric widget of a dashboard of the running
// minicloud to a PNG file, through the API a person would use: GetDashboard,
// then GetMetricWidgetImage per widget at its grid size × the cell size.
// Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as the AWS
// CLI reads them (their access key picks the account), else test/test.
func dashboardPNG(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashboard-png", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "")
	name := fs.String("name", "", "")
	out := fs.String("out", ".", "")
	cell := fs.Int("cell", defaultCell, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *name == "" || fs.NArg() > 0 || *cell < 1 {
		fmt.Fprintln(stderr, "usage: minicloud dashboard-png --name NAME [--out DIR] [--endpoint URL] [--region R] [--cell PIXELS]")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// CloudWatch in JSON 1.0, as the AWS CLI v1 speaks it.
	client := func(region string) jsonService {
		return jsonService{endpoint: *endpoint, region: region, signingName: "monitoring",
			targetPrefix: "GraniteServiceVersion20100801", jsonVersion: "1.0"}
	}
	var d struct{ DashboardBody string }
	if err := client(*region).call(ctx, "GetDashboard", map[string]string{"DashboardName": *name}, &d); err != nil {
		fmt.Fprintf(stderr, "minicloud dashboard-png: %v\n", err)
		return 1
	}
	var body struct {
		Start   string            `json:"start"`
		End     string            `json:"end"`
		Widgets []dashboardWidget `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(d.DashboardBody), &body); err != nil {
		fmt.Fprintf(stderr, "minicloud dashboard-png: dashboard %s: %v\n", *name, err)
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "minicloud dashboard-png: %v\n", err)
		return 1
	}
	code := 0
	for i, w := range body.Widgets {
		if w.Type != "metric" {
			fmt.Fprintf(stdout, "skipped widget %d: a %s widget has no metric image\n", i, w.Type)
			continue
		}
		widget, title := metricWidgetJSON(w, body.Start, body.End, *cell)
		r := *region
		_ = json.Unmarshal(w.Properties["region"], &r)
		var img struct{ MetricWidgetImage []byte } // base64 in JSON, decoded by encoding/json
		if err := client(r).call(ctx, "GetMetricWidgetImage", map[string]string{"MetricWidget": widget}, &img); err != nil {
			fmt.Fprintf(stderr, "minicloud dashboard-png: widget %d: %v\n", i, err)
			code = 1
			continue
		}
		path := filepath.Join(*out, fmt.Sprintf("%d-%s.png", i, fileTitle(title)))
		if err := os.WriteFile(path, img.MetricWidgetImage, 0o644); err != nil {
			fmt.Fprintf(stderr, "minicloud dashboard-png: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return code
}

// metricWidgetJSON is the MetricWidget of a dashboard's metric widget: its
// properties, its size in pixels (grid units × cell, defaults 6×6 as in
// the body's schema, at most what the API draws), and the dashboard's
// time range unless the widget has its own. It also answers the title.
func metricWidgetJSON(w dashboardWidget, start, end string, cell int) (string, string) {
	p := map[string]json.RawMessage{}
	for k, v := range w.Properties {
		p[k] = v
	}
	size := func(units int) json.RawMessage {
		if units <= 0 {
			units = 6
		}
		return json.RawMessage(fmt.Sprint(min(units*cell, maxWidgetPixels)))
	}
	p["width"], p["height"] = size(w.Width), size(w.Height)
	for k, v := range map[string]string{"start": start, "end": end} {
		if _, ok := p[k]; !ok && v != "" {
			b, _ := json.Marshal(v)
			p[k] = b
		}
	}
	var title string
	_ = json.Unmarshal(p["title"], &title)
	b, _ := json.Marshal(p) // a map of raw JSON values always marshals
	return string(b), title
}

// fileTitle is a widget title made safe for a file name: letters, digits,
// '-', '_' and '.' kept, other runs as one '-'; "untitled" if nothing is
// left.
func fileTitle(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range title {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if len(s) > 80 {
		s = s[:80]
	}
	if s == "" {
		return "untitled"
	}
	return s
}
