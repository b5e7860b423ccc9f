package dataplane_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/minicloud/minicloud/internal/server"
)

// imdsUserData serves on port 80, from inside the instance, GET
// /imds?path=P: the metadata service's answer to GET P through IMDSv2 (a
// token first, as SDKs do), as "<status>\n<body>".
const imdsUserData = `#!/bin/sh
cat > /var/tmp/imds.py <<'PY'
import http.server, urllib.parse, urllib.request, urllib.error
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def imds(path):
    t = opener.open(urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}), timeout=2).read().decode()
    try:
        r = opener.open(urllib.request.Request("http://169.254.169.254" + path,
            headers={"X-aws-ec2-metadata-token": t}), timeout=2)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        try:
            code, body = imds(q["path"][0])
            b = ("%d\n%s" % (code, body)).encode()
        except Exception as e:
            b = ("0\n" + repr(e)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
PY
nohup python3 /var/tmp/imds.py >/dev/null 2>&1 &
`

// imdsGet asks the instance at publicIP for its metadata at path.
func imdsGet(publicIP, path string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + publicIP + "/imds?path=" + url.QueryEscape(path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	head, body, _ := strings.Cut(string(b), "\n")
	var code int
	if _, err := fmt.Sscan(head, &code); err != nil || code == 0 {
		return 0, "", fmt.Errorf("instance answered %q", b)
	}
	return code, body, nil
}

// wantIMDS waits until the instance's metadata at path is status and,
// when body is not empty, body.
func wantIMDS(t *testing.T, publicIP, path string, status int, body string) {
	t.Helper()
	err := eventually(15*time.Second, func() error {
		code, got, err := imdsGet(publicIP, path)
		if err == nil && (code != status || body != "" && got != body) {
			err = fmt.Errorf("%s: %d %q, want %d %q", path, code, got, status, body)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

type imdsCreds struct {
	Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration string
}

// TestInstanceRoleCredentials: an instance with an instance profile gets
// its role's credentials from IMDSv2 inside itself; they work against
// minicloud's API as the role's session named after the instance; an
// instance without a profile gets none; associating, replacing and
// disassociating the profile, and taking the role out of it, change what
// the instance is served.
func TestInstanceRoleCredentials(t *testing.T) {
	e, _ := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix("198.19.234.0/24") })
	ac := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	iamc := iam.NewFromConfig(ac)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	profiles := map[string]string{}
	for _, n := range []string{"app", "other"} {
		if _, err := iamc.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String(n + "-role"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		p, err := iamc.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(n + "-profile")})
		if err != nil {
			t.Fatal(err)
		}
		profiles[n] = aws.ToString(p.InstanceProfile.InstanceProfileId)
		if _, err := iamc.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(n + "-profile"), RoleName: aws.String(n + "-role")}); err != nil {
			t.Fatal(err)
		}
	}

	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24")
	sg := e.newSG(v.id, "imds", tcpFrom(80, "0.0.0.0/0"))
	img := e.image()
	run := func(profile *types.IamInstanceProfileSpecification) string {
		out, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: img, InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]), SecurityGroupIds: []string{sg},
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(imdsUserData))), IamInstanceProfile: profile})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	withID := run(&types.IamInstanceProfileSpecification{Name: aws.String("app-profile")})
	withoutID := run(nil)
	e.waitState(withID, types.InstanceStateNameRunning)
	e.waitState(withoutID, types.InstanceStateNameRunning)
	with, without := e.eip(withID), e.eip(withoutID)

	// The role's credentials, as the instance's SDK would read them.
	roleCreds := func(role string) imdsCreds {
		t.Helper()
		wantIMDS(t, with, "/latest/meta-data/iam/security-credentials/", 200, role)
		code, body, err := imdsGet(with, "/latest/meta-data/iam/security-credentials/"+role)
		if err != nil || code != 200 {
			t.Fatalf("credentials of %s: %d %v", role, code, err)
		}
		var c imdsCreds
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatalf("credentials %q: %v", body, err)
		}
		exp, err := time.Parse(time.RFC3339, c.Expiration)
		if c.Code != "Success" || c.Type != "AWS-HMAC" || !strings.HasPrefix(c.AccessKeyId, "ASIA") || c.SecretAccessKey == "" || c.Token == "" ||
			err != nil || time.Until(exp) < 5*time.Hour {
			t.Fatalf("credentials %+v", c)
		}
		return c
	}
	// whoami calls STS with them, from the host.
	whoami := func(c imdsCreds) string {
		t.Helper()
		cfg := ac
		cfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyId, c.SecretAccessKey, c.Token)
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Arn)
	}

	c := roleCreds("app-role")
	if got, want := whoami(c), "arn:aws:sts::000000000000:assumed-role/app-role/"+withID; got != want {
		t.Errorf("caller %s, want %s", got, want)
	}
	code, info, err := imdsGet(with, "/latest/meta-data/iam/info")
	if err != nil || code != 200 || !strings.Contains(info, `"InstanceProfileArn" : "arn:aws:iam::000000000000:instance-profile/app-profile"`) ||
		!strings.Contains(info, `"InstanceProfileId" : "`+profiles["app"]+`"`) {
		t.Errorf("iam/info: %d %q %v", code, info, err)
	}
	// The same credentials until they are due for renewal.
	if again := roleCreds("app-role"); again.AccessKeyId != c.AccessKeyId {
		t.Errorf("new credentials %s on the second read, want %s", again.AccessKeyId, c.AccessKeyId)
	}

	// Without a profile: no iam/ at all.
	wantIMDS(t, without, "/latest/meta-data/iam/", 404, "")
	wantIMDS(t, without, "/latest/meta-data/iam/security-credentials/", 404, "")

	assoc, err := e.ec2.DescribeIamInstanceProfileAssociations(e.ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{withID}}}})
	if err != nil || len(assoc.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("associations %+v %v", assoc, err)
	}
	rep, err := e.ec2.ReplaceIamInstanceProfileAssociation(e.ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{
		AssociationId: assoc.IamInstanceProfileAssociations[0].AssociationId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("other-profile")}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := whoami(roleCreds("other-role")), "arn:aws:sts::000000000000:assumed-role/other-role/"+withID; got != want {
		t.Errorf("after replace: caller %s, want %s", got, want)
	}

	if _, err := e.ec2.DisassociateIamInstanceProfile(e.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: rep.IamInstanceProfileAssociation.AssociationId}); err != nil {
		t.Fatal(err)
	}
	wantIMDS(t, with, "/latest/meta-data/iam/", 404, "")

	if _, err := e.ec2.AssociateIamInstanceProfile(e.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(withID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("app-profile")}}); err != nil {
		t.Fatal(err)
	}
	roleCreds("app-role")

	// IAM's side: the profile without its role has no credentials.
	if _, err := iamc.RemoveRoleFromInstanceProfile(e.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: aws.String("app-role")}); err != nil {
		t.Fatal(err)
	}
	wantIMDS(t, with, "/latest/meta-data/iam/security-credentials/", 404, "")
	wantIMDS(t, with, "/latest/meta-data/iam/", 200, "info")
}
