package codec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// decodeRestInput binds the body, URI labels, query string and headers of
// a rest-json or rest-xml request to the input structure's members.
func (c *Codec) decodeRestInput(op *model.Operation, r *Request, v Unmarshaler, st *decodeState) error {
	sh := op.Input.Shape
	if err := c.decodeRestBody(sh, r.Body, v, st); err != nil {
		return err
	}
	bound := map[string]bool{}
	for _, ref := range sh.MemberRefs {
		if ref.Location == "querystring" && ref.Shape.Type != "map" {
			bound[memberName(ref.Name, ref)] = true
		}
	}
	for _, ref := range sh.MemberRefs {
		wire := memberName(ref.Name, ref)
		rv := &restValue{decodeState: st}
		switch ref.Location {
		case "uri":
			s, ok := r.Labels[wire]
			if !ok {
				continue
			}
			rv.text = s
		case "querystring":
			if !rv.fromQuery(ref, wire, r.Query, bound) {
				continue
			}
		case "header":
			hv := r.Header.Values(wire)
			if len(hv) == 0 {
				continue
			}
			rv.fromHeader(ref, hv)
		case "headers":
			if !rv.fromPrefix(ref, r.Header) {
				continue
			}
		default:
			continue
		}
		if err := v.UnmarshalAWS(rv, ref); err != nil {
			return fmt.Errorf("%s: %w", wire, err)
		}
	}
	return nil
}

// decodeRestBody decodes the body into the payload member or the unbound
// members.
func (c *Codec) decodeRestBody(sh *model.Shape, body []byte, v Unmarshaler, st *decodeState) error {
	empty := len(strings.TrimSpace(string(body))) == 0
	if sh.Payload == "" {
		switch {
		case empty:
			return nil
		case c.Protocol == RestXML:
			root, err := parseXML(body)
			if err != nil {
				return err
			}
			return (&xmlDecoder{decodeState: st}).members(sh, root, v)
		}
		return c.decodeJSONBody(sh, body, v, st)
	}
	pref := sh.Members[sh.Payload]
	switch pref.Shape.Type {
	case "blob":
		if len(body) > 0 || pref.Shape.Streaming {
			return v.UnmarshalAWS(&restValue{decodeState: st, raw: body, isRaw: true}, pref)
		}
		return nil
	case "string":
		if len(body) > 0 {
			return v.UnmarshalAWS(&restValue{decodeState: st, text: string(body)}, pref)
		}
		return nil
	}
	if empty {
		return nil
	}
	if c.Protocol == RestXML {
		root, err := parseXML(body)
		if err != nil {
			return err
		}
		return v.UnmarshalAWS(&xmlDecoder{decodeState: st, node: root}, pref)
	}
	j := c.newJSONDecoder(body, st)
	null, err := j.isNull()
	if err != nil {
		return err
	}
	if null {
		// A null payload is an empty structure, as an empty body is.
		j = c.newJSONDecoder([]byte("{}"), st)
	}
	if err := v.UnmarshalAWS(j, pref); err != nil {
		return err
	}
	if j.dec.More() {
		return fmt.Errorf("malformed JSON body: trailing data")
	}
	return nil
}

// restValue is one member bound to the URI, the query string or headers,
// or a raw payload, as a Decoder.
type restValue struct {
	*decodeState
	text string
	// raw is a blob payload, taken as it is.
	raw   []byte
	isRaw bool
	// items are a list's values; keys and vals a map's entries.
	items []string
	keys  []string
	vals  [][]string
	// rawBase64 decodes a header's blob without trimming it; jsonText
	// holds a jsonvalue's JSON text, base64JSON the same in base64.
	rawBase64, jsonText, base64JSON bool
}

func (rv *restValue) fromQuery(ref *model.Ref, wire string, q map[string][]string, bound map[string]bool) bool {
	sh := ref.Shape
	if sh.Type == "map" {
		for k, vals := range q {
			if bound[k] || len(vals) == 0 && sh.Value.Shape.Type != "list" {
				continue
			}
			rv.keys, rv.vals = append(rv.keys, k), append(rv.vals, vals)
		}
		return len(rv.keys) > 0
	}
	vals, ok := q[wire]
	if !ok || len(vals) == 0 && sh.Type != "list" {
		return false
	}
	if sh.Type == "list" {
		rv.items = vals
		return true
	}
	rv.text, rv.jsonText = vals[0], ref.JSONValue
	return true
}

