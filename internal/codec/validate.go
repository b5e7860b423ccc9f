package codec

import (
	"fmt"
	"strings"

	"github.com/minicloud/minicloud/internal/model"
)

// missing is the error for a required member left out, the way AWS words
// it for the protocol: EC2 MissingParameter naming the parameter, query
// services ValidationError and JSON/REST services ValidationException with
// the "1 validation error detected" wording.
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

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}
