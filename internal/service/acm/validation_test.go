package acm_test

import (
	"crypto/rsa"
	"crypto/x509"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/minicloud/minicloud/internal/server"
)

// A certificate validated through DNS, end to end: requested, its
// validation CNAMEs created with Route 53's API in a public hosted zone,
// issued within seconds by minicloud's CA, and its chain verifying against
// the root `minicloud ca` prints for every name it was requested for.
func TestDNSValidatedCertificate(t *testing.T) {
	e := newEnv(t, "")
	arn := e.request(t, "www.example.test", "example.test", "*.example.test")
	// A request whose names no zone answers, made first: it stays pending
	// through every check the zone changes below cause.
	orphan := e.request(t, "www.nowhere.test")

	d := e.describe(t, arn)
	if d.Status != acmtypes.CertificateStatusPendingValidation || d.Type != acmtypes.CertificateTypeAmazonIssued {
		t.Fatalf("new request: status %s, type %s", d.Status, d.Type)
	}
	if got := d.SubjectAlternativeNames; !slices.Equal(got, []string{"www.example.test", "example.test", "*.example.test"}) {
		t.Fatalf("SubjectAlternativeNames = %v", got)
	}
	if len(d.DomainValidationOptions) != 3 {
		t.Fatalf("DomainValidationOptions = %+v", d.DomainValidationOptions)
	}
	records := map[string]*acmtypes.ResourceRecord{}
	for _, o := range d.DomainValidationOptions {
		rr := o.ResourceRecord
		if o.ValidationStatus != acmtypes.DomainStatusPendingValidation || o.ValidationMethod != acmtypes.ValidationMethodDns ||
			*o.ValidationDomain != *o.DomainName || rr == nil || rr.Type != acmtypes.RecordTypeCname {
			t.Fatalf("domain validation %+v", o)
		}
		base := strings.TrimPrefix(*o.DomainName, "*.")
		if !strings.HasPrefix(*rr.Name, "_") || !strings.HasSuffix(*rr.Name, "."+base+".") || len(strings.Split(*rr.Name, ".")[0]) != 33 ||
			!strings.HasSuffix(*rr.Value, ".acm-validations.aws.") || !strings.HasPrefix(*rr.Value, "_") {
			t.Fatalf("validation record of %s: %s CNAME %s", *o.DomainName, *rr.Name, *rr.Value)
		}
		records[*o.DomainName] = rr
	}
	// A wildcard validates through its base name's record.
	if w, b := records["*.example.test"], records["example.test"]; *w.Name != *b.Name || *w.Value != *b.Value {
		t.Fatalf("wildcard record %s CNAME %s differs from its base name's %s CNAME %s", *w.Name, *w.Value, *b.Name, *b.Value)
	}
	// The same name has the same record in every certificate of the
	// account, as on AWS.
	again := e.describe(t, e.request(t, "example.test"))
	if rr := again.DomainValidationOptions[0].ResourceRecord; *rr.Name != *records["example.test"].Name || *rr.Value != *records["example.test"].Value {
		t.Fatal("a second request for example.test got another validation record")
	}
	if _, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)}); err == nil {
		t.Fatal("GetCertificate of a pending certificate answered")
	} else {
		wantCode(t, err, "RequestInProgressException")
	}

	zone := e.zone(t, "example.test", "ref-example")
	start := time.Now()
	e.cnames(t, zone, d)
	issued := e.waitStatus(t, arn, acmtypes.CertificateStatusIssued, 10*time.Second)
	t.Logf("issued %v after the CNAMEs were created", time.Since(start).Round(time.Millisecond))
	for _, o := range issued.DomainValidationOptions {
		if o.ValidationStatus != acmtypes.DomainStatusSuccess {
			t.Errorf("%s: validation status %s", *o.DomainName, o.ValidationStatus)
		}
	}
	if issued.IssuedAt == nil || issued.NotBefore == nil || issued.NotAfter == nil || issued.Serial == nil ||
		issued.NotAfter.Sub(*issued.NotBefore) != 395*24*time.Hour {
		t.Fatalf("issued: IssuedAt %v NotBefore %v NotAfter %v Serial %v", issued.IssuedAt, issued.NotBefore, issued.NotAfter, issued.Serial)
	}
	if *issued.Issuer != "minicloud" || *issued.Subject != "CN=www.example.test" || issued.KeyAlgorithm != "RSA-2048" ||
		*issued.SignatureAlgorithm != "SHA256WITHECDSA" {
		t.Errorf("issued: Issuer %s Subject %s KeyAlgorithm %s SignatureAlgorithm %s", *issued.Issuer, *issued.Subject, issued.KeyAlgorithm, *issued.SignatureAlgorithm)
	}
	if len(issued.KeyUsages) != 2 || issued.KeyUsages[0].Name != acmtypes.KeyUsageNameDigitalSignature || issued.KeyUsages[1].Name != acmtypes.KeyUsageNameKeyEncipherment {
		t.Errorf("KeyUsages = %+v", issued.KeyUsages)
	}
	if len(issued.ExtendedKeyUsages) != 1 || issued.ExtendedKeyUsages[0].Name != acmtypes.ExtendedKeyUsageNameTlsWebServerAuthentication ||
		*issued.ExtendedKeyUsages[0].OID != "1.3.6.1.5.5.7.3.1" {
		t.Errorf("ExtendedKeyUsages = %+v", issued.ExtendedKeyUsages)
	}

	got, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	leaf := parseCert(t, []byte(*got.Certificate))
	if _, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || strings.Contains(*got.Certificate+*got.CertificateChain, "PRIVATE KEY") {
		t.Fatalf("GetCertificate: key %T, or a private key in the answer", leaf.PublicKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.rootCA(t))
	inter := x509.NewCertPool()
	if !inter.AppendCertsFromPEM([]byte(*got.CertificateChain)) {
		t.Fatal("no certificate in the chain")
	}
	for _, name := range []string{"www.example.test", "example.test", "api.example.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "a.b.example.test", Roots: roots, Intermediates: inter}); err == nil {
		t.Error("valid for a.b.example.test, which no name covers")
	}

	// A load balancer's listener uses it: InUseBy, and ACM would renew it.
	lb := "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef"
	if err := e.srv.ACM().Port().Use(e.ctx, "000000000000", "us-east-1", arn, lb); err != nil {
		t.Fatal(err)
	}
	if d := e.describe(t, arn); !slices.Equal(d.InUseBy, []string{lb}) || d.RenewalEligibility != acmtypes.RenewalEligibilityEligible {
		t.Fatalf("in use: InUseBy %v, RenewalEligibility %s", d.InUseBy, d.RenewalEligibility)
	}
	c, ok, err := e.srv.ACM().Port().Certificate(e.ctx, "000000000000", "us-east-1", arn)
	if err != nil || !ok || c.Status != "ISSUED" || !slices.Equal(c.SANs, issued.SubjectAlternativeNames) || string(c.CertificatePEM) != *got.Certificate {
		t.Fatalf("port: %+v %v %v", c, ok, err)
	}

	e.checked(t, orphan)
	if d := e.describe(t, orphan); d.Status != acmtypes.CertificateStatusPendingValidation {
		t.Fatalf("a certificate whose CNAME is in no zone is %s", d.Status)
	}
}

