package codec

import (
	"slices"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// Marshaler is a structure the encoders write: the generated API types
// implement it (internal/api/<svc>api, written by internal/codec/codegen),
// and so does the generic form (map[string]any) the conformance tests and
// error fields use.
type Marshaler interface {
	// MarshalAWS writes every member that is set through e, with its
	// reference from members (the shape's MemberRefs, by position).
	MarshalAWS(e Encoder, members []*model.Ref)
}

// Encoder writes values in one protocol. Each call names the reference the
// value is written for: a structure member, a list's member or a map's
// value; the encoder finds the wire name and format there. Encoders do not
// fail: a value they cannot write (a document encoding/json refuses) is
// remembered and reported when the answer ends.
type Encoder interface {
	String(ref *model.Ref, v string)
	Bool(ref *model.Ref, v bool)
	Int(ref *model.Ref, v int64)
	Float(ref *model.Ref, v float64)
	Time(ref *model.Ref, v time.Time)
	Blob(ref *model.Ref, v []byte)
	// Value writes a document or a jsonvalue member: any JSON-like value.
	Value(ref *model.Ref, v any)
	Struct(ref *model.Ref, v Marshaler)
	// BeginList starts a list of n values, each then written with the
	// list's member reference; EndList ends it.
	BeginList(ref *model.Ref, n int)
	EndList(ref *model.Ref)
	// BeginMap starts a map of n entries: Key, then the value with the
	// map's value reference, for each; EndMap ends it.
	BeginMap(ref *model.Ref, n int)
	Key(ref *model.Ref, k string)
	EndMap(ref *model.Ref)
	// Null writes a missing list element or map value (generic values
	// only: the generated types hold none).
	Null(ref *model.Ref)
}

// The Put functions write a structure member of a generated type when it
// is set (a nil pointer, slice or map is absent); the Enc functions write a
// list element or map value, always present. Generated code calls them, one
// line per member, so that the per-type code stays small.

// PutString writes a string member.
func PutString(e Encoder, ref *model.Ref, v *string) {
	if v != nil {
		e.String(ref, *v)
	}
}

// PutBool writes a boolean member.
func PutBool(e Encoder, ref *model.Ref, v *bool) {
	if v != nil {
		e.Bool(ref, *v)
	}
}

// PutInt writes an integer member of any width.
func PutInt[T int8 | int16 | int32 | int64](e Encoder, ref *model.Ref, v *T) {
	if v != nil {
		e.Int(ref, int64(*v))
	}
}

// PutFloat32 writes a float member.
func PutFloat32(e Encoder, ref *model.Ref, v *float32) {
	if v != nil {
		e.Float(ref, widen(*v))
	}
}

// PutFloat64 writes a double member.
func PutFloat64(e Encoder, ref *model.Ref, v *float64) {
	if v != nil {
		e.Float(ref, *v)
	}
}

// PutTime writes a timestamp member.
func PutTime(e Encoder, ref *model.Ref, v *time.Time) {
	if v != nil {
		e.Time(ref, *v)
	}
}

// PutBlob writes a blob member.
func PutBlob(e Encoder, ref *model.Ref, v []byte) {
	if v != nil {
		e.Blob(ref, v)
	}
}

// PutValue writes a document or jsonvalue member.
func PutValue(e Encoder, ref *model.Ref, v any) {
	if v != nil {
		e.Value(ref, v)
	}
}

// PutStruct writes a structure member.
func PutStruct[T any, P interface {
	*T
	Marshaler
}](e Encoder, ref *model.Ref, v P) {
	if v != nil {
		e.Struct(ref, v)
	}
}

// PutList writes a list member; a non-nil empty list is present and empty.
func PutList[T any](e Encoder, ref *model.Ref, l []T, elem func(Encoder, *model.Ref, *T)) {
	if l != nil {
		EncList(e, ref, l, elem)
	}
}

// PutMap writes a map member.
func PutMap[T any](e Encoder, ref *model.Ref, m map[string]T, elem func(Encoder, *model.Ref, *T)) {
	if m != nil {
		EncMap(e, ref, m, elem)
	}
}

// EncList writes a list, each element with elem.
func EncList[T any](e Encoder, ref *model.Ref, l []T, elem func(Encoder, *model.Ref, *T)) {
	e.BeginList(ref, len(l))
	mr := ref.Shape.Member
	for i := range l {
		elem(e, mr, &l[i])
	}
	e.EndList(ref)
}

// EncMap writes a map in key order, each value with elem.
func EncMap[T any](e Encoder, ref *model.Ref, m map[string]T, elem func(Encoder, *model.Ref, *T)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.BeginMap(ref, len(m))
	vr := ref.Shape.Value
	for _, k := range keys {
		v := m[k]
		e.Key(ref, k)
		elem(e, vr, &v)
	}
	e.EndMap(ref)
}

// EncString writes a string element.
func EncString(e Encoder, ref *model.Ref, v *string) { e.String(ref, *v) }

// EncBool writes a boolean element.
func EncBool(e Encoder, ref *model.Ref, v *bool) { e.Bool(ref, *v) }

// EncInt writes an integer element.
func EncInt[T int8 | int16 | int32 | int64](e Encoder, ref *model.Ref, v *T) { e.Int(ref, int64(*v)) }

// EncFloat32 writes a float element.
func EncFloat32(e Encoder, ref *model.Ref, v *float32) { e.Float(ref, widen(*v)) }

// EncFloat64 writes a double element.
func EncFloat64(e Encoder, ref *model.Ref, v *float64) { e.Float(ref, *v) }

// EncTime writes a timestamp element.
func EncTime(e Encoder, ref *model.Ref, v *time.Time) { e.Time(ref, *v) }

// EncBlob writes a blob element.
func EncBlob(e Encoder, ref *model.Ref, v *[]byte) { e.Blob(ref, *v) }

// EncValue writes a document element.
func EncValue(e Encoder, ref *model.Ref, v *any) {
	if *v == nil {
		e.Null(ref)
		return
	}
	e.Value(ref, *v)
}

// EncStruct writes a structure element.
func EncStruct[T any, P interface {
	*T
	Marshaler
}](e Encoder, ref *model.Ref, v *T) {
	e.Struct(ref, P(v))
}

// widen converts a float32 through its shortest text, so that 1.1 is
// written as 1.1 rather than 1.100000023841858.
func widen(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// Generic is the generic form of a structure (see Value) as a Marshaler
// and an Unmarshaler: members by name, absent when missing or nil.
type Generic map[string]any

// MarshalAWS writes the members of g.
func (g Generic) MarshalAWS(e Encoder, members []*model.Ref) {
	for _, r := range members {
		if v, ok := g[r.Name]; ok && v != nil {
			encodeGeneric(e, r, v)
		}
	}
}

func encodeGeneric(e Encoder, ref *model.Ref, v any) {
	sh := ref.Shape
	if ref.JSONValue || sh.Document {
		e.Value(ref, v)
		return
	}
	switch sh.Type {
	case "structure":
		m, _ := v.(map[string]any)
		e.Struct(ref, Generic(m))
		return
	case "list":
		l, _ := v.([]any)
		e.BeginList(ref, len(l))
		for _, x := range l {
			if x == nil {
				e.Null(sh.Member)
				continue
			}
			encodeGeneric(e, sh.Member, x)
		}
		e.EndList(ref)
		return
	case "map":
		m, _ := v.(map[string]any)
		e.BeginMap(ref, len(m))
		for _, k := range sortedKeys(m) {
			e.Key(ref, k)
			if m[k] == nil {
				e.Null(sh.Value)
				continue
			}
			encodeGeneric(e, sh.Value, m[k])
		}
		e.EndMap(ref)
		return
	}
	switch x := v.(type) {
	case string:
		e.String(ref, x)
	case bool:
		e.Bool(ref, x)
	case int64:
		if sh.Type == "float" || sh.Type == "double" || sh.Type == "bigdecimal" {
			e.Float(ref, float64(x))
			return
		}
		e.Int(ref, x)
	case float64:
		e.Float(ref, x)
	case time.Time:
		e.Time(ref, x)
	case []byte:
		e.Blob(ref, x)
	default:
		e.Value(ref, v)
	}
}

// walker is an Encoder that ignores every value, for encoders that look at
// a structure without writing it: embedding it, they implement only the
// calls they care about.
type walker struct{}

func (walker) String(*model.Ref, string)    {}
func (walker) Bool(*model.Ref, bool)        {}
func (walker) Int(*model.Ref, int64)        {}
func (walker) Float(*model.Ref, float64)    {}
func (walker) Time(*model.Ref, time.Time)   {}
func (walker) Blob(*model.Ref, []byte)      {}
func (walker) Value(*model.Ref, any)        {}
func (walker) Struct(*model.Ref, Marshaler) {}
func (walker) BeginList(*model.Ref, int)    {}
func (walker) EndList(*model.Ref)           {}
func (walker) BeginMap(*model.Ref, int)     {}
func (walker) Key(*model.Ref, string)       {}
func (walker) EndMap(*model.Ref)            {}
func (walker) Null(*model.Ref)              {}

// presence records which members of one structure are set, without
// descending into them.
type presence struct {
	walker
	depth int
	set   []bool
}

func (p *presence) mark(ref *model.Ref) {
	if p.depth == 0 && ref.Index < len(p.set) {
		p.set[ref.Index] = true
	}
}

func (p *presence) String(r *model.Ref, _ string)    { p.mark(r) }
func (p *presence) Bool(r *model.Ref, _ bool)        { p.mark(r) }
func (p *presence) Int(r *model.Ref, _ int64)        { p.mark(r) }
func (p *presence) Float(r *model.Ref, _ float64)    { p.mark(r) }
func (p *presence) Time(r *model.Ref, _ time.Time)   { p.mark(r) }
func (p *presence) Blob(r *model.Ref, _ []byte)      { p.mark(r) }
func (p *presence) Value(r *model.Ref, _ any)        { p.mark(r) }
func (p *presence) Struct(r *model.Ref, _ Marshaler) { p.mark(r) }
func (p *presence) BeginList(r *model.Ref, _ int)    { p.mark(r); p.depth++ }
func (p *presence) EndList(*model.Ref)               { p.depth-- }
func (p *presence) BeginMap(r *model.Ref, _ int)     { p.mark(r); p.depth++ }
func (p *presence) EndMap(*model.Ref)                { p.depth-- }

// membersSet returns which members of v (a structure of shape sh) are set.
func membersSet(v Marshaler, sh *model.Shape) []bool {
	p := &presence{set: make([]bool, len(sh.MemberRefs))}
	v.MarshalAWS(p, sh.MemberRefs)
	return p.set
}

// counter counts the members of one structure that are set (CBOR writes
// a map's size before its entries).
type counter struct {
	walker
	depth, n int
}

func (c *counter) one() {
	if c.depth == 0 {
		c.n++
	}
}

func (c *counter) String(*model.Ref, string)    { c.one() }
func (c *counter) Bool(*model.Ref, bool)        { c.one() }
func (c *counter) Int(*model.Ref, int64)        { c.one() }
func (c *counter) Float(*model.Ref, float64)    { c.one() }
func (c *counter) Time(*model.Ref, time.Time)   { c.one() }
func (c *counter) Blob(*model.Ref, []byte)      { c.one() }
func (c *counter) Value(*model.Ref, any)        { c.one() }
func (c *counter) Struct(*model.Ref, Marshaler) { c.one() }
func (c *counter) Null(*model.Ref)              { c.one() }
func (c *counter) BeginList(*model.Ref, int)    { c.one(); c.depth++ }
func (c *counter) EndList(*model.Ref)           { c.depth-- }
func (c *counter) BeginMap(*model.Ref, int)     { c.one(); c.depth++ }
func (c *counter) EndMap(*model.Ref)            { c.depth-- }
