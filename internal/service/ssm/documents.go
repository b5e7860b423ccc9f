package ssm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

var (
	docNameRE        = lazyregexp.New(`^[a-zA-Z0-9_\-.]{3,128}$`)
	docVersionRE     = lazyregexp.New(`^(?:[$]LATEST|[$]DEFAULT|[1-9][0-9]*)$`)
	docVersionNumRE  = lazyregexp.New(`^[1-9][0-9]*$`)
	docVersionNameRE = lazyregexp.New(`^[a-zA-Z0-9_\-.]{1,128}$`)
	targetTypeRE     = lazyregexp.New(`^\/[\w\.\-\:\/]*$`)
	displayNameRE    = lazyregexp.New(`^[\w\.\-\:\/ ]*$`)

	documentTypes   = []string{"Command", "Policy", "Automation", "Session", "Package", "ApplicationConfiguration", "ApplicationConfigurationSchema", "DeploymentStrategy", "ChangeCalendar", "Automation.ChangeTemplate", "ProblemAnalysis", "ProblemAnalysisTemplate", "CloudFormation", "ConformancePackTemplate", "QuickSetup"}
	documentFormats = []string{"YAML", "JSON", "TEXT"}
)

func errNoDocument() error {
	return clientError("InvalidDocument", "The specified document does not exist.")
}

func errDocVersion() error {
	return clientError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
}

// checkDocName checks a document name member (and an optional version and
// version name).
func (v *violations) docRef(name, version, versionName *string) {
	v.pattern(name, "name", docNameRE, `^[a-zA-Z0-9_\-.]{3,128}$`)
	v.pattern(version, "documentVersion", docVersionRE, `([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)`)
	v.pattern(versionName, "versionName", docVersionNameRE, `^[a-zA-Z0-9_\-.]{1,128}$`)
}

// findDocument loads the document name of sc: the account's own, AWS's, or
// the default of SSM-SessionManagerRunShell; stored tells the account's
// own apart.
func findDocument(tx state.Tx, sc state.Scope, name string) (d *docRecord, stored bool, err error) {
	r, ok, err := documents.Get(tx, sc, name)
	if err != nil || ok {
		return &r, ok, err
	}
	b, ok := builtins[name]
	if !ok {
		return nil, false, nil
	}
	b.Versions = slices.Clone(b.Versions)
	if name == SessionPreferences {
		b.Owner = sc.Account
	}
	return &b, false, nil
}

// pickVersion is the version a request names: a number, $LATEST,
// $DEFAULT (the default when none), and a version name.
func pickVersion(d *docRecord, version, versionName string) (*docVersion, error) {
	var v *docVersion
	switch version {
	case "", "$DEFAULT":
		v = d.version(d.Default)
		if versionName != "" {
			v = nil
			for i := range d.Versions {
				if d.Versions[i].VersionName == versionName {
					v = &d.Versions[i]
				}
			}
		}
	case "$LATEST":
		v = d.latest()
	default:
		n, _ := strconv.Atoi(version)
		v = d.version(n)
	}
	if v == nil || (versionName != "" && v.VersionName != versionName) {
		return nil, errDocVersion()
	}
	return v, nil
}

// description is a document version as Create/Describe/UpdateDocument
// answer it.
func description(d *docRecord, v *docVersion) *ssmapi.DocumentDescription {
	out := &ssmapi.DocumentDescription{Hash: new(v.Hash), HashType: new("Sha256"), Name: new(d.Name), Owner: new(d.Owner), CreatedDate: new(v.Created),
		Status: new("Active"), DocumentVersion: new(strconv.Itoa(v.Version)), Parameters: []ssmapi.DocumentParameter{}, PlatformTypes: v.Platforms,
		DocumentType: new(d.Type), SchemaVersion: new(v.SchemaVersion), LatestVersion: new(strconv.Itoa(d.latest().Version)),
		DefaultVersion: new(strconv.Itoa(d.Default)), DocumentFormat: new(d.Format), Tags: apiTags(d.Tags)}
	out.Description, out.VersionName, out.TargetType, out.DisplayName = opt(v.Description), opt(v.VersionName), opt(d.TargetType), opt(d.DisplayName)
	for _, p := range v.Parameters {
		out.Parameters = append(out.Parameters, ssmapi.DocumentParameter{Name: new(p.Name), Type: new(p.Type), Description: new(p.Description), DefaultValue: p.Default})
	}
	return out
}

