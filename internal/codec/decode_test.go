package codec

import (
	"errors"
	"math"
	"net/http"
	"testing"

	"github.com/minicloud/minicloud/internal/model"
)

// TestDecodeInputRejects checks that values no generic form can hold are
// client errors (400), not garbage or 500s.
func TestDecodeInputRejects(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		body     []byte
	}{
		{"json epoch out of range", JSON, []byte(`{"When": 1e300}`)},
		{"json epoch NaN string", JSON, []byte(`{"When": "NaN"}`)},
		{"json integer overflow", JSON, []byte(`{"Big": 1e19}`)},
		{"json number for string", JSON, []byte(`{"Name": 1}`)},
		{"query epoch infinity", Query, []byte(`When=Infinity`)},
		{"query bad integer", Query, []byte(`Count=x`)},
		{"cbor integer from huge float", CBOR, new(cb).indefMap().text("Count").f64(1e19).brk().Bytes()},
		{"cbor epoch out of range", CBOR, new(cb).indefMap().text("When").f64(1e300).brk().Bytes()},
		{"cbor tagged epoch NaN", CBOR, new(cb).indefMap().text("When").epoch(nan()).brk().Bytes()},
		{"cbor tagged epoch out of range", CBOR, new(cb).indefMap().text("When").epoch(1e300).brk().Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, op := thingCodec(t, tt.protocol, model.Metadata{})
			_, err := c.DecodeInput(op, &Request{Method: http.MethodPost, Path: "/", Header: http.Header{}, Body: tt.body})
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("DecodeInput error = %v, want a 400 *Error", err)
			}
		})
	}
}

func nan() float64 { return math.NaN() }
