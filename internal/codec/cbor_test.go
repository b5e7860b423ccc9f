package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
	fxcbor "github.com/fxamacker/cbor/v2"
	"github.com/minicloud/minicloud/internal/model"
)

// cb builds CBOR bytes by hand, to write exactly what clients send
// (indefinite-length containers, tag 1 with a float64, float32 values).
type cb struct{ bytes.Buffer }

func (b *cb) head(major byte, n uint64) *cb {
	switch {
	case n < 24:
		b.WriteByte(major<<5 | byte(n))
	case n <= math.MaxUint8:
		b.WriteByte(major<<5 | 24)
		b.WriteByte(byte(n))
	case n <= math.MaxUint16:
		b.WriteByte(major<<5 | 25)
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	default:
		b.WriteByte(major<<5 | 27)
		b.Write(binary.BigEndian.AppendUint64(nil, n))
	}
	return b
}

func (b *cb) text(s string) *cb  { b.head(3, uint64(len(s))); b.WriteString(s); return b }
func (b *cb) bytes(p []byte) *cb { b.head(2, uint64(len(p))); b.Write(p); return b }
func (b *cb) uint(n uint64) *cb  { return b.head(0, n) }
func (b *cb) neg(n int64) *cb    { return b.head(1, uint64(-1-n)) }
func (b *cb) indefMap() *cb      { b.WriteByte(0xbf); return b }
func (b *cb) indefList() *cb     { b.WriteByte(0x9f); return b }
func (b *cb) brk() *cb           { b.WriteByte(0xff); return b }
func (b *cb) boolean(v bool) *cb {
	if v {
		b.WriteByte(0xf5)
	} else {
		b.WriteByte(0xf4)
	}
	return b
}
func (b *cb) f32(f float32) *cb {
	b.WriteByte(0xfa)
	b.Write(binary.BigEndian.AppendUint32(nil, math.Float32bits(f)))
	return b
}
func (b *cb) f64(f float64) *cb {
	b.WriteByte(0xfb)
	b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(f)))
	return b
}
func (b *cb) epoch(f float64) *cb { b.WriteByte(0xc1); return b.f64(f) }

func cborRequest(body []byte) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/cbor")
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	return &Request{Method: http.MethodPost, Path: "/service/Thing/operation/PutThing", Header: h, Body: body}
}

var (
	when1 = time.Date(2024, 3, 1, 12, 30, 15, 250*int(time.Millisecond), time.UTC)
	when2 = time.Date(2015, 1, 25, 8, 0, 0, 0, time.UTC)
)

func TestCBORDecodeInput(t *testing.T) {
	c, op := thingCodec(t, CBOR, model.Metadata{})

	indefinite := new(cb).indefMap().
		text("Name").text("thing-1").
		text("Count").neg(-3).
		text("Big").uint(1 << 40).
		text("Ratio").f32(1.5).
		text("Score").f64(2.25).
		text("Flag").boolean(true).
		text("When").epoch(float64(when1.UnixMilli()) / 1e3).
		text("Data").bytes([]byte{0, 1, 0xff}).
		text("Tags").indefList().text("a").text("b").brk().
		text("Attrs").indefMap().text("k").text("v").brk().
		text("Nested").indefMap().text("Note").text("n").
		text("Inner").indefMap().text("At").epoch(float64(when2.Unix())).brk().brk().
		text("Items").indefList().indefMap().text("Note").text("x").brk().brk().
		text("Unknown").text("ignored").
		brk()

	// What aws-sdk-go-v2's rpcv2cbor serializers send: smithy-go's encoder,
	// definite lengths, timestamps as tag 1 over a float64.
	smithyBody := smithycbor.Encode(smithycbor.Map{
		"Name":  smithycbor.String("thing-1"),
		"Count": smithycbor.NegInt(3),
		"Big":   smithycbor.Uint(1 << 40),
		"Ratio": smithycbor.Float32(1.5),
		"Score": smithycbor.Float64(2.25),
		"Flag":  smithycbor.Bool(true),
		"When":  &smithycbor.Tag{ID: 1, Value: smithycbor.Float64(float64(when1.UnixMilli()) / 1e3)},
		"Data":  smithycbor.Slice{0, 1, 0xff},
		"Tags":  smithycbor.List{smithycbor.String("a"), smithycbor.String("b")},
		"Attrs": smithycbor.Map{"k": smithycbor.String("v")},
		"Nested": smithycbor.Map{
			"Note":  smithycbor.String("n"),
			"Inner": smithycbor.Map{"At": &smithycbor.Tag{ID: 1, Value: smithycbor.Float64(float64(when2.Unix()))}},
		},
		"Items": smithycbor.List{smithycbor.Map{"Note": smithycbor.String("x")}},
	})

	want := map[string]any{
		"Name": "thing-1", "Count": int64(-3), "Big": int64(1 << 40), "Ratio": 1.5, "Score": 2.25,
		"Flag": true, "When": when1, "Data": []byte{0, 1, 0xff},
		"Tags": []any{"a", "b"}, "Attrs": map[string]any{"k": "v"},
		"Nested": map[string]any{"Note": "n", "Inner": map[string]any{"At": when2}},
		"Items":  []any{map[string]any{"Note": "x"}},
	}

	tests := []struct {
		name string
		body []byte
		want map[string]any
	}{
		{"indefinite lengths", indefinite.Bytes(), want},
		{"smithy-go encoder", smithyBody, want},
		{"empty body", nil, map[string]any{}},
		{"empty map", []byte{0xa0}, map[string]any{}},
		{"empty indefinite map", []byte{0xbf, 0xff}, map[string]any{}},
		{"integer epoch", new(cb).indefMap().text("When").head(6, 1).uint(uint64(when2.Unix())).brk().Bytes(),
			map[string]any{"When": when2}},
		{"null member", new(cb).indefMap().text("Name").head(7, 22).brk().Bytes(), map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.DecodeInput(op, cborRequest(tt.body))
			if err != nil {
				t.Fatalf("DecodeInput: %v", err)
			}
			if diffs := diffValue("", op.Input, tt.want, got, false); len(diffs) > 0 {
				t.Errorf("mismatch:\n  %s", strings.Join(diffs, "\n  "))
			}
		})
	}
}

