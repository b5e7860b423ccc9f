package acm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/minicloud/minicloud/internal/certport"
)

// domainRE is DomainNameString's pattern as AWS's messages show it.
const domainRE = `^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$`

// Every operation's errors: code and message, through the SDK. Messages
// AWS is known to send are AWS's verbatim (the "validation errors
// detected" form, ResourceInUseException's, ResourceNotFoundException's,
// the 64-character limit's, re-import's tags).
func TestErrors(t *testing.T) {
	e := newEnv(t, "")
	const account = "000000000000"
	pending := e.request(t, "pending.errors.test")
	inUse := e.request(t, "used.errors.test")
	if err := e.srv.ACM().Port().Use(e.ctx, account, "us-east-1", inUse, "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	missing := "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-4000-8000-000000000000"
	long := strings.Repeat("a", 60) + ".test" // 65 characters
	tags := func(n int) []acmtypes.Tag {
		out := make([]acmtypes.Tag, n)
		for i := range out {
			out[i] = acmtypes.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
		}
		return out
	}
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("n%d.errors.test", i))
	}

	tests := []struct {
		name string
		call func(ctx context.Context, c *acm.Client) error
		code string
		msg  string // "" checks the code only
	}{
		{"request: names not DNS names", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("ccc"), SubjectAlternativeNames: []string{"ccc"}})
			return err
		}, "ValidationException", "2 validation errors detected: Value '[ccc]' at 'subjectAlternativeNames' failed to satisfy constraint: " +
			"Member must satisfy constraint: [Member must have length less than or equal to 253, Member must have length greater than or equal to 1, " +
			"Member must satisfy regular expression pattern: " + domainRE + "]; Value 'ccc' at 'domainName' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: " + domainRE},
		{"request: trailing dot", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("example.test.")})
			return err
		}, "ValidationException", "1 validation error detected: Value 'example.test.' at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + domainRE},
		{"request: first name over 64 characters", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String(long)})
			return err
		}, "InvalidDomainValidationOptionsException", "The first domain name can be no longer than 64 characters."},
		{"request: eleven names", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("errors.test"), SubjectAlternativeNames: names})
			return err
		}, "LimitExceededException", "Cannot request a certificate with more than 10 domain names (this one has 11)."},
		{"request: email validation", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("mail.errors.test"), ValidationMethod: acmtypes.ValidationMethodEmail})
			return err
		}, "InvalidParameterException", "minicloud cannot send email, so EMAIL validation could never complete: request the certificate with ValidationMethod DNS " +
			"and create its validation CNAME records in a Route 53 public hosted zone."},
		{"request: key algorithm not issued", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("k.errors.test"), KeyAlgorithm: acmtypes.KeyAlgorithmRsa4096})
			return err
		}, "InvalidParameterException", "Key algorithm RSA_4096 is not supported for public certificates: use RSA_2048, EC_prime256v1, EC_secp384r1."},
		{"request: key algorithm unknown", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("k.errors.test"), KeyAlgorithm: "RSA_999"})
			return err
		}, "ValidationException", "1 validation error detected: Value 'RSA_999' at 'keyAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: " +
			"[RSA_1024, RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, EC_secp384r1, EC_secp521r1]"},
		{"request: validation option for another name", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("a.errors.test"),
				DomainValidationOptions: []acmtypes.DomainValidationOption{{DomainName: aws.String("b.errors.test"), ValidationDomain: aws.String("errors.test")}}})
			return err
		}, "InvalidDomainValidationOptionsException", "DomainValidationOption b.errors.test is not one of the certificate's domain names."},
		{"request: validation domain not a superdomain", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("a.errors.test"),
				DomainValidationOptions: []acmtypes.DomainValidationOption{{DomainName: aws.String("a.errors.test"), ValidationDomain: aws.String("other.test")}}})
			return err
		}, "InvalidDomainValidationOptionsException", "The ValidationDomain other.test must be a.errors.test or one of its superdomains."},
		{"request: reserved tag", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("t.errors.test"), Tags: []acmtypes.Tag{{Key: aws.String("aws:x")}}})
			return err
		}, "InvalidTagException", "Tag key 'aws:x' is not valid: keys that begin with aws: are reserved for AWS's use."},
		{"request: tag value pattern", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("t.errors.test"),
				Tags: []acmtypes.Tag{{Key: aws.String("ok")}, {Key: aws.String("name"), Value: aws.String("*.dev.example.com")}}})
			return err
		}, "ValidationException", `1 validation error detected: Value '*.dev.example.com' at 'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:\/=+\-@]*`},
		{"request: idempotency token pattern", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("t.errors.test"), IdempotencyToken: aws.String("not-a-word")})
			return err
		}, "ValidationException", `1 validation error detected: Value 'not-a-word' at 'idempotencyToken' failed to satisfy constraint: Member must satisfy regular expression pattern: \w+`},
		{"describe: not an ARN", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("foo")})
			return err
		}, "ValidationException", "2 validation errors detected: Value 'foo' at 'certificateArn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
			`Value 'foo' at 'certificateArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*`},
		{"describe: not a certificate ARN", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:thing/x")})
			return err
		}, "InvalidArnException", "arn:aws:acm:us-east-1:000000000000:thing/x is not a valid ARN."},
		{"describe: missing", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(missing)})
			return err
		}, "ResourceNotFoundException", "Could not find certificate " + missing + " in account 000000000000."},
		{"describe: another region's", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(strings.Replace(pending, "us-east-1", "eu-west-1", 1))})
			return err
		}, "ResourceNotFoundException", "Could not find certificate " + strings.Replace(pending, "us-east-1", "eu-west-1", 1) + " in account 000000000000."},
		{"describe: another account's", func(context.Context, *acm.Client) error {
			_, err := e.acmIn("111111111111", "us-east-1").DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(pending)})
			return err
		}, "ResourceNotFoundException", "Could not find certificate " + pending + " in account 111111111111."},
		{"get: pending", func(ctx context.Context, c *acm.Client) error {
			_, err := c.GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: aws.String(pending)})
			return err
		}, "RequestInProgressException", "Certificate " + pending + " in account 000000000000 is in status PENDING_VALIDATION and has not been issued."},
		{"delete: in use", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(inUse)})
			return err
		}, "ResourceInUseException", "Certificate " + inUse + " in account 000000000000 is in use."},
		{"delete: missing", func(ctx context.Context, c *acm.Client) error {
			_, err := c.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(missing)})
			return err
		}, "ResourceNotFoundException", "Could not find certificate " + missing + " in account 000000000000."},
		{"list: unknown status", func(ctx context.Context, c *acm.Client) error {
			_, err := c.ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{"DONE"}})
			return err
		}, "ValidationException", "1 validation error detected: Value '[DONE]' at 'certificateStatuses' failed to satisfy constraint: Member must satisfy constraint: " +
			"[Member must satisfy enum value set: [PENDING_VALIDATION, ISSUED, INACTIVE, EXPIRED, VALIDATION_TIMED_OUT, REVOKED, FAILED]]"},
		{"list: MaxItems over 1000", func(ctx context.Context, c *acm.Client) error {
			_, err := c.ListCertificates(ctx, &acm.ListCertificatesInput{MaxItems: aws.Int32(1001)})
			return err
		}, "ValidationException", "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"list: NextToken not one", func(ctx context.Context, c *acm.Client) error {
			_, err := c.ListCertificates(ctx, &acm.ListCertificatesInput{NextToken: aws.String("garbage")})
			return err
		}, "InvalidArgsException", "The NextToken is not valid."},
		{"tags: more than 50", func(ctx context.Context, c *acm.Client) error {
			if _, err := c.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(pending), Tags: tags(30)}); err != nil {
				return err
			}
			more := tags(51)[30:]
			_, err := c.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(pending), Tags: more})
			return err
		}, "TooManyTagsException", ""},
		{"tags: reserved key", func(ctx context.Context, c *acm.Client) error {
			_, err := c.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: aws.String(pending), Tags: []acmtypes.Tag{{Key: aws.String("AWS:name")}}})
			return err
		}, "InvalidTagException", "Tag key 'AWS:name' is not valid: keys that begin with aws: are reserved for AWS's use."},
		{"tags: none", func(ctx context.Context, c *acm.Client) error {
			_, err := c.RemoveTagsFromCertificate(ctx, &acm.RemoveTagsFromCertificateInput{CertificateArn: aws.String(pending), Tags: []acmtypes.Tag{}})
			return err
		}, "ValidationException", "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"account: 46 days", func(ctx context.Context, c *acm.Client) error {
			_, err := c.PutAccountConfiguration(ctx, &acm.PutAccountConfigurationInput{IdempotencyToken: aws.String("t46"),
				ExpiryEvents: &acmtypes.ExpiryEventsConfiguration{DaysBeforeExpiry: aws.Int32(46)}})
			return err
		}, "ValidationException", "1 validation error detected: Value '46' at 'expiryEvents.daysBeforeExpiry' failed to satisfy constraint: Member must have value less than or equal to 45"},
		{"options: unknown preference", func(ctx context.Context, c *acm.Client) error {
			_, err := c.UpdateCertificateOptions(ctx, &acm.UpdateCertificateOptionsInput{CertificateArn: aws.String(pending),
				Options: &acmtypes.CertificateOptions{CertificateTransparencyLoggingPreference: "MAYBE"}})
			return err
		}, "ValidationException", "1 validation error detected: Value 'MAYBE' at 'options.certificateTransparencyLoggingPreference' failed to satisfy constraint: " +
			"Member must satisfy enum value set: [ENABLED, DISABLED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.call(e.ctx, e.acm), tt.code, tt.msg)
		})
	}

	// Refused deletes left the certificates, and after Unuse the one in
	// use goes.
	if d := e.describe(t, inUse); len(d.InUseBy) != 1 {
		t.Fatalf("InUseBy = %v", d.InUseBy)
	}
	var _ certport.Port = e.srv.ACM().Port()
	if err := e.srv.ACM().Port().Unuse(e.ctx, account, "us-east-1", inUse, "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acm.DeleteCertificate(e.ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(inUse)}); err != nil {
		t.Fatalf("delete after Unuse: %v", err)
	}
}
