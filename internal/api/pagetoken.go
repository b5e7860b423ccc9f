package api

import (
	"encoding/base64"
	"strings"
)

// PageToken is an opaque pagination token (NextToken) for clients: base64
// of what the listing resumes from, prefixed by the listing's kind so that
// one listing's token is refused by another.
func PageToken(kind, v string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + v))
	return &s
}

// ParsePageToken returns what PageToken encoded for kind; ok is false for a
// token that is not one of kind's. A nil token is the first page ("", true).
func ParsePageToken(kind string, t *string) (v string, ok bool) {
	if t == nil {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(*t)
	if err != nil {
		return "", false
	}
	if v, ok = strings.CutPrefix(string(b), kind+":"); !ok {
		return "", false
	}
	return v, true
}
