package acm_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
)

// opensslDir is a directory of keys and certificates made with the openssl CLI.
type opensslDir struct {
	t   *testing.T
	dir string
}

func newOpenSSL(t *testing.T) *opensslDir {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is missing: install Debian's openssl package")
	}
	return &opensslDir{t: t, dir: t.TempDir()}
}

// run runs openssl in the directory.
func (o *opensslDir) run(args ...string) {
	o.t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = o.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		o.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (o *opensslDir) write(name, content string) {
	o.t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, name), []byte(content), 0o600); err != nil {
		o.t.Fatal(err)
	}
}

func (o *opensslDir) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

// selfSigned makes an RSA 2048 self-signed certificate for names.
func (o *opensslDir) selfSigned(prefix string, names ...string) {
	san := "subjectAltName=DNS:" + strings.Join(names, ",DNS:")
	o.run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", prefix+".key", "-out", prefix+".pem",
		"-days", "30", "-subj", "/CN="+names[0], "-addext", san)
}

// ca makes an ECDSA P-256 certificate authority.
func (o *opensslDir) ca() {
	o.run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-days", "30", "-subj", "/O=Example Test CA/CN=Example Test Root")
}

// leaf makes an ECDSA P-256 key the way `openssl ecparam -genkey` does (an
// EC PARAMETERS block before the key) and a certificate for it signed by
// the CA, with key usage and extended key usage extensions.
func (o *opensslDir) leaf(prefix, name string) {
	o.run("ecparam", "-name", "prime256v1", "-genkey", "-out", prefix+".key")
	o.run("req", "-new", "-key", prefix+".key", "-out", prefix+".csr", "-subj", "/CN="+name)
	o.write(prefix+".ext", "subjectAltName=DNS:"+name+"\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
	o.run("x509", "-req", "-in", prefix+".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
		"-days", "10", "-out", prefix+".pem", "-extfile", prefix+".ext")
}

func derOf(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("no PEM in %q", b)
	}
	return block.Bytes
}

