package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// Service is the IAM implementation.
type Service struct {
	store state.Store
	now   func() time.Time
}

// New returns the IAM service over store.
func New(store state.Store) *Service {
	return &Service{store: store, now: time.Now}
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return iamapi.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return iamapi.Info }

// principal is what users, groups and roles share: identity, path, tags
// and the policies that apply to them.
type principal struct {
	Name    string      `json:"name"`
	Path    string      `json:"path"`
	ID      string      `json:"id"`
	ARN     string      `json:"arn"`
	Created time.Time   `json:"created"`
	Tags    []state.Tag `json:"tags,omitempty"`
	// Inline maps an inline policy's name to its document, as given.
	Inline map[string]string `json:"inline,omitempty"`
	// Attached lists the ARNs of the attached managed policies in the
	// order they were attached.
	Attached []string `json:"attached,omitempty"`
	Boundary string   `json:"boundary,omitempty"`
}

func (p *principal) base() *principal { return p }

type userRec struct {
	principal
	// Groups holds the keys (lower-case names) of the user's groups.
	Groups []string  `json:"groups,omitempty"`
	Login  *loginRec `json:"login,omitempty"`
}

type loginRec struct {
	Created       time.Time `json:"created"`
	ResetRequired bool      `json:"resetRequired"`
}

type groupRec struct{ principal }

type roleRec struct {
	principal
	Trust       string `json:"trust"`
	Description string `json:"description,omitempty"`
	MaxSession  int32  `json:"maxSession"`
	// Service is the service a service-linked role belongs to, e.g.
	// elasticloadbalancing.amazonaws.com; only AWS may change such a role.
	Service string `json:"service,omitempty"`
}

type profileRec struct {
	Name    string      `json:"name"`
	Path    string      `json:"path"`
	ID      string      `json:"id"`
	ARN     string      `json:"arn"`
	Created time.Time   `json:"created"`
	Roles   []string    `json:"roles,omitempty"` // role keys
	Tags    []state.Tag `json:"tags,omitempty"`
}

// Names are unique in an account whatever their case, as in AWS, so every
// table is keyed by the lower-case name.
var (
	users    = state.Table[userRec]{Service: "iam", Kind: "user"}
	groups   = state.Table[groupRec]{Service: "iam", Kind: "group"}
	roles    = state.Table[roleRec]{Service: "iam", Kind: "role"}
	profiles = state.Table[profileRec]{Service: "iam", Kind: "instance-profile"}
)

func key(name string) string { return strings.ToLower(name) }

// scope is the caller's account: IAM is global.
func scope(ctx context.Context) state.Scope { return state.Global(account(ctx)) }

func account(ctx context.Context) string {
	if a := api.Request(ctx).Account; a != "" {
		return a
	}
	return "000000000000"
}

func (s *Service) update(ctx context.Context, fn func(tx state.Tx, sc state.Scope) error) error {
	sc := scope(ctx)
	return s.store.Update(ctx, func(tx state.Tx) error { return fn(tx, sc) })
}

func (s *Service) view(ctx context.Context, fn func(tx state.Tx, sc state.Scope) error) error {
	sc := scope(ctx)
	return s.store.View(ctx, func(tx state.Tx) error { return fn(tx, sc) })
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Second) }

