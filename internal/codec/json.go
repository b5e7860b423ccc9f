package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// decodeJSONStruct parses a JSON body into structure sh. An empty body is an
// empty structure, as AWS treats it.
func decodeJSONStruct(sh *model.Shape, body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("malformed JSON body: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("malformed JSON body: trailing data")
	}
	if tree == nil {
		return map[string]any{}, nil
	}
	v, err := fromTree(&model.Ref{Shape: sh}, tree, false)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// fromTree converts a decoded JSON or CBOR tree into the generic Value of ref,
// checking types. Unknown members are ignored, as AWS services do.
func fromTree(ref *model.Ref, v any, cbor bool) (any, error) {
	sh := ref.Shape
	if sh.Document {
		return v, nil
	}
	if ref.JSONValue {
		// A jsonvalue member is a string on the wire holding a JSON text;
		// its Value is that text decoded.
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a JSON string for %s", sh.Name)
		}
		return parseJSONValue(s)
	}
	switch sh.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected an object for %s", sh.Name)
		}
		out := map[string]any{}
		for _, name := range sh.MemberNames {
			mr := sh.Members[name]
			if mr.Location != "" {
				continue
			}
			mv, ok := obj[memberName(name, mr)]
			if !ok || mv == nil {
				continue
			}
			cv, err := fromTree(mr, mv, cbor)
			if err != nil {
				return nil, err
			}
			out[name] = cv
		}
		return out, nil
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("expected an array for %s", sh.Name)
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if e == nil {
				out = append(out, nil)
				continue
			}
			cv, err := fromTree(sh.Member, e, cbor)
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expected an object for %s", sh.Name)
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			if e == nil {
				out[k] = nil
				continue
			}
			cv, err := fromTree(sh.Value, e, cbor)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case "string", "character":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string for %s", sh.Name)
		}
		return s, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected a boolean for %s", sh.Name)
		}
		return b, nil
	case "integer", "long", "byte", "short":
		return toInt(v, sh.Name)
	case "float", "double", "bigdecimal":
		return toFloat(v, sh.Name)
	case "timestamp":
		switch x := v.(type) {
		case time.Time:
			// The CBOR decoder turns tag 1 into a time itself, and a NaN or
			// infinite epoch into the zero time: neither that nor an epoch
			// out of range is a timestamp.
			if x.IsZero() || x.Unix() <= -maxEpoch || x.Unix() >= maxEpoch {
				return nil, fmt.Errorf("invalid timestamp for %s", sh.Name)
			}
			return x.UTC(), nil
		case string:
			return parseTime(x)
		}
		f, err := toFloat(v, sh.Name)
		if err != nil {
			return nil, err
		}
		return epochTime(f)
	case "blob":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			if cbor {
				return []byte(x), nil
			}
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("invalid base64 for %s", sh.Name)
			}
			return b, nil
		}
		return nil, fmt.Errorf("expected a blob for %s", sh.Name)
	}
	return nil, fmt.Errorf("unsupported shape type %s", sh.Type)
}

// parseJSONValue decodes the JSON text of a jsonvalue member.
func parseJSONValue(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("invalid JSON value: %w", err)
	}
	return v, nil
}

func toInt(v any, name string) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("expected an integer for %s", name)
		}
		return n, nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("integer out of range for %s", name)
		}
		return int64(x), nil
	case float64:
		// Beyond ±2^63 the conversion to int64 is undefined.
		if x != math.Trunc(x) || math.Abs(x) >= 1<<63 {
			return 0, fmt.Errorf("expected an integer for %s", name)
		}
		return int64(x), nil
	}
	return 0, fmt.Errorf("expected an integer for %s", name)
}

func toFloat(v any, name string) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return strconv.ParseFloat(string(x), 64)
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf("expected a number for %s", name)
}

// toJSONTree converts a Value into what encoding/json writes for ref.
func toJSONTree(ref *model.Ref, v any) (any, error) {
	sh := ref.Shape
	if sh.Document {
		return v, nil
	}
	if ref.JSONValue {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("jsonvalue %s: %w", sh.Name, err)
		}
		return string(b), nil
	}
	switch sh.Type {
	case "structure":
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for _, name := range sh.MemberNames {
			mr := sh.Members[name]
			mv, ok := m[name]
			if !ok || mv == nil || mr.Location != "" {
				continue
			}
			jv, err := toJSONTree(mr, mv)
			if err != nil {
				return nil, err
			}
			out[memberName(name, mr)] = jv
		}
		return out, nil
	case "list":
		l, _ := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			if e == nil {
				continue
			}
			jv, err := toJSONTree(sh.Member, e)
			if err != nil {
				return nil, err
			}
			out[i] = jv
		}
		return out, nil
	case "map":
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, e := range m {
			if e == nil {
				out[k] = nil
				continue
			}
			jv, err := toJSONTree(sh.Value, e)
			if err != nil {
				return nil, err
			}
			out[k] = jv
		}
		return out, nil
	case "timestamp":
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("value of type %T for timestamp %s", v, sh.Name)
		}
		switch f := tsFormat(ref, FormatUnix); f {
		case FormatUnix:
			return json.Number(formatEpoch(t)), nil
		default:
			return formatTime(t, f), nil
		}
	case "blob":
		b, _ := v.([]byte)
		return base64.StdEncoding.EncodeToString(b), nil
	case "float", "double", "bigdecimal":
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("value of type %T for %s", v, sh.Name)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return formatFloat(f), nil
		}
		return f, nil
	}
	return v, nil
}

func encodeJSON(ref *model.Ref, v any) ([]byte, error) {
	tree, err := toJSONTree(ref, v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func encodeJSONBody(ref *model.Ref, out map[string]any, resp *Response) error {
	if ref == nil {
		resp.Body = []byte("{}")
		return nil
	}
	b, err := encodeJSON(ref, out)
	if err != nil {
		return err
	}
	resp.Body = b
	return nil
}
