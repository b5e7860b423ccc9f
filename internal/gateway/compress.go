package gateway

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/codec"
)

// decompress undoes a request body's Content-Encoding: the SDKs gzip the
// bodies of operations with the requestCompression trait (CloudWatch's
// PutMetricData: aws-sdk-go-v2 always, botocore past 10 KiB), in every
// protocol. The signature covers the body as sent, so the caller keeps
// that for verification and decodes what this returns. The decompressed
// body has the same limit as a plain one.
func decompress(r *http.Request, body []byte) ([]byte, error) {
	enc := r.Header.Get("Content-Encoding")
	if enc == "" {
		return body, nil
	}
	gz := false
	for _, e := range strings.Split(enc, ",") {
		switch strings.ToLower(strings.TrimSpace(e)) {
		case "gzip":
			gz = true
		case "", "identity", "aws-chunked":
		default:
			return body, &codec.Error{Code: "UnsupportedMediaType", Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("minicloud does not decode Content-Encoding %q.", e)}
		}
	}
	if !gz {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body, badGzip(err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxBodyBytes+1))
	if err != nil {
		return body, badGzip(err)
	}
	if len(out) > MaxBodyBytes {
		return body, &codec.Error{Code: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("The decompressed request body exceeds the maximum of %d bytes.", MaxBodyBytes)}
	}
	return out, nil
}

func badGzip(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("truncated")
	}
	return &codec.Error{Code: "InvalidRequest", Status: http.StatusBadRequest, Message: "The request body is not valid gzip: " + err.Error()}
}
