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

// decodeRestInput binds URI labels, query string, headers and body of a
// rest-json or rest-xml request to the input structure's members.
func (c *Codec) decodeRestInput(op *model.Operation, r *Request) (map[string]any, error) {
	sh := op.Input.Shape
	out, err := c.decodeRestBody(sh, op.Input, r.Body)
	if err != nil {
		return nil, err
	}
	bound := map[string]bool{}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		if ref.Location == "querystring" && ref.Shape.Type != "map" {
			bound[memberName(name, ref)] = true
		}
	}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		wire := memberName(name, ref)
		var (
			v   any
			err error
		)
		switch ref.Location {
		case "uri":
			s, ok := r.Labels[wire]
			if !ok {
				continue
			}
			v, err = parseScalarAt(ref, s, FormatISO8601)
		case "querystring":
			v, err = restQueryValue(ref, wire, r, bound)
		case "header":
			hv := r.Header.Values(wire)
			if len(hv) == 0 {
				continue
			}
			v, err = headerValue(ref, hv)
		case "headers":
			v, err = prefixHeaders(ref, r.Header)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", wire, err)
		}
		if v != nil {
			out[name] = v
		}
	}
	return out, nil
}

func parseScalarAt(ref *model.Ref, s string, defTS string) (any, error) {
	if ref.Shape.Type == "timestamp" {
		return parseTime(s)
	}
	return parseScalar(ref.Shape, ref, s)
}

