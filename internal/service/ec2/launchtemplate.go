package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Launch templates. One record holds a template and all its versions
// (numbered from 1, never reused); a version's data is stored in the
// response shape, as Describe returns it. RunInstances with a
// LaunchTemplate resolves the version in a read before its own checks and
// merges the template's data under the request's parameters
// (runFromTemplate), so the instance is launched, checked and run exactly
// as one launched without a template.

type launchTemplateRecord struct {
	ec2api.LaunchTemplate
	Versions []ec2api.LaunchTemplateVersion `json:"versions"`
}

var launchTemplates = register(&kind[launchTemplateRecord]{prefix: "lt", table: state.Table[launchTemplateRecord]{Service: "ec2", Kind: "launchtemplate"},
	resourceType: "launch-template", noun: "launch template ID", notFound: "InvalidLaunchTemplateId.NotFound", malformed: "InvalidLaunchTemplateId.Malformed",
	id:   func(r *launchTemplateRecord) string { return deref(r.LaunchTemplateId) },
	tags: func(r *launchTemplateRecord) *[]ec2api.Tag { return &r.Tags }})

// ltNameRE is what AWS allows in a launch template's name.
var ltNameRE = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

func ltCheckName(name string) error {
	if name == "" {
		return errMissingParam("LaunchTemplateName")
	}
	if !ltNameRE.MatchString(name) {
		return apiErr("InvalidLaunchTemplateName.MalformedException",
			"A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	}
	return nil
}

func ltCheckDescription(d *string) error {
	if len(deref(d)) > 255 {
		return errInvalidParam("Value (%s) for parameter versionDescription is invalid. Length exceeds maximum of 255.", *d)
	}
	return nil
}

// ltCheckData checks a template's data as CreateLaunchTemplate does: the
// values EC2 can tell are wrong without reading state. Resources it names
// (image, key, groups) are checked only when an instance is launched.
func ltCheckData(d *ec2api.RequestLaunchTemplateData) error {
	if d == nil {
		return errMissingParam("LaunchTemplateData")
	}
	if it := deref(d.InstanceType); it != "" {
		if _, ok := instanceTypeLookup(it); !ok {
			return errInvalidParam("Invalid value '%s' for InstanceType.", it)
		}
	}
	if b := d.InstanceInitiatedShutdownBehavior; b != nil {
		if err := instanceShutdownBehavior(*b); err != nil {
			return err
		}
	}
	if d.UserData != nil {
		if err := instanceDecodeUserData(*d.UserData); err != nil {
			return err
		}
	}
	types := []string{"instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu"}
	for _, s := range d.TagSpecifications {
		if !slices.Contains(types, deref(s.ResourceType)) {
			return errInvalidParam("'%s' is not a valid taggable resource type for this operation.", deref(s.ResourceType))
		}
	}
	return nil
}

// ltConvert copies src into dst, a shape with the same member names: the
// request and response shapes of a launch template's data, and the
// template's data as RunInstances parameters, differ only in their type
// names and in a few members renamed below.
func ltConvert(src, dst any, renames map[string]string) error {
	b, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("launch template data: %w", err)
	}
	if len(renames) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("launch template data: %w", err)
		}
		for from, to := range renames {
			if v, ok := m[from]; ok {
				delete(m, from)
				m[to] = v
			}
		}
		if b, err = json.Marshal(m); err != nil {
			return fmt.Errorf("launch template data: %w", err)
		}
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("launch template data: %w", err)
	}
	return nil
}

// fillUnset sets each member of dst (a pointer to a struct) that is unset
// (nil or empty) to src's: the request's parameters win over a template's,
// and a new version's data over its source version's.
func fillUnset[T any](dst, src *T) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range dv.NumField() {
		f := dv.Field(i)
		if f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
			f.Set(sv.Field(i))
		}
	}
}

