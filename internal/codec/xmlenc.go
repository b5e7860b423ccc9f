package codec

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"math"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// xmlEncoder writes the XML of the query, ec2 and rest-xml protocols by
// hand: encoding/xml's encoder cannot emit the exact namespace declarations
// AWS uses, and byte-level control keeps the output stable. Values are
// named by the frame they are written in: a structure's members by their
// wire names, a list's values by its member name, a map's by its value
// name.
type xmlEncoder struct {
	w     *bufWriter
	stack []xmlFrame
	// skip counts the lists and maps being left out (members bound to
	// HTTP headers or written as attributes), whose values are ignored.
	skip int
}

type xmlFrame struct {
	kind       byte   // 's' structure, 'l' list, 'm' map
	item       string // a list's value element
	wrap       string // the element that ends with the frame, if any
	entry      string // a map's entry element
	key, value string // a map's key and value elements
	open       bool   // a map entry is open
}

func (x *xmlEncoder) top() *xmlFrame {
	if n := len(x.stack); n > 0 {
		return &x.stack[n-1]
	}
	return nil
}

// skipped reports whether a value is left out of the body: inside a list
// or map being left out, or a structure member bound elsewhere.
func (x *xmlEncoder) skipped(ref *model.Ref) bool {
	if x.skip > 0 {
		return true
	}
	if f := x.top(); f != nil && f.kind != 's' {
		return false
	}
	return ref.XMLAttribute || ref.Location != ""
}

// name is the element a value is written as.
func (x *xmlEncoder) name(ref *model.Ref) string {
	if f := x.top(); f != nil {
		switch f.kind {
		case 'l':
			return f.item
		case 'm':
			return f.value
		}
	}
	if ref.Shape.Type == "list" && isFlattened(ref) {
		return xmlFlatName(ref.Name, ref)
	}
	return memberName(ref.Name, ref)
}

// openTag writes <name> with the namespace declaration of ref, if any.
// Tags are appended without the flush check, which close and text make:
// an element's name is short, its text may not be.
func (x *xmlEncoder) openTag(name string, ref *model.Ref) {
	b := x.w
	b.b = append(append(b.b, '<'), name...)
	x.nsAttr(ref)
	b.b = append(b.b, '>')
}

func (x *xmlEncoder) nsAttr(ref *model.Ref) {
	ns := ref.XMLNamespace
	if ns == nil {
		ns = ref.Shape.XMLNamespace
	}
	if ns == nil || ns.URI == "" {
		return
	}
	if ns.Prefix != "" {
		x.attr("xmlns:"+ns.Prefix, ns.URI)
		return
	}
	x.attr("xmlns", ns.URI)
}

func (x *xmlEncoder) attr(name, value string) {
	x.w.WriteByte(' ')
	x.w.WriteString(name)
	x.w.WriteString(`="`)
	x.text(value)
	x.w.WriteByte('"')
}

func (x *xmlEncoder) close(name string) {
	b := x.w
	b.b = append(append(append(b.b, "</"...), name...), '>')
	b.check()
}

func (x *xmlEncoder) text(s string) {
	// Most values (IDs, names, states) need no escaping: skip the copy to
	// []byte and the escaper's per-rune work for them.
	if plainXML(s) {
		x.w.WriteString(s)
		return
	}
	_ = xml.EscapeText(x.w, []byte(s))
}

// plainXML reports whether s is printable ASCII needing no escape.
func plainXML(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '\'' || c == '"' {
			return false
		}
	}
	return true
}

// scalar opens the element of a scalar value, or reports that it is left out.
func (x *xmlEncoder) scalar(ref *model.Ref) (string, bool) {
	if x.skipped(ref) {
		return "", false
	}
	name := x.name(ref)
	x.openTag(name, ref)
	return name, true
}

func (x *xmlEncoder) String(ref *model.Ref, v string) {
	if name, ok := x.scalar(ref); ok {
		x.text(v)
		x.close(name)
	}
}

func (x *xmlEncoder) Bool(ref *model.Ref, v bool) {
	if name, ok := x.scalar(ref); ok {
		x.w.b = strconv.AppendBool(x.w.b, v)
		x.close(name)
	}
}

func (x *xmlEncoder) Int(ref *model.Ref, v int64) {
	if name, ok := x.scalar(ref); ok {
		x.w.b = strconv.AppendInt(x.w.b, v, 10)
		x.close(name)
	}
}

func (x *xmlEncoder) Float(ref *model.Ref, v float64) {
	if name, ok := x.scalar(ref); ok {
		x.w.b = appendFloat(x.w.b, v)
		x.close(name)
	}
}

func (x *xmlEncoder) Time(ref *model.Ref, v time.Time) {
	if name, ok := x.scalar(ref); ok {
		x.w.b = appendTime(x.w.b, v, tsFormat(ref, FormatISO8601))
		x.close(name)
	}
}

func (x *xmlEncoder) Blob(ref *model.Ref, v []byte) {
	if name, ok := x.scalar(ref); ok {
		x.w.b = base64.StdEncoding.AppendEncode(x.w.b, v)
		x.close(name)
	}
}

// Value writes a document as its JSON text: XML protocols have none, but a
// string document is at least its text.
func (x *xmlEncoder) Value(ref *model.Ref, v any) {
	if name, ok := x.scalar(ref); ok {
		if s, isString := v.(string); isString {
			x.text(s)
		} else {
			b, _ := json.Marshal(v)
			x.text(string(b))
		}
		x.close(name)
	}
}

