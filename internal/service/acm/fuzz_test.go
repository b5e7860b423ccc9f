package acm

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/pki"
)

// FuzzParseImport feeds ImportCertificate's parser any certificate, key and
// chain: it must never panic, and what it accepts must be what it says (a
// certificate valid now whose key is the one returned, re-encoded as PEM
// that parses again).
//
//	go test -run='^$' -fuzz=FuzzParseImport ./internal/service/acm/
func FuzzParseImport(f *testing.F) {
	ca := pki.New("")
	for _, alg := range []pki.KeyAlgorithm{pki.RSA2048, pki.ECP256} {
		leaf, err := ca.Issue(pki.LeafRequest{Names: []string{"fuzz.test", "*.fuzz.test"}, Key: alg})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(leaf.CertificatePEM, leaf.PrivateKeyPEM, leaf.ChainPEM)
		f.Add(leaf.CertificatePEM, leaf.PrivateKeyPEM, []byte(nil))
		f.Add(append(leaf.CertificatePEM, leaf.ChainPEM...), leaf.PrivateKeyPEM, leaf.ChainPEM)
		f.Add(leaf.ChainPEM, leaf.PrivateKeyPEM, leaf.CertificatePEM)
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"), []byte{})
	f.Add([]byte("junk"), []byte{}, []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"))
	now := time.Now()
	f.Fuzz(func(t *testing.T, certData, keyData, chainData []byte) {
		imp, err := parseImport(certData, keyData, chainData, now)
		if err != nil {
			if _, ok := err.(interface{ ErrorCode() string }); !ok {
				t.Fatalf("an error without an AWS code: %v", err)
			}
			return
		}
		if now.Before(imp.cert.NotBefore) || now.After(imp.cert.NotAfter) {
			t.Fatalf("accepted a certificate not valid now (%s – %s)", imp.cert.NotBefore, imp.cert.NotAfter)
		}
		block, _ := pem.Decode([]byte(imp.keyPEM))
		if block == nil {
			t.Fatal("the accepted key does not re-encode")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("the re-encoded key does not parse: %v", err)
		}
		if sg, ok := k.(crypto.Signer); !ok || !publicKeyMatches(sg, imp.cert.PublicKey) {
			t.Fatal("accepted a key that is not the certificate's")
		}
		domain, names := importedNames(imp.cert)
		if domain == "" && len(names) > 0 {
			t.Fatal("a certificate with names but no domain name")
		}
	})
}
