package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// maxJSONDepth bounds nesting as encoding/json's own decoder does.
const maxJSONDepth = 10000

// jsonDecoder reads a JSON body as a stream of tokens, straight into the
// structure being filled: members it does not know are skipped (as AWS
// services do), nulls are absent members.
type jsonDecoder struct {
	*decodeState
	c     *Codec
	dec   *json.Decoder
	depth int
	// tok is a token read ahead (to tell null from a value), if have.
	tok  json.Token
	have bool
}

// decodeJSONBody reads body into structure sh. An empty body, or null, is
// an empty structure, as AWS treats it.
func (c *Codec) decodeJSONBody(sh *model.Shape, body []byte, v Unmarshaler, st *decodeState) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	j := c.newJSONDecoder(body, st)
	tok, err := j.next()
	if err != nil {
		return err
	}
	if tok != nil {
		j.unread(tok)
		if err := j.members(sh, v); err != nil {
			return err
		}
	}
	if j.dec.More() {
		return fmt.Errorf("malformed JSON body: trailing data")
	}
	return nil
}

func (c *Codec) newJSONDecoder(body []byte, st *decodeState) *jsonDecoder {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return &jsonDecoder{decodeState: st, c: c, dec: dec}
}

func (j *jsonDecoder) next() (json.Token, error) {
	if j.have {
		j.have = false
		return j.tok, nil
	}
	tok, err := j.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("malformed JSON body: %w", err)
	}
	return tok, nil
}

func (j *jsonDecoder) unread(tok json.Token) { j.tok, j.have = tok, true }

// open reads the opening delimiter of an object or array.
func (j *jsonDecoder) open(want json.Delim, what string, sh *model.Shape) error {
	tok, err := j.next()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %s for %s", what, sh.Name)
	}
	if j.depth++; j.depth > maxJSONDepth {
		return fmt.Errorf("malformed JSON body: nested too deeply")
	}
	return nil
}

// close reads the closing delimiter after the last element.
func (j *jsonDecoder) close() error {
	j.depth--
	_, err := j.next()
	return err
}

// isNull reads ahead: a null is consumed, a value left to read.
func (j *jsonDecoder) isNull() (bool, error) {
	tok, err := j.next()
	if err != nil {
		return false, err
	}
	if tok == nil {
		return true, nil
	}
	j.unread(tok)
	return false, nil
}

// members reads an object into structure sh.
func (j *jsonDecoder) members(sh *model.Shape, v Unmarshaler) error {
	if err := j.open('{', "an object", sh); err != nil {
		return err
	}
	for j.dec.More() {
		tok, err := j.next()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		ref := j.c.memberByWire(sh, key)
		if ref == nil || ref.Location != "" {
			if err := j.skip(); err != nil {
				return err
			}
			continue
		}
		if null, err := j.isNull(); err != nil {
			return err
		} else if null {
			continue
		}
		if err := v.UnmarshalAWS(j, ref); err != nil {
			return err
		}
	}
	return j.close()
}

