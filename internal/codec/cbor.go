package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/minicloud/minicloud/internal/model"
)

var (
	cborDec cbor.DecMode
	cborEnc cbor.EncMode
)

func init() {
	var err error
	cborDec, err = cbor.DecOptions{
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		TimeTag:          cbor.DecTagOptional,
		MaxNestedLevels:  100,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		IndefLength:      cbor.IndefLengthAllowed,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	cborEnc, err = cbor.EncOptions{
		Time:    cbor.TimeUnixDynamic,
		TimeTag: cbor.EncTagRequired,
		Sort:    cbor.SortBytewiseLexical,
	}.EncMode()
	if err != nil {
		panic(err)
	}
}

// decodeCBORStruct parses a smithy-rpc-v2-cbor body into structure sh.
func decodeCBORStruct(sh *model.Shape, body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	var tree any
	if err := cborDec.Unmarshal(body, &tree); err != nil {
		return nil, fmt.Errorf("malformed CBOR body: %w", err)
	}
	if tree == nil {
		return map[string]any{}, nil
	}
	v, err := fromTree(&model.Ref{Shape: sh}, normalizeCBOR(tree), true)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// normalizeCBOR turns maps keyed by any into maps keyed by string and tag-1
// values into times, so fromTree sees the same forms as for JSON.
func normalizeCBOR(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeCBOR(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalizeCBOR(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalizeCBOR(e)
		}
		return x
	case cbor.Tag:
		if x.Number == 1 {
			if f, err := toFloat(x.Content, "timestamp"); err == nil {
				if t, err := epochTime(f); err == nil {
					return t
				}
			}
		}
		return x.Content
	}
	return v
}

// toCBORTree converts a Value into what the CBOR encoder writes for ref:
// timestamps as tag 1, blobs as byte strings.
func toCBORTree(ref *model.Ref, v any) any {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for _, name := range sh.MemberNames {
			mv, ok := m[name]
			if !ok || mv == nil {
				continue
			}
			out[memberName(name, sh.Members[name])] = toCBORTree(sh.Members[name], mv)
		}
		return out
	case "list":
		l, _ := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			if e != nil {
				out[i] = toCBORTree(sh.Member, e)
			}
		}
		return out
	case "map":
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, e := range m {
			if e != nil {
				out[k] = toCBORTree(sh.Value, e)
			} else {
				out[k] = nil
			}
		}
		return out
	case "timestamp":
		if t, ok := v.(time.Time); ok {
			return t.UTC()
		}
	}
	return v
}

func encodeCBORBody(ref *model.Ref, out map[string]any, resp *Response) error {
	if ref == nil {
		return nil
	}
	b, err := cborEnc.Marshal(toCBORTree(ref, out))
	if err != nil {
		return err
	}
	resp.Body = b
	return nil
}
