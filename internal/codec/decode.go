package codec

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// Unmarshaler is a structure the decoders fill: the generated API types
// implement it, and so does Generic.
type Unmarshaler interface {
	// UnmarshalAWS reads member (one of the shape's MemberRefs; its Index
	// says which) from d, which is positioned at the member's value.
	UnmarshalAWS(d Decoder, member *model.Ref) error
}

// Message is what a generated type is to the codec: both a Marshaler and
// an Unmarshaler.
type Message interface {
	Marshaler
	Unmarshaler
}

// Decoder reads one value of a request (or, for the tests, a response) in
// one protocol, positioned by the decoder of the enclosing structure, list
// or map. Errors are the protocol's client errors.
type Decoder interface {
	String(ref *model.Ref) (string, error)
	Bool(ref *model.Ref) (bool, error)
	Int(ref *model.Ref) (int64, error)
	Float(ref *model.Ref) (float64, error)
	Time(ref *model.Ref) (time.Time, error)
	Blob(ref *model.Ref) ([]byte, error)
	// Value reads a document or a jsonvalue member.
	Value(ref *model.Ref) (any, error)
	// Struct reads a structure, calling v.UnmarshalAWS for each member
	// present.
	Struct(ref *model.Ref, v Unmarshaler) error
	// List calls each for every element, null for a missing one.
	List(ref *model.Ref, each func(d Decoder, null bool) error) error
	// Map calls each for every entry, null for a missing value.
	Map(ref *model.Ref, each func(d Decoder, key string, null bool) error) error
}

// decodeState is shared by the decoders of one request.
type decodeState struct {
	// typed checks integers against the width of the generated types'
	// fields (int32 for "integer"…); the generic form holds any int64.
	typed bool
	// invalid is the first integer out of its field's range, reported
	// after the request's other errors, as the reflective conversion did.
	invalid error
}

// fits checks n against the generated field of ref.
func (s *decodeState) fits(ref *model.Ref, n int64) int64 {
	if !s.typed {
		return n
	}
	var bits uint
	switch ref.Shape.Type {
	case "integer":
		bits = 32
	case "short":
		bits = 16
	case "byte":
		bits = 8
	default:
		return n
	}
	if lim := int64(1) << (bits - 1); n < -lim || n >= lim {
		if s.invalid == nil {
			s.invalid = &Error{Code: "ValidationError", Status: 400,
				Message: fmt.Sprintf("%s: value %d out of range", cmp.Or(ref.Name, ref.Shape.Name), n)}
		}
		return 0
	}
	return n
}

// The Get functions read a structure member into a generated type's field,
// the Dec functions a list element or map value. The scalar Get functions
// are kept out of line (go:noinline): a generated UnmarshalAWS calls one per
// member, and inlined they made the binary 0.3 MB larger for one call saved
// per member of a request.

// GetString reads a string member.
//
//go:noinline
func GetString(d Decoder, ref *model.Ref, p **string) error {
	v, err := d.String(ref)
	if err == nil {
		*p = &v
	}
	return err
}

// GetBool reads a boolean member.
//
//go:noinline
func GetBool(d Decoder, ref *model.Ref, p **bool) error {
	v, err := d.Bool(ref)
	if err == nil {
		*p = &v
	}
	return err
}

// GetInt reads an integer member of any width.
//
//go:noinline
func GetInt[T int8 | int16 | int32 | int64](d Decoder, ref *model.Ref, p **T) error {
	n, err := d.Int(ref)
	if err == nil {
		v := T(n)
		*p = &v
	}
	return err
}

// GetFloat32 reads a float member.
//
//go:noinline
func GetFloat32(d Decoder, ref *model.Ref, p **float32) error {
	f, err := d.Float(ref)
	if err == nil {
		v := float32(f)
		*p = &v
	}
	return err
}

// GetFloat64 reads a double member.
//
//go:noinline
func GetFloat64(d Decoder, ref *model.Ref, p **float64) error {
	v, err := d.Float(ref)
	if err == nil {
		*p = &v
	}
	return err
}

// GetTime reads a timestamp member.
//
//go:noinline
func GetTime(d Decoder, ref *model.Ref, p **time.Time) error {
	v, err := d.Time(ref)
	if err == nil {
		*p = &v
	}
	return err
}

// GetBlob reads a blob member.
//
//go:noinline
func GetBlob(d Decoder, ref *model.Ref, p *[]byte) error {
	v, err := d.Blob(ref)
	if err == nil {
		*p = v
	}
	return err
}

