package gateway

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"testing"

	"github.com/minicloud/minicloud/internal/codec"
)

func TestDecompress(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte("Action=PutMetricData"))
	_ = w.Close()
	tests := []struct {
		name, encoding string
		body           []byte
		want, code     string
	}{
		{"none", "", []byte("plain"), "plain", ""},
		{"gzip", "gzip", gz.Bytes(), "Action=PutMetricData", ""},
		{"gzip in a list", "identity, GZIP", gz.Bytes(), "Action=PutMetricData", ""},
		{"not gzip", "gzip", []byte("plain"), "", "InvalidRequest"},
		{"truncated", "gzip", gz.Bytes()[:gz.Len()-4], "", "InvalidRequest"},
		{"unknown encoding", "br", []byte("x"), "", "UnsupportedMediaType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "/", nil)
			r.Header.Set("Content-Encoding", tc.encoding)
			got, err := decompress(r, tc.body)
			if tc.code != "" {
				if err == nil || codec.AsError(err).Code != tc.code {
					t.Fatalf("error %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
