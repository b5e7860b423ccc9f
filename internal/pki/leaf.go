package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// LeafValidity is how long an issued certificate is valid: ACM's 13
// months.
const LeafValidity = 395 * 24 * time.Hour

// KeyAlgorithm is a leaf key's algorithm, named as ACM's KeyAlgorithm.
type KeyAlgorithm string

// The key algorithms ACM issues certificates with.
const (
	RSA2048 KeyAlgorithm = "RSA_2048"
	ECP256  KeyAlgorithm = "EC_prime256v1"
	ECP384  KeyAlgorithm = "EC_secp384r1"
)

// LeafRequest is a certificate to issue.
type LeafRequest struct {
	// Names are the DNS names the certificate covers, the first its
	// common name; "*.example.com" is a wildcard.
	Names []string
	Key   KeyAlgorithm
}

// Leaf is an issued certificate with its key.
type Leaf struct {
	Certificate *x509.Certificate
	// CertificatePEM is the leaf, ChainPEM the intermediate (the root is
	// not part of a chain a server sends), PrivateKeyPEM the leaf's key in
	// PKCS#8.
	CertificatePEM, ChainPEM, PrivateKeyPEM []byte
}

// Issue makes a key and a certificate for req, signed by the
// intermediate; it makes the CA first if it does not exist.
func (a *Authority) Issue(req LeafRequest) (*Leaf, error) {
	if len(req.Names) == 0 {
		return nil, errors.New("pki: a certificate needs at least one name")
	}
	ca, err := a.load()
	if err != nil {
		return nil, err
	}
	key, err := newKey(req.Key)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(key.Public())
	if err != nil {
		return nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		// RSA key exchange (TLS 1.2's RSA suites) encrypts with the key.
		usage |= x509.KeyUsageKeyEncipherment
	}
	now := a.now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: req.Names[0]},
		NotBefore:             now,
		NotAfter:              now.Add(LeafValidity),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              req.Names,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.inter, key.Public(), ca.interKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign certificate for %s: %w", req.Names[0], err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse issued certificate: %w", err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	return &Leaf{Certificate: cert, CertificatePEM: certPEM(der), ChainPEM: append([]byte(nil), ca.interPEM...), PrivateKeyPEM: kp}, nil
}

func newKey(alg KeyAlgorithm) (crypto.Signer, error) {
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case RSA2048, "":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case ECP256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECP384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		return nil, fmt.Errorf("pki: key algorithm %q is not one ACM issues", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generate %s key: %w", alg, err)
	}
	return k, nil
}
