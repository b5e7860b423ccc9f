// Package sdktest is what tests and benchmarks need to drive minicloud with
// aws-sdk-go-v2 reliably. It holds no minicloud logic.
package sdktest

import (
	"bytes"
	"io"
	"net/http"
)

// Doer is aws-sdk-go-v2's HTTP client interface (aws.HTTPClient).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// HTTPClient is BufferBodies over a plain HTTP client.
func HTTPClient() Doer {
	return BufferBodies(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
}

// BufferBodies wraps inner so that each request body is sent from memory.
// Without it, large responses intermittently fail with "use of closed
// network connection" whatever the server (aws/aws-sdk-go-v2#1825, #2737):
// the SDK's request body stream errors on the transport's final read for
// EOF once the response has arrived, and net/http's writeLoop then closes
// the connection under the response body being read, the more often the
// faster the server answers. The SDK retries that error by default; tests
// and benchmarks run with retries off, so that every failure shows, and
// need this instead.
func BufferBodies(inner Doer) Doer { return bufferedBody{inner} }

type bufferedBody struct{ inner Doer }

func (b bufferedBody) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return b.inner.Do(r)
}