// GetValue reads a document or jsonvalue member.
//
//go:noinline
func GetValue(d Decoder, ref *model.Ref, p *any) error {
	v, err := d.Value(ref)
	if err == nil {
		*p = v
	}
	return err
}

// GetStruct reads a structure member.
func GetStruct[T any, P interface {
	*T
	Unmarshaler
}](d Decoder, ref *model.Ref, p **T) error {
	v := new(T)
	if err := d.Struct(ref, P(v)); err != nil {
		return err
	}
	*p = v
	return nil
}

// GetList reads a list member: present, if empty, as a non-nil empty
// list; a missing element is the zero value.
func GetList[T any](d Decoder, ref *model.Ref, p *[]T, elem func(Decoder, *model.Ref, *T) error) error {
	l := make([]T, 0)
	mr := ref.Shape.Member
	err := d.List(ref, func(d Decoder, null bool) error {
		var x T
		if !null {
			if err := elem(d, mr, &x); err != nil {
				return err
			}
		}
		l = append(l, x)
		return nil
	})
	if err == nil {
		*p = l
	}
	return err
}

// GetMap reads a map member; a missing value is the zero value.
func GetMap[T any](d Decoder, ref *model.Ref, p *map[string]T, elem func(Decoder, *model.Ref, *T) error) error {
	m := map[string]T{}
	vr := ref.Shape.Value
	err := d.Map(ref, func(d Decoder, k string, null bool) error {
		var x T
		if !null {
			if err := elem(d, vr, &x); err != nil {
				return err
			}
		}
		m[k] = x
		return nil
	})
	if err == nil {
		*p = m
	}
	return err
}

// DecString reads a string element.
func DecString(d Decoder, ref *model.Ref, v *string) (err error) {
	*v, err = d.String(ref)
	return err
}

// DecBool reads a boolean element.
func DecBool(d Decoder, ref *model.Ref, v *bool) (err error) {
	*v, err = d.Bool(ref)
	return err
}

// DecInt reads an integer element.
func DecInt[T int8 | int16 | int32 | int64](d Decoder, ref *model.Ref, v *T) error {
	n, err := d.Int(ref)
	*v = T(n)
	return err
}

// DecFloat32 reads a float element.
func DecFloat32(d Decoder, ref *model.Ref, v *float32) error {
	f, err := d.Float(ref)
	*v = float32(f)
	return err
}

// DecFloat64 reads a double element.
func DecFloat64(d Decoder, ref *model.Ref, v *float64) (err error) {
	*v, err = d.Float(ref)
	return err
}

// DecTime reads a timestamp element.
func DecTime(d Decoder, ref *model.Ref, v *time.Time) (err error) {
	*v, err = d.Time(ref)
	return err
}

// DecBlob reads a blob element.
func DecBlob(d Decoder, ref *model.Ref, v *[]byte) (err error) {
	*v, err = d.Blob(ref)
	return err
}

// DecValue reads a document element.
func DecValue(d Decoder, ref *model.Ref, v *any) (err error) {
	*v, err = d.Value(ref)
	return err
}

// DecStruct reads a structure element.
func DecStruct[T any, P interface {
	*T
	Unmarshaler
}](d Decoder, ref *model.Ref, v *T) error {
	return d.Struct(ref, P(v))
}

// UnmarshalAWS reads member into g, in the generic form (see Value).
func (g Generic) UnmarshalAWS(d Decoder, member *model.Ref) error {
	v, err := decodeGeneric(d, member)
	if err != nil {
		return err
	}
	if v != nil {
		g[member.Name] = v
	}
	return nil
}

func decodeGeneric(d Decoder, ref *model.Ref) (any, error) {
	sh := ref.Shape
	if ref.JSONValue || sh.Document {
		return d.Value(ref)
	}
	switch sh.Type {
	case "structure":
		m := Generic{}
		if err := d.Struct(ref, m); err != nil {
			return nil, err
		}
		return map[string]any(m), nil
	case "list":
		l := []any{}
		err := d.List(ref, func(d Decoder, null bool) error {
			if null {
				l = append(l, nil)
				return nil
			}
			v, err := decodeGeneric(d, sh.Member)
			l = append(l, v)
			return err
		})
		return l, err
	case "map":
		m := map[string]any{}
		err := d.Map(ref, func(d Decoder, k string, null bool) error {
			if null {
				m[k] = nil
				return nil
			}
			v, err := decodeGeneric(d, sh.Value)
			m[k] = v
			return err
		})
		return m, err
	case "string", "character":
		return d.String(ref)
	case "boolean":
		return d.Bool(ref)
	case "integer", "long", "byte", "short":
		return d.Int(ref)
	case "float", "double", "bigdecimal":
		return d.Float(ref)
	case "timestamp":
		return d.Time(ref)
	case "blob":
		return d.Blob(ref)
	}
	return nil, fmt.Errorf("unsupported shape type %s", sh.Type)
}

