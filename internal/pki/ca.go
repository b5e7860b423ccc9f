package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Organization is the O of every name the CA gives itself; ACM reports it
// as the Issuer of the certificates it issues.
const Organization = "minicloud"

// File names in the CA's directory.
const (
	rootCertFile  = "root.pem"
	rootKeyFile   = "root.key"
	interCertFile = "intermediate.pem"
	interKeyFile  = "intermediate.key"
)

const (
	rootValidity  = 20 * 365 * 24 * time.Hour
	interValidity = 10 * 365 * 24 * time.Hour
)

// Authority is minicloud's CA. It is safe for concurrent use; the zero
// value is not usable, New makes one.
type Authority struct {
	dir string
	now func() time.Time

	mu sync.Mutex
	ca *issuer // nil until the first need
}

// issuer is a loaded CA: immutable once made.
type issuer struct {
	root     *x509.Certificate
	rootPEM  []byte
	inter    *x509.Certificate
	interPEM []byte
	interKey crypto.Signer
}

// Option configures an Authority.
type Option func(*Authority)

// WithClock makes the Authority read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(a *Authority) { a.now = now } }

// New returns the CA kept in dir, made there on first need; an empty dir
// keeps it in memory. It reads and writes nothing yet.
func New(dir string, opts ...Option) *Authority {
	a := &Authority{dir: dir, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Dir is the directory the CA is kept in ("" in memory).
func (a *Authority) Dir() string { return a.dir }

// Root returns the root certificate, making the CA if it does not exist.
func (a *Authority) Root() (*x509.Certificate, error) {
	ca, err := a.load()
	if err != nil {
		return nil, err
	}
	return ca.root, nil
}

// RootPEM returns the root certificate in PEM, making the CA if it does not
// exist: what a user adds to a trust store.
func (a *Authority) RootPEM() ([]byte, error) {
	ca, err := a.load()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), ca.rootPEM...), nil
}

