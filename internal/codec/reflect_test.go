package codec

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// The generated API types (internal/api/*api) tag every field with the model
// member it carries: `aws:"MemberName"`. To and From convert between those
// types and generic values by reflection, with the field table of each type
// computed once. Reflection keeps the generated code to plain type
// declarations, as the model supplies every wire detail at run time.

type fieldInfo struct {
	index  int
	member string
}

var fieldCache sync.Map // reflect.Type → []fieldInfo

func fieldsOf(t reflect.Type) []fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]fieldInfo)
	}
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("aws")
		if name == "" || !f.IsExported() {
			continue
		}
		out = append(out, fieldInfo{index: i, member: name})
	}
	fieldCache.Store(t, out)
	return out
}

var timeType = reflect.TypeOf(time.Time{})

// To stores the generic structure v into *dst, a pointer to a generated type.
func To(v map[string]any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("codec: To needs a non-nil pointer, got %T", dst)
	}
	return setValue(rv.Elem(), v, "")
}

func setValue(dst reflect.Value, v any, path string) error {
	if v == nil {
		return nil
	}
	t := dst.Type()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := setValue(p.Elem(), v, path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v))
		return nil
	case reflect.Struct:
		if t == timeType {
			tv, ok := v.(time.Time)
			if !ok {
				return typeErr(path, "timestamp", v)
			}
			dst.Set(reflect.ValueOf(tv))
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr(path, "structure", v)
		}
		for _, f := range fieldsOf(t) {
			mv, ok := m[f.member]
			if !ok {
				continue
			}
			if err := setValue(dst.Field(f.index), mv, join(path, f.member)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b, ok := v.([]byte)
			if !ok {
				return typeErr(path, "blob", v)
			}
			dst.SetBytes(b)
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return typeErr(path, "list", v)
		}
		s := reflect.MakeSlice(t, len(l), len(l))
		for i, e := range l {
			if err := setValue(s.Index(i), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr(path, "map", v)
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := setValue(ev, e, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(out)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return typeErr(path, "string", v)
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return typeErr(path, "boolean", v)
		}
		dst.SetBool(b)
		return nil
	case reflect.Int32, reflect.Int64, reflect.Int, reflect.Int16, reflect.Int8:
		n, ok := v.(int64)
		if !ok {
			return typeErr(path, "integer", v)
		}
		if dst.OverflowInt(n) {
			return fmt.Errorf("%s: value %d out of range", path, n)
		}
		dst.SetInt(n)
		return nil
	case reflect.Float32, reflect.Float64:
		switch n := v.(type) {
		case float64:
			dst.SetFloat(n)
		case int64:
			dst.SetFloat(float64(n))
		default:
			return typeErr(path, "number", v)
		}
		return nil
	}
	return fmt.Errorf("%s: unsupported field type %s", path, t)
}

func typeErr(path, want string, v any) error {
	return fmt.Errorf("%s: expected %s, got %T", path, want, v)
}

// From converts a generated type (or a pointer to one) into its generic
// structure. Nil pointers, nil slices and nil maps are absent members; empty
// non-nil slices are present and empty, which XML protocols write as an empty
// element.
func From(src any) (map[string]any, error) {
	v := getValue(reflect.ValueOf(src))
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("codec: From needs a structure, got %T", src)
	}
	return m, nil
}

func getValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return getValue(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time)
		}
		out := map[string]any{}
		for _, f := range fieldsOf(v.Type()) {
			if fv := getValue(v.Field(f.index)); fv != nil {
				out[f.member] = fv
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = getValue(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			out[it.Key().String()] = getValue(it.Value())
		}
		return out
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Float32:
		// Through the shortest float32 text, so 1.1 stays 1.1 rather than
		// 1.100000023841858.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		return f
	case reflect.Float64:
		return v.Float()
	}
	return nil
}