func (rv *restValue) fromHeader(ref *model.Ref, vals []string) {
	s := strings.Join(vals, ",")
	switch {
	case ref.JSONValue:
		rv.text, rv.base64JSON = s, true
	case ref.Shape.Type == "list":
		rv.items = splitHeaderList(s, ref.Shape.Member.Shape.Type == "timestamp")
	case ref.Shape.Type == "blob":
		rv.text, rv.rawBase64 = s, true
	default:
		rv.text = strings.TrimSpace(s)
	}
}

// fromPrefix collects the headers whose names start with the member's
// locationName, keyed by the rest of the name. The prefix is the
// locationName alone: a member without one collects every header, never
// headers named after the member. Header names are case-insensitive and
// arrive canonicalized, so keys are lower-cased (as S3 does for
// x-amz-meta-*).
func (rv *restValue) fromPrefix(ref *model.Ref, h http.Header) bool {
	lp := strings.ToLower(ref.LocationName)
	for k, vals := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, lp) && len(vals) > 0 {
			rv.keys = append(rv.keys, lk[len(lp):])
			rv.vals = append(rv.vals, []string{strings.TrimSpace(vals[0])})
		}
	}
	return len(rv.keys) > 0
}

func (rv *restValue) String(*model.Ref) (string, error)  { return rv.text, nil }
func (rv *restValue) Bool(*model.Ref) (bool, error)      { return textBool(rv.text) }
func (rv *restValue) Time(*model.Ref) (time.Time, error) { return parseTime(rv.text) }

func (rv *restValue) Int(ref *model.Ref) (int64, error) {
	n, err := textInt(ref.Shape, rv.text)
	return rv.fits(ref, n), err
}

func (rv *restValue) Float(ref *model.Ref) (float64, error) { return textFloat(ref.Shape, rv.text) }

func (rv *restValue) Blob(*model.Ref) ([]byte, error) {
	switch {
	case rv.isRaw:
		return rv.raw, nil
	case rv.rawBase64:
		return base64.StdEncoding.DecodeString(rv.text)
	}
	return textBlob(rv.text)
}

func (rv *restValue) Value(*model.Ref) (any, error) {
	switch {
	case rv.base64JSON:
		raw, err := base64.StdEncoding.DecodeString(rv.text)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 JSON header")
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("invalid JSON header: %w", err)
		}
		return v, nil
	case rv.jsonText:
		return parseJSONValue(rv.text)
	}
	return rv.text, nil
}

func (rv *restValue) Struct(ref *model.Ref, _ Unmarshaler) error {
	return fmt.Errorf("structure %s cannot be bound to HTTP", ref.Shape.Name)
}

func (rv *restValue) List(_ *model.Ref, each func(Decoder, bool) error) error {
	for _, s := range rv.items {
		if err := each(&restValue{decodeState: rv.decodeState, text: s}, false); err != nil {
			return err
		}
	}
	return nil
}

func (rv *restValue) Map(_ *model.Ref, each func(Decoder, string, bool) error) error {
	for i, k := range rv.keys {
		e := &restValue{decodeState: rv.decodeState, items: rv.vals[i]}
		if len(rv.vals[i]) > 0 {
			e.text = rv.vals[i][0]
		}
		if err := each(e, k, false); err != nil {
			return err
		}
	}
	return nil
}

// splitHeaderList splits a comma-separated header list, honouring quoted
// strings; HTTP dates contain a comma, so timestamp lists split on every other.
func splitHeaderList(s string, dates bool) []string {
	var parts []string
	if dates {
		fields := strings.Split(s, ",")
		for i := 0; i+1 < len(fields); i += 2 {
			parts = append(parts, strings.TrimSpace(fields[i]+","+fields[i+1]))
		}
		return parts
	}
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"':
			quoted = !quoted
		case ch == '\\' && quoted && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case ch == ',' && !quoted:
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return parts
}

