package ssm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// Labels name a version: a label is on one version of a parameter at a
// time (labelling another version moves it), a version has at most ten,
// and a label that breaks the rules (an "aws" or "ssm" prefix, a leading
// digit, characters other than letters, digits and _.-) is answered back
// as invalid rather than refused.

var labelRE = lazyregexp.New(`^[a-zA-Z0-9_.\-]+$`)

func validLabel(l string) bool {
	lower := strings.ToLower(l)
	return labelRE.MatchString(l) && !strings.HasPrefix(lower, "aws") && !strings.HasPrefix(lower, "ssm") && !unicode.IsDigit(rune(l[0]))
}

func checkLabels(in []string) error {
	var v violations
	v.listLen(in, "labels", 1, maxLabelsPerVersion)
	for _, l := range in {
		if n := len([]rune(l)); n < 1 || n > 100 {
			shown := "[" + strings.Join(in, ", ") + "]"
			v.Add(&shown, "labels", "Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1]")
			break
		}
	}
	return v.Err()
}

// relabel checks a Label/UnlabelParameterVersion request and runs fn on
// its parameter in one write transaction.
func (s *Service) relabel(ctx context.Context, name *string, labels []string, fn func(r *paramRecord) error) error {
	var v violations
	v.length(name, "name", 1, 2048)
	if err := v.Err(); err != nil {
		return err
	}
	if err := checkLabels(labels); err != nil {
		return err
	}
	sc, now := scopeOf(ctx), s.now()
	return s.store.Update(ctx, func(tx state.Tx) error {
		r, err := s.lookup(tx, sc, *name, now)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		return params.Put(tx, sc, paramKey(r.Name), *r)
	})
}

// LabelParameterVersion puts labels on a version (the current one unless
// ParameterVersion names another), moving them from other versions.
func (s *Service) LabelParameterVersion(ctx context.Context, in *ssmapi.LabelParameterVersionRequest) (*ssmapi.LabelParameterVersionResult, error) {
	out := ssmapi.LabelParameterVersionResult{InvalidLabels: []string{}}
	err := s.relabel(ctx, in.Name, in.Labels, func(r *paramRecord) error {
		target := r.latest()
		if in.ParameterVersion != nil {
			if target = r.version(*in.ParameterVersion); target == nil {
				return errVersionNotFound(fmt.Sprint(*in.ParameterVersion), r.Name)
			}
		}
		var add []string
		for _, l := range in.Labels {
			switch {
			case !validLabel(l):
				out.InvalidLabels = append(out.InvalidLabels, l)
			case !slices.Contains(target.Labels, l) && !slices.Contains(add, l):
				add = append(add, l)
			}
		}
		if len(target.Labels)+len(add) > maxLabelsPerVersion {
			return clientError("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.")
		}
		for i := range r.Versions {
			r.Versions[i].Labels = slices.DeleteFunc(r.Versions[i].Labels, func(l string) bool { return slices.Contains(add, l) })
		}
		target.Labels = append(target.Labels, add...)
		out.ParameterVersion = new(target.Version)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UnlabelParameterVersion removes labels from a version; those it does not
// carry are answered as invalid.
func (s *Service) UnlabelParameterVersion(ctx context.Context, in *ssmapi.UnlabelParameterVersionRequest) (*ssmapi.UnlabelParameterVersionResult, error) {
	out := ssmapi.UnlabelParameterVersionResult{RemovedLabels: []string{}, InvalidLabels: []string{}}
	err := s.relabel(ctx, in.Name, in.Labels, func(r *paramRecord) error {
		target := r.version(deref(in.ParameterVersion))
		if target == nil {
			return errVersionNotFound(fmt.Sprint(deref(in.ParameterVersion)), r.Name)
		}
		for _, l := range in.Labels {
			if i := slices.Index(target.Labels, l); i >= 0 {
				target.Labels = slices.Delete(target.Labels, i, i+1)
				out.RemovedLabels = append(out.RemovedLabels, l)
			} else {
				out.InvalidLabels = append(out.InvalidLabels, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