// AWS's error codes and their HTTP statuses (the iam model's error shapes).
func noSuchEntity(format string, args ...any) error {
	return api.Errorf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func alreadyExists(format string, args ...any) error {
	return api.Errorf(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func deleteConflict(format string, args ...any) error {
	return api.Errorf(http.StatusConflict, "DeleteConflict", format, args...)
}

func limitExceeded(format string, args ...any) error {
	return api.Errorf(http.StatusConflict, "LimitExceeded", format, args...)
}

func invalidInput(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

func validationError(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func unmodifiable(roleName string) error {
	return api.Errorf(http.StatusBadRequest, "UnmodifiableEntity",
		"Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", roleName)
}

// Name and path rules of the iam model's shapes (userNameType, pathType, …).
var (
	namePattern  = lazyregexp.New(`^[\w+=,.@-]+$`)
	pathPattern  = lazyregexp.New(`^(/|/[\x21-\x7E]*/)$`)
	aliasPattern = lazyregexp.New(`^[a-z0-9]([a-z0-9]|-(?:[a-z0-9]))*$`)
)

// checkName validates a name member (param is its wire name with a lower
// first letter, as AWS's messages spell it).
func checkName(param, v string, max int) error {
	switch {
	case len(v) < 1:
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", v, param)
	case len(v) > max:
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, param, max)
	case !namePattern.MatchString(v):
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, param)
	}
	return nil
}

// pathOr validates an optional path and returns it, "/" when unset.
func pathOr(param string, p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	if len(*p) > 512 {
		return "", validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 512", *p, param)
	}
	if !pathPattern.MatchString(*p) {
		return "", validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", *p, param)
	}
	return *p, nil
}

func iamARN(ctx context.Context, kind, path, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s%s%s", partition(ctx), account(ctx), kind, path, name)
}

func partition(ctx context.Context) string { return state.PartitionOf(api.Request(ctx).Region) }

// encodeDoc URL-encodes a policy document as IAM's answers carry it
// (RFC 3986: a space is %20); the CLIs and boto3 decode it, the Go SDK
// leaves that to the caller.
func encodeDoc(doc string) *string {
	return new(strings.ReplaceAll(url.QueryEscape(doc), "+", "%20"))
}

// pageOpts is IAM's Marker/MaxItems contract: 1–1000 items, 100 by default.
var pageOpts = state.PageOptions{Min: 1, Max: 1000, Default: 100, SizeCode: "ValidationError", TokenCode: "ValidationError",
	SizeMessage: func(got, lo, hi int) string {
		if got < lo {
			return fmt.Sprintf("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to %d", got, lo)
		}
		return fmt.Sprintf("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to %d", got, hi)
	},
	TokenMessage: func(string) string { return "Invalid Marker." }}

// page cuts one IAM page out of items ordered by k; IsTruncated is always
// answered, Marker only when more follow.
func page[T any](items []T, maxItems *int32, marker *string, k func(T) string) ([]T, *bool, *string, error) {
	out, next, err := state.Paginate(items, maxItems, deref(marker), pageOpts, k)
	if err != nil {
		return nil, nil, nil, err
	}
	if next == "" {
		return out, new(false), nil, nil
	}
	return out, new(true), new(next), nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// underPath reports whether path is under prefix (ListX's PathPrefix).
func underPath(path string, prefix *string) bool {
	return prefix == nil || strings.HasPrefix(path, *prefix)
}

// Tags: IAM allows 50 per resource, keys of 1–128 characters and values of
// at most 256; keys compare without case.
func mergeTags(existing []state.Tag, add []iamapi.Tag) ([]state.Tag, error) {
	seen := map[string]bool{}
	var in []state.Tag
	for _, t := range add {
		k, v := deref(t.Key), deref(t.Value)
		switch {
		case len(k) < 1 || len(k) > 128:
			return nil, validationError("1 validation error detected: Value '%s' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128", k)
		case len(v) > 256:
			return nil, validationError("1 validation error detected: Value '%s' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", v)
		case seen[strings.ToLower(k)]:
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		in = append(in, state.Tag{Key: k, Value: v})
	}
	// A key that differs only in case replaces the existing one.
	var kept []state.Tag
	for _, t := range existing {
		if !seen[strings.ToLower(t.Key)] {
			kept = append(kept, t)
		}
	}
	out := state.MergeTags(kept, in)
	if len(out) > 50 {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func untag(existing []state.Tag, keys []string) []state.Tag {
	return slices.DeleteFunc(slices.Clone(existing), func(t state.Tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
	})
}

func wireTags(tags []state.Tag) []iamapi.Tag {
	out := make([]iamapi.Tag, len(tags))
	for i, t := range tags {
		out[i] = iamapi.Tag{Key: new(t.Key), Value: new(t.Value)}
	}
	return out
}

func pageTags(tags []state.Tag, maxItems *int32, marker *string) ([]iamapi.Tag, *bool, *string, error) {
	p, trunc, next, err := page(tags, maxItems, marker, func(t state.Tag) string { return t.Key })
	return wireTags(p), trunc, next, err
}

// sortedKeys are a map's keys in order, for ListXPolicies.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func self(s string) string { return s }

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	var e *codec.Error
	return errors.As(err, &e) && e.Code == code
}