// checkContent checks a Create/UpdateDocument's content members.
func checkContent(v *violations, content, format, targetType, displayName *string) {
	v.length(content, "content", 1, 0)
	v.enum(format, "documentFormat", documentFormats)
	v.length(targetType, "targetType", 0, 200)
	v.pattern(targetType, "targetType", targetTypeRE, `^\/[\w\.\-\:\/]*$`)
	v.length(displayName, "displayName", 0, 1024)
	v.pattern(displayName, "displayName", displayNameRE, `^[\w\.\-\:\/ ]*$`)
}

// newVersion reads a version's content for a document of typ.
func (s *Service) newVersion(number int, content, format, typ, versionName string) (docVersion, error) {
	if len(content) > maxDocumentSize {
		return docVersion{}, clientError("MaxDocumentSizeExceeded", "The size limit of a document is 64 KB.")
	}
	if format == "TEXT" {
		return docVersion{}, clientError("InvalidDocumentContent", "The content for the document is not valid: TEXT is the format of other document types.")
	}
	p, err := parseDocument(content, format, typ)
	if err != nil {
		return docVersion{}, err
	}
	return docVersion{Version: number, VersionName: versionName, Content: content, Created: s.now(), parsedDoc: p}, nil
}

// CreateDocument creates a Command or Session document of the account.
func (s *Service) CreateDocument(ctx context.Context, in *ssmapi.CreateDocumentRequest) (*ssmapi.CreateDocumentResult, error) {
	var v violations
	v.docRef(in.Name, nil, in.VersionName)
	checkContent(&v, in.Content, in.DocumentFormat, in.TargetType, in.DisplayName)
	v.enum(in.DocumentType, "documentType", documentTypes)
	keys, values := splitTags(in.Tags)
	v.tagList(keys, values, "tags", 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if awsOwned(*in.Name) {
		return nil, errValidation("Invalid document name %s: a document name can't begin with \"aws\", \"amazon\" or \"amzn\" (case-insensitive).", *in.Name)
	}
	typ := deref(in.DocumentType)
	if typ == "" {
		typ = docCommand
	}
	if typ != docCommand && typ != docSession {
		return nil, errValidation("minicloud runs Command and Session documents; %s documents are not supported yet.", typ)
	}
	format := deref(in.DocumentFormat)
	if format == "" {
		format = formatJSON
	}
	ver, err := s.newVersion(1, *in.Content, format, typ, deref(in.VersionName))
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	d := docRecord{Name: *in.Name, Type: typ, Format: format, TargetType: deref(in.TargetType), DisplayName: deref(in.DisplayName),
		Owner: sc.Account, Default: 1, Versions: []docVersion{ver}, Tags: tagsOf(in.Tags)}
	err = s.store.Update(ctx, func(tx state.Tx) error {
		_, ok, err := documents.Get(tx, sc, d.Name)
		if err != nil {
			return err
		}
		if _, aws := builtins[d.Name]; ok || (aws && d.Name != SessionPreferences) {
			return clientError("DocumentAlreadyExists", "Document with same name %s already exists", d.Name)
		}
		return documents.Put(tx, sc, d.Name, d)
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.CreateDocumentResult{DocumentDescription: description(&d, d.latest())}, nil
}

// GetDocument answers a version's content.
func (s *Service) GetDocument(ctx context.Context, in *ssmapi.GetDocumentRequest) (*ssmapi.GetDocumentResult, error) {
	var v violations
	v.docRef(in.Name, in.DocumentVersion, in.VersionName)
	v.enum(in.DocumentFormat, "documentFormat", documentFormats)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ssmapi.GetDocumentResult
	err := s.viewDocument(ctx, *in.Name, in.DocumentVersion, in.VersionName, func(d *docRecord, ver *docVersion) error {
		content, format, err := convertContent(ver.Content, d.Format, deref(in.DocumentFormat))
		if err != nil {
			return err
		}
		out = &ssmapi.GetDocumentResult{Name: new(d.Name), CreatedDate: new(ver.Created), DocumentVersion: new(strconv.Itoa(ver.Version)),
			Status: new("Active"), Content: new(content), DocumentType: new(d.Type), DocumentFormat: new(format),
			VersionName: opt(ver.VersionName), DisplayName: opt(d.DisplayName)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeDocument answers a version's description.
func (s *Service) DescribeDocument(ctx context.Context, in *ssmapi.DescribeDocumentRequest) (*ssmapi.DescribeDocumentResult, error) {
	var v violations
	v.docRef(in.Name, in.DocumentVersion, in.VersionName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out ssmapi.DescribeDocumentResult
	err := s.viewDocument(ctx, *in.Name, in.DocumentVersion, in.VersionName, func(d *docRecord, ver *docVersion) error {
		out.Document = description(d, ver)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// viewDocument reads the version of a document a request names.
func (s *Service) viewDocument(ctx context.Context, name string, version, versionName *string, fn func(d *docRecord, v *docVersion) error) error {
	return s.store.View(ctx, func(tx state.Tx) error {
		d, _, err := findDocument(tx, scopeOf(ctx), name)
		if err != nil {
			return err
		}
		if d == nil {
			return errNoDocument()
		}
		ver, err := pickVersion(d, deref(version), deref(versionName))
		if err != nil {
			return err
		}
		return fn(d, ver)
	})
}

// ownDocument loads a document of the account for a change: AWS's own are
// refused, SSM-SessionManagerRunShell's default becomes the account's.
func ownDocument(tx state.Tx, sc state.Scope, name, op string) (*docRecord, error) {
	d, stored, err := findDocument(tx, sc, name)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errNoDocument()
	}
	if !stored && d.Owner == ownerAmazon {
		return nil, clientError("InvalidDocumentOperation", "You can't %s document %s: it is owned by AWS.", op, name)
	}
	return d, nil
}

// UpdateDocument adds a version to a document; its default version stays.
func (s *Service) UpdateDocument(ctx context.Context, in *ssmapi.UpdateDocumentRequest) (*ssmapi.UpdateDocumentResult, error) {
	var v violations
	v.docRef(in.Name, in.DocumentVersion, in.VersionName)
	checkContent(&v, in.Content, in.DocumentFormat, in.TargetType, in.DisplayName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var out ssmapi.UpdateDocumentResult
	err := s.store.Update(ctx, func(tx state.Tx) error {
		d, err := ownDocument(tx, sc, *in.Name, "update")
		if err != nil {
			return err
		}
		latest := d.latest()
		if dv := deref(in.DocumentVersion); dv != "" && dv != "$LATEST" && dv != strconv.Itoa(latest.Version) {
			return clientError("InvalidDocumentVersion", "The document version is not valid or does not exist. Update the latest version (%d) or $LATEST.", latest.Version)
		}
		if len(d.Versions) >= maxDocumentVersions {
			return clientError("DocumentVersionLimitExceeded", "The document has too many versions. Delete one or more document versions and try again.")
		}
		format := deref(in.DocumentFormat)
		if format == "" {
			format = d.Format
		}
		ver, err := s.newVersion(latest.Version+1, *in.Content, format, d.Type, deref(in.VersionName))
		if err != nil {
			return err
		}
		for _, old := range d.Versions {
			if old.Hash == ver.Hash {
				return clientError("DuplicateDocumentContent", "The content of the association document matches another document. Change the content of the document and try again.")
			}
			if ver.VersionName != "" && old.VersionName == ver.VersionName {
				return clientError("DuplicateDocumentVersionName", "The version name has already been used in this document. Specify a different version name, and then try again.")
			}
		}
		d.Format = format
		if in.TargetType != nil {
			d.TargetType = *in.TargetType
		}
		if in.DisplayName != nil {
			d.DisplayName = *in.DisplayName
		}
		d.Versions = append(d.Versions, ver)
		out.DocumentDescription = description(d, d.latest())
		return documents.Put(tx, sc, d.Name, *d)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateDocumentDefaultVersion makes a version the default.
func (s *Service) UpdateDocumentDefaultVersion(ctx context.Context, in *ssmapi.UpdateDocumentDefaultVersionRequest) (*ssmapi.UpdateDocumentDefaultVersionResult, error) {
	var v violations
	v.docRef(in.Name, nil, nil)
	v.pattern(in.DocumentVersion, "documentVersion", docVersionNumRE, `(^[1-9][0-9]*$)`)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var out ssmapi.UpdateDocumentDefaultVersionResult
	err := s.store.Update(ctx, func(tx state.Tx) error {
		d, err := ownDocument(tx, sc, *in.Name, "change the default version of")
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(*in.DocumentVersion)
		ver := d.version(n)
		if ver == nil {
			return errDocVersion()
		}
		d.Default = n
		out.Description = &ssmapi.DocumentDefaultVersionDescription{Name: new(d.Name), DefaultVersion: new(strconv.Itoa(n)), DefaultVersionName: opt(ver.VersionName)}
		return documents.Put(tx, sc, d.Name, *d)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDocument deletes a document, or one of its versions other than
// the default.
func (s *Service) DeleteDocument(ctx context.Context, in *ssmapi.DeleteDocumentRequest) (*ssmapi.DeleteDocumentResult, error) {
	var v violations
	v.docRef(in.Name, in.DocumentVersion, in.VersionName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	err := s.store.Update(ctx, func(tx state.Tx) error {
		d, stored, err := findDocument(tx, sc, *in.Name)
		if err != nil {
			return err
		}
		if d == nil || !stored {
			if d != nil && d.Owner == ownerAmazon {
				return clientError("InvalidDocumentOperation", "You can't delete document %s: it is owned by AWS.", d.Name)
			}
			return errNoDocument()
		}
		if in.DocumentVersion == nil && in.VersionName == nil {
			return documents.Delete(tx, sc, d.Name)
		}
		ver, err := pickVersion(d, deref(in.DocumentVersion), deref(in.VersionName))
		if err != nil {
			return err
		}
		if ver.Version == d.Default {
			return clientError("InvalidDocumentOperation", "You can't delete the default version of a document. Set another default version, or delete the document.")
		}
		n := ver.Version
		d.Versions = slices.DeleteFunc(d.Versions, func(x docVersion) bool { return x.Version == n })
		return documents.Put(tx, sc, d.Name, *d)
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.DeleteDocumentResult{}, nil
}

// visibleDocuments are the documents an account sees: its own, AWS's, and
// the default SSM-SessionManagerRunShell unless it wrote its own; sorted
// by name.
func visibleDocuments(tx state.Tx, sc state.Scope) ([]*docRecord, error) {
	own := map[string]bool{}
	var out []*docRecord
	err := documents.ForEachShared(tx, sc, func(name string, d *docRecord) error {
		own[name] = true
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range builtins {
		if !own[name] {
			d, _, _ := findDocument(tx, sc, name)
			if d != nil {
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b *docRecord) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// docFilter is one ListDocuments filter.
type docFilter struct {
	key    string
	values []string
}

func (f docFilter) match(sc state.Scope, d *docRecord) bool {
	v := d.version(d.Default)
	anyOf := func(have ...string) bool {
		return slices.ContainsFunc(f.values, func(w string) bool { return slices.Contains(have, w) })
	}
	switch {
	case f.key == "Name":
		return slices.ContainsFunc(f.values, func(w string) bool { return strings.HasPrefix(d.Name, w) })
	case f.key == "Owner":
		return slices.ContainsFunc(f.values, func(w string) bool {
			switch w {
			case "Self", "Private":
				return d.Owner == sc.Account
			case "Amazon", "Public":
				return d.Owner == ownerAmazon
			case "All":
				return true
			}
			return d.Owner == w
		})
	case f.key == "DocumentType":
		return anyOf(d.Type)
	case f.key == "PlatformTypes":
		return anyOf(v.Platforms...)
	case f.key == "TargetType":
		return anyOf(d.TargetType)
	case f.key == "SearchKeyword":
		return slices.ContainsFunc(f.values, func(w string) bool { return strings.Contains(strings.ToLower(d.Name), strings.ToLower(w)) })
	case strings.HasPrefix(f.key, "tag:"):
		i := slices.IndexFunc(d.Tags, func(t state.Tag) bool { return t.Key == f.key[4:] })
		return i >= 0 && (len(f.values) == 0 || anyOf(d.Tags[i].Value))
	}
	return false
}

var docFilterKeys = []string{"Name", "Owner", "DocumentType", "PlatformTypes", "TargetType", "SearchKeyword"}

// ListDocuments lists the documents the account sees, filtered.
func (s *Service) ListDocuments(ctx context.Context, in *ssmapi.ListDocumentsRequest) (*ssmapi.ListDocumentsResult, error) {
	var v violations
	v.rangeInt(in.MaxResults, "maxResults", 1, 50)
	for i, f := range in.DocumentFilterList {
		v.enum(f.Key, fmt.Sprintf("documentFilterList.%d.member.key", i+1), []string{"Name", "Owner", "PlatformTypes", "DocumentType"})
	}
	for i, f := range in.Filters {
		v.length(f.Key, fmt.Sprintf("filters.%d.member.key", i+1), 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var fs []docFilter
	for _, f := range in.DocumentFilterList {
		fs = append(fs, docFilter{key: *f.Key, values: []string{deref(f.Value)}})
	}
	for _, f := range in.Filters {
		if !slices.Contains(docFilterKeys, deref(f.Key)) && !strings.HasPrefix(deref(f.Key), "tag:") {
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid.", deref(f.Key))
		}
		fs = append(fs, docFilter{key: *f.Key, values: f.Values})
	}
	sc := scopeOf(ctx)
	size := pageSize(in.MaxResults, 50)
	out := ssmapi.ListDocumentsResult{DocumentIdentifiers: []ssmapi.DocumentIdentifier{}}
	err := s.store.View(ctx, func(tx state.Tx) error {
		all, err := visibleDocuments(tx, sc)
		if err != nil {
			return err
		}
		var kept []*docRecord
		for _, d := range all {
			if !slices.ContainsFunc(fs, func(f docFilter) bool { return !f.match(sc, d) }) {
				kept = append(kept, d)
			}
		}
		page, next, err := state.Paginate(kept, size, deref(in.NextToken), pageOptions, func(d *docRecord) string { return d.Name })
		if err != nil {
			return err
		}
		out.NextToken = tokenOf(next)
		for _, d := range page {
			ver := d.version(d.Default)
			id := ssmapi.DocumentIdentifier{Name: new(d.Name), CreatedDate: new(ver.Created), Owner: new(d.Owner), PlatformTypes: ver.Platforms,
				DocumentVersion: new(strconv.Itoa(ver.Version)), DocumentType: new(d.Type), SchemaVersion: new(ver.SchemaVersion),
				DocumentFormat: new(d.Format), Tags: apiTags(d.Tags)}
			id.VersionName, id.TargetType, id.DisplayName = opt(ver.VersionName), opt(d.TargetType), opt(d.DisplayName)
			out.DocumentIdentifiers = append(out.DocumentIdentifiers, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ListDocumentVersions lists a document's versions, oldest first.
func (s *Service) ListDocumentVersions(ctx context.Context, in *ssmapi.ListDocumentVersionsRequest) (*ssmapi.ListDocumentVersionsResult, error) {
	var v violations
	v.docRef(in.Name, nil, nil)
	v.rangeInt(in.MaxResults, "maxResults", 1, 50)
	if err := v.Err(); err != nil {
		return nil, err
	}
	size := pageSize(in.MaxResults, 50)
	out := ssmapi.ListDocumentVersionsResult{DocumentVersions: []ssmapi.DocumentVersionInfo{}}
	err := s.store.View(ctx, func(tx state.Tx) error {
		d, _, err := findDocument(tx, scopeOf(ctx), *in.Name)
		if err != nil {
			return err
		}
		if d == nil {
			return errNoDocument()
		}
		page, next, err := state.Paginate(d.Versions, size, deref(in.NextToken), pageOptions, func(v docVersion) string { return fmt.Sprintf("%010d", v.Version) })
		if err != nil {
			return err
		}
		out.NextToken = tokenOf(next)
		for _, ver := range page {
			info := ssmapi.DocumentVersionInfo{Name: new(d.Name), DocumentVersion: new(strconv.Itoa(ver.Version)), CreatedDate: new(ver.Created),
				IsDefaultVersion: new(ver.Version == d.Default), DocumentFormat: new(d.Format), Status: new("Active"), VersionName: opt(ver.VersionName)}
			out.DocumentVersions = append(out.DocumentVersions, info)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
