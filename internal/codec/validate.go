package codec

import (
	"fmt"
	"strings"

	"github.com/minicloud/minicloud/internal/model"
)

// CheckRequired enforces the model's required members on a decoded input,
// recursively, and fails the way AWS does for the protocol: EC2 answers
// MissingParameter naming the parameter; query services ValidationError and
// JSON/REST services ValidationException with the "1 validation error
// detected" wording.
func (c *Codec) CheckRequired(op *model.Operation, in map[string]any) error {
	if op.Input == nil {
		return nil
	}
	return c.checkStruct(op.Input.Shape, in, "")
}

func (c *Codec) checkStruct(sh *model.Shape, v map[string]any, path string) error {
	for _, name := range sh.Required {
		ref, ok := sh.Members[name]
		if !ok {
			continue
		}
		if mv, ok := v[name]; !ok || mv == nil {
			return c.missing(name, ref, path)
		}
	}
	for _, name := range sh.MemberNames {
		ref := sh.Members[name]
		mv, ok := v[name]
		if !ok || mv == nil {
			continue
		}
		if err := c.checkValue(ref, mv, join(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Codec) checkValue(ref *model.Ref, v any, path string) error {
	switch ref.Shape.Type {
	case "structure":
		if m, ok := v.(map[string]any); ok {
			return c.checkStruct(ref.Shape, m, path)
		}
	case "list":
		if l, ok := v.([]any); ok {
			for i, e := range l {
				if e == nil {
					continue
				}
				if err := c.checkValue(ref.Shape.Member, e, fmt.Sprintf("%s.%d", path, i+1)); err != nil {
					return err
				}
			}
		}
	case "map":
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				if e == nil {
					continue
				}
				if err := c.checkValue(ref.Shape.Value, e, path+"."+k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *Codec) missing(name string, ref *model.Ref, path string) error {
	switch c.Protocol {
	case EC2:
		return &Error{Code: "MissingParameter", Message: fmt.Sprintf("The request must contain the parameter %s", c.queryMemberName(name, ref)), Status: 400}
	case Query:
		return &Error{Code: "ValidationError", Message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(join(path, name))), Status: 400}
	}
	return &Error{Code: "ValidationException", Message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(join(path, name))), Status: 400}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
