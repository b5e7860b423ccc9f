package acm_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// testEnv is a minicloud in process with ACM and Route 53 clients.
type testEnv struct {
	srv *server.Server
	url string
	acm *acm.Client
	r53 *route53.Client
	ctx context.Context
	// zones are the public zones issue made, by name.
	zones map[string]string
}

func newEnv(t *testing.T, dir string) *testEnv {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: dir == "", StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	cfg := clientConfig(hs.URL, "test", "us-east-1")
	return &testEnv{srv: srv, url: hs.URL, acm: acm.NewFromConfig(cfg), r53: route53.NewFromConfig(cfg), ctx: context.Background()}
}

// clientConfig is an SDK configuration for the minicloud at url, with an
// access key (a 12-digit key is that account) and a region.
func clientConfig(url, key, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, "test", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       sdktest.HTTPClient(),
	}
}

// acmIn is an ACM client of another account or region.
func (e *testEnv) acmIn(account, region string) *acm.Client {
	return acm.NewFromConfig(clientConfig(e.url, account, region))
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
}

// request asks for a DNS-validated certificate.
func (e *testEnv) request(t *testing.T, domain string, sans ...string) string {
	t.Helper()
	in := &acm.RequestCertificateInput{DomainName: aws.String(domain), ValidationMethod: acmtypes.ValidationMethodDns}
	if len(sans) > 0 {
		in.SubjectAlternativeNames = sans
	}
	out, err := e.acm.RequestCertificate(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.CertificateArn
}

func (e *testEnv) describe(t *testing.T, arn string) *acmtypes.CertificateDetail {
	t.Helper()
	out, err := e.acm.DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Certificate
}

// waitStatus waits for the certificate's status.
func (e *testEnv) waitStatus(t *testing.T, arn string, want acmtypes.CertificateStatus, within time.Duration) *acmtypes.CertificateDetail {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d := e.describe(t, arn)
		if d.Status == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s after %v, want %s", arn, d.Status, within, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zone creates a public hosted zone.
func (e *testEnv) zone(t *testing.T, name, ref string) string {
	t.Helper()
	out, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.HostedZone.Id
}

// cnames creates the validation records of the certificate's domains in
// zone (each record once: a wildcard shares its base name's).
func (e *testEnv) cnames(t *testing.T, zone string, d *acmtypes.CertificateDetail) {
	t.Helper()
	seen := map[string]bool{}
	var changes []r53types.Change
	for _, o := range d.DomainValidationOptions {
		rr := o.ResourceRecord
		if rr == nil || seen[*rr.Name] {
			continue
		}
		seen[*rr.Name] = true
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: rr.Name, Type: r53types.RRType(rr.Type), TTL: aws.Int64(300),
			ResourceRecords: []r53types.ResourceRecord{{Value: rr.Value}},
		}})
	}
	if _, err := e.r53.ChangeResourceRecordSets(e.ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		t.Fatal(err)
	}
}

// checked returns once the validator has looked at the certificate after
// the call.
func (e *testEnv) checked(t *testing.T, arn string) {
	t.Helper()
	if err := e.srv.ACM().CheckValidation(e.ctx, "000000000000", "us-east-1", arn); err != nil {
		t.Fatal(err)
	}
}

// rootCA is the root certificate as `minicloud ca` prints it, from the
// server's endpoint.
func (e *testEnv) rootCA(t *testing.T) *x509.Certificate {
	t.Helper()
	return parseCert(t, e.caPEM(t))
}

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("no PEM in %q", b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue validates the certificate: its CNAMEs in a public zone named
// after its domain's last two labels (made once), then waits for ISSUED.
func (e *testEnv) issue(t *testing.T, arn string) *acmtypes.CertificateDetail {
	t.Helper()
	d := e.describe(t, arn)
	labels := strings.Split(strings.TrimPrefix(*d.DomainName, "*."), ".")
	apex := strings.Join(labels[len(labels)-2:], ".")
	if e.zones == nil {
		e.zones = map[string]string{}
	}
	if e.zones[apex] == "" {
		e.zones[apex] = e.zone(t, apex, "ref-"+apex)
	}
	e.cnames(t, e.zones[apex], d)
	return e.waitStatus(t, arn, acmtypes.CertificateStatusIssued, 10*time.Second)
}

// caPEM is the root certificate the server's CA endpoint serves.
func (e *testEnv) caPEM(t *testing.T) []byte {
	t.Helper()
	resp, err := http.Get(e.url + server.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("GET %s: %s %s %v", server.CAPath, resp.Status, resp.Header.Get("Content-Type"), err)
	}
	return b
}