// ltResolve finds the template a request names by ID or by name.
func ltResolve(t *rtx, id, name *string) (*launchTemplateRecord, error) {
	switch {
	case deref(id) == "" && deref(name) == "":
		return nil, errMissingParam("launchTemplateName or launchTemplateId")
	case deref(id) != "" && deref(name) != "":
		return nil, errCombination("Only one of launchTemplateId or launchTemplateName can be specified.")
	case deref(id) != "":
		if !launchTemplates.validID(*id) {
			return nil, apiErr("InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template (%s) is not valid. Specify a valid ID and try again.", *id)
		}
		rec, ok, err := launchTemplates.find(t, *id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apiErr("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", *id)
		}
		return rec, nil
	}
	rec, ok, err := ltByName(t, *name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apiErr("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", *name)
	}
	return rec, nil
}

func ltByName(t *rtx, name string) (*launchTemplateRecord, bool, error) {
	all, err := launchTemplates.all(t)
	if err != nil {
		return nil, false, err
	}
	for _, r := range all {
		if deref(r.LaunchTemplateName) == name {
			return r, true, nil
		}
	}
	return nil, false, nil
}

// version returns the version v names: a number, $Latest or $Default
// ("" is $Default, as RunInstances takes it).
func (r *launchTemplateRecord) version(v string) (*ec2api.LaunchTemplateVersion, error) {
	var n int64
	switch v {
	case "", "$Default":
		n = deref(r.DefaultVersionNumber)
	case "$Latest":
		n = deref(r.LatestVersionNumber)
	default:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || n < 1 {
			return nil, apiErr("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s.", v, deref(r.LaunchTemplateId))
		}
	}
	for i := range r.Versions {
		if deref(r.Versions[i].VersionNumber) == n {
			return &r.Versions[i], nil
		}
	}
	return nil, apiErr("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s.", v, deref(r.LaunchTemplateId))
}

// view is the template as Describe shows it, without its versions.
func (r *launchTemplateRecord) view() ec2api.LaunchTemplate {
	lt := r.LaunchTemplate
	lt.Tags = cloneTags(lt.Tags)
	return lt
}

// newVersion records version data as the template's next version.
func (r *launchTemplateRecord) newVersion(t *rtx, data *ec2api.ResponseLaunchTemplateData, desc *string) ec2api.LaunchTemplateVersion {
	n := deref(r.LatestVersionNumber) + 1
	v := ec2api.LaunchTemplateVersion{
		LaunchTemplateId:   r.LaunchTemplateId,
		LaunchTemplateName: r.LaunchTemplateName,
		VersionNumber:      new(n),
		VersionDescription: desc,
		CreateTime:         new(t.now),
		CreatedBy:          new(ltCreatedBy(t)),
		DefaultVersion:     new(n == 1),
		LaunchTemplateData: data,
	}
	r.Versions = append(r.Versions, v)
	r.LatestVersionNumber = new(n)
	return v
}

func ltCreatedBy(t *rtx) string {
	if t.req != nil && t.req.Caller != "" {
		return t.req.Caller
	}
	return "arn:aws:iam::" + t.scope.Account + ":root"
}

// versionView is a version as Describe shows it: DefaultVersion as of now.
func (r *launchTemplateRecord) versionView(v *ec2api.LaunchTemplateVersion) ec2api.LaunchTemplateVersion {
	out := *v
	out.DefaultVersion = new(deref(v.VersionNumber) == deref(r.DefaultVersionNumber))
	return out
}

