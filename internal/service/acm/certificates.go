package acm

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// DescribeCertificate returns every field ACM shows of a certificate.
func (s *Service) DescribeCertificate(ctx context.Context, in *acmapi.DescribeCertificateRequest) (*acmapi.DescribeCertificateResponse, error) {
	var out *acmapi.CertificateDetail
	err := s.view(ctx, in.CertificateArn, func(r *certRecord) error {
		out = r.detail(s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.DescribeCertificateResponse{Certificate: out}, nil
}

// GetCertificate returns the certificate and its chain, never its key. A
// requested certificate that is not issued yet is RequestInProgressException.
func (s *Service) GetCertificate(ctx context.Context, in *acmapi.GetCertificateRequest) (*acmapi.GetCertificateResponse, error) {
	out := &acmapi.GetCertificateResponse{}
	err := s.view(ctx, in.CertificateArn, func(r *certRecord) error {
		if r.CertificatePEM == "" {
			return api.Errorf(http.StatusBadRequest, "RequestInProgressException",
				"Certificate %s in account %s is in status %s and has not been issued.", r.ARN, scopeOf(ctx).Account, r.status(s.now()))
		}
		out.Certificate = new(r.CertificatePEM)
		setString(&out.CertificateChain, r.ChainPEM)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteCertificate deletes a certificate no resource uses.
func (s *Service) DeleteCertificate(ctx context.Context, in *acmapi.DeleteCertificateRequest) (*acmapi.Empty, error) {
	sc, err := arnScope(ctx, in.CertificateArn)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx state.Tx) error {
		r, err := get(tx, sc, *in.CertificateArn)
		if err != nil {
			return err
		}
		if len(r.InUseBy) > 0 {
			return api.Errorf(http.StatusBadRequest, "ResourceInUseException", "Certificate %s in account %s is in use.", r.ARN, sc.Account)
		}
		return certs.Delete(tx, sc, r.ID)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.Empty{}, nil
}

// UpdateCertificateOptions sets a certificate's transparency logging
// preference. It applies to the certificates ACM issues: an imported one
// was logged (or not) by its own CA.
func (s *Service) UpdateCertificateOptions(ctx context.Context, in *acmapi.UpdateCertificateOptionsRequest) (*acmapi.Empty, error) {
	var v violations
	v.arn(in.CertificateArn, "certificateArn")
	if in.Options != nil {
		v.enum(in.Options.CertificateTransparencyLoggingPreference, "options.certificateTransparencyLoggingPreference", ctPreferences)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.update(ctx, in.CertificateArn, func(_ state.Tx, r *certRecord) error {
		if r.Type == typeImported {
			return api.Errorf(http.StatusBadRequest, "InvalidStateException",
				"Certificate %s is an imported certificate: its certificate transparency logging preference cannot be updated.", r.ARN)
		}
		if p := deref(in.Options).CertificateTransparencyLoggingPreference; p != nil {
			r.CTLogging = *p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.Empty{}, nil
}

// defaultKeyTypes are the key types ListCertificates returns without an
// Includes.keyTypes filter, as AWS documents.
var defaultKeyTypes = []string{"RSA_1024", "RSA_2048"}

// ListCertificates lists the caller's certificates of the region:
// filtered by status and by Includes (key types, RSA_1024 and RSA_2048
// only by default; key usages; extended key usages), in creation order or
// SortBy/SortOrder's, paginated.
func (s *Service) ListCertificates(ctx context.Context, in *acmapi.ListCertificatesRequest) (*acmapi.ListCertificatesResponse, error) {
	var v violations
	v.enumList(in.CertificateStatuses, "certificateStatuses", certificateStatuses)
	keyTypes := defaultKeyTypes
	var inc acmapi.Filters
	if in.Includes != nil {
		inc = *in.Includes
		v.enumList(inc.KeyTypes, "includes.keyTypes", keyAlgorithms)
		v.enumList(inc.KeyUsage, "includes.keyUsage", keyUsages)
		v.enumList(inc.ExtendedKeyUsage, "includes.extendedKeyUsage", extendedKeyUsages)
		if len(inc.KeyTypes) > 0 {
			keyTypes = inc.KeyTypes
		}
	}
	v.enum(in.SortBy, "sortBy", sortBys)
	v.enum(in.SortOrder, "sortOrder", sortOrders)
	if n := in.MaxItems; n != nil && (*n < 1 || *n > 1000) {
		shown := strconv.Itoa(int(*n))
		constraint := "Member must have value greater than or equal to 1"
		if *n > 1000 {
			constraint = "Member must have value less than or equal to 1000"
		}
		v.Add(&shown, "maxItems", constraint)
	}
	if t := in.NextToken; t != nil {
		v.length(*t, "nextToken", 1, 10000)
		v.pattern(*t, "nextToken", nextTokenRE, nextTokenPattern)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	var list []*certRecord
	err := s.store.View(ctx, func(tx state.Tx) error {
		return certs.ForEachShared(tx, sc, func(_ string, r *certRecord) error {
			if listed(r, now, in.CertificateStatuses, keyTypes, inc) {
				list = append(list, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	desc := deref(in.SortOrder) == "DESCENDING"
	page, next, err := state.Paginate(list, in.MaxItems, deref(in.NextToken), state.PageOptions{
		TokenCode:    "InvalidArgsException",
		TokenMessage: func(string) string { return "The NextToken is not valid." },
	}, func(r *certRecord) string { return createdKey(r, desc) })
	if err != nil {
		return nil, err
	}
	out := &acmapi.ListCertificatesResponse{CertificateSummaryList: []acmapi.CertificateSummary{}}
	for _, r := range page {
		out.CertificateSummaryList = append(out.CertificateSummaryList, r.summary(now))
	}
	setString(&out.NextToken, next)
	return out, nil
}

// listed is whether r passes ListCertificates' filters: its status is one
// of statuses (any when none), its key type one of keyTypes, and it has
// one of the key usages and one of the extended key usages asked for.
func listed(r *certRecord, now time.Time, statuses, keyTypes []string, inc acmapi.Filters) bool {
	if len(statuses) > 0 && !slices.Contains(statuses, r.status(now)) {
		return false
	}
	if !slices.Contains(keyTypes, r.KeyAlgorithm) {
		return false
	}
	if len(inc.KeyUsage) > 0 && !slices.ContainsFunc(r.KeyUsages, func(k string) bool { return slices.Contains(inc.KeyUsage, k) }) {
		return false
	}
	if len(inc.ExtendedKeyUsage) > 0 && !slices.ContainsFunc(r.ExtendedKeyUsages, func(e extendedKeyUsage) bool {
		return slices.Contains(inc.ExtendedKeyUsage, e.Name)
	}) {
		return false
	}
	return true
}

// createdKey orders certificates by creation time, then ID; descending
// order is the ascending order of the time's complement, so that one
// token format serves both.
func createdKey(r *certRecord, desc bool) string {
	n := r.CreatedAt.UnixNano()
	if desc {
		n = 1<<62 - n
	}
	return fmt.Sprintf("%020d/%s", n, r.ID)
}

// ListTagsForCertificate lists a certificate's tags.
func (s *Service) ListTagsForCertificate(ctx context.Context, in *acmapi.ListTagsForCertificateRequest) (*acmapi.ListTagsForCertificateResponse, error) {
	out := &acmapi.ListTagsForCertificateResponse{}
	err := s.view(ctx, in.CertificateArn, func(r *certRecord) error {
		out.Tags = r.Tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddTagsToCertificate adds tags, replacing the values of keys it has.
func (s *Service) AddTagsToCertificate(ctx context.Context, in *acmapi.AddTagsToCertificateRequest) (*acmapi.Empty, error) {
	if err := checkTagRequest(in.CertificateArn, in.Tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, in.CertificateArn, func(_ state.Tx, r *certRecord) error {
		tags, err := addTags(r.Tags, in.Tags)
		r.Tags = tags
		return err
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.Empty{}, nil
}

// RemoveTagsFromCertificate removes tags: a tag given with a value only
// when the certificate's has that value.
func (s *Service) RemoveTagsFromCertificate(ctx context.Context, in *acmapi.RemoveTagsFromCertificateRequest) (*acmapi.Empty, error) {
	if err := checkTagRequest(in.CertificateArn, in.Tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, in.CertificateArn, func(_ state.Tx, r *certRecord) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t acmapi.Tag) bool {
			return slices.ContainsFunc(in.Tags, func(rm acmapi.Tag) bool {
				return deref(rm.Key) == deref(t.Key) && (rm.Value == nil || deref(rm.Value) == deref(t.Value))
			})
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.Empty{}, nil
}

// checkTagRequest checks a tagging request's members and refuses AWS's
// reserved "aws:" keys.
func checkTagRequest(arn *string, tags []acmapi.Tag) error {
	var v violations
	v.arn(arn, "certificateArn")
	v.tags(tags, "tags")
	if err := v.Err(); err != nil {
		return err
	}
	return checkReservedTags(tags)
}

func checkReservedTags(tags []acmapi.Tag) error {
	for _, t := range tags {
		if state.IsReservedTagKey(deref(t.Key)) {
			return api.Errorf(http.StatusBadRequest, "InvalidTagException",
				"Tag key '%s' is not valid: keys that begin with aws: are reserved for AWS's use.", deref(t.Key))
		}
	}
	return nil
}

// addTags merges add into tags (a key given again takes the new value);
// more than 50 is TooManyTagsException.
func addTags(tags, add []acmapi.Tag) ([]acmapi.Tag, error) {
	out := slices.Clone(tags)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o acmapi.Tag) bool { return deref(o.Key) == deref(t.Key) })
		if i >= 0 {
			out[i] = t
			continue
		}
		out = append(out, t)
	}
	if len(out) > maxTags {
		shown := make([]string, len(out))
		for i, t := range out {
			shown[i] = deref(t.Key) + "=" + deref(t.Value)
		}
		return tags, api.Errorf(http.StatusBadRequest, "TooManyTagsException", "the TagSet: '{%s}' contains too many Tags", strings.Join(shown, ", "))
	}
	return out, nil
}
