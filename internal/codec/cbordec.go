package codec

import (
	"bytes"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/model"
)

// Limits of a smithy-rpc-v2-cbor body, as the fxamacker/cbor options the
// codec used before: nesting, and elements of one array or map.
const (
	maxCBORDepth = 100
	maxCBORItems = 1 << 20
)

// cborDecoder reads a smithy-rpc-v2-cbor body item by item, straight into
// the structure being filled. It accepts what clients send: definite and
// indefinite lengths, tag 1 (epoch) and tag 0 (RFC 3339) timestamps over
// any number, half, single and double floats.
type cborDecoder struct {
	*decodeState
	c     *Codec
	b     []byte
	i     int
	depth int
}

// cborOther stands for an item no scalar accepts (a container, a
// bignum, a simple value), so that the error is the value's type.
type cborOther struct{}

func cborErr(format string, args ...any) error {
	return fmt.Errorf("malformed CBOR body: "+format, args...)
}

// decodeCBORBody reads body into structure sh. An empty body, or null, is
// an empty structure.
func (c *Codec) decodeCBORBody(sh *model.Shape, body []byte, v Unmarshaler, st *decodeState) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d := &cborDecoder{decodeState: st, c: c, b: body}
	if body[0] == 0xf6 || body[0] == 0xf7 {
		d.i++
	} else if err := d.members(sh, v); err != nil {
		return err
	}
	if d.i < len(d.b) {
		return cborErr("%d bytes of extraneous data", len(d.b)-d.i)
	}
	return nil
}

// head reads an item's initial byte and its argument; info 31 is the
// indefinite-length marker (or, in major type 7, a break).
func (d *cborDecoder) head() (major, info byte, arg uint64, err error) {
	if d.i >= len(d.b) {
		return 0, 0, 0, cborErr("unexpected end of data")
	}
	ib := d.b[d.i]
	d.i++
	major, info = ib>>5, ib&0x1f
	var n int
	switch {
	case info < 24:
		return major, info, uint64(info), nil
	case info <= 27:
		n = 1 << (info - 24)
	case info == 31:
		if major == 0 || major == 1 || major == 6 {
			return 0, 0, 0, cborErr("indefinite length for major type %d", major)
		}
		return major, info, 0, nil
	default:
		return 0, 0, 0, cborErr("reserved additional information %d", info)
	}
	if len(d.b)-d.i < n {
		return 0, 0, 0, cborErr("unexpected end of data")
	}
	for _, c := range d.b[d.i : d.i+n] {
		arg = arg<<8 | uint64(c)
	}
	d.i += n
	return major, info, arg, nil
}

// enter counts one more level of nesting.
func (d *cborDecoder) enter() error {
	if d.depth++; d.depth > maxCBORDepth {
		return cborErr("nested more than %d levels", maxCBORDepth)
	}
	return nil
}

// isBreak consumes a break, if it is next.
func (d *cborDecoder) isBreak() bool {
	if d.i < len(d.b) && d.b[d.i] == 0xff {
		d.i++
		return true
	}
	return false
}

// isNull consumes a null or undefined, if it is next.
func (d *cborDecoder) isNull() bool {
	if d.i < len(d.b) && (d.b[d.i] == 0xf6 || d.b[d.i] == 0xf7) {
		d.i++
		return true
	}
	return false
}

