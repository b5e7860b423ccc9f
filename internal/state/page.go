package state

import (
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// PageOptions describes one operation's pagination contract. Services
// differ (EC2 MaxResults/NextToken vs RDS MaxRecords/Marker), so the bounds,
// error codes and messages are parameters rather than baked in.
type PageOptions struct {
	// Min and Max bound an explicit page size; zero disables that bound.
	Min, Max int
	// Default is the page size when none is given. Zero returns everything,
	// which is EC2's behaviour for Describe* calls without MaxResults.
	Default int
	// Param names the size parameter in messages; default "maxResults".
	Param string
	// SizeCode is the error code for an out-of-range size; default
	// InvalidParameterValue.
	SizeCode string
	// TokenCode is the error code for a malformed token; default
	// InvalidNextToken (RDS would use InvalidParameterValue).
	TokenCode string
	// SizeMessage overrides the out-of-range message.
	SizeMessage func(got, min, max int) string
	// TokenMessage overrides the malformed-token message.
	TokenMessage func(token string) string
}

// tokenVersion lets the token format change without misreading old tokens.
const tokenVersion = "v1:"

// PageToken encodes the sort key of the last item returned. Resuming from
// a key rather than an offset keeps pagination stable while items are
// created or deleted between calls.
func PageToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenVersion + lastKey))
}

func parsePageToken(tok string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(raw), tokenVersion) {
		return "", false
	}
	return strings.TrimPrefix(string(raw), tokenVersion), true
}

// Paginate returns the page of items after nextToken, ordered by key, and
// the token for the following page ("" when this is the last). Items need
// not be pre-sorted; keys should be unique (resource ids).
func Paginate[T any](items []T, maxResults *int32, nextToken string, opts PageOptions, key func(T) string) (page []T, next string, err error) {
	size := opts.Default
	if maxResults != nil {
		n := int(*maxResults)
		if (opts.Min > 0 && n < opts.Min) || (opts.Max > 0 && n > opts.Max) {
			return nil, "", opts.sizeError(n)
		}
		size = n
	}
	if !slices.IsSortedFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) }) {
		items = slices.Clone(items)
		slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	}
	start := 0
	if nextToken != "" {
		last, ok := parsePageToken(nextToken)
		if !ok {
			return nil, "", opts.tokenError(nextToken)
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > last })
	}
	rest := items[start:]
	if rest == nil {
		// An empty page is an empty list, not none: AWS's answers carry
		// the empty list (<DBInstances/>), and the CLIs' waiters read its
		// length (db-instance-deleted with --filters fails without it).
		rest = []T{}
	}
	if size <= 0 || len(rest) <= size {
		return rest, "", nil
	}
	page = rest[:size]
	return page, PageToken(key(page[len(page)-1])), nil
}

func (o PageOptions) sizeError(n int) *Error {
	code := o.SizeCode
	if code == "" {
		code = CodeInvalidParameterValue
	}
	if o.SizeMessage != nil {
		return Errorf(400, code, "%s", o.SizeMessage(n, o.Min, o.Max))
	}
	param := o.Param
	if param == "" {
		param = "maxResults"
	}
	switch {
	case o.Max == 0:
		return Errorf(400, code, "Value ( %d ) for parameter %s is invalid. Expect a number greater than or equal to %d.", n, param, o.Min)
	default:
		return Errorf(400, code, "Value ( %d ) for parameter %s is invalid. Expect a number between %d and %d.", n, param, o.Min, o.Max)
	}
}

func (o PageOptions) tokenError(tok string) *Error {
	code := o.TokenCode
	if code == "" {
		code = CodeInvalidNextToken
	}
	if o.TokenMessage != nil {
		return Errorf(400, code, "%s", o.TokenMessage(tok))
	}
	return Errorf(400, code, "The token '%s' is invalid.", tok)
}

// String renders options for debugging and test failure messages.
func (o PageOptions) String() string {
	return fmt.Sprintf("PageOptions{Min:%d Max:%d Default:%d}", o.Min, o.Max, o.Default)
}