// CreateLaunchTemplate creates a template with its version 1.
func (s *Service) CreateLaunchTemplate(ctx context.Context, in *ec2api.CreateLaunchTemplateRequest) (*ec2api.CreateLaunchTemplateResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.LaunchTemplateName)
	if err := ltCheckName(name); err != nil {
		return nil, err
	}
	if err := ltCheckDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	if err := ltCheckData(in.LaunchTemplateData); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "launch-template")
	if err != nil {
		return nil, err
	}
	data := &ec2api.ResponseLaunchTemplateData{}
	if err := ltConvert(in.LaunchTemplateData, data, nil); err != nil {
		return nil, err
	}
	hashed := *in
	hashed.ClientToken, hashed.DryRun = nil, nil
	var out ec2api.LaunchTemplate
	err = s.update(ctx, func(t *rtx) error {
		rec, err := createOnce(t, launchTemplates, "CreateLaunchTemplate", deref(in.ClientToken), state.HashParams(&hashed), func() (*launchTemplateRecord, error) {
			if _, found, err := ltByName(t, name); err != nil {
				return nil, err
			} else if found {
				return nil, apiErr("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
			}
			rec := &launchTemplateRecord{LaunchTemplate: ec2api.LaunchTemplate{
				LaunchTemplateId:     new(state.NewID("lt")),
				LaunchTemplateName:   new(name),
				CreateTime:           new(t.now),
				CreatedBy:            new(ltCreatedBy(t)),
				DefaultVersionNumber: new(int64(1)),
				LatestVersionNumber:  new(int64(0)),
				Tags:                 tags,
			}}
			rec.newVersion(t, data, in.VersionDescription)
			return rec, launchTemplates.put(t, rec)
		})
		if err != nil {
			return err
		}
		out = rec.view()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateResult{LaunchTemplate: &out}, nil
}

// CreateLaunchTemplateVersion adds a version: the request's data, over
// SourceVersion's when one is named.
func (s *Service) CreateLaunchTemplateVersion(ctx context.Context, in *ec2api.CreateLaunchTemplateVersionRequest) (*ec2api.CreateLaunchTemplateVersionResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := ltCheckDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	if err := ltCheckData(in.LaunchTemplateData); err != nil {
		return nil, err
	}
	data := &ec2api.ResponseLaunchTemplateData{}
	if err := ltConvert(in.LaunchTemplateData, data, nil); err != nil {
		return nil, err
	}
	var out ec2api.LaunchTemplateVersion
	err := s.update(ctx, func(t *rtx) error {
		rec, err := ltResolve(t, in.LaunchTemplateId, in.LaunchTemplateName)
		if err != nil {
			return err
		}
		if in.SourceVersion != nil {
			src, err := rec.version(*in.SourceVersion)
			if err != nil {
				return err
			}
			if src.LaunchTemplateData != nil {
				base := state.Clone(src.LaunchTemplateData)
				fillUnset(data, base)
			}
		}
		v := rec.newVersion(t, data, in.VersionDescription)
		out = rec.versionView(&v)
		return launchTemplates.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateVersionResult{LaunchTemplateVersion: &out}, nil
}

// DescribeLaunchTemplates lists templates by ID, name and filters.
func (s *Service) DescribeLaunchTemplates(ctx context.Context, in *ec2api.DescribeLaunchTemplatesRequest) (*ec2api.DescribeLaunchTemplatesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.LaunchTemplateIds) > 0 && len(in.LaunchTemplateNames) > 0 {
		return nil, errCombination("Only one of launchTemplateIds or launchTemplateNames can be specified.")
	}
	if in.MaxResults != nil && (len(in.LaunchTemplateIds) > 0 || len(in.LaunchTemplateNames) > 0) {
		return nil, errCombination("The parameter MaxResults cannot be used with the parameter LaunchTemplateIds or LaunchTemplateNames.")
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "create-time", "launch-template-name"); err != nil {
		return nil, err
	}
	values := func(r *launchTemplateRecord) map[string][]string {
		return map[string][]string{
			"create-time":          one(r.CreateTime.UTC().Format("2006-01-02T15:04:05.000Z")),
			"launch-template-name": one(deref(r.LaunchTemplateName)),
		}
	}
	var recs []*launchTemplateRecord
	err := s.view(ctx, func(t *rtx) error {
		var err error
		if len(in.LaunchTemplateNames) > 0 {
			for _, n := range in.LaunchTemplateNames {
				rec, ok, err := ltByName(t, n)
				if err != nil {
					return err
				}
				if !ok {
					return apiErr("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
				}
				if match, err := launchTemplates.matches(rec, fs, values); err != nil {
					return err
				} else if match {
					recs = append(recs, rec)
				}
			}
			return nil
		}
		for _, id := range in.LaunchTemplateIds {
			if !launchTemplates.validID(id) {
				return apiErr("InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template (%s) is not valid. Specify a valid ID and try again.", id)
			}
		}
		recs, err = launchTemplates.describe(t, in.LaunchTemplateIds, in.Filters, values)
		if err != nil && imageIsCode(err, "InvalidLaunchTemplateId.NotFound") {
			return apiErr("InvalidLaunchTemplateId.NotFound", "At least one of the launch templates specified in the request does not exist.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(r *launchTemplateRecord) string { return deref(r.LaunchTemplateId) }, 1, 200)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeLaunchTemplatesResult{LaunchTemplates: []ec2api.LaunchTemplate{}, NextToken: next}
	for _, r := range pg {
		out.LaunchTemplates = append(out.LaunchTemplates, r.view())
	}
	return out, nil
}

// ltVersionFilters are DescribeLaunchTemplateVersions' filters.
var ltVersionFilters = map[string]func(v *ec2api.LaunchTemplateVersion) []string{
	"create-time": func(v *ec2api.LaunchTemplateVersion) []string {
		return one(v.CreateTime.UTC().Format("2006-01-02T15:04:05.000Z"))
	},
	"ebs-optimized": func(v *ec2api.LaunchTemplateVersion) []string { return boolValue(ltData(v).EbsOptimized) },
	"iam-instance-profile": func(v *ec2api.LaunchTemplateVersion) []string {
		if p := ltData(v).IamInstanceProfile; p != nil {
			return ptrValues(p.Arn, p.Name)
		}
		return nil
	},
	"image-id":           func(v *ec2api.LaunchTemplateVersion) []string { return ptrValues(ltData(v).ImageId) },
	"instance-type":      func(v *ec2api.LaunchTemplateVersion) []string { return ptrValues(ltData(v).InstanceType) },
	"is-default-version": func(v *ec2api.LaunchTemplateVersion) []string { return boolValue(v.DefaultVersion) },
	"kernel-id":          func(v *ec2api.LaunchTemplateVersion) []string { return ptrValues(ltData(v).KernelId) },
	"ram-disk-id":        func(v *ec2api.LaunchTemplateVersion) []string { return ptrValues(ltData(v).RamDiskId) },
}

func ltData(v *ec2api.LaunchTemplateVersion) *ec2api.ResponseLaunchTemplateData {
	if v.LaunchTemplateData == nil {
		return &ec2api.ResponseLaunchTemplateData{}
	}
	return v.LaunchTemplateData
}

// DescribeLaunchTemplateVersions lists a template's versions: those named
// (numbers, $Latest, $Default), or those between MinVersion and
// MaxVersion, or all. Without a template it lists the $Latest or $Default
// versions of every template.
func (s *Service) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2api.DescribeLaunchTemplateVersionsRequest) (*ec2api.DescribeLaunchTemplateVersionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	names := make([]string, 0, len(ltVersionFilters))
	for n := range ltVersionFilters {
		names = append(names, n)
	}
	if err := state.CheckFilterNames(fs, names...); err != nil {
		return nil, err
	}
	minV, maxV, err := ltVersionBounds(in.MinVersion, in.MaxVersion)
	if err != nil {
		return nil, err
	}
	var versions []*ec2api.LaunchTemplateVersion
	err = s.view(ctx, func(t *rtx) error {
		var recs []*launchTemplateRecord
		if in.LaunchTemplateId == nil && in.LaunchTemplateName == nil {
			for _, v := range in.Versions {
				if v != "$Latest" && v != "$Default" {
					return errInvalidParam("Specify a launch template ID or name when describing numbered versions.")
				}
			}
			if len(in.Versions) == 0 {
				return errMissingParam("launchTemplateName or launchTemplateId")
			}
			if recs, err = launchTemplates.all(t); err != nil {
				return err
			}
		} else {
			rec, err := ltResolve(t, in.LaunchTemplateId, in.LaunchTemplateName)
			if err != nil {
				return err
			}
			recs = []*launchTemplateRecord{rec}
		}
		for _, rec := range recs {
			picked, err := rec.pickVersions(in.Versions, minV, maxV)
			if err != nil {
				return err
			}
			for _, v := range picked {
				view := rec.versionView(v)
				ok, err := state.Match(fs, func(name string) ([]string, bool) {
					f, ok := ltVersionFilters[name]
					if !ok {
						return nil, false
					}
					return f(&view), true
				})
				if err != nil {
					return err
				}
				if ok {
					versions = append(versions, &view)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(versions, in.MaxResults, in.NextToken, func(v *ec2api.LaunchTemplateVersion) string {
		return fmt.Sprintf("%s/%020d", deref(v.LaunchTemplateId), deref(v.VersionNumber))
	}, 1, 200)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeLaunchTemplateVersionsResult{LaunchTemplateVersions: []ec2api.LaunchTemplateVersion{}, NextToken: next}
	for _, v := range pg {
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, *v)
	}
	return out, nil
}

func ltVersionBounds(minS, maxS *string) (int64, int64, error) {
	parse := func(p *string, name string, def int64) (int64, error) {
		if p == nil {
			return def, nil
		}
		n, err := strconv.ParseInt(*p, 10, 64)
		if err != nil || n < 1 {
			return 0, errInvalidParam("Value (%s) for parameter %s is invalid.", *p, name)
		}
		return n, nil
	}
	minV, err := parse(minS, "minVersion", 1)
	if err != nil {
		return 0, 0, err
	}
	maxV, err := parse(maxS, "maxVersion", 1<<62)
	return minV, maxV, err
}

// pickVersions returns the versions named, in the order the template
// holds them, or with no names those between minV and maxV.
func (r *launchTemplateRecord) pickVersions(names []string, minV, maxV int64) ([]*ec2api.LaunchTemplateVersion, error) {
	var out []*ec2api.LaunchTemplateVersion
	if len(names) == 0 {
		for i := range r.Versions {
			if n := deref(r.Versions[i].VersionNumber); n >= minV && n <= maxV {
				out = append(out, &r.Versions[i])
			}
		}
		return out, nil
	}
	want := map[int64]bool{}
	for _, name := range names {
		v, err := r.version(name)
		if err != nil {
			return nil, err
		}
		want[deref(v.VersionNumber)] = true
	}
	for i := range r.Versions {
		if want[deref(r.Versions[i].VersionNumber)] {
			out = append(out, &r.Versions[i])
		}
	}
	return out, nil
}

// ModifyLaunchTemplate sets the template's default version.
func (s *Service) ModifyLaunchTemplate(ctx context.Context, in *ec2api.ModifyLaunchTemplateRequest) (*ec2api.ModifyLaunchTemplateResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	d := deref(in.DefaultVersion)
	if _, err := strconv.ParseInt(d, 10, 64); d != "" && err != nil {
		return nil, errInvalidParam("Value (%s) for parameter defaultVersion is invalid.", d)
	}
	out, err := s.ltChange(ctx, in.LaunchTemplateId, in.LaunchTemplateName, func(t *rtx, rec *launchTemplateRecord) error {
		if d == "" {
			return nil
		}
		v, err := rec.version(d)
		if err != nil {
			return err
		}
		rec.DefaultVersionNumber = new(deref(v.VersionNumber))
		return launchTemplates.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyLaunchTemplateResult{LaunchTemplate: out}, nil
}

// DeleteLaunchTemplate deletes a template and all its versions; instances
// launched from it keep running.
func (s *Service) DeleteLaunchTemplate(ctx context.Context, in *ec2api.DeleteLaunchTemplateRequest) (*ec2api.DeleteLaunchTemplateResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := s.ltChange(ctx, in.LaunchTemplateId, in.LaunchTemplateName, func(t *rtx, rec *launchTemplateRecord) error {
		return launchTemplates.del(t, deref(rec.LaunchTemplateId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteLaunchTemplateResult{LaunchTemplate: out}, nil
}

// ltChange runs fn on the template id or name names, in one write, and
// returns the template as fn left it.
func (s *Service) ltChange(ctx context.Context, id, name *string, fn func(*rtx, *launchTemplateRecord) error) (*ec2api.LaunchTemplate, error) {
	var out ec2api.LaunchTemplate
	err := s.update(ctx, func(t *rtx) error {
		rec, err := ltResolve(t, id, name)
		if err != nil {
			return err
		}
		if err := fn(t, rec); err != nil {
			return err
		}
		out = rec.view()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteLaunchTemplateVersions deletes numbered versions, each on its own:
// the default version and versions that do not exist are reported, not
// failed.
func (s *Service) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2api.DeleteLaunchTemplateVersionsRequest) (*ec2api.DeleteLaunchTemplateVersionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.Versions) == 0 {
		return nil, errMissingParam("LaunchTemplateVersion")
	}
	if len(in.Versions) > 200 {
		return nil, errInvalidParam("You can specify up to 200 launch template versions in a single request.")
	}
	out := &ec2api.DeleteLaunchTemplateVersionsResult{
		SuccessfullyDeletedLaunchTemplateVersions:   []ec2api.DeleteLaunchTemplateVersionsResponseSuccessItem{},
		UnsuccessfullyDeletedLaunchTemplateVersions: []ec2api.DeleteLaunchTemplateVersionsResponseErrorItem{},
	}
	err := s.update(ctx, func(t *rtx) error {
		rec, err := ltResolve(t, in.LaunchTemplateId, in.LaunchTemplateName)
		if err != nil {
			return err
		}
		fail := func(n int64, code, msg string) {
			out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions, ec2api.DeleteLaunchTemplateVersionsResponseErrorItem{
				LaunchTemplateId: rec.LaunchTemplateId, LaunchTemplateName: rec.LaunchTemplateName, VersionNumber: new(n),
				ResponseError: &ec2api.ResponseError{Code: new(code), Message: new(msg)},
			})
		}
		for _, vs := range in.Versions {
			n, err := strconv.ParseInt(vs, 10, 64)
			if err != nil || n < 1 {
				return errInvalidParam("Value (%s) for parameter launchTemplateVersion is invalid.", vs)
			}
			i := slices.IndexFunc(rec.Versions, func(v ec2api.LaunchTemplateVersion) bool { return deref(v.VersionNumber) == n })
			switch {
			case i < 0:
				fail(n, "launchTemplateVersionDoesNotExist", "The specified launch template version does not exist.")
			case n == deref(rec.DefaultVersionNumber):
				fail(n, "unexpectedError", "Cannot delete the default version of the launch template. To delete this version, first change the default version.")
			default:
				rec.Versions = slices.Delete(rec.Versions, i, i+1)
				out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions, ec2api.DeleteLaunchTemplateVersionsResponseSuccessItem{
					LaunchTemplateId: rec.LaunchTemplateId, LaunchTemplateName: rec.LaunchTemplateName, VersionNumber: new(n),
				})
			}
		}
		return launchTemplates.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetLaunchTemplateData returns an instance's launch parameters as
// template data, for CreateLaunchTemplate.
func (s *Service) GetLaunchTemplateData(ctx context.Context, in *ec2api.GetLaunchTemplateDataRequest) (*ec2api.GetLaunchTemplateDataResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if deref(in.InstanceId) == "" {
		return nil, errMissingParam("InstanceId")
	}
	var data *ec2api.ResponseLaunchTemplateData
	err := s.view(ctx, func(t *rtx) error {
		rec, err := instances.get(t, *in.InstanceId)
		if err != nil {
			return err
		}
		data = ltDataFromInstance(rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.GetLaunchTemplateDataResult{LaunchTemplateData: data}, nil
}

// ltDataFromInstance is what GetLaunchTemplateData reads of an instance.
func ltDataFromInstance(rec *instanceRecord) *ec2api.ResponseLaunchTemplateData {
	d := &ec2api.ResponseLaunchTemplateData{
		ImageId:                           rec.ImageId,
		InstanceType:                      rec.InstanceType,
		KeyName:                           rec.KeyName,
		KernelId:                          rec.KernelId,
		RamDiskId:                         rec.RamdiskId,
		EbsOptimized:                      rec.EbsOptimized,
		DisableApiTermination:             new(rec.DisableAPITermination),
		InstanceInitiatedShutdownBehavior: new(orDefault(rec.ShutdownBehavior, "stop")),
		BlockDeviceMappings:               []ec2api.LaunchTemplateBlockDeviceMapping{},
		NetworkInterfaces:                 []ec2api.LaunchTemplateInstanceNetworkInterfaceSpecification{},
		TagSpecifications:                 []ec2api.LaunchTemplateTagSpecification{},
	}
	if rec.UserData != "" {
		d.UserData = new(rec.UserData)
	}
	if m := rec.Monitoring; m != nil {
		d.Monitoring = &ec2api.LaunchTemplatesMonitoring{Enabled: new(deref(m.State) == "enabled" || deref(m.State) == "pending")}
	}
	if p := rec.Placement; p != nil {
		d.Placement = &ec2api.LaunchTemplatePlacement{AvailabilityZone: p.AvailabilityZone, GroupName: p.GroupName, Tenancy: p.Tenancy}
	}
	if p := rec.IamInstanceProfile; p != nil {
		d.IamInstanceProfile = &ec2api.LaunchTemplateIamInstanceProfileSpecification{Arn: p.Arn}
	}
	if c := rec.CpuOptions; c != nil {
		d.CpuOptions = &ec2api.LaunchTemplateCpuOptions{CoreCount: c.CoreCount, ThreadsPerCore: c.ThreadsPerCore}
	}
	if m := rec.MetadataOptions; m != nil {
		d.MetadataOptions = &ec2api.LaunchTemplateInstanceMetadataOptions{}
		_ = ltConvert(m, d.MetadataOptions, nil)
	}
	for _, ni := range rec.NetworkInterfaces {
		spec := ec2api.LaunchTemplateInstanceNetworkInterfaceSpecification{
			DeviceIndex:        ni.Attachment.DeviceIndex,
			NetworkInterfaceId: ni.NetworkInterfaceId,
			SubnetId:           ni.SubnetId,
			Groups:             []string{},
		}
		for _, g := range ni.Groups {
			spec.Groups = append(spec.Groups, deref(g.GroupId))
		}
		d.NetworkInterfaces = append(d.NetworkInterfaces, spec)
	}
	for _, b := range rec.BlockDeviceMappings {
		m := ec2api.LaunchTemplateBlockDeviceMapping{DeviceName: b.DeviceName}
		if b.Ebs != nil {
			m.Ebs = &ec2api.LaunchTemplateEbsBlockDevice{DeleteOnTermination: b.Ebs.DeleteOnTermination}
		}
		d.BlockDeviceMappings = append(d.BlockDeviceMappings, m)
	}
	var tags []ec2api.Tag
	for _, tg := range rec.Tags {
		if !strings.HasPrefix(deref(tg.Key), "aws:") {
			tags = append(tags, tg)
		}
	}
	if len(tags) > 0 {
		d.TagSpecifications = append(d.TagSpecifications, ec2api.LaunchTemplateTagSpecification{ResourceType: new("instance"), Tags: tags})
	}
	return d
}

// runFromTemplate resolves RunInstances' LaunchTemplate and returns the
// request with the version's data filled in where the request leaves a
// parameter unset (the request's parameters win), with the template's tag
// specifications merged under the request's per resource type, and the
// tags EC2 puts on an instance launched from a template.
func (s *Service) runFromTemplate(ctx context.Context, in *ec2api.RunInstancesRequest) (*ec2api.RunInstancesRequest, []ec2api.Tag, error) {
	spec := in.LaunchTemplate
	if spec == nil {
		return in, nil, nil
	}
	var (
		rec *launchTemplateRecord
		ver *ec2api.LaunchTemplateVersion
	)
	err := s.view(ctx, func(t *rtx) error {
		var err error
		if rec, err = ltResolve(t, spec.LaunchTemplateId, spec.LaunchTemplateName); err != nil {
			return err
		}
		ver, err = rec.version(deref(spec.Version))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var fromLT ec2api.RunInstancesRequest
	if ver.LaunchTemplateData != nil {
		if err := ltConvert(ver.LaunchTemplateData, &fromLT, map[string]string{
			"RamDiskId": "RamdiskId", "ElasticGpuSpecifications": "ElasticGpuSpecification",
		}); err != nil {
			return nil, nil, err
		}
	}
	merged := *in
	// Only these resources exist at launch; a template's other tag
	// specifications (spot requests, GPUs) have nothing to tag here.
	fromLT.TagSpecifications = slices.DeleteFunc(fromLT.TagSpecifications, func(s ec2api.TagSpecification) bool {
		return !slices.Contains([]string{"instance", "volume", "network-interface"}, deref(s.ResourceType))
	})
	tagSpecs := ltMergeTagSpecs(fromLT.TagSpecifications, in.TagSpecifications)
	// A request that names a subnet or groups directly replaces the
	// template's network interfaces, whose subnet and groups it would
	// otherwise contradict.
	if in.SubnetId != nil || len(in.SecurityGroupIds) > 0 || len(in.SecurityGroups) > 0 {
		fromLT.NetworkInterfaces = nil
	}
	if len(in.NetworkInterfaces) > 0 {
		fromLT.SubnetId, fromLT.SecurityGroupIds, fromLT.SecurityGroups = nil, nil, nil
	}
	fillUnset(&merged, &fromLT)
	merged.TagSpecifications = tagSpecs
	tags := []ec2api.Tag{
		{Key: new("aws:ec2launchtemplate:id"), Value: rec.LaunchTemplateId},
		{Key: new("aws:ec2launchtemplate:version"), Value: new(strconv.FormatInt(deref(ver.VersionNumber), 10))},
	}
	return &merged, tags, nil
}

// ltMergeTagSpecs merges tag specifications per resource type, the
// request's tags over the template's with the same key.
func ltMergeTagSpecs(base, over []ec2api.TagSpecification) []ec2api.TagSpecification {
	if len(base) == 0 {
		return over
	}
	var out []ec2api.TagSpecification
	idx := map[string]int{}
	add := func(s ec2api.TagSpecification) {
		rt := deref(s.ResourceType)
		i, ok := idx[rt]
		if !ok {
			idx[rt] = len(out)
			out = append(out, ec2api.TagSpecification{ResourceType: s.ResourceType, Tags: cloneTags(s.Tags)})
			return
		}
		for _, tg := range s.Tags {
			j := slices.IndexFunc(out[i].Tags, func(e ec2api.Tag) bool { return deref(e.Key) == deref(tg.Key) })
			if j >= 0 {
				out[i].Tags[j] = tg
			} else {
				out[i].Tags = append(out[i].Tags, tg)
			}
		}
	}
	for _, s := range base {
		add(s)
	}
	for _, s := range over {
		add(s)
	}
	return out
}