// headerEncoder writes the members of an output bound to the status code
// and headers (the body encoders leave them out).
type headerEncoder struct {
	walker
	h      http.Header
	status int
	// depth counts the lists and maps being walked that are not bound.
	depth int
	// list is the header list being collected, in parts; prefix the
	// headers map being written, key its current key.
	list   *model.Ref
	parts  []string
	prefix *model.Ref
	key    string
	err    error
}

func (h *headerEncoder) scalar(ref *model.Ref, s string) {
	switch {
	case h.list != nil:
		if strings.ContainsAny(s, `,"`) && ref.Shape.Type != "timestamp" {
			s = strconv.Quote(s)
		}
		h.parts = append(h.parts, s)
	case h.depth == 0 && h.prefix == nil && ref.Location == "header":
		h.h.Set(memberName(ref.Name, ref), s)
	}
}

func (h *headerEncoder) String(ref *model.Ref, v string) {
	if h.prefix != nil && h.depth == 0 {
		h.h.Set(h.prefix.LocationName+h.key, v)
		return
	}
	h.scalar(ref, v)
}

func (h *headerEncoder) Bool(ref *model.Ref, v bool)     { h.scalar(ref, strconv.FormatBool(v)) }
func (h *headerEncoder) Float(ref *model.Ref, v float64) { h.scalar(ref, formatFloat(v)) }
func (h *headerEncoder) Blob(ref *model.Ref, v []byte) {
	h.scalar(ref, base64.StdEncoding.EncodeToString(v))
}
func (h *headerEncoder) Time(ref *model.Ref, v time.Time) {
	h.scalar(ref, formatTime(v, tsFormat(ref, FormatRFC822)))
}

func (h *headerEncoder) Int(ref *model.Ref, v int64) {
	if h.depth == 0 && h.list == nil && h.prefix == nil && ref.Location == "statusCode" {
		h.status = int(v)
		return
	}
	h.scalar(ref, strconv.FormatInt(v, 10))
}

// Value writes a jsonvalue header: its JSON text in base64.
func (h *headerEncoder) Value(ref *model.Ref, v any) {
	if h.depth > 0 || h.list != nil || h.prefix != nil || ref.Location != "header" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.err = err
		return
	}
	h.h.Set(memberName(ref.Name, ref), base64.StdEncoding.EncodeToString(b))
}

func (h *headerEncoder) BeginList(ref *model.Ref, _ int) {
	if h.depth == 0 && h.list == nil && h.prefix == nil && ref.Location == "header" {
		h.list, h.parts = ref, nil
		return
	}
	h.depth++
}

func (h *headerEncoder) EndList(ref *model.Ref) {
	if h.list == ref && h.depth == 0 {
		h.h.Set(memberName(ref.Name, ref), strings.Join(h.parts, ", "))
		h.list = nil
		return
	}
	h.depth--
}

func (h *headerEncoder) BeginMap(ref *model.Ref, _ int) {
	if h.depth == 0 && h.list == nil && h.prefix == nil && ref.Location == "headers" {
		h.prefix = ref
		return
	}
	h.depth++
}

func (h *headerEncoder) Key(_ *model.Ref, k string) { h.key = k }

func (h *headerEncoder) EndMap(ref *model.Ref) {
	if h.prefix == ref && h.depth == 0 {
		h.prefix = nil
		return
	}
	h.depth--
}

// payload captures the payload member of an output.
type payload struct {
	walker
	name   string
	depth  int
	found  bool
	raw    []byte
	isRaw  bool
	st     Marshaler
	value  any
	isList bool
}

func (p *payload) is(ref *model.Ref) bool {
	if p.depth == 0 && ref.Name == p.name {
		p.found = true
		return true
	}
	return false
}

func (p *payload) String(ref *model.Ref, v string) {
	if p.is(ref) {
		p.raw, p.isRaw = []byte(v), true
	}
}

func (p *payload) Blob(ref *model.Ref, v []byte) {
	if p.is(ref) {
		p.raw, p.isRaw = v, true
	}
}

func (p *payload) Struct(ref *model.Ref, v Marshaler) {
	if p.is(ref) {
		p.st = v
	}
}