// Status is what /_minicloud/health shows of the CA. It never makes the
// CA: State is "ready" once loaded, "on disk" when its files exist but no
// request needed them yet, else "not made yet" (made on first need).
type Status struct {
	State string `json:"state"`
	Dir   string `json:"dir,omitempty"`
	// Subject and SHA256 (the root certificate's fingerprint, as
	// `openssl x509 -fingerprint -sha256` prints it without colons) once
	// loaded.
	Subject string `json:"subject,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Status reports the CA's state without making or loading it.
func (a *Authority) Status() Status {
	a.mu.Lock()
	ca := a.ca
	a.mu.Unlock()
	st := Status{State: "not made yet", Dir: a.dir}
	switch {
	case ca != nil:
		sum := sha256.Sum256(ca.root.Raw)
		st.State, st.Subject, st.SHA256 = "ready", ca.root.Subject.String(), hex.EncodeToString(sum[:])
	case a.dir != "":
		if _, err := os.Stat(filepath.Join(a.dir, rootCertFile)); err == nil {
			st.State = "on disk"
		}
	}
	return st
}

// load returns the CA, loading it from the directory or making it.
func (a *Authority) load() (*issuer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ca != nil {
		return a.ca, nil
	}
	var (
		ca  *issuer
		err error
	)
	if a.dir == "" {
		var files map[string][]byte
		if files, err = a.make(); err == nil {
			ca, err = parseIssuer(files)
		}
	} else {
		ca, err = a.loadDir()
	}
	if err != nil {
		return nil, err
	}
	a.ca = ca
	return ca, nil
}

// loadDir reads the CA's directory, making it first if it does not exist.
func (a *Authority) loadDir() (*issuer, error) {
	if _, err := os.Stat(a.dir); errors.Is(err, os.ErrNotExist) {
		if err := a.makeDir(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	files := map[string][]byte{}
	for _, name := range []string{rootCertFile, interCertFile, interKeyFile} {
		b, err := os.ReadFile(filepath.Join(a.dir, name))
		if err != nil {
			return nil, fmt.Errorf("pki: the CA in %s is incomplete (remove the directory to make a new one, and trust its new root): %w", a.dir, err)
		}
		files[name] = b
	}
	ca, err := parseIssuer(files)
	if err != nil {
		return nil, fmt.Errorf("pki: the CA in %s: %w", a.dir, err)
	}
	return ca, nil
}

// makeDir makes the CA in a temporary directory beside a.dir and renames it
// into place. When another process got there first, its CA stays.
func (a *Authority) makeDir() error {
	parent := filepath.Dir(a.dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(a.dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	files, err := a.make()
	if err != nil {
		return err
	}
	for name, b := range files {
		mode := os.FileMode(0o644)
		if name == rootKeyFile || name == interKeyFile {
			mode = 0o600
		}
		if err := writeFileSync(filepath.Join(tmp, name), b, mode); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(tmp, a.dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(a.dir, rootCertFile)); statErr == nil {
			return nil // another process made it first: load theirs
		}
		return fmt.Errorf("pki: %w", err)
	}
	return syncDir(parent)
}

func writeFileSync(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// make creates a root and an intermediate and returns the four files.
func (a *Authority) make() (map[string][]byte, error) {
	now := a.now().UTC().Truncate(time.Second)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: root key: %w", err)
	}
	rootSKI, err := keyID(rootKey.Public())
	if err != nil {
		return nil, err
	}
	id := hex.EncodeToString(rootSKI[:4])
	rootTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{Organization: []string{Organization}, OrganizationalUnit: []string{"local certificate authority"},
			CommonName: "minicloud Root CA " + id},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(rootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
		SubjectKeyId: rootSKI,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("pki: root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, fmt.Errorf("pki: root certificate: %w", err)
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: intermediate key: %w", err)
	}
	interSKI, err := keyID(interKey.Public())
	if err != nil {
		return nil, err
	}
	interTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{Organization: []string{Organization}, OrganizationalUnit: []string{"local certificate authority"},
			CommonName: "minicloud Intermediate CA " + id},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(interValidity),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		// An intermediate limited to server authentication, as public
		// issuing CAs are: its leaves can be nothing else.
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
		SubjectKeyId: interSKI,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, interKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("pki: intermediate certificate: %w", err)
	}
	rootKeyPEM, err := keyPEM(rootKey)
	if err != nil {
		return nil, err
	}
	interKeyPEM, err := keyPEM(interKey)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		rootCertFile:  certPEM(root.Raw),
		rootKeyFile:   rootKeyPEM,
		interCertFile: certPEM(interDER),
		interKeyFile:  interKeyPEM,
	}, nil
}

// parseIssuer reads the root and intermediate certificates and the
// intermediate's key, and checks that they belong together.
func parseIssuer(files map[string][]byte) (*issuer, error) {
	root, err := parseCertPEM(files[rootCertFile])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rootCertFile, err)
	}
	inter, err := parseCertPEM(files[interCertFile])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", interCertFile, err)
	}
	if err := inter.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("%s is not signed by %s: %w", interCertFile, rootCertFile, err)
	}
	block, _ := pem.Decode(files[interKeyFile])
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", interKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", interKeyFile, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok || !publicKeysEqual(signer.Public(), inter.PublicKey) {
		return nil, fmt.Errorf("%s is not the key of %s", interKeyFile, interCertFile)
	}
	return &issuer{root: root, rootPEM: certPEM(root.Raw), inter: inter, interPEM: certPEM(inter.Raw), interKey: signer}, nil
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(k crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// keyID is a key identifier: the first 20 bytes of the SHA-256 of the
// public key's DER (RFC 7093, method 1's successor).
func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return sum[:20], nil
}

// randomSerial is a positive 128-bit serial number (CA/B Forum: at least
// 64 bits of entropy).
func randomSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x01 // never a shorter encoding: every serial shows 16 bytes
	return new(big.Int).SetBytes(b)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}
