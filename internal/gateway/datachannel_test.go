package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minicloud/minicloud/internal/gateway"
)

// Session Manager's data channels go to their handler, unrouted; the
// guard against web pages still stands in front of them.
func TestDataChannels(t *testing.T) {
	var got []string
	g := gateway.New(gateway.Config{DataChannels: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})})
	for _, tt := range []struct {
		name, path, host string
		status           int
	}{
		{"a data channel", "/v1/data-channel/alice-0123456789abcdef0?role=publish_subscribe", "127.0.0.1:4566", http.StatusTeapot},
		{"by AWS's name", "/v1/data-channel/s-1", "ssmmessages.us-east-1.amazonaws.com", http.StatusTeapot},
		{"a rebinding Host", "/v1/data-channel/s-1", "attacker.example", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("HTTP %d, want %d", w.Code, tt.status)
			}
		})
	}
	if len(got) != 2 || got[0] != "/v1/data-channel/alice-0123456789abcdef0" {
		t.Errorf("the handler saw %v", got)
	}
}