func (p *payload) Value(ref *model.Ref, v any) {
	if p.is(ref) {
		p.value = v
	}
}

func (p *payload) BeginList(*model.Ref, int) { p.depth++ }
func (p *payload) EndList(*model.Ref)        { p.depth-- }
func (p *payload) BeginMap(*model.Ref, int)  { p.depth++ }
func (p *payload) EndMap(*model.Ref)         { p.depth-- }

// restOutput sets the status and headers of a rest-json or rest-xml
// response and returns the writer of its body (nil for none).
func (c *Codec) restOutput(op *model.Operation, out Marshaler, h http.Header, status *int) (func(*bufWriter) error, error) {
	if op.Output == nil {
		if c.Protocol == RestJSON {
			h.Set("Content-Type", "application/json")
			return func(b *bufWriter) error { b.WriteString("{}"); return nil }, nil
		}
		return nil, nil
	}
	sh := op.Output.Shape
	he := &headerEncoder{h: h}
	out.MarshalAWS(he, sh.MemberRefs)
	if he.err != nil {
		return nil, he.err
	}
	if he.status != 0 {
		*status = he.status
	}
	if sh.Payload != "" {
		pref := sh.Members[sh.Payload]
		p := &payload{name: sh.Payload}
		out.MarshalAWS(p, sh.MemberRefs)
		switch {
		case !p.found:
			return nil, nil
		case p.isRaw:
			return func(b *bufWriter) error { _, _ = b.Write(p.raw); return nil }, nil
		case p.st != nil:
			return c.restBody(h, pref, memberNameForPayload(sh.Payload, pref), p.st), nil
		}
		return c.restBody(h, pref, memberNameForPayload(sh.Payload, pref), documentBody{p.value}), nil
	}
	for _, ref := range sh.MemberRefs {
		if ref.Location == "" {
			rootName := op.Output.LocationName
			if rootName == "" {
				rootName = sh.Name
			}
			return c.restBody(h, op.Output, rootName, out), nil
		}
	}
	return nil, nil
}

// documentBody is a document payload as the body's structure.
type documentBody struct{ v any }

func (d documentBody) MarshalAWS(Encoder, []*model.Ref) {}

// restBody writes v (of ref) as a whole body: XML under rootName, or JSON.
func (c *Codec) restBody(h http.Header, ref *model.Ref, rootName string, v Marshaler) func(*bufWriter) error {
	if c.Protocol == RestXML {
		h.Set("Content-Type", "application/xml")
		return func(b *bufWriter) error {
			(&xmlEncoder{w: b}).element(rootName, ref, v)
			return nil
		}
	}
	h.Set("Content-Type", "application/json")
	return func(b *bufWriter) error {
		j := &jsonEncoder{w: b}
		if d, ok := v.(documentBody); ok {
			b.b = appendJSONValue(b.b, d.v, &j.err)
			return j.err
		}
		j.object(v, ref.Shape.MemberRefs)
		return j.err
	}
}

func memberNameForPayload(name string, ref *model.Ref) string {
	if ref.LocationName != "" {
		return ref.LocationName
	}
	if ref.Shape.LocationName != "" {
		return ref.Shape.LocationName
	}
	return name
}

// decodeRestOutput parses a REST response as a client would.
func (c *Codec) decodeRestOutput(op *model.Operation, resp *Response, v Unmarshaler, st *decodeState) error {
	sh := op.Output.Shape
	if err := c.decodeRestBody(sh, resp.Body, v, st); err != nil {
		return err
	}
	for _, ref := range sh.MemberRefs {
		rv := &restValue{decodeState: st}
		switch ref.Location {
		case "statusCode":
			rv.text = strconv.Itoa(resp.Status)
		case "header":
			hv := resp.Header.Values(memberName(ref.Name, ref))
			if len(hv) == 0 {
				continue
			}
			rv.fromHeader(ref, hv)
		case "headers":
			if !rv.fromPrefix(ref, resp.Header) {
				continue
			}
		default:
			continue
		}
		if err := v.UnmarshalAWS(rv, ref); err != nil {
			return err
		}
	}
	return nil
}
