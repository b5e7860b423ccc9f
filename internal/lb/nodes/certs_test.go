package nodes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/certport"
)

// certs is ACM for the test: certificates by ARN.
type certs map[string]certport.Cert

func (c certs) Certificate(_ context.Context, _, _, arn string) (certport.Cert, bool, error) {
	x, ok := c[arn]
	return x, ok, nil
}
func (certs) Use(context.Context, string, string, string, string) error   { return nil }
func (certs) Unuse(context.Context, string, string, string, string) error { return nil }

// pemPair is a self-signed certificate for name valid from nb to na.
func pemPair(t *testing.T, name string, nb, na time.Time) (certPEM, keyPEM []byte, leaf *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), leaf
}

// TestListenerCertificates: a listener serves its certificate while ACM
// has its material, also once it has expired (as an ALB does: the client
// refuses an expired certificate itself), and cannot serve one that has
// none (pending validation).
func TestListenerCertificates(t *testing.T) {
	now := time.Now()
	validPEM, validKey, _ := pemPair(t, "www.example.test", now.Add(-time.Hour), now.Add(time.Hour))
	oldPEM, oldKey, _ := pemPair(t, "old.example.test", now.Add(-48*time.Hour), now.Add(-time.Hour))
	d := New(Config{Certs: certs{
		"arn:valid":   {Status: "ISSUED", CertificatePEM: validPEM, PrivateKeyPEM: validKey},
		"arn:expired": {Status: "EXPIRED", CertificatePEM: oldPEM, PrivateKeyPEM: oldKey},
		"arn:pending": {Status: "PENDING_VALIDATION"},
	}})
	b := &balancer{account: "000000000000", region: "us-east-1"}
	for _, tt := range []struct {
		arn     string
		wantErr string
	}{
		{"arn:valid", ""},
		{"arn:expired", ""},
		{"arn:pending", "is PENDING_VALIDATION"},
		{"arn:missing", "not found"},
	} {
		c, err := d.certificate(context.Background(), b, tt.arn)
		switch {
		case tt.wantErr == "" && (err != nil || c == nil):
			t.Errorf("%s: %v", tt.arn, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", tt.arn, err, tt.wantErr)
		}
	}
}
