package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type certificateDetail struct {
	Certificate struct {
		CertificateArn, DomainName, Status, Type, KeyAlgorithm, Issuer string
		SubjectAlternativeNames                                        []string
		DomainValidationOptions                                        []struct {
			DomainName, ValidationStatus string
			ResourceRecord               struct{ Name, Type, Value string }
		}
	}
}

// TestACMCLI drives ACM with each AWS CLI as a user would: request a
// certificate, create its validation CNAMEs in a Route 53 zone, wait for
// it to be issued, fetch it and check it with openssl against the root
// `minicloud ca` prints; import one openssl made, list and delete.
func TestACMCLI(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is missing: install Debian's openssl package")
	}
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			dir := t.TempDir()
			file := func(name string) string { return filepath.Join(dir, name) }

			arn := decode[struct{ CertificateArn string }](t, cli.aws(t, s, env, "acm", "request-certificate",
				"--domain-name", "www.acm-cli.test", "--subject-alternative-names", "acm-cli.test", "--validation-method", "DNS",
				"--idempotency-token", "cli"+cli.name)).CertificateArn
			d := decode[certificateDetail](t, cli.aws(t, s, env, "acm", "describe-certificate", "--certificate-arn", arn)).Certificate
			if d.Status != "PENDING_VALIDATION" || d.Type != "AMAZON_ISSUED" || d.KeyAlgorithm != "RSA-2048" || len(d.DomainValidationOptions) != 2 {
				t.Fatalf("requested: %+v", d)
			}
			r := cli.aws(t, s, env, "acm", "get-certificate", "--certificate-arn", arn)
			if r.code == 0 || !strings.Contains(r.stderr, "RequestInProgressException") {
				t.Fatalf("get-certificate while pending: %s", r)
			}

			zone := decode[struct{ HostedZone struct{ Id string } }](t, cli.aws(t, s, env, "route53", "create-hosted-zone",
				"--name", "acm-cli.test", "--caller-reference", "ref-"+cli.name)).HostedZone.Id
			var changes []string
			for _, o := range d.DomainValidationOptions {
				rr := o.ResourceRecord
				changes = append(changes, fmt.Sprintf(`{"Action":"UPSERT","ResourceRecordSet":{"Name":%q,"Type":%q,"TTL":300,"ResourceRecords":[{"Value":%q}]}}`, rr.Name, rr.Type, rr.Value))
			}
			if r := cli.aws(t, s, env, "route53", "change-resource-record-sets", "--hosted-zone-id", zone,
				"--change-batch", `{"Changes":[`+strings.Join(changes, ",")+`]}`); r.code != 0 {
				t.Fatalf("change-resource-record-sets: %s", r)
			}
			for deadline := time.Now().Add(20 * time.Second); d.Status != "ISSUED"; time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("still %s 20 s after its CNAMEs were created", d.Status)
				}
				d = decode[certificateDetail](t, cli.aws(t, s, env, "acm", "describe-certificate", "--certificate-arn", arn)).Certificate
			}
			if d.Issuer != "minicloud" || d.DomainValidationOptions[0].ValidationStatus != "SUCCESS" {
				t.Fatalf("issued: %+v", d)
			}

			got := decode[struct{ Certificate, CertificateChain string }](t, cli.aws(t, s, env, "acm", "get-certificate", "--certificate-arn", arn))
			root := run(t, cleanEnv(), binPath, "ca", "--endpoint", s.URL)
			if root.code != 0 {
				t.Fatalf("minicloud ca: %s", root)
			}
			for name, content := range map[string]string{"cert.pem": got.Certificate, "chain.pem": got.CertificateChain, "root.pem": root.stdout} {
				if err := os.WriteFile(file(name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, host := range []string{"www.acm-cli.test", "acm-cli.test"} {
				v := run(t, cleanEnv(), openssl, "verify", "-CAfile", file("root.pem"), "-untrusted", file("chain.pem"),
					"-purpose", "sslserver", "-verify_hostname", host, file("cert.pem"))
				if v.code != 0 || !strings.Contains(v.stdout, "OK") {
					t.Fatalf("openssl verify for %s: %s", host, v)
				}
			}
			if v := run(t, cleanEnv(), openssl, "verify", "-CAfile", file("root.pem"), "-untrusted", file("chain.pem"),
				"-verify_hostname", "other.test", file("cert.pem")); v.code == 0 {
				t.Fatalf("openssl verify for a name the certificate lacks succeeded: %s", v)
			}

			// Import a certificate openssl made.
			if r := run(t, cleanEnv(), openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("imp.key"), "-out", file("imp.pem"),
				"-days", "30", "-subj", "/CN=imported.acm-cli.test", "-addext", "subjectAltName=DNS:imported.acm-cli.test"); r.code != 0 {
				t.Fatalf("openssl req: %s", r)
			}
			imported := decode[struct{ CertificateArn string }](t, cli.aws(t, s, env, "acm", "import-certificate",
				"--certificate", "fileb://"+file("imp.pem"), "--private-key", "fileb://"+file("imp.key"),
				"--tags", "Key=source,Value=openssl")).CertificateArn
			di := decode[certificateDetail](t, cli.aws(t, s, env, "acm", "describe-certificate", "--certificate-arn", imported)).Certificate
			if di.Type != "IMPORTED" || di.Status != "ISSUED" || di.DomainName != "imported.acm-cli.test" {
				t.Fatalf("imported: %+v", di)
			}
			back := decode[struct{ Certificate string }](t, cli.aws(t, s, env, "acm", "get-certificate", "--certificate-arn", imported))
			pemFile, err := os.ReadFile(file("imp.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(back.Certificate) != strings.TrimSpace(string(pemFile)) {
				t.Fatalf("get-certificate of the import:\n%s\nwant\n%s", back.Certificate, pemFile)
			}

			list := decode[struct {
				CertificateSummaryList []struct{ CertificateArn, Status string }
			}](t, cli.aws(t, s, env, "acm", "list-certificates"))
			if len(list.CertificateSummaryList) != 2 {
				t.Fatalf("list-certificates: %+v", list)
			}
			if r := cli.aws(t, s, env, "acm", "delete-certificate", "--certificate-arn", imported); r.code != 0 {
				t.Fatalf("delete-certificate: %s", r)
			}
			r = cli.aws(t, s, env, "acm", "describe-certificate", "--certificate-arn", imported)
			if r.code == 0 || !strings.Contains(r.stderr, "ResourceNotFoundException") {
				t.Fatalf("describe after delete: %s", r)
			}
			var health struct {
				ACM struct {
					CA struct{ State string } `json:"ca"`
				} `json:"acm"`
			}
			resp, err := http.Get(s.URL + "/_minicloud/health")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&health); err != nil || health.ACM.CA.State != "ready" {
				t.Fatalf("health's acm.ca: %+v %v", health, err)
			}
		})
	}
}
