package pki_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/pki"
)

func TestIssue(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ca := pki.New("", pki.WithClock(func() time.Time { return now }))
	root, err := ca.Root()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	tests := []struct {
		alg      pki.KeyAlgorithm
		names    []string
		verify   string // a name the certificate must be valid for
		notFor   string // a name it must not be valid for
		usage    x509.KeyUsage
		checkKey func(any) bool
	}{
		{pki.RSA2048, []string{"www.example.test", "example.test"}, "example.test", "other.test",
			x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 2048 }},
		{pki.ECP256, []string{"*.example.test"}, "api.example.test", "a.b.example.test", x509.KeyUsageDigitalSignature,
			func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P256() }},
		{pki.ECP384, []string{"a.example.test"}, "a.example.test", "b.example.test", x509.KeyUsageDigitalSignature,
			func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P384() }},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			leaf, err := ca.Issue(pki.LeafRequest{Names: tt.names, Key: tt.alg})
			if err != nil {
				t.Fatal(err)
			}
			c := leaf.Certificate
			if c.Subject.CommonName != tt.names[0] || len(c.DNSNames) != len(tt.names) {
				t.Errorf("subject %s, names %v; want CN %s and %v", c.Subject, c.DNSNames, tt.names[0], tt.names)
			}
			if !c.NotBefore.Equal(now) || c.NotAfter.Sub(c.NotBefore) != 395*24*time.Hour {
				t.Errorf("validity %s – %s, want 395 days from %s", c.NotBefore, c.NotAfter, now)
			}
			if c.KeyUsage != tt.usage {
				t.Errorf("key usage %b, want %b", c.KeyUsage, tt.usage)
			}
			if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("extended key usage %v, want server authentication only", c.ExtKeyUsage)
			}
			if c.IsCA || len(c.SubjectKeyId) == 0 || !bytes.Equal(c.AuthorityKeyId, chainCert(t, leaf.ChainPEM).SubjectKeyId) {
				t.Errorf("IsCA %v, SKI %x, AKI %x", c.IsCA, c.SubjectKeyId, c.AuthorityKeyId)
			}
			if !tt.checkKey(c.PublicKey) {
				t.Errorf("public key %T is not %s", c.PublicKey, tt.alg)
			}
			inter := x509.NewCertPool()
			inter.AppendCertsFromPEM(leaf.ChainPEM)
			at := now.Add(time.Hour)
			if _, err := c.Verify(x509.VerifyOptions{DNSName: tt.verify, Roots: roots, Intermediates: inter, CurrentTime: at}); err != nil {
				t.Errorf("verify for %s: %v", tt.verify, err)
			}
			if _, err := c.Verify(x509.VerifyOptions{DNSName: tt.notFor, Roots: roots, Intermediates: inter, CurrentTime: at}); err == nil {
				t.Errorf("valid for %s, which it does not name", tt.notFor)
			}
			// What a TLS server loads: the leaf, its chain and its key.
			if _, err := tls.X509KeyPair(append(leaf.CertificatePEM, leaf.ChainPEM...), leaf.PrivateKeyPEM); err != nil {
				t.Errorf("key pair: %v", err)
			}
		})
	}
}

func chainCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueRefusesNoNames(t *testing.T) {
	if _, err := pki.New("").Issue(pki.LeafRequest{Key: pki.RSA2048}); err == nil {
		t.Fatal("a certificate without names was issued")
	}
	if _, err := pki.New("").Issue(pki.LeafRequest{Names: []string{"a.test"}, Key: "RSA_1024"}); err == nil {
		t.Fatal("a key algorithm ACM does not issue was accepted")
	}
}

// The CA is made on first need only, in its directory with private keys
// 0600, and the next Authority over the directory loads the same one.
func TestDurableCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ca")
	a := pki.New(dir)
	if st := a.Status(); st.State != "not made yet" {
		t.Fatalf("status before first need = %+v", st)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("New made the directory: %v", err)
	}
	first, err := a.RootPEM()
	if err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.State != "ready" || len(st.SHA256) != 64 {
		t.Fatalf("status after first need = %+v", st)
	}
	modes := map[string]os.FileMode{".": 0o700, "root.pem": 0o644, "intermediate.pem": 0o644, "root.key": 0o600, "intermediate.key": 0o600}
	for name, want := range modes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", name, got, want)
		}
	}
	b := pki.New(dir)
	if st := b.Status(); st.State != "on disk" {
		t.Fatalf("status of a made, unloaded CA = %+v", st)
	}
	again, err := b.RootPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Fatal("a second Authority over the directory made another root")
	}
	leaf, err := b.Issue(pki.LeafRequest{Names: []string{"x.test"}, Key: pki.ECP256})
	if err != nil {
		t.Fatal(err)
	}
	root := chainCert(t, first)
	if err := chainCert(t, leaf.ChainPEM).CheckSignatureFrom(root); err != nil {
		t.Fatalf("the reloaded intermediate is not the root's: %v", err)
	}
}

// Two processes making the CA at once (the server and `minicloud ca`) end
// up with one.
func TestConcurrentMakeAgrees(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	const n = 8
	roots := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { roots[i], errs[i] = pki.New(dir).RootPEM() })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(roots[i], roots[0]) {
			t.Fatalf("Authority %d has another root", i)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("temporary directories left behind: %v", entries)
	}
}

func TestIncompleteCAIsAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := pki.New(dir).RootPEM(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "intermediate.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.New(dir).RootPEM(); err == nil {
		t.Fatal("a CA missing its intermediate key loaded (or was silently replaced)")
	}
}