// container reads the head of an array (major 4) or map (5) and returns
// its length (-1 for indefinite), or cborOther's error for another item.
func (d *cborDecoder) container(major byte, what string, sh *model.Shape) (int, error) {
	start := d.i
	m, info, arg, err := d.head()
	if err != nil {
		return 0, err
	}
	if m != major {
		d.i = start
		if err := d.skip(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("expected %s for %s", what, sh.Name)
	}
	if err := d.enter(); err != nil {
		return 0, err
	}
	if info == 31 {
		return -1, nil
	}
	if arg > maxCBORItems || arg > uint64(len(d.b)-d.i) {
		return 0, cborErr("%d elements in one container", arg)
	}
	return int(arg), nil
}

// more reports whether a container of n elements (-1: indefinite) has
// another after i.
func (d *cborDecoder) more(n, i int) (bool, error) {
	if n >= 0 {
		return i < n, nil
	}
	if d.isBreak() {
		return false, nil
	}
	if i >= maxCBORItems {
		return false, cborErr("more than %d elements in one container", maxCBORItems)
	}
	if d.i >= len(d.b) {
		return false, cborErr("unexpected end of data")
	}
	return true, nil
}

// str reads a byte (major 2) or text (3) string, definite or in chunks.
func (d *cborDecoder) str(major byte, info byte, arg uint64) ([]byte, error) {
	if info != 31 {
		if arg > uint64(len(d.b)-d.i) {
			return nil, cborErr("unexpected end of data")
		}
		s := d.b[d.i : d.i+int(arg)]
		d.i += int(arg)
		if major == 3 && !utf8.Valid(s) {
			return nil, cborErr("invalid UTF-8 string")
		}
		return s, nil
	}
	var out []byte
	for !d.isBreak() {
		m, inf, n, err := d.head()
		if err != nil {
			return nil, err
		}
		if m != major || inf == 31 {
			return nil, cborErr("bad chunk in an indefinite-length string")
		}
		s, err := d.str(major, inf, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// key reads a map key: a text string, or false for a key of another type
// (which it skips).
func (d *cborDecoder) key() (string, bool, error) {
	start := d.i
	m, info, arg, err := d.head()
	if err != nil {
		return "", false, err
	}
	if m != 3 {
		d.i = start
		return "", false, d.skip()
	}
	s, err := d.str(3, info, arg)
	return string(s), true, err
}

// scalar reads one item as a scalar: uint64, int64, float64, bool, string,
// []byte, nil, time.Time (tags 0 and 1) or cborOther.
func (d *cborDecoder) scalar() (any, error) {
	start := d.i
	m, info, arg, err := d.head()
	if err != nil {
		return nil, err
	}
	switch m {
	case 0:
		return arg, nil
	case 1:
		if arg > math.MaxInt64 {
			return cborOther{}, nil
		}
		return -1 - int64(arg), nil
	case 2, 3:
		s, err := d.str(m, info, arg)
		if err != nil {
			return nil, err
		}
		if m == 3 {
			return string(s), nil
		}
		return bytes.Clone(s), nil
	case 4, 5:
		d.i = start
		return cborOther{}, d.skip()
	case 6:
		return d.tagged(arg)
	}
	switch info {
	case 20:
		return false, nil
	case 21:
		return true, nil
	case 22, 23:
		return nil, nil
	case 25:
		return halfFloat(uint16(arg)), nil
	case 26:
		return float64(math.Float32frombits(uint32(arg))), nil
	case 27:
		return math.Float64frombits(arg), nil
	case 31:
		return nil, cborErr("unexpected break")
	}
	return cborOther{}, nil
}

// tagged reads the item of a tag: timestamps for tags 0 and 1 (the zero
// time for one out of range), the item itself for others.
func (d *cborDecoder) tagged(tag uint64) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	v, err := d.scalar()
	if err != nil {
		return nil, err
	}
	switch tag {
	case 0:
		s, ok := v.(string)
		if !ok {
			return nil, cborErr("tag 0 over a %T", v)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, cborErr("tag 0: %v", err)
		}
		return t.UTC(), nil
	case 1:
		f, err := toFloat(v, "timestamp")
		if _, isString := v.(string); err != nil || isString {
			return nil, cborErr("tag 1 over a %T", v)
		}
		t, err := epochTime(f)
		if err != nil {
			return time.Time{}, nil
		}
		return t, nil
	case 2, 3:
		return cborOther{}, nil // bignums: no integer of the models holds one
	}
	return v, nil
}

// skip reads one item of any kind, checking it is well formed.
func (d *cborDecoder) skip() error {
	m, info, arg, err := d.head()
	if err != nil {
		return err
	}
	switch m {
	case 2, 3:
		_, err := d.str(m, info, arg)
		return err
	case 4, 5:
		if err := d.enter(); err != nil {
			return err
		}
		defer func() { d.depth-- }()
		n := -1
		if info != 31 {
			if arg > maxCBORItems || arg > uint64(len(d.b)-d.i) {
				return cborErr("%d elements in one container", arg)
			}
			n = int(arg)
		}
		for i := 0; ; i++ {
			ok, err := d.more(n, i)
			if err != nil || !ok {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
			if m == 5 {
				if err := d.skip(); err != nil {
					return err
				}
			}
		}
	case 6:
		if err := d.enter(); err != nil {
			return err
		}
		defer func() { d.depth-- }()
		return d.skip()
	case 7:
		if info == 31 {
			return cborErr("unexpected break")
		}
	}
	return nil
}

// members reads a map into structure sh.
func (d *cborDecoder) members(sh *model.Shape, v Unmarshaler) error {
	n, err := d.container(5, "an object", sh)
	if err != nil {
		return err
	}
	defer func() { d.depth-- }()
	for i := 0; ; i++ {
		if ok, err := d.more(n, i); err != nil || !ok {
			return err
		}
		k, ok, err := d.key()
		if err != nil {
			return err
		}
		var ref *model.Ref
		if ok {
			ref = d.c.memberByWire(sh, k)
		}
		if ref == nil {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if d.isNull() {
			continue
		}
		if err := v.UnmarshalAWS(d, ref); err != nil {
			return err
		}
	}
}

func (d *cborDecoder) String(ref *model.Ref) (string, error) {
	v, err := d.scalar()
	return tokenString(v, err, ref)
}

func (d *cborDecoder) Bool(ref *model.Ref) (bool, error) {
	v, err := d.scalar()
	return tokenBool(v, err, ref)
}

func (d *cborDecoder) Int(ref *model.Ref) (int64, error) {
	v, err := d.scalar()
	return tokenInt(d.decodeState, v, err, ref)
}

func (d *cborDecoder) Float(ref *model.Ref) (float64, error) {
	v, err := d.scalar()
	return tokenFloat(v, err, ref)
}

func (d *cborDecoder) Time(ref *model.Ref) (time.Time, error) {
	v, err := d.scalar()
	return tokenTime(v, err, ref)
}

func (d *cborDecoder) Blob(ref *model.Ref) ([]byte, error) {
	v, err := d.scalar()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("expected a blob for %s", ref.Shape.Name)
}

// Value reads any item into its generic form.
func (d *cborDecoder) Value(*model.Ref) (any, error) { return d.any() }

func (d *cborDecoder) any() (any, error) {
	if d.i < len(d.b) {
		if m := d.b[d.i] >> 5; m == 4 || m == 5 {
			return d.anyContainer(m)
		}
	}
	v, err := d.scalar()
	if _, other := v.(cborOther); other {
		return nil, cborErr("an item with no generic form")
	}
	return v, err
}

func (d *cborDecoder) anyContainer(major byte) (any, error) {
	n, err := d.container(major, "a container", &model.Shape{})
	if err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	if major == 4 {
		l := []any{}
		for i := 0; ; i++ {
			if ok, err := d.more(n, i); err != nil || !ok {
				return l, err
			}
			v, err := d.any()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
	}
	m := map[string]any{}
	for i := 0; ; i++ {
		if ok, err := d.more(n, i); err != nil || !ok {
			return m, err
		}
		k, err := d.any()
		if err != nil {
			return nil, err
		}
		v, err := d.any()
		if err != nil {
			return nil, err
		}
		m[fmt.Sprint(k)] = v
	}
}

func (d *cborDecoder) Struct(ref *model.Ref, v Unmarshaler) error { return d.members(ref.Shape, v) }

func (d *cborDecoder) List(ref *model.Ref, each func(Decoder, bool) error) error {
	n, err := d.container(4, "an array", ref.Shape)
	if err != nil {
		return err
	}
	defer func() { d.depth-- }()
	for i := 0; ; i++ {
		if ok, err := d.more(n, i); err != nil || !ok {
			return err
		}
		if err := each(d, d.isNull()); err != nil {
			return err
		}
	}
}

func (d *cborDecoder) Map(ref *model.Ref, each func(Decoder, string, bool) error) error {
	n, err := d.container(5, "an object", ref.Shape)
	if err != nil {
		return err
	}
	defer func() { d.depth-- }()
	for i := 0; ; i++ {
		if ok, err := d.more(n, i); err != nil || !ok {
			return err
		}
		k, ok, err := d.key()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("expected a text key for %s", ref.Shape.Name)
		}
		if err := each(d, k, d.isNull()); err != nil {
			return err
		}
	}
}

// halfFloat converts an IEEE 754 half-precision float.
func halfFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(frac+1024, exp-25)
}