// requiredCheck walks a decoded input for the model's required members
// (see CheckRequired), through the input's MarshalAWS: a structure's own
// required members first, then its members in order, depth first.
type requiredCheck struct {
	walker
	c      *Codec
	frames []checkFrame
	err    error
}

type checkFrame struct {
	path  string
	list  bool
	i     int    // elements seen, in a list
	key   string // the current key, in a map
	isMap bool
}

// next is the path of the value about to be walked.
func (r *requiredCheck) next(ref *model.Ref) string {
	f := &r.frames[len(r.frames)-1]
	switch {
	case f.list:
		f.i++
		return f.path + "." + strconv.Itoa(f.i)
	case f.isMap:
		return f.path + "." + f.key
	}
	return join(f.path, ref.Name)
}

func (r *requiredCheck) structure(sh *model.Shape, v Marshaler, path string) {
	if r.err != nil {
		return
	}
	set := membersSet(v, sh)
	for _, name := range sh.Required {
		ref, ok := sh.Members[name]
		if !ok {
			continue
		}
		if !set[ref.Index] {
			r.err = r.c.missing(name, ref, path)
			return
		}
	}
	r.frames = append(r.frames, checkFrame{path: path})
	v.MarshalAWS(r, sh.MemberRefs)
	r.frames = r.frames[:len(r.frames)-1]
}

func (r *requiredCheck) Struct(ref *model.Ref, v Marshaler) {
	r.structure(ref.Shape, v, r.next(ref))
}

func (r *requiredCheck) BeginList(ref *model.Ref, _ int) {
	r.frames = append(r.frames, checkFrame{path: r.next(ref), list: true})
}

func (r *requiredCheck) BeginMap(ref *model.Ref, _ int) {
	r.frames = append(r.frames, checkFrame{path: r.next(ref), isMap: true})
}

func (r *requiredCheck) Key(_ *model.Ref, k string) { r.frames[len(r.frames)-1].key = k }
func (r *requiredCheck) EndList(*model.Ref)         { r.frames = r.frames[:len(r.frames)-1] }
func (r *requiredCheck) EndMap(*model.Ref)          { r.frames = r.frames[:len(r.frames)-1] }

// Scalars in a list count as elements, for the paths of those after them.
func (r *requiredCheck) String(ref *model.Ref, _ string)  { r.scalar(ref) }
func (r *requiredCheck) Bool(ref *model.Ref, _ bool)      { r.scalar(ref) }
func (r *requiredCheck) Int(ref *model.Ref, _ int64)      { r.scalar(ref) }
func (r *requiredCheck) Float(ref *model.Ref, _ float64)  { r.scalar(ref) }
func (r *requiredCheck) Time(ref *model.Ref, _ time.Time) { r.scalar(ref) }
func (r *requiredCheck) Blob(ref *model.Ref, _ []byte)    { r.scalar(ref) }
func (r *requiredCheck) Value(ref *model.Ref, _ any)      { r.scalar(ref) }
func (r *requiredCheck) Null(ref *model.Ref)              { r.scalar(ref) }

func (r *requiredCheck) scalar(ref *model.Ref) {
	if f := &r.frames[len(r.frames)-1]; f.list {
		f.i++
	}
}

// checkRequired enforces the required members of in, a value of sh.
func (c *Codec) checkRequired(sh *model.Shape, in Marshaler) error {
	r := &requiredCheck{c: c}
	r.structure(sh, in, "")
	return r.err
}

// Scalar text, as the query string, XML, headers and URI labels carry it.

func textInt(sh *model.Shape, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s value %q", sh.Type, s)
	}
	return n, nil
}

func textFloat(sh *model.Shape, s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid %s value %q", sh.Type, s)
	}
	return f, nil
}

func textBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean value %q", s)
}