// The CNAME must be in a zone that answers for the name on the public DNS:
// not a private zone, not a public zone shadowed by an older one of the
// same name, and with the value ACM gave. Delegating the name to the
// shadowed zone (minicloud's registrar) makes its record count.
func TestValidationFollowsPublicDNS(t *testing.T) {
	e := newEnv(t, "")
	arn := e.request(t, "shop.shadow.test")
	d := e.describe(t, arn)
	rr := d.DomainValidationOptions[0].ResourceRecord

	answering := e.zone(t, "shadow.test", "ref-first")
	shadowed := e.zone(t, "shadow.test", "ref-second")
	private, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("shadow.test"), CallerReference: aws.String("ref-private"),
		VPC: &r53types.VPC{VPCId: aws.String("vpc-0123456789abcdef0"), VPCRegion: r53types.VPCRegionUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	upsert := func(zone, value string) {
		t.Helper()
		_, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
				Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
					Name: rr.Name, Type: r53types.RRTypeCname, TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(value)}}},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.checked(t, arn)
	}
	for _, tc := range []struct{ what, zone, value string }{
		{"a private zone", *private.HostedZone.Id, *rr.Value},
		{"a shadowed public zone", shadowed, *rr.Value},
		{"the answering zone, with another value", answering, "_0000.other.acm-validations.aws."},
	} {
		upsert(tc.zone, tc.value)
		if d := e.describe(t, arn); d.Status != acmtypes.CertificateStatusPendingValidation {
			t.Fatalf("the CNAME in %s: certificate %s", tc.what, d.Status)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+server.DelegationPath+"?zone="+strings.TrimPrefix(shadowed, "/hostedzone/"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("delegate to the shadowed zone: %v %v", resp, err)
	}
	resp.Body.Close()
	e.waitStatus(t, arn, acmtypes.CertificateStatusIssued, 10*time.Second)
}
