package lb

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkProxy compares requests/s through a node with requests/s
// straight to the same backend, on loopback with keep-alive clients:
//
//	go test -run '^$' -bench Proxy ./internal/lb/
func BenchmarkProxy(b *testing.B) {
	backend := newBackend(b, "bench", nil)
	tg := groupOf("tg", backend)
	tg.HealthCheck.Interval = time.Hour
	n := testNode(b, Options{}, Config{TargetGroups: []TargetGroup{tg},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
	for _, bc := range []struct{ name, url string }{
		{"direct", backend.srv.URL + "/"},
		{"node", nodeURL(b, n, 80, "http") + "/"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.SetParallelism(4)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(bc.url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