// skip reads one value of any kind.
func (j *jsonDecoder) skip() error {
	depth := 0
	for {
		tok, err := j.next()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				if depth++; j.depth+depth > maxJSONDepth {
					return fmt.Errorf("malformed JSON body: nested too deeply")
				}
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// scalar reads a scalar token.
func (j *jsonDecoder) scalar() (json.Token, error) {
	tok, err := j.next()
	if err != nil {
		return nil, err
	}
	if _, ok := tok.(json.Delim); ok {
		// Consume the rest of the container so that the error is the
		// value's type, as it would be for a whole decoded document.
		j.unread(tok)
		if err := j.skip(); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

func (j *jsonDecoder) String(ref *model.Ref) (string, error) {
	tok, err := j.scalar()
	return tokenString(tok, err, ref)
}

func (j *jsonDecoder) Bool(ref *model.Ref) (bool, error) {
	tok, err := j.scalar()
	return tokenBool(tok, err, ref)
}

func (j *jsonDecoder) Int(ref *model.Ref) (int64, error) {
	tok, err := j.scalar()
	return tokenInt(j.decodeState, tok, err, ref)
}

func (j *jsonDecoder) Float(ref *model.Ref) (float64, error) {
	tok, err := j.scalar()
	return tokenFloat(tok, err, ref)
}

func (j *jsonDecoder) Time(ref *model.Ref) (time.Time, error) {
	tok, err := j.scalar()
	return tokenTime(tok, err, ref)
}

func (j *jsonDecoder) Blob(ref *model.Ref) ([]byte, error) {
	tok, err := j.scalar()
	if err != nil {
		return nil, err
	}
	s, ok := tok.(string)
	if !ok {
		return nil, fmt.Errorf("expected a blob for %s", ref.Shape.Name)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64 for %s", ref.Shape.Name)
	}
	return b, nil
}

// Value reads a document as its JSON value (numbers as json.Number), and a
// jsonvalue member's string as the JSON text it holds.
func (j *jsonDecoder) Value(ref *model.Ref) (any, error) {
	if ref.JSONValue {
		tok, err := j.scalar()
		if err != nil {
			return nil, err
		}
		s, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("expected a JSON string for %s", ref.Shape.Name)
		}
		return parseJSONValue(s)
	}
	return j.any()
}

// any reads one value of any kind into its generic JSON form.
func (j *jsonDecoder) any() (any, error) {
	tok, err := j.next()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if j.depth++; j.depth > maxJSONDepth {
		return nil, fmt.Errorf("malformed JSON body: nested too deeply")
	}
	defer func() { j.depth-- }()
	if d == '[' {
		l := []any{}
		for j.dec.More() {
			v, err := j.any()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := j.next()
		return l, err
	}
	m := map[string]any{}
	for j.dec.More() {
		k, err := j.next()
		if err != nil {
			return nil, err
		}
		v, err := j.any()
		if err != nil {
			return nil, err
		}
		m[k.(string)] = v
	}
	_, err = j.next()
	return m, err
}

func (j *jsonDecoder) Struct(ref *model.Ref, v Unmarshaler) error { return j.members(ref.Shape, v) }

func (j *jsonDecoder) List(ref *model.Ref, each func(Decoder, bool) error) error {
	if err := j.open('[', "an array", ref.Shape); err != nil {
		return err
	}
	for j.dec.More() {
		null, err := j.isNull()
		if err != nil {
			return err
		}
		if err := each(j, null); err != nil {
			return err
		}
	}
	return j.close()
}

func (j *jsonDecoder) Map(ref *model.Ref, each func(Decoder, string, bool) error) error {
	if err := j.open('{', "an object", ref.Shape); err != nil {
		return err
	}
	for j.dec.More() {
		tok, err := j.next()
		if err != nil {
			return err
		}
		null, err := j.isNull()
		if err != nil {
			return err
		}
		if err := each(j, tok.(string), null); err != nil {
			return err
		}
	}
	return j.close()
}

// parseJSONValue decodes the JSON text of a jsonvalue member.
func parseJSONValue(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("invalid JSON value: %w", err)
	}
	return v, nil
}

// The token functions convert a scalar read by the JSON or the CBOR
// decoder (tok, or the error reading it) into ref's type.

func tokenString(tok any, err error, ref *model.Ref) (string, error) {
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a string for %s", ref.Shape.Name)
	}
	return s, nil
}

func tokenBool(tok any, err error, ref *model.Ref) (bool, error) {
	if err != nil {
		return false, err
	}
	b, ok := tok.(bool)
	if !ok {
		return false, fmt.Errorf("expected a boolean for %s", ref.Shape.Name)
	}
	return b, nil
}

func tokenInt(st *decodeState, tok any, err error, ref *model.Ref) (int64, error) {
	if err != nil {
		return 0, err
	}
	n, err := toInt(tok, ref.Shape.Name)
	return st.fits(ref, n), err
}

func tokenFloat(tok any, err error, ref *model.Ref) (float64, error) {
	if err != nil {
		return 0, err
	}
	return toFloat(tok, ref.Shape.Name)
}

// tokenTime reads a timestamp: epoch seconds, a string in any of the
// formats parseTime knows, or (CBOR's tag 1) a time.
func tokenTime(tok any, err error, ref *model.Ref) (time.Time, error) {
	if err != nil {
		return time.Time{}, err
	}
	switch x := tok.(type) {
	case time.Time:
		if x.IsZero() || x.Unix() <= -maxEpoch || x.Unix() >= maxEpoch {
			return time.Time{}, fmt.Errorf("invalid timestamp for %s", ref.Shape.Name)
		}
		return x, nil
	case string:
		return parseTime(x)
	}
	f, err := toFloat(tok, ref.Shape.Name)
	if err != nil {
		return time.Time{}, err
	}
	return epochTime(f)
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
		if x > 1<<63-1 {
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
		case "NaN", "Infinity", "-Infinity":
			return textFloat(&model.Shape{}, x)
		}
	}
	return 0, fmt.Errorf("expected a number for %s", name)
}
