package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/model"
)

// jsonEncoder writes the JSON of the json and rest-json protocols, members
// in model order. It writes what encoding/json would (the same string
// escapes, without HTML escaping, and the same numbers).
type jsonEncoder struct {
	w     *bufWriter
	stack []jsonFrame
	// skip counts the lists and maps being left out (members bound to
	// HTTP headers, the URI or the status code).
	skip int
	err  error
}

type jsonFrame struct {
	kind byte // 's' structure, 'l' list, 'm' map
	n    int  // values written so far
}

// object writes v's members as a JSON object.
func (j *jsonEncoder) object(v Marshaler, members []*model.Ref) {
	j.w.WriteByte('{')
	j.stack = append(j.stack, jsonFrame{kind: 's'})
	if v != nil {
		v.MarshalAWS(j, members)
	}
	j.stack = j.stack[:len(j.stack)-1]
	j.w.WriteByte('}')
}

// begin writes what precedes a value (a comma, a member's name), or
// reports that the value is left out.
func (j *jsonEncoder) begin(ref *model.Ref) bool {
	if j.skip > 0 {
		return false
	}
	f := &j.stack[len(j.stack)-1]
	switch f.kind {
	case 's':
		if ref.Location != "" {
			return false
		}
		if f.n > 0 {
			j.w.b = append(j.w.b, ',')
		}
		f.n++
		j.w.b = appendJSONString(j.w.b, memberName(ref.Name, ref))
		j.w.b = append(j.w.b, ':')
	case 'l':
		if f.n > 0 {
			j.w.b = append(j.w.b, ',')
		}
		f.n++
	}
	return true
}

func (j *jsonEncoder) String(ref *model.Ref, v string) {
	if j.begin(ref) {
		j.w.b = appendJSONString(j.w.b, v)
		j.w.check()
	}
}

func (j *jsonEncoder) Bool(ref *model.Ref, v bool) {
	if j.begin(ref) {
		j.w.b = strconv.AppendBool(j.w.b, v)
		j.w.check()
	}
}

func (j *jsonEncoder) Int(ref *model.Ref, v int64) {
	if j.begin(ref) {
		j.w.b = strconv.AppendInt(j.w.b, v, 10)
		j.w.check()
	}
}

func (j *jsonEncoder) Float(ref *model.Ref, v float64) {
	if j.begin(ref) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			j.w.b = appendJSONString(j.w.b, formatFloat(v))
		} else {
			j.w.b = appendJSONFloat(j.w.b, v)
		}
		j.w.check()
	}
}

func (j *jsonEncoder) Time(ref *model.Ref, v time.Time) {
	if !j.begin(ref) {
		return
	}
	if f := tsFormat(ref, FormatUnix); f == FormatUnix {
		j.w.b = appendTime(j.w.b, v, f)
	} else {
		j.w.b = append(j.w.b, '"')
		j.w.b = appendTime(j.w.b, v, f)
		j.w.b = append(j.w.b, '"')
	}
	j.w.check()
}

func (j *jsonEncoder) Blob(ref *model.Ref, v []byte) {
	if j.begin(ref) {
		j.w.b = append(j.w.b, '"')
		j.w.b = base64.StdEncoding.AppendEncode(j.w.b, v)
		j.w.b = append(j.w.b, '"')
		j.w.check()
	}
}

// Value writes a document as JSON, and a jsonvalue member as a string
// holding its JSON text.
func (j *jsonEncoder) Value(ref *model.Ref, v any) {
	if !j.begin(ref) {
		return
	}
	if ref.JSONValue {
		b, err := json.Marshal(v)
		if err != nil {
			j.fail(fmt.Errorf("jsonvalue %s: %w", ref.Shape.Name, err))
		}
		j.w.b = appendJSONString(j.w.b, string(b))
		j.w.check()
		return
	}
	j.w.b = appendJSONValue(j.w.b, v, &j.err)
	j.w.check()
}

func (j *jsonEncoder) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

func (j *jsonEncoder) Null(ref *model.Ref) {
	if j.begin(ref) {
		j.w.WriteString("null")
	}
}

func (j *jsonEncoder) Struct(ref *model.Ref, v Marshaler) {
	if j.begin(ref) {
		j.object(v, ref.Shape.MemberRefs)
	}
}

func (j *jsonEncoder) BeginList(ref *model.Ref, _ int) {
	if !j.begin(ref) {
		j.skip++
		return
	}
	j.w.WriteByte('[')
	j.stack = append(j.stack, jsonFrame{kind: 'l'})
}

func (j *jsonEncoder) EndList(*model.Ref) { j.end(']') }

func (j *jsonEncoder) BeginMap(ref *model.Ref, _ int) {
	if !j.begin(ref) {
		j.skip++
		return
	}
	j.w.WriteByte('{')
	j.stack = append(j.stack, jsonFrame{kind: 'm'})
}

func (j *jsonEncoder) Key(_ *model.Ref, k string) {
	if j.skip > 0 {
		return
	}
	f := &j.stack[len(j.stack)-1]
	if f.n > 0 {
		j.w.b = append(j.w.b, ',')
	}
	f.n++
	j.w.b = appendJSONString(j.w.b, k)
	j.w.b = append(j.w.b, ':')
}

func (j *jsonEncoder) EndMap(*model.Ref) { j.end('}') }

func (j *jsonEncoder) end(c byte) {
	if j.skip > 0 {
		j.skip--
		return
	}
	j.stack = j.stack[:len(j.stack)-1]
	j.w.WriteByte(c)
}

// appendJSONValue appends v as encoding/json writes it without HTML
// escaping, recording an error it refuses in *errp.
func appendJSONValue(b []byte, v any, errp *error) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		if *errp == nil {
			*errp = fmt.Errorf("document: %w", err)
		}
		return append(b, "null"...)
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript: encoding/json escapes them.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat appends a finite f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
