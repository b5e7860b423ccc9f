package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/minicloud/minicloud/internal/server"
)

// `minicloud dashboard-png` writes one decodable PNG per metric widget of
// a dashboard put through the SDK, at the widget's grid size × the cell,
// and names the widgets it skips.
func TestDashboardPNGCommand(t *testing.T) {
	srv, err := server.New(server.Config{Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close(context.Background())
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")

	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	now := time.Now().UTC().Truncate(time.Minute)
	var data []cwtypes.MetricDatum
	for i := 1; i <= 20; i++ {
		ts := now.Add(-time.Duration(i) * time.Minute)
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Load"), Value: aws.Float64(float64(i)), Timestamp: &ts})
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	body := `{"start":"-PT1H","widgets":[
		{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"title":"Load / app","region":"us-east-1","metrics":[["App","Load"]],"period":60}},
		{"type":"text","x":12,"y":0,"width":6,"height":3,"properties":{"markdown":"# hello"}},
		{"type":"metric","x":0,"y":6,"width":4,"height":4,"properties":{"view":"singleValue","metrics":[["App","Load"]]}},
		{"type":"log","x":4,"y":6,"width":6,"height":6,"properties":{"query":"SOURCE 'x' | fields @message"}}]}`
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("ops"), DashboardBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		cell  []string
		sizes map[string][2]int
	}{
		{nil, map[string][2]int{"0-Load-app.png": {600, 300}, "2-untitled.png": {200, 200}}},
		{[]string{"--cell", "30"}, map[string][2]int{"0-Load-app.png": {360, 180}, "2-untitled.png": {120, 120}}},
	} {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		args := append([]string{"dashboard-png", "--name", "ops", "--out", dir, "--endpoint", hs.URL}, tc.cell...)
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		for _, skipped := range []string{"skipped widget 1: a text widget", "skipped widget 3: a log widget"} {
			if !strings.Contains(out.String(), skipped) {
				t.Errorf("%v: output %q does not say %q", args, out.String(), skipped)
			}
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != len(tc.sizes) {
			t.Errorf("%v: files %v", args, names)
		}
		for name, size := range tc.sizes {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%v: %v (files %v)", args, err, names)
				continue
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: not a PNG: %v", name, err)
				continue
			}
			if got := img.Bounds().Size(); got.X != size[0] || got.Y != size[1] {
				t.Errorf("%v: %s is %v, want %v", args, name, got, size)
			}
		}
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--name", "nope", "--endpoint", hs.URL}, 1, "does not exist"},
		{[]string{"--endpoint", hs.URL}, 2, "usage"},
		{[]string{"--name", "ops", "--endpoint", "127.0.0.1:1", "--out", t.TempDir()}, 1, "dashboard-png"},
	} {
		var errb bytes.Buffer
		if code := run(append([]string{"dashboard-png"}, tc.args...), &bytes.Buffer{}, &errb); code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
	}
}

func TestFileTitle(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Load / app", "Load-app"},
		{"CPU (%) — fleet", "CPU-fleet"},
		{"", "untitled"},
		{"../../etc", "etc"},
		{"v1.2_x", "v1.2_x"},
		{"日本", "untitled"},
	} {
		if got := fileTitle(tc.in); got != tc.want {
			t.Errorf("fileTitle(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
