package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	sigKey     = "AKIDSIGTEST"
	sigSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	sigAccount = "111111111111"
)

// TestSignatureVerification: a minicloud given a key with a secret
// verifies signatures (the default then): both AWS CLIs and boto3 work
// with the right secret, temporary credentials from assume-role included,
// and get SignatureDoesNotMatch (STS) and AuthFailure (EC2) with a wrong
// one; a request signed 20 minutes ago gets AWS's clock errors.
func TestSignatureVerification(t *testing.T) {
	t.Parallel()
	clis := requireCLIs(t)
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--accounts", sigKey+"="+sigAccount+":"+sigSecret)
	right := []string{"AWS_ACCESS_KEY_ID=" + sigKey, "AWS_SECRET_ACCESS_KEY=" + sigSecret}
	wrong := []string{"AWS_ACCESS_KEY_ID=" + sigKey, "AWS_SECRET_ACCESS_KEY=not-the-secret"}

	for _, c := range clis {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := awsEnv(t, right...)
			id := decode[callerIdentity](t, c.aws(t, s, env, "sts", "get-caller-identity"))
			if id.Account != sigAccount {
				t.Fatalf("get-caller-identity = %+v, want account %s", id, sigAccount)
			}
			decode[map[string]any](t, c.aws(t, s, env, "ec2", "describe-vpcs"))
			c.ensureRole(t, s, env, sigAccount, "signed")
			roleARN := "arn:aws:iam::" + sigAccount + ":role/signed"
			out := decode[assumeRoleOut](t, c.aws(t, s, env, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "sig-"+c.name))
			id = decode[callerIdentity](t, c.aws(t, s, append(env, out.Credentials.env()...), "sts", "get-caller-identity"))
			if !strings.Contains(id.Arn, ":assumed-role/signed/sig-"+c.name) {
				t.Fatalf("get-caller-identity with assumed credentials = %+v", id)
			}

			bad := awsEnv(t, wrong...)
			for _, tc := range []struct {
				args []string
				code string
			}{
				{[]string{"sts", "get-caller-identity"}, "SignatureDoesNotMatch"},
				{[]string{"ec2", "describe-vpcs"}, "AuthFailure"},
			} {
				r := c.aws(t, s, bad, tc.args...)
				if r.code == 0 || !strings.Contains(r.stderr, tc.code) {
					t.Errorf("%v with a wrong secret: %s, want %s", tc.args, r, tc.code)
				}
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		const script = `
import sys, boto3
from botocore.exceptions import ClientError
ep, key, secret = sys.argv[1:4]
out = []
for s in (secret, "not-the-secret"):
    sess = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=s, region_name="us-east-1")
    for svc, call in (("sts", lambda c: c.get_caller_identity()["Account"]), ("ec2", lambda c: len(c.describe_vpcs()["Vpcs"]))):
        try:
            out.append("%s ok %s" % (svc, call(sess.client(svc, endpoint_url=ep))))
        except ClientError as e:
            out.append("%s %s" % (svc, e.response["Error"]["Code"]))
print("\n".join(out))
`
		r := run(t, awsEnv(t), py, "-c", script, s.URL, sigKey, sigSecret)
		want := "sts ok " + sigAccount + "\nec2 ok "
		if r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "sts SignatureDoesNotMatch\nec2 AuthFailure") {
			t.Fatalf("boto3: %s", r)
		}
	})

	t.Run("clock skew", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			target, body, code string
		}{
			{"sts", "Action=GetCallerIdentity&Version=2011-06-15", "<Code>SignatureDoesNotMatch</Code><Message>Signature expired"},
			{"ec2", "Action=DescribeVpcs&Version=2016-11-15", "<Code>RequestExpired</Code>"},
		} {
			for _, age := range []time.Duration{0, 20 * time.Minute} {
				status, body := signedPost(t, s.URL, tc.target, tc.body, time.Now().Add(-age))
				switch {
				case age == 0 && status != 200:
					t.Errorf("%s signed now: HTTP %d %s", tc.target, status, body)
				case age > 0 && (status < 400 || !strings.Contains(body, tc.code)):
					t.Errorf("%s signed %v ago: HTTP %d %s, want %s", tc.target, age, status, body, tc.code)
				}
			}
		}
	})
}

// signedPost sends a query-protocol POST signed by aws-sdk-go-v2's signer
// at signingTime.
func signedPost(t *testing.T, base, service, body string, signingTime time.Time) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: sigKey, SecretAccessKey: sigSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", signingTime); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
