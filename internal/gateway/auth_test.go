package gateway_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

const (
	verifyKey     = "AKIDVERIFY"
	verifySecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	verifyAccount = "111111111111"
)

// trustAccount is a trust policy that lets the account's principals
// assume the role.
const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + verifyAccount + `:root"},"Action":"sts:AssumeRole"}]}`

// verifyingServer is minicloud with signature verification on, the one
// key verifyKey, and a clock the test moves by *skew.
func verifyingServer(t *testing.T) (base string, skew *atomic.Int64) {
	t.Helper()
	skew = &atomic.Int64{}
	srv, err := server.New(server.Config{Ephemeral: true, Version: "test",
		Accounts: map[string]string{verifyKey: verifyAccount}, Secrets: map[string]string{verifyKey: verifySecret},
		VerifySignatures: true, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return hs.URL, skew
}

// sdkConfig is an SDK configuration for base with the given credentials
// (nil: anonymous) and no retries, so that every refusal shows.
func sdkConfig(base string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(base),
		HTTPClient: sdktest.HTTPClient(), RetryMaxAttempts: 1}
}

func static(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}

// calls are one operation of each protocol family minicloud serves.
var calls = []struct {
	name string
	call func(ctx context.Context, cfg aws.Config) error
}{
	{"sts (query)", func(ctx context.Context, cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}},
	{"ec2", func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		return err
	}},
	{"route53 (rest-xml)", func(ctx context.Context, cfg aws.Config) error {
		_, err := route53.NewFromConfig(cfg).ListHostedZones(ctx, &route53.ListHostedZonesInput{})
		return err
	}},
	{"rds (query)", func(ctx context.Context, cfg aws.Config) error {
		_, err := rds.NewFromConfig(cfg).DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{})
		return err
	}},
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// TestVerifySignatures: with verification on, each protocol's client works
// with the right secret and gets its service's own error for a wrong
// secret, an unknown key, no signature and a clock off by more than 15
// minutes.
func TestVerifySignatures(t *testing.T) {
	base, skew := verifyingServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		creds aws.CredentialsProvider
		skew  time.Duration
		want  map[string]string // call name → error code ("" success)
	}{
		{"the right secret", static(verifyKey, verifySecret, ""), 0,
			map[string]string{"sts (query)": "", "ec2": "", "route53 (rest-xml)": "", "rds (query)": ""}},
		{"the right secret, clock 14 minutes ahead", static(verifyKey, verifySecret, ""), 14 * time.Minute,
			map[string]string{"sts (query)": "", "ec2": ""}},
		{"a wrong secret", static(verifyKey, verifySecret+"x", ""), 0,
			map[string]string{"sts (query)": "SignatureDoesNotMatch", "ec2": "AuthFailure", "route53 (rest-xml)": "SignatureDoesNotMatch", "rds (query)": "SignatureDoesNotMatch"}},
		{"an unknown key", static("AKIDUNKNOWN", verifySecret, ""), 0,
			map[string]string{"sts (query)": "InvalidClientTokenId", "ec2": "AuthFailure"}},
		{"a session token with a long-term key", static(verifyKey, verifySecret, "token"), 0,
			map[string]string{"sts (query)": "InvalidClientTokenId"}},
		{"unsigned", aws.AnonymousCredentials{}, 0,
			map[string]string{"sts (query)": "MissingAuthenticationToken", "ec2": "MissingAuthenticationToken"}},
		{"clock 16 minutes ahead", static(verifyKey, verifySecret, ""), 16 * time.Minute,
			map[string]string{"sts (query)": "SignatureDoesNotMatch", "ec2": "RequestExpired", "route53 (rest-xml)": "SignatureDoesNotMatch"}},
		{"clock 16 minutes behind", static(verifyKey, verifySecret, ""), -16 * time.Minute,
			map[string]string{"sts (query)": "SignatureDoesNotMatch", "ec2": "RequestExpired"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skew.Store(int64(tc.skew))
			defer skew.Store(0)
			for _, c := range calls {
				want, ok := tc.want[c.name]
				if !ok {
					continue
				}
				if got := errorCode(c.call(ctx, sdkConfig(base, tc.creds))); got != want {
					t.Errorf("%s: error %q, want %q", c.name, got, want)
				}
			}
		})
	}
	// The skew message names the times as AWS does.
	skew.Store(int64(time.Hour))
	_, err := sts.NewFromConfig(sdkConfig(base, static(verifyKey, verifySecret, ""))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	skew.Store(0)
	if !strings.Contains(err.Error(), "Signature expired") {
		t.Errorf("skewed request: %v, want \"Signature expired\"", err)
	}
}

// TestVerifyAssumedRole: temporary credentials from AssumeRole verify with
// the secret and token STS issued, and not without them.
func TestVerifyAssumedRole(t *testing.T) {
	base, _ := verifyingServer(t)
	ctx := context.Background()
	// AWS refuses to assume a role that does not exist.
	if _, err := iam.NewFromConfig(sdkConfig(base, static(verifyKey, verifySecret, ""))).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustAccount)}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(sdkConfig(base, static(verifyKey, verifySecret, ""))).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + verifyAccount + ":role/deployer"), RoleSessionName: aws.String("sess")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	for _, tc := range []struct {
		name               string
		key, secret, token string
		want               string
	}{
		{"issued secret and token", *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken, ""},
		{"no token", *c.AccessKeyId, *c.SecretAccessKey, "", "InvalidClientTokenId"},
		{"another token", *c.AccessKeyId, *c.SecretAccessKey, "x" + *c.SessionToken, "InvalidClientTokenId"},
		{"another secret", *c.AccessKeyId, "x" + *c.SecretAccessKey, *c.SessionToken, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := sts.NewFromConfig(sdkConfig(base, static(tc.key, tc.secret, tc.token))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if got := errorCode(err); got != tc.want {
				t.Fatalf("GetCallerIdentity: %q, want %q", got, tc.want)
			}
			if tc.want == "" && !strings.Contains(aws.ToString(id.Arn), ":assumed-role/deployer/sess") {
				t.Fatalf("GetCallerIdentity = %s", aws.ToString(id.Arn))
			}
		})
	}
}

// TestVerifyPresigned: a URL the SDK presigned works until it expires, and
// not with a wrong secret.
func TestVerifyPresigned(t *testing.T) {
	base, skew := verifyingServer(t)
	ctx := context.Background()
	presign := func(secret string) string {
		p := sts.NewPresignClient(sts.NewFromConfig(sdkConfig(base, static(verifyKey, secret, ""))))
		req, err := p.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, sts.WithPresignClientFromClientOptions(func(o *sts.Options) {}))
		if err != nil {
			t.Fatal(err)
		}
		return req.URL
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	good := presign(verifySecret)
	if status, body := get(good); status != 200 || !strings.Contains(body, "<Account>"+verifyAccount+"</Account>") {
		t.Fatalf("presigned GetCallerIdentity: HTTP %d %s", status, body)
	}
	if status, body := get(presign("wrong")); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("presigned with a wrong secret: HTTP %d %s", status, body)
	}
	skew.Store(int64(16 * time.Minute)) // the STS presigner's URLs live 15 minutes
	if status, body := get(good); status != 403 || !strings.Contains(body, "Request has expired") {
		t.Fatalf("expired presigned URL: HTTP %d %s", status, body)
	}
}