func restQueryValue(ref *model.Ref, wire string, r *Request, bound map[string]bool) (any, error) {
	sh := ref.Shape
	if ref.JSONValue {
		// In the query string a jsonvalue is the plain JSON text (headers
		// base64 it, query strings only percent-encode it).
		vals, ok := r.Query[wire]
		if !ok || len(vals) == 0 {
			return nil, nil
		}
		return parseJSONValue(vals[0])
	}
	switch sh.Type {
	case "list":
		vals, ok := r.Query[wire]
		if !ok {
			return nil, nil
		}
		out := make([]any, 0, len(vals))
		for _, s := range vals {
			v, err := parseScalarAt(sh.Member, s, FormatISO8601)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		out := map[string]any{}
		for k, vals := range r.Query {
			if bound[k] {
				continue
			}
			if sh.Value.Shape.Type == "list" {
				l := make([]any, len(vals))
				for i, s := range vals {
					l[i] = s
				}
				out[k] = l
			} else if len(vals) > 0 {
				out[k] = vals[0]
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	vals, ok := r.Query[wire]
	if !ok || len(vals) == 0 {
		return nil, nil
	}
	return parseScalarAt(ref, vals[0], FormatISO8601)
}

func headerValue(ref *model.Ref, vals []string) (any, error) {
	sh := ref.Shape
	s := strings.Join(vals, ",")
	switch {
	case ref.JSONValue:
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 JSON header")
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("invalid JSON header: %w", err)
		}
		return v, nil
	case sh.Type == "list":
		var out []any
		for _, part := range splitHeaderList(s, sh.Member.Shape.Type == "timestamp") {
			v, err := parseScalarAt(sh.Member, part, FormatRFC822)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case sh.Type == "blob":
		return base64.StdEncoding.DecodeString(s)
	}
	return parseScalarAt(ref, strings.TrimSpace(s), FormatRFC822)
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

// prefixHeaders collects the headers whose names start with the member's
// locationName, keyed by the rest of the name. The prefix is the locationName
// alone: a member without one collects every header, never headers named
// after the member. Header names are case-insensitive and arrive
// canonicalized, so keys are lower-cased (as S3 does for x-amz-meta-*).
func prefixHeaders(ref *model.Ref, h http.Header) (any, error) {
	out := map[string]any{}
	lp := strings.ToLower(ref.LocationName)
	for k, vals := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, lp) && len(vals) > 0 {
			out[lk[len(lp):]] = strings.TrimSpace(vals[0])
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// decodeRestBody decodes the body into the payload member or the unbound members.
func (c *Codec) decodeRestBody(sh *model.Shape, top *model.Ref, body []byte) (map[string]any, error) {
	out := map[string]any{}
	if sh.Payload != "" {
		pref := sh.Members[sh.Payload]
		switch pref.Shape.Type {
		case "blob":
			if len(body) > 0 || pref.Shape.Streaming {
				out[sh.Payload] = body
			}
			return out, nil
		case "string":
			if len(body) > 0 {
				out[sh.Payload] = string(body)
			}
			return out, nil
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return out, nil
		}
		v, err := c.decodeBodyValue(pref, body)
		if err != nil {
			return nil, err
		}
		out[sh.Payload] = v
		return out, nil
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return out, nil
	}
	return c.decodeBodyStruct(sh, body)
}

func (c *Codec) decodeBodyValue(ref *model.Ref, body []byte) (any, error) {
	if c.Protocol == RestXML {
		root, err := parseXML(body)
		if err != nil {
			return nil, err
		}
		return decodeXMLValue(ref, root)
	}
	m, err := decodeJSONStruct(ref.Shape, body)
	return m, err
}

func (c *Codec) decodeBodyStruct(sh *model.Shape, body []byte) (map[string]any, error) {
	if c.Protocol == RestXML {
		root, err := parseXML(body)
		if err != nil {
			return nil, err
		}
		return decodeXMLStruct(sh, root)
	}
	return decodeJSONStruct(sh, body)
}

// encodeRestOutput writes header- and status-bound members, then the payload
// member or the remaining members as the body.
func (c *Codec) encodeRestOutput(op *model.Operation, out map[string]any, resp *Response) error {
	if op.Output == nil {
		if c.Protocol == RestJSON {
			resp.Header.Set("Content-Type", "application/json")
			resp.Body = []byte("{}")
		}
		return nil
	}
	sh := op.Output.Shape
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		v, ok := out[name]
		if !ok || v == nil {
			continue
		}
		switch ref.Location {
		case "statusCode":
			n, _ := toInt(v, name)
			resp.Status = int(n)
		case "header":
			s, err := headerText(ref, v)
			if err != nil {
				return err
			}
			resp.Header.Set(memberName(name, ref), s)
		case "headers":
			m, _ := v.(map[string]any)
			for k, hv := range m {
				if s, ok := hv.(string); ok {
					resp.Header.Set(ref.LocationName+k, s)
				}
			}
		}
	}
	if sh.Payload != "" {
		pref := sh.Members[sh.Payload]
		pv, ok := out[sh.Payload]
		if !ok || pv == nil {
			return nil
		}
		switch x := pv.(type) {
		case []byte:
			resp.Body = x
			return nil
		case string:
			resp.Body = []byte(x)
			return nil
		}
		return c.encodeBody(pref, memberNameForPayload(sh.Payload, pref), pv, resp)
	}
	hasBody := false
	for _, name := range sh.MemberNames {
		if sh.Members[name].Location == "" {
			hasBody = true
		}
	}
	if !hasBody {
		return nil
	}
	rootName := op.Output.LocationName
	if rootName == "" {
		rootName = sh.Name
	}
	return c.encodeBody(op.Output, rootName, out, resp)
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

func (c *Codec) encodeBody(ref *model.Ref, rootName string, v any, resp *Response) error {
	if c.Protocol == RestXML {
		resp.Header.Set("Content-Type", "application/xml")
		w := &xmlWriter{defTS: FormatISO8601}
		if err := w.element(rootName, ref, v, nil); err != nil {
			return err
		}
		resp.Body = w.b.Bytes()
		return nil
	}
	resp.Header.Set("Content-Type", "application/json")
	b, err := encodeJSON(ref, v)
	if err != nil {
		return err
	}
	resp.Body = b
	return nil
}

func headerText(ref *model.Ref, v any) (string, error) {
	sh := ref.Shape
	if ref.JSONValue {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, err := headerText(sh.Member, e)
			if err != nil {
				return "", err
			}
			if strings.ContainsAny(s, `,"`) && sh.Member.Shape.Type != "timestamp" {
				s = strconv.Quote(s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", "), nil
	case time.Time:
		return formatTime(x, tsFormat(ref, FormatRFC822)), nil
	}
	return scalarText(sh, ref, v, FormatRFC822)
}

// decodeRestOutput parses a REST response as a client would.
func (c *Codec) decodeRestOutput(op *model.Operation, resp *Response) (map[string]any, error) {
	sh := op.Output.Shape
	out, err := c.decodeRestBody(sh, op.Output, resp.Body)
	if err != nil {
		return nil, err
	}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		wire := memberName(name, ref)
		var v any
		switch ref.Location {
		case "statusCode":
			v = int64(resp.Status)
		case "header":
			hv := resp.Header.Values(wire)
			if len(hv) == 0 {
				continue
			}
			v, err = headerValue(ref, hv)
		case "headers":
			v, err = prefixHeaders(ref, resp.Header)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[name] = v
		}
	}
	return out, nil
}