// Certificates made by openssl import and read back; an imported one
// reimports into its ARN under ACM's rules.
func TestImportCertificate(t *testing.T) {
	e := newEnv(t, "")
	o := newOpenSSL(t)
	o.selfSigned("self", "self.import.test", "www.self.import.test")
	o.ca()
	o.leaf("leaf", "ec.import.test")
	o.leaf("renewed", "ec.import.test")

	t.Run("self-signed RSA", func(t *testing.T) {
		out, err := e.acm.ImportCertificate(e.ctx, &acm.ImportCertificateInput{Certificate: o.read("self.pem"), PrivateKey: o.read("self.key"),
			Tags: []acmtypes.Tag{{Key: aws.String("source"), Value: aws.String("openssl")}}})
		if err != nil {
			t.Fatal(err)
		}
		d := e.describe(t, *out.CertificateArn)
		cert := parseCert(t, o.read("self.pem"))
		if d.Type != acmtypes.CertificateTypeImported || d.Status != acmtypes.CertificateStatusIssued || *d.DomainName != "self.import.test" ||
			!slices.Equal(d.SubjectAlternativeNames, []string{"self.import.test", "www.self.import.test"}) || d.KeyAlgorithm != "RSA-2048" ||
			*d.Issuer != "self.import.test" || *d.Subject != "CN=self.import.test" || *d.SignatureAlgorithm != "SHA256WITHRSA" ||
			d.ImportedAt == nil || !d.NotAfter.Equal(cert.NotAfter) || d.DomainValidationOptions != nil ||
			d.RenewalEligibility != acmtypes.RenewalEligibilityIneligible {
			t.Fatalf("imported: %+v", d)
		}
		if want := hex.EncodeToString(cert.SerialNumber.Bytes()); strings.ReplaceAll(*d.Serial, ":", "") != want {
			t.Errorf("Serial %s, openssl's %s", *d.Serial, want)
		}
		// openssl req -x509 writes no key usage extensions: ACM shows ANY
		// and NONE.
		if len(d.KeyUsages) != 1 || d.KeyUsages[0].Name != acmtypes.KeyUsageNameAny || len(d.ExtendedKeyUsages) != 1 || d.ExtendedKeyUsages[0].Name != acmtypes.ExtendedKeyUsageNameNone {
			t.Errorf("usages %+v %+v", d.KeyUsages, d.ExtendedKeyUsages)
		}
		got, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: out.CertificateArn})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(derOf(t, []byte(*got.Certificate)), cert.Raw) || got.CertificateChain != nil || strings.Contains(*got.Certificate, "PRIVATE KEY") {
			t.Fatalf("GetCertificate: %+v", got)
		}
	})

	t.Run("CA-signed ECDSA with chain, reimported", func(t *testing.T) {
		out, err := e.acm.ImportCertificate(e.ctx, &acm.ImportCertificateInput{Certificate: o.read("leaf.pem"), PrivateKey: o.read("leaf.key"),
			CertificateChain: o.read("ca.pem"), Tags: []acmtypes.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
		if err != nil {
			t.Fatal(err)
		}
		arn := *out.CertificateArn
		d := e.describe(t, arn)
		if d.KeyAlgorithm != "EC-prime256v1" || *d.Issuer != "Example Test CA" || *d.SignatureAlgorithm != "SHA256WITHECDSA" ||
			len(d.KeyUsages) != 1 || d.KeyUsages[0].Name != acmtypes.KeyUsageNameDigitalSignature ||
			len(d.ExtendedKeyUsages) != 1 || d.ExtendedKeyUsages[0].Name != acmtypes.ExtendedKeyUsageNameTlsWebServerAuthentication {
			t.Fatalf("imported: %+v", d)
		}
		got, err := e.acm.GetCertificate(e.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if got.CertificateChain == nil || !bytes.Equal(derOf(t, []byte(*got.CertificateChain)), derOf(t, o.read("ca.pem"))) {
			t.Fatalf("chain %v", got.CertificateChain)
		}
		user := "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef"
		if err := e.srv.ACM().Port().Use(e.ctx, "000000000000", "us-east-1", arn, user); err != nil {
			t.Fatal(err)
		}

		re, err := e.acm.ImportCertificate(e.ctx, &acm.ImportCertificateInput{CertificateArn: aws.String(arn),
			Certificate: o.read("renewed.pem"), PrivateKey: o.read("renewed.key"), CertificateChain: o.read("ca.pem")})
		if err != nil {
			t.Fatal(err)
		}
		if *re.CertificateArn != arn {
			t.Fatalf("reimport made %s, want %s", *re.CertificateArn, arn)
		}
		r := e.describe(t, arn)
		if *r.Serial == *d.Serial || !slices.Equal(r.InUseBy, []string{user}) || !r.ImportedAt.After(*d.ImportedAt) && !r.ImportedAt.Equal(*d.ImportedAt) {
			t.Fatalf("reimported: serial %s (was %s), InUseBy %v, ImportedAt %v (was %v)", *r.Serial, *d.Serial, r.InUseBy, r.ImportedAt, d.ImportedAt)
		}
		tags, err := e.acm.ListTagsForCertificate(e.ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" {
			t.Fatalf("tags after reimport: %+v %v", tags, err)
		}
		// The key the load balancer serves is the new one.
		c, ok, err := e.srv.ACM().Port().Certificate(e.ctx, "000000000000", "us-east-1", arn)
		if err != nil || !ok || c.Status != "ISSUED" || !bytes.Equal(derOf(t, c.CertificatePEM), derOf(t, o.read("renewed.pem"))) || len(c.PrivateKeyPEM) == 0 {
			t.Fatalf("port: %+v %v %v", c, ok, err)
		}

		for _, tc := range []struct {
			name    string
			in      *acm.ImportCertificateInput
			code    string
			message string
		}{
			{"tags", &acm.ImportCertificateInput{CertificateArn: aws.String(arn), Certificate: o.read("renewed.pem"), PrivateKey: o.read("renewed.key"),
				Tags: []acmtypes.Tag{{Key: aws.String("x")}}}, "ValidationException", "Tagging is not permitted on re-import."},
			{"another key type", &acm.ImportCertificateInput{CertificateArn: aws.String(arn), Certificate: o.read("self.pem"), PrivateKey: o.read("self.key")},
				"ValidationException", "The key algorithm of the certificate (RSA_2048) must be that of the certificate it replaces (EC_prime256v1)."},
			{"into a requested certificate", &acm.ImportCertificateInput{CertificateArn: aws.String(e.request(t, "req.import.test")),
				Certificate: o.read("self.pem"), PrivateKey: o.read("self.key")}, "ValidationException", ""},
		} {
			t.Run("reimport refused: "+tc.name, func(t *testing.T) {
				_, err := e.acm.ImportCertificate(e.ctx, tc.in)
				wantError(t, err, tc.code, tc.message)
			})
		}
	})
}

// Each of ACM's import checks, on materials openssl (or, for validity
// dates openssl 3.0 cannot set, Go) made.
func TestImportErrors(t *testing.T) {
	e := newEnv(t, "")
	o := newOpenSSL(t)
	o.selfSigned("self", "self.import.test")
	o.selfSigned("other", "other.import.test")
	o.ca()
	o.leaf("leaf", "leaf.import.test")
	o.run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:secret", "-out", "encrypted.key")
	o.run("req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", "ed.key", "-out", "ed.pem", "-days", "30", "-subj", "/CN=ed.import.test")
	o.run("x509", "-in", "self.pem", "-outform", "der", "-out", "self.der")
	expired, expiredKey := goCert(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	future, futureKey := goCert(t, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))

	missing := "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name             string
		cert, key, chain []byte
		arn              string
		code, message    string
	}{
		{"not PEM", []byte("hello"), o.read("self.key"), nil, "", "ValidationException",
			"Unable to parse certificate. Please ensure the certificate is in PEM format."},
		{"DER", o.read("self.der"), o.read("self.key"), nil, "", "ValidationException",
			"Unable to parse certificate. Please ensure the certificate is in PEM format."},
		{"two certificates", append(o.read("self.pem"), o.read("other.pem")...), o.read("self.key"), nil, "", "ValidationException",
			"The certificate field contains more than one certificate. You can specify only one certificate in this field."},
		{"the key of another certificate", o.read("self.pem"), o.read("other.key"), nil, "", "ValidationException",
			"The private key does not match the public key in the certificate."},
		{"a certificate as the key", o.read("self.pem"), o.read("self.pem"), nil, "", "ValidationException", "Passed PEM was not a private key."},
		{"encrypted key", o.read("self.pem"), o.read("encrypted.key"), nil, "", "ValidationException",
			"The private key is encrypted: ACM imports only an unencrypted private key."},
		{"Ed25519", o.read("ed.pem"), o.read("ed.key"), nil, "", "ValidationException",
			"The certificate's key algorithm is not supported: ACM imports RSA keys of 1024, 2048, 3072 or 4096 bits and ECDSA keys on P-256, P-384 or P-521."},
		{"expired", expired, expiredKey, nil, "", "ValidationException", "The certificate has expired, is not valid."},
		{"not yet valid", future, futureKey, nil, "", "ValidationException", "The certificate is not in effect yet, is not valid."},
		{"a chain that did not sign it", o.read("leaf.pem"), o.read("leaf.key"), o.read("other.pem"), "", "ValidationException",
			"Could not validate the certificate with the certificate chain."},
		{"a chain that is not PEM", o.read("leaf.pem"), o.read("leaf.key"), []byte("nope"), "", "ValidationException",
			"Unable to parse certificate chain. Please ensure the certificate chain is in PEM format."},
		{"a key over 5120 bytes", o.read("self.pem"), bytes.Repeat([]byte("k"), 5121), nil, "", "ValidationException",
			"1 validation error detected: Value at 'privateKey' failed to satisfy constraint: Member must have length less than or equal to 5120"},
		{"reimport into a missing ARN", o.read("self.pem"), o.read("self.key"), nil, missing, "ResourceNotFoundException",
			"Could not find certificate " + missing + " in account 000000000000."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &acm.ImportCertificateInput{Certificate: tt.cert, PrivateKey: tt.key, CertificateChain: tt.chain}
			if tt.arn != "" {
				in.CertificateArn = aws.String(tt.arn)
			}
			_, err := e.acm.ImportCertificate(e.ctx, in)
			wantError(t, err, tt.code, tt.message)
		})
	}
}

// goCert is a self-signed ECDSA certificate valid from notBefore to
// notAfter, and its key, in PEM.
func goCert(t *testing.T, notBefore, notAfter time.Time) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "dated.import.test"}, NotBefore: notBefore, NotAfter: notAfter,
		DNSNames: []string{"dated.import.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}
