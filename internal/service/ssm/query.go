package ssm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Listing parameters: GetParametersByPath, DescribeParameters (with their
// ParameterStringFilters) and GetParameterHistory.

// pageOptions is Parameter Store's paging: the size is checked with the
// other constraints, the token here.
var pageOptions = state.PageOptions{TokenCode: "InvalidNextToken", TokenMessage: func(string) string { return "The nextToken is not valid." }}

// filter is one checked ParameterStringFilter.
type filter struct {
	key, option string
	values      []string
}

// filterRules are the keys each operation accepts, in the order its error
// lists them.
var (
	byPathKeys   = []string{"Type", "KeyId", "Label", "DataType"}
	describeKeys = []string{"Path", "Name", "Type", "KeyId", "Tier", "DataType"}
)

// checkFilters checks ParameterStringFilters for an operation that accepts
// keys (and tag:<key>).
func checkFilters(in []ssmapi.ParameterStringFilter, keys []string) ([]filter, error) {
	var v violations
	for i, f := range in {
		p := fmt.Sprintf("parameterFilters.%d.member", i+1)
		v.length(f.Key, p+".key", 1, 132)
		v.pattern(f.Key, p+".key", filterKeyRE, filterKeyPat)
		v.length(f.Option, p+".option", 1, 10)
		v.listLen(f.Values, p+".values", 1, 50)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []filter
	seen := map[string]bool{}
	for _, f := range in {
		key := deref(f.Key)
		if !strings.HasPrefix(key, "tag:") && !slices.Contains(keys, key) {
			return nil, clientError("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [%s].", key, strings.Join(keys, ", "))
		}
		if seen[key] {
			return nil, clientError("InvalidFilterKey", "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true
		opt := deref(f.Option)
		options := []string{"Equals", "BeginsWith"}
		switch {
		case key == "Path":
			options = []string{"Recursive", "OneLevel"}
			if opt == "" {
				opt = "OneLevel"
			}
		case key == "Name":
			options = append(options, "Contains")
		case key == "Label" || strings.HasPrefix(key, "tag:"):
			options = []string{"Equals"}
		}
		if opt == "" {
			opt = "Equals"
		}
		if !slices.Contains(options, opt) {
			return nil, clientError("InvalidFilterOption", "The following filter option is not valid: %s. Valid options include: [%s].", opt, strings.Join(options, ", "))
		}
		if len(f.Values) == 0 && !strings.HasPrefix(key, "tag:") {
			return nil, clientError("InvalidFilterValue", "The following filter values are missing : null for filter key %s.", key)
		}
		for _, val := range f.Values {
			var valid []string
			switch key {
			case "Type":
				valid = parameterTypes
			case "Tier":
				valid = parameterTiers
			case "Path":
				if !strings.HasPrefix(val, "/") || strings.Contains(val, "//") {
					return nil, clientError("InvalidFilterValue", "The following filter value is not valid: %s. A path must begin with a forward slash (/).", val)
				}
			}
			if valid != nil && !slices.Contains(valid, val) {
				return nil, clientError("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [%s].", val, strings.Join(valid, ", "))
			}
		}
		out = append(out, filter{key: key, option: opt, values: f.Values})
	}
	return out, nil
}

// matches reports whether a parameter passes every filter.
func matches(r *paramRecord, fs []filter) bool {
	v := r.latest()
	for _, f := range fs {
		var have []string
		switch {
		case f.key == "Name":
			have = []string{r.Name}
		case f.key == "Path":
			if !slices.ContainsFunc(f.values, func(p string) bool { return underPath(r.Name, p, f.option == "Recursive") }) {
				return false
			}
			continue
		case f.key == "Type":
			have = []string{v.Type}
		case f.key == "KeyId":
			have = []string{v.KeyID}
		case f.key == "Tier":
			have = []string{v.Tier}
		case f.key == "DataType":
			have = []string{v.DataType}
		case f.key == "Label":
			for _, ver := range r.Versions {
				have = append(have, ver.Labels...)
			}
		default: // tag:<key>
			i := slices.IndexFunc(r.Tags, func(t state.Tag) bool { return t.Key == f.key[len("tag:"):] })
			if i < 0 {
				return false
			}
			if len(f.values) == 0 {
				continue
			}
			have = []string{r.Tags[i].Value}
		}
		if !slices.ContainsFunc(f.values, func(want string) bool {
			return slices.ContainsFunc(have, func(h string) bool {
				switch f.option {
				case "BeginsWith":
					return strings.HasPrefix(h, want)
				case "Contains":
					return strings.Contains(h, want)
				}
				return h == want
			})
		}) {
			return false
		}
	}
	return true
}

// underPath reports whether name is in the hierarchy path: a direct child,
// or any descendant when recursive.
func underPath(name, path string, recursive bool) bool {
	prefix := strings.TrimSuffix(path, "/") + "/"
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && rest != "" && (recursive || !strings.Contains(rest, "/"))
}

// list is the parameters of sc that pass keep, sorted by name.
func list(tx state.Tx, sc state.Scope, now time.Time, keep func(*paramRecord) bool) ([]*paramRecord, error) {
	var out []*paramRecord
	err := params.ForEachShared(tx, sc, func(_ string, r *paramRecord) error {
		if !r.expired(now) && keep(r) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// GetParametersByPath answers the parameters of a hierarchy: its direct
// children, or all its descendants with Recursive.
func (s *Service) GetParametersByPath(ctx context.Context, in *ssmapi.GetParametersByPathRequest) (*ssmapi.GetParametersByPathResult, error) {
	var v violations
	v.length(in.Path, "path", 1, 2048)
	v.rangeInt(in.MaxResults, "maxResults", 1, 10)
	if err := v.Err(); err != nil {
		return nil, err
	}
	path := *in.Path
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "//") || !nameRE.MatchString(path) {
		return nil, errValidation(`The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". ` +
			`It can't be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). ` +
			`Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`)
	}
	if strings.Count(strings.Trim(path, "/"), "/")+1 > maxLevels {
		return nil, clientError("HierarchyLevelLimitExceededException", msgLevels)
	}
	fs, err := checkFilters(in.ParameterFilters, byPathKeys)
	if err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	size := pageSize(in.MaxResults, 10)
	recursive := deref(in.Recursive)
	if isPublicPath(path) {
		items := s.publicByPath(sc, path, recursive)
		page, next, err := state.Paginate(items, size, deref(in.NextToken), pageOptions, func(p ssmapi.Parameter) string { return *p.Name })
		if err != nil {
			return nil, err
		}
		return &ssmapi.GetParametersByPathResult{Parameters: page, NextToken: tokenOf(next)}, nil
	}
	out := ssmapi.GetParametersByPathResult{Parameters: []ssmapi.Parameter{}}
	err = s.store.View(ctx, func(tx state.Tx) error {
		items, err := list(tx, sc, now, func(r *paramRecord) bool {
			return (path == "/" && strings.HasPrefix(r.Name, "/") && (recursive || strings.Count(r.Name, "/") == 1) ||
				underPath(r.Name, path, recursive)) && matches(r, fs)
		})
		if err != nil {
			return err
		}
		page, next, err := state.Paginate(items, size, deref(in.NextToken), pageOptions, func(r *paramRecord) string { return r.Name })
		if err != nil {
			return err
		}
		out.NextToken = tokenOf(next)
		for _, r := range page {
			p, err := s.show(sc, r, r.latest(), deref(in.WithDecryption), "")
			if err != nil {
				return err
			}
			out.Parameters = append(out.Parameters, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// pageSize is a request's MaxResults, or the operation's default.
func pageSize(max *int32, def int32) *int32 {
	if max == nil {
		return &def
	}
	return max
}

func tokenOf(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

// oldFilters turns DescribeParameters' older Filters (Name, Type, KeyId)
// into ParameterStringFilters: Name by prefix, the others equal.
func oldFilters(in []ssmapi.ParametersFilter) ([]filter, error) {
	var v violations
	for i, f := range in {
		v.enum(f.Key, fmt.Sprintf("filters.%d.member.key", i+1), []string{"Name", "Type", "KeyId"})
		v.listLen(f.Values, fmt.Sprintf("filters.%d.member.values", i+1), 1, 50)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []filter
	for _, f := range in {
		opt := "Equals"
		if *f.Key == "Name" {
			opt = "BeginsWith"
		}
		out = append(out, filter{key: *f.Key, option: opt, values: f.Values})
	}
	return out, nil
}

// metadata is a parameter as DescribeParameters shows it.
func metadata(sc state.Scope, r *paramRecord) ssmapi.ParameterMetadata {
	v := r.latest()
	m := ssmapi.ParameterMetadata{Name: new(r.Name), ARN: new(parameterARN(sc, r.Name)), Type: new(v.Type), LastModifiedDate: new(v.Modified),
		LastModifiedUser: new(v.User), Version: new(v.Version), Tier: new(v.Tier), Policies: inline(v.Policies), DataType: new(v.DataType)}
	m.KeyId, m.Description, m.AllowedPattern = opt(v.KeyID), opt(v.Description), opt(v.AllowedPattern)
	return m
}

// DescribeParameters answers the parameters' metadata (never their
// values), filtered.
func (s *Service) DescribeParameters(ctx context.Context, in *ssmapi.DescribeParametersRequest) (*ssmapi.DescribeParametersResult, error) {
	var v violations
	v.rangeInt(in.MaxResults, "maxResults", 1, 50)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, errValidation("You can use either Filters or ParameterFilters in a single request.")
	}
	fs, err := checkFilters(in.ParameterFilters, describeKeys)
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 {
		if fs, err = oldFilters(in.Filters); err != nil {
			return nil, err
		}
	}
	sc, now := scopeOf(ctx), s.now()
	size := pageSize(in.MaxResults, 10)
	out := ssmapi.DescribeParametersResult{Parameters: []ssmapi.ParameterMetadata{}}
	err = s.store.View(ctx, func(tx state.Tx) error {
		items, err := list(tx, sc, now, func(r *paramRecord) bool { return matches(r, fs) })
		if err != nil {
			return err
		}
		page, next, err := state.Paginate(items, size, deref(in.NextToken), pageOptions, func(r *paramRecord) string { return r.Name })
		if err != nil {
			return err
		}
		out.NextToken = tokenOf(next)
		for _, r := range page {
			out.Parameters = append(out.Parameters, metadata(sc, r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetParameterHistory answers every kept version of a parameter, oldest
// first.
func (s *Service) GetParameterHistory(ctx context.Context, in *ssmapi.GetParameterHistoryRequest) (*ssmapi.GetParameterHistoryResult, error) {
	var v violations
	v.length(in.Name, "name", 1, 2048)
	v.rangeInt(in.MaxResults, "maxResults", 1, 50)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	size := pageSize(in.MaxResults, 50)
	out := ssmapi.GetParameterHistoryResult{Parameters: []ssmapi.ParameterHistory{}}
	err := s.store.View(ctx, func(tx state.Tx) error {
		r, err := s.lookup(tx, sc, *in.Name, now)
		if err != nil {
			return err
		}
		page, next, err := state.Paginate(r.Versions, size, deref(in.NextToken), pageOptions, func(v paramVersion) string { return fmt.Sprintf("%020d", v.Version) })
		if err != nil {
			return err
		}
		out.NextToken = tokenOf(next)
		for i := range page {
			ver := &page[i]
			p, err := s.show(sc, r, ver, deref(in.WithDecryption), "")
			if err != nil {
				return err
			}
			h := ssmapi.ParameterHistory{Name: p.Name, Type: p.Type, Value: p.Value, Version: p.Version, LastModifiedDate: p.LastModifiedDate,
				LastModifiedUser: new(ver.User), Labels: slices.Clone(ver.Labels), Tier: new(ver.Tier), Policies: inline(ver.Policies), DataType: p.DataType}
			if h.Labels == nil {
				h.Labels = []string{}
			}
			h.KeyId, h.Description, h.AllowedPattern = opt(ver.KeyID), opt(ver.Description), opt(ver.AllowedPattern)
			out.Parameters = append(out.Parameters, h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// lookup loads the parameter a plain name (no selector) names, or
// ParameterNotFound.
func (s *Service) lookup(tx state.Tx, sc state.Scope, name string, now time.Time) (*paramRecord, error) {
	if err := checkReference(name); err != nil {
		return nil, err
	}
	ref, ok := parseReference(sc, name)
	if !ok || ref.selector != "" {
		return nil, errNotFound()
	}
	r, err := s.find(tx, sc, ref, now)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errNotFound()
	}
	return r, nil
}
