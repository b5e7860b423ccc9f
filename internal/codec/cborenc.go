package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// cborEncoder writes smithy-rpc-v2-cbor bodies: definite lengths (a
// structure's members are counted first), timestamps as tag 1 over an
// integer or a float64, blobs as byte strings, NaN and the infinities as
// half-precision floats (as fxamacker/cbor writes them).
type cborEncoder struct {
	w *bufWriter
	// inStruct holds, per open container, whether it is a structure (whose
	// values follow their member's name).
	inStruct []bool
	err      error
}

func (c *cborEncoder) head(major byte, n uint64) {
	b := c.w.b
	switch {
	case n < 24:
		b = append(b, major<<5|byte(n))
	case n <= math.MaxUint8:
		b = append(b, major<<5|24, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(n))
	case n <= math.MaxUint32:
		b = binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, major<<5|27), n)
	}
	c.w.b = b
}

func (c *cborEncoder) text(s string) {
	c.head(3, uint64(len(s)))
	c.w.WriteString(s)
}

// object writes v's members as a CBOR map.
func (c *cborEncoder) object(v Marshaler, members []*model.Ref) {
	n := 0
	if v != nil {
		k := &counter{}
		v.MarshalAWS(k, members)
		n = k.n
	}
	c.head(5, uint64(n))
	c.inStruct = append(c.inStruct, true)
	if v != nil {
		v.MarshalAWS(c, members)
	}
	c.inStruct = c.inStruct[:len(c.inStruct)-1]
}

// begin writes a member's name before its value.
func (c *cborEncoder) begin(ref *model.Ref) {
	if n := len(c.inStruct); n > 0 && c.inStruct[n-1] {
		c.text(memberName(ref.Name, ref))
	}
}

func (c *cborEncoder) String(ref *model.Ref, v string) {
	c.begin(ref)
	c.text(v)
}

func (c *cborEncoder) Bool(ref *model.Ref, v bool) {
	c.begin(ref)
	if v {
		c.w.b = append(c.w.b, 0xf5)
	} else {
		c.w.b = append(c.w.b, 0xf4)
	}
	c.w.check()
}

func (c *cborEncoder) Int(ref *model.Ref, v int64) {
	c.begin(ref)
	c.int(v)
}

func (c *cborEncoder) int(v int64) {
	if v < 0 {
		c.head(1, uint64(-1-v))
	} else {
		c.head(0, uint64(v))
	}
	c.w.check()
}

func (c *cborEncoder) Float(ref *model.Ref, v float64) {
	c.begin(ref)
	c.float(v)
}

func (c *cborEncoder) float(v float64) {
	switch {
	case math.IsNaN(v):
		c.w.b = append(c.w.b, 0xf9, 0x7e, 0x00)
	case math.IsInf(v, 1):
		c.w.b = append(c.w.b, 0xf9, 0x7c, 0x00)
	case math.IsInf(v, -1):
		c.w.b = append(c.w.b, 0xf9, 0xfc, 0x00)
	default:
		c.w.b = binary.BigEndian.AppendUint64(append(c.w.b, 0xfb), math.Float64bits(v))
	}
	c.w.check()
}

func (c *cborEncoder) Time(ref *model.Ref, v time.Time) {
	c.begin(ref)
	c.w.b = append(c.w.b, 0xc1)
	v = v.UTC().Round(time.Microsecond)
	if v.Nanosecond() == 0 {
		c.int(v.Unix())
		return
	}
	c.float(float64(v.Unix()) + float64(v.Nanosecond())/1e9)
}

func (c *cborEncoder) Blob(ref *model.Ref, v []byte) {
	c.begin(ref)
	c.head(2, uint64(len(v)))
	_, _ = c.w.Write(v)
}

func (c *cborEncoder) Value(ref *model.Ref, v any) {
	c.begin(ref)
	b, err := cborEnc.Marshal(v)
	if err != nil {
		if c.err == nil {
			c.err = fmt.Errorf("document %s: %w", ref.Shape.Name, err)
		}
		b = []byte{0xf6}
	}
	_, _ = c.w.Write(b)
}

func (c *cborEncoder) Null(ref *model.Ref) {
	c.begin(ref)
	c.w.b = append(c.w.b, 0xf6)
}

func (c *cborEncoder) Struct(ref *model.Ref, v Marshaler) {
	c.begin(ref)
	c.object(v, ref.Shape.MemberRefs)
}

func (c *cborEncoder) BeginList(ref *model.Ref, n int) {
	c.begin(ref)
	c.head(4, uint64(n))
	c.inStruct = append(c.inStruct, false)
}

func (c *cborEncoder) BeginMap(ref *model.Ref, n int) {
	c.begin(ref)
	c.head(5, uint64(n))
	c.inStruct = append(c.inStruct, false)
}

func (c *cborEncoder) Key(_ *model.Ref, k string) { c.text(k) }
func (c *cborEncoder) EndList(*model.Ref)         { c.inStruct = c.inStruct[:len(c.inStruct)-1] }
func (c *cborEncoder) EndMap(*model.Ref)          { c.inStruct = c.inStruct[:len(c.inStruct)-1] }