func TestCBORDecodeInputErrors(t *testing.T) {
	c, op := thingCodec(t, CBOR, model.Metadata{})
	tests := []struct {
		name string
		body []byte
	}{
		{"truncated", []byte{0xbf, 0x64, 'N', 'a'}},
		{"not a map", new(cb).text("x").Bytes()},
		{"string for integer", new(cb).indefMap().text("Count").text("3").brk().Bytes()},
		{"text for blob", new(cb).indefMap().text("Data").uint(1).brk().Bytes()},
		{"list for structure", new(cb).indefMap().text("Nested").indefList().brk().brk().Bytes()},
		{"trailing bytes", append(new(cb).indefMap().brk().Bytes(), 0x01)},
		{"integer overflow", new(cb).indefMap().text("Big").uint(math.MaxUint64).brk().Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DecodeInput(op, cborRequest(tt.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeInput error = %v, want *Error", err)
			}
			if e.Status != http.StatusBadRequest || e.Code != "SerializationException" {
				t.Errorf("error = %d %s, want 400 SerializationException", e.Status, e.Code)
			}
		})
	}
}

func TestCBOROutputRoundTrip(t *testing.T) {
	c, op := thingCodec(t, CBOR, model.Metadata{})
	out := map[string]any{
		"Name": "thing-1", "Count": int64(-3), "Big": int64(1 << 40), "Ratio": 1.5, "Score": 2.25,
		"Flag": false, "When": when1, "Data": []byte("hi"),
		"Tags": []any{"a"}, "Attrs": map[string]any{"k": "v"},
		"Nested": map[string]any{"Inner": map[string]any{"At": when2}},
		"Items":  []any{map[string]any{"Note": "x"}},
	}
	resp, err := c.EncodeOutput(op, out, "req-1")
	if err != nil {
		t.Fatalf("EncodeOutput: %v", err)
	}
	if got := resp.Header.Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
		t.Errorf("Smithy-Protocol = %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/cbor" {
		t.Errorf("Content-Type = %q", got)
	}

	// The wire types, as fxamacker sees them: tag 1 for timestamps, byte
	// strings for blobs.
	var raw map[string]fxcbor.RawMessage
	if err := fxcbor.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatalf("fxamacker decode: %v", err)
	}
	if w := raw["When"]; len(w) == 0 || w[0] != 0xc1 {
		t.Errorf("When on the wire = % x, want tag 1", w)
	}
	if d := raw["Data"]; len(d) == 0 || d[0]>>5 != 2 {
		t.Errorf("Data on the wire = % x, want a byte string", d)
	}

	// What aws-sdk-go-v2 reads back.
	v, err := smithycbor.Decode(resp.Body)
	if err != nil {
		t.Fatalf("smithy-go decode: %v", err)
	}
	m, ok := v.(smithycbor.Map)
	if !ok {
		t.Fatalf("smithy-go decode: %T, want Map", v)
	}
	ts, err := smithycbor.AsTime(m["When"])
	if err != nil || !ts.Equal(when1) {
		t.Errorf("smithy-go AsTime(When) = %v, %v; want %v", ts, err, when1)
	}
	if n, err := smithycbor.AsInt64(m["Count"]); err != nil || n != -3 {
		t.Errorf("smithy-go AsInt64(Count) = %v, %v", n, err)
	}

	got, err := c.DecodeOutput(op, resp)
	if err != nil {
		t.Fatalf("DecodeOutput: %v", err)
	}
	if diffs := diffValue("", op.Output, out, got, false); len(diffs) > 0 {
		t.Errorf("round trip mismatch:\n  %s", strings.Join(diffs, "\n  "))
	}

	// And fxamacker's own encoding of the same output decodes alike.
	// Timestamps as smithy writes them: tag 1 over a float64.
	var tree map[string]any
	if err := fxcbor.Unmarshal(resp.Body, &tree); err != nil {
		t.Fatal(err)
	}
	tree["When"] = fxcbor.Tag{Number: 1, Content: float64(when1.UnixMilli()) / 1e3}
	tree["Nested"] = map[string]any{"Inner": map[string]any{"At": fxcbor.Tag{Number: 1, Content: float64(when2.Unix())}}}
	body, err := fxcbor.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.DecodeOutput(op, &Response{Status: 200, Header: http.Header{}, Body: body})
	if err != nil {
		t.Fatalf("DecodeOutput(fxamacker): %v", err)
	}
	if diffs := diffValue("", op.Output, out, got, false); len(diffs) > 0 {
		t.Errorf("fxamacker mismatch:\n  %s", strings.Join(diffs, "\n  "))
	}
}