func (x *xmlEncoder) Null(ref *model.Ref) {
	if name, ok := x.scalar(ref); ok {
		x.close(name)
	}
}

func (x *xmlEncoder) Struct(ref *model.Ref, v Marshaler) {
	if x.skipped(ref) {
		return
	}
	x.element(x.name(ref), ref, v)
}

// element writes structure v as element name, its attribute members as
// attributes.
func (x *xmlEncoder) element(name string, ref *model.Ref, v Marshaler) {
	x.w.b = append(append(x.w.b, '<'), name...)
	x.nsAttr(ref)
	if ref.Shape.HasXMLAttributes {
		a := &xmlAttrs{}
		v.MarshalAWS(a, ref.Shape.MemberRefs)
		for i := 0; i+1 < len(a.list); i += 2 {
			x.attr(a.list[i], a.list[i+1])
		}
	}
	x.w.b = append(x.w.b, '>')
	x.stack = append(x.stack, xmlFrame{kind: 's'})
	v.MarshalAWS(x, ref.Shape.MemberRefs)
	x.stack = x.stack[:len(x.stack)-1]
	x.close(name)
}

func (x *xmlEncoder) BeginList(ref *model.Ref, _ int) {
	if x.skipped(ref) {
		x.skip++
		return
	}
	name := x.name(ref)
	if isFlattened(ref) {
		x.stack = append(x.stack, xmlFrame{kind: 'l', item: name})
		return
	}
	x.openTag(name, ref)
	x.stack = append(x.stack, xmlFrame{kind: 'l', item: cmp.Or(ref.Shape.Member.LocationName, "member"), wrap: name})
}

func (x *xmlEncoder) EndList(*model.Ref) { x.end() }

func (x *xmlEncoder) BeginMap(ref *model.Ref, _ int) {
	if x.skipped(ref) {
		x.skip++
		return
	}
	name := x.name(ref)
	f := xmlFrame{kind: 'm', entry: "entry", key: xmlKeyName(ref.Shape), value: xmlValueName(ref.Shape)}
	if isFlattened(ref) {
		f.entry = name
	} else {
		x.openTag(name, ref)
		f.wrap = name
	}
	x.stack = append(x.stack, f)
}

func (x *xmlEncoder) Key(_ *model.Ref, k string) {
	if x.skip > 0 {
		return
	}
	f := x.top()
	if f.open {
		x.close(f.entry)
	}
	f.open = true
	x.w.b = append(append(append(append(append(x.w.b, '<'), f.entry...), "><"...), f.key...), '>')
	x.text(k)
	x.close(f.key)
}

func (x *xmlEncoder) EndMap(*model.Ref) { x.end() }

func (x *xmlEncoder) end() {
	if x.skip > 0 {
		x.skip--
		return
	}
	f := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	if f.open {
		x.close(f.entry)
	}
	if f.wrap != "" {
		x.close(f.wrap)
	}
}

// xmlAttrs collects the attribute members of one structure as name, value
// pairs.
type xmlAttrs struct {
	walker
	depth int
	list  []string
}

func (a *xmlAttrs) add(ref *model.Ref, s string) {
	if a.depth == 0 && ref.XMLAttribute {
		a.list = append(a.list, memberName(ref.Name, ref), s)
	}
}

func (a *xmlAttrs) String(r *model.Ref, v string) { a.add(r, v) }
func (a *xmlAttrs) Bool(r *model.Ref, v bool)     { a.add(r, strconv.FormatBool(v)) }
func (a *xmlAttrs) Int(r *model.Ref, v int64)     { a.add(r, strconv.FormatInt(v, 10)) }
func (a *xmlAttrs) Float(r *model.Ref, v float64) { a.add(r, formatFloat(v)) }
func (a *xmlAttrs) Time(r *model.Ref, v time.Time) {
	a.add(r, formatTime(v, tsFormat(r, FormatISO8601)))
}
func (a *xmlAttrs) Blob(r *model.Ref, v []byte) { a.add(r, base64.StdEncoding.EncodeToString(v)) }
func (a *xmlAttrs) BeginList(*model.Ref, int)   { a.depth++ }
func (a *xmlAttrs) EndList(*model.Ref)          { a.depth-- }
func (a *xmlAttrs) BeginMap(*model.Ref, int)    { a.depth++ }
func (a *xmlAttrs) EndMap(*model.Ref)           { a.depth-- }

// appendFloat appends the text form of f (NaN and the infinities spelt as
// AWS spells them).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, formatFloat(f)...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendTime appends t in format (see formatTime).
func appendTime(b []byte, t time.Time, format string) []byte {
	t = t.UTC()
	switch format {
	case FormatUnix:
		if t.Nanosecond() == 0 {
			return strconv.AppendInt(b, t.Unix(), 10)
		}
		return strconv.AppendFloat(b, float64(t.UnixNano())/1e9, 'f', -1, 64)
	case FormatRFC822:
		return append(t.AppendFormat(b, "Mon, 02 Jan 2006 15:04:05"), " GMT"...)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return t.AppendFormat(b, iso8601Compact)
	}
	// By hand: time's layout interpreter was a tenth of a large answer's
	// encoding.
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = append4(b, y)
	b = append(append2(append(append2(append(b, '-'), int(mo)), '-'), d), 'T')
	b = append2(append(append2(append(append2(b, h), ':'), mi), ':'), sec)
	if ns := t.Nanosecond(); ns != 0 {
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	}
	return append(b, 'Z')
}

// append2 and append4 append n as 2 and 4 decimal digits.
func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }
