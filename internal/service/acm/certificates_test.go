package acm_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
)

func TestListCertificates(t *testing.T) {
	e := newEnv(t, "")
	rsaPending := e.request(t, "a.list.test")
	out, err := e.acm.RequestCertificate(e.ctx, &acm.RequestCertificateInput{DomainName: aws.String("b.list.test"), KeyAlgorithm: acmtypes.KeyAlgorithmEcPrime256v1})
	if err != nil {
		t.Fatal(err)
	}
	ecPending := *out.CertificateArn
	rsaIssued := e.request(t, "c.list.test", "www.c.list.test")
	e.issue(t, rsaIssued)

	arns := func(in *acm.ListCertificatesInput) []string {
		t.Helper()
		out, err := e.acm.ListCertificates(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range out.CertificateSummaryList {
			got = append(got, *s.CertificateArn)
		}
		return got
	}
	tests := []struct {
		name string
		in   acm.ListCertificatesInput
		want []string
	}{
		{"default: RSA only, in creation order", acm.ListCertificatesInput{}, []string{rsaPending, rsaIssued}},
		{"key types", acm.ListCertificatesInput{Includes: &acmtypes.Filters{KeyTypes: []acmtypes.KeyAlgorithm{acmtypes.KeyAlgorithmEcPrime256v1}}}, []string{ecPending}},
		{"every key type", acm.ListCertificatesInput{Includes: &acmtypes.Filters{KeyTypes: []acmtypes.KeyAlgorithm{acmtypes.KeyAlgorithmEcPrime256v1, acmtypes.KeyAlgorithmRsa2048}}},
			[]string{rsaPending, ecPending, rsaIssued}},
		{"status", acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued}}, []string{rsaIssued}},
		{"key usage", acm.ListCertificatesInput{Includes: &acmtypes.Filters{KeyUsage: []acmtypes.KeyUsageName{acmtypes.KeyUsageNameKeyEncipherment}}}, []string{rsaIssued}},
		{"extended key usage", acm.ListCertificatesInput{Includes: &acmtypes.Filters{ExtendedKeyUsage: []acmtypes.ExtendedKeyUsageName{acmtypes.ExtendedKeyUsageNameCodeSigning}}}, nil},
		{"newest first", acm.ListCertificatesInput{SortBy: acmtypes.SortByCreatedAt, SortOrder: acmtypes.SortOrderDescending}, []string{rsaIssued, rsaPending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := arns(&tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}

	// Pages of one, with the SDK's paginator, in both orders.
	for _, order := range []acmtypes.SortOrder{acmtypes.SortOrderAscending, acmtypes.SortOrderDescending} {
		p := acm.NewListCertificatesPaginator(e.acm, &acm.ListCertificatesInput{MaxItems: aws.Int32(1), SortBy: acmtypes.SortByCreatedAt, SortOrder: order,
			Includes: &acmtypes.Filters{KeyTypes: []acmtypes.KeyAlgorithm{acmtypes.KeyAlgorithmEcPrime256v1, acmtypes.KeyAlgorithmRsa2048}}})
		var got []string
		for p.HasMorePages() {
			page, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.CertificateSummaryList) > 1 {
				t.Fatalf("a page of %d", len(page.CertificateSummaryList))
			}
			for _, s := range page.CertificateSummaryList {
				got = append(got, *s.CertificateArn)
			}
		}
		want := []string{rsaPending, ecPending, rsaIssued}
		if order == acmtypes.SortOrderDescending {
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s pages: %v, want %v", order, got, want)
		}
	}

	out2, err := e.acm.ListCertificates(e.ctx, &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued}})
	if err != nil {
		t.Fatal(err)
	}
	s := out2.CertificateSummaryList[0]
	if *s.DomainName != "c.list.test" || !slices.Equal(s.SubjectAlternativeNameSummaries, []string{"c.list.test", "www.c.list.test"}) ||
		*s.HasAdditionalSubjectAlternativeNames || s.Status != acmtypes.CertificateStatusIssued || s.Type != acmtypes.CertificateTypeAmazonIssued ||
		s.KeyAlgorithm != "RSA-2048" || *s.InUse || s.RenewalEligibility != acmtypes.RenewalEligibilityIneligible ||
		s.NotAfter == nil || s.IssuedAt == nil || s.CreatedAt == nil ||
		!slices.Equal(s.KeyUsages, []acmtypes.KeyUsageName{acmtypes.KeyUsageNameDigitalSignature, acmtypes.KeyUsageNameKeyEncipherment}) ||
		!slices.Equal(s.ExtendedKeyUsages, []acmtypes.ExtendedKeyUsageName{acmtypes.ExtendedKeyUsageNameTlsWebServerAuthentication}) {
		t.Fatalf("summary %+v", s)
	}
}

func TestRequestOptions(t *testing.T) {
	e := newEnv(t, "")
	t.Run("idempotency token", func(t *testing.T) {
		req := func(token string) string {
			out, err := e.acm.RequestCertificate(e.ctx, &acm.RequestCertificateInput{DomainName: aws.String("idem.options.test"), IdempotencyToken: aws.String(token)})
			if err != nil {
				t.Fatal(err)
			}
			return *out.CertificateArn
		}
		first := req("token1")
		if again := req("token1"); again != first {
			t.Fatalf("the same token within the hour made %s, then %s", first, again)
		}
		if other := req("token2"); other == first {
			t.Fatal("another token returned the same certificate")
		}
	})
	t.Run("transparency logging, tags, P-384", func(t *testing.T) {
		out, err := e.acm.RequestCertificate(e.ctx, &acm.RequestCertificateInput{DomainName: aws.String("ec.options.test"), KeyAlgorithm: acmtypes.KeyAlgorithmEcSecp384r1,
			Options: &acmtypes.CertificateOptions{CertificateTransparencyLoggingPreference: acmtypes.CertificateTransparencyLoggingPreferenceDisabled},
			Tags:    []acmtypes.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("bare")}}})
		if err != nil {
			t.Fatal(err)
		}
		arn := *out.CertificateArn
		d := e.describe(t, arn)
		if d.Options.CertificateTransparencyLoggingPreference != acmtypes.CertificateTransparencyLoggingPreferenceDisabled || d.KeyAlgorithm != "EC-secp384r1" {
			t.Fatalf("options %+v, key %s", d.Options, d.KeyAlgorithm)
		}
		if _, err := e.acm.UpdateCertificateOptions(e.ctx, &acm.UpdateCertificateOptionsInput{CertificateArn: aws.String(arn),
			Options: &acmtypes.CertificateOptions{CertificateTransparencyLoggingPreference: acmtypes.CertificateTransparencyLoggingPreferenceEnabled}}); err != nil {
			t.Fatal(err)
		}
		issued := e.issue(t, arn)
		if issued.Options.CertificateTransparencyLoggingPreference != acmtypes.CertificateTransparencyLoggingPreferenceEnabled {
			t.Fatalf("options after update: %+v", issued.Options)
		}
		if len(issued.KeyUsages) != 1 || issued.KeyUsages[0].Name != acmtypes.KeyUsageNameDigitalSignature {
			t.Fatalf("an ECDSA certificate's key usages: %+v", issued.KeyUsages)
		}
		got, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := parseCert(t, []byte(*got.Certificate)).PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P384() {
			t.Fatalf("key %T, want ECDSA P-384", parseCert(t, []byte(*got.Certificate)).PublicKey)
		}
		tags, err := e.acm.ListTagsForCertificate(e.ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Tags) != 2 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "web" || *tags.Tags[1].Key != "bare" || tags.Tags[1].Value != nil {
			t.Fatalf("tags %+v", tags.Tags)
		}
	})
	// Where AWS fails a request after accepting it, minicloud does at once.
	for _, tc := range []struct {
		name string
		in   *acm.RequestCertificateInput
		typ  acmtypes.CertificateType
		why  acmtypes.FailureReason
	}{
		{"private CA", &acm.RequestCertificateInput{DomainName: aws.String("internal.options.test"),
			CertificateAuthorityArn: aws.String("arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012")},
			acmtypes.CertificateTypePrivate, acmtypes.FailureReasonPcaResourceNotFound},
		{"Amazon-owned name", &acm.RequestCertificateInput{DomainName: aws.String("web-1.us-east-1.elb.amazonaws.com")},
			acmtypes.CertificateTypeAmazonIssued, acmtypes.FailureReasonAdditionalVerificationRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.acm.RequestCertificate(e.ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			d := e.describe(t, *out.CertificateArn)
			if d.Status != acmtypes.CertificateStatusFailed || d.Type != tc.typ || d.FailureReason != tc.why {
				t.Fatalf("status %s type %s failure %s", d.Status, d.Type, d.FailureReason)
			}
		})
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t, "")
	arn := e.request(t, "tags.test")
	add := func(tags ...acmtypes.Tag) {
		t.Helper()
		if _, err := e.acm.AddTagsToCertificate(e.ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(arn), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(tags ...acmtypes.Tag) {
		t.Helper()
		if _, err := e.acm.RemoveTagsFromCertificate(e.ctx, &acm.RemoveTagsFromCertificateInput{CertificateArn: aws.String(arn), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	list := func() map[string]string {
		t.Helper()
		out, err := e.acm.ListTagsForCertificate(e.ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[*tg.Key] = aws.ToString(tg.Value)
		}
		return m
	}
	tag := func(k, v string) acmtypes.Tag { return acmtypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	add(tag("a", "1"), tag("b", "2"), tag("c", "3"))
	add(tag("a", "one"))
	remove(tag("b", "not 2"))                  // a value that differs: kept
	remove(acmtypes.Tag{Key: aws.String("c")}) // no value: removed whatever its value
	if got, want := list(), map[string]string{"a": "one", "b": "2"}; !equalMaps(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAccountConfiguration(t *testing.T) {
	e := newEnv(t, "")
	days := func() int32 {
		t.Helper()
		out, err := e.acm.GetAccountConfiguration(e.ctx, &acm.GetAccountConfigurationInput{})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ExpiryEvents.DaysBeforeExpiry
	}
	put := func(token string, d int32) {
		t.Helper()
		if _, err := e.acm.PutAccountConfiguration(e.ctx, &acm.PutAccountConfigurationInput{IdempotencyToken: aws.String(token),
			ExpiryEvents: &acmtypes.ExpiryEventsConfiguration{DaysBeforeExpiry: aws.Int32(d)}}); err != nil {
			t.Fatal(err)
		}
	}
	if d := days(); d != 45 {
		t.Fatalf("default DaysBeforeExpiry %d, want 45", d)
	}
	put("first", 30)
	put("first", 10) // the same request again within the hour: ignored
	if d := days(); d != 30 {
		t.Fatalf("DaysBeforeExpiry %d, want 30", d)
	}
	put("second", 10)
	if d := days(); d != 10 {
		t.Fatalf("DaysBeforeExpiry %d, want 10", d)
	}
}

func TestDeleteCertificate(t *testing.T) {
	e := newEnv(t, "")
	arn := e.request(t, "gone.test")
	if _, err := e.acm.DeleteCertificate(e.ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.acm.DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	wantCode(t, err, "ResourceNotFoundException")
}

// Certificates, their keys and the CA survive a restart; a request
// pending across it is issued by the restarted validator.
func TestDurable(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	issued := e.request(t, "kept.durable.test")
	e.issue(t, issued)
	pending := e.request(t, "later.durable.test")
	root := e.caPEM(t)
	before, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(issued)})
	if err != nil {
		t.Fatal(err)
	}
	zone := e.zones["durable.test"]
	if err := e.srv.Close(e.ctx); err != nil {
		t.Fatal(err)
	}

	e = newEnv(t, dir)
	if !bytes.Equal(e.caPEM(t), root) {
		t.Fatal("the CA's root changed across a restart")
	}
	after, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(issued)})
	if err != nil {
		t.Fatal(err)
	}
	if *after.Certificate != *before.Certificate || *after.CertificateChain != *before.CertificateChain {
		t.Fatal("the issued certificate changed across a restart")
	}
	e.cnames(t, zone, e.describe(t, pending))
	e.waitStatus(t, pending, acmtypes.CertificateStatusIssued, 10*time.Second)
}
