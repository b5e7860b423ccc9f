package acm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// ImportCertificate imports a certificate with its key and chain, or
// replaces an imported one (CertificateArn), which keeps its ARN, tags
// and InUseBy. The key is kept, never returned.
func (s *Service) ImportCertificate(ctx context.Context, in *acmapi.ImportCertificateRequest) (*acmapi.ImportCertificateResponse, error) {
	var v violations
	v.arn(in.CertificateArn, "certificateArn")
	v.blob(in.Certificate, "certificate", maxCertificateLen)
	v.blob(in.PrivateKey, "privateKey", maxPrivateKeyLen)
	if in.CertificateChain != nil {
		v.blob(in.CertificateChain, "certificateChain", maxChainLen)
	}
	v.tags(in.Tags, "tags")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkReservedTags(in.Tags); err != nil {
		return nil, err
	}
	sc, now := scopeOf(ctx), s.now()
	imp, err := parseImport(in.Certificate, in.PrivateKey, in.CertificateChain, now)
	if err != nil {
		return nil, err
	}
	var arn string
	err = s.store.Update(ctx, func(tx state.Tx) error {
		if in.CertificateArn == nil {
			r, err := importNew(tx, sc, now, imp, in.Tags)
			arn = r.ARN
			return err
		}
		old, err := get(tx, sc, *in.CertificateArn)
		if err != nil {
			return err
		}
		if err := reimportCheck(old, imp, in.Tags); err != nil {
			return err
		}
		r := *old
		imp.apply(&r, now)
		arn = r.ARN
		return certs.Put(tx, sc, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.ImportCertificateResponse{CertificateArn: new(arn)}, nil
}

// importNew records a newly imported certificate.
func importNew(tx state.Tx, sc state.Scope, now time.Time, imp *imported, tags []acmapi.Tag) (certRecord, error) {
	n := 0
	err := certs.ForEachShared(tx, sc, func(_ string, r *certRecord) error {
		if r.Type == typeImported {
			n++
		}
		return nil
	})
	if err != nil {
		return certRecord{}, err
	}
	if n >= maxCertificates {
		return certRecord{}, api.Errorf(http.StatusBadRequest, "LimitExceededException",
			"The account has reached its limit of %d imported certificates in region %s.", maxCertificates, sc.Region)
	}
	id := newID()
	r := certRecord{ID: id, ARN: arnOf(sc, id), Type: typeImported, CreatedAt: now, Tags: tags}
	imp.apply(&r, now)
	return r, certs.Put(tx, sc, id, r)
}

// reimportCheck applies AWS's rules for replacing an imported certificate.
func reimportCheck(old *certRecord, imp *imported, tags []acmapi.Tag) error {
	switch {
	case old.Type != typeImported:
		return errValidation("Certificate %s was not imported: only an imported certificate can be reimported.", old.ARN)
	case tags != nil:
		return errValidation("Tagging is not permitted on re-import.")
	case imp.keyAlg != old.KeyAlgorithm:
		return errValidation("The key algorithm of the certificate (%s) must be that of the certificate it replaces (%s).", imp.keyAlg, old.KeyAlgorithm)
	}
	// Extensions the old certificate had may gain values but not lose
	// them (except keyEncipherment on ECDSA keys, which RFC 5480 does not
	// permit, and client authentication, which public CAs stopped
	// issuing); extensions it lacked may not be added.
	ecdsaKey := strings.HasPrefix(imp.keyAlg, "EC_")
	if err := keptUsages("Key Usage", old.KeyUsages, imp.keyUsages, func(u string) bool { return ecdsaKey && u == "KEY_ENCIPHERMENT" }); err != nil {
		return err
	}
	return keptUsages("Extended Key Usage", ekuNames(old.ExtendedKeyUsages), ekuNames(imp.extKeyUsages), func(u string) bool { return u == "TLS_WEB_CLIENT_AUTHENTICATION" })
}

// keptUsages checks one usage extension across a reimport; "ANY" and
// "NONE" stand for an absent extension.
func keptUsages(what string, old, next []string, removable func(string) bool) error {
	absent := func(u []string) bool { return slices.Equal(u, []string{"ANY"}) || slices.Equal(u, []string{"NONE"}) }
	if absent(old) {
		if !absent(next) {
			return errValidation("The certificate adds a %s extension that the certificate it replaces does not have.", what)
		}
		return nil
	}
	for _, u := range old {
		if !slices.Contains(next, u) && !removable(u) {
			return errValidation("The certificate removes the %s value %s that the certificate it replaces has.", what, u)
		}
	}
	return nil
}

func ekuNames(e []extendedKeyUsage) []string {
	out := make([]string, len(e))
	for i, u := range e {
		out[i] = u.Name
	}
	return out
}

// imported is a certificate, key and chain that passed ImportCertificate's
// checks, with what ACM shows of them.
type imported struct {
	cert         *x509.Certificate
	keyAlg       string
	keyUsages    []string
	extKeyUsages []extendedKeyUsage
	// certPEM, chainPEM and keyPEM are re-encoded: one CERTIFICATE block,
	// the chain's blocks, the key in PKCS#8.
	certPEM, chainPEM, keyPEM string
}

// apply writes the certificate into r, as an import at now.
func (imp *imported) apply(r *certRecord, now time.Time) {
	c := imp.cert
	r.Status, r.ImportedAt = statusIssued, now
	r.DomainName, r.Names = importedNames(c)
	r.KeyAlgorithm, r.KeyUsages, r.ExtendedKeyUsages = imp.keyAlg, imp.keyUsages, imp.extKeyUsages
	r.NotBefore, r.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	r.Serial = colonHex(c.SerialNumber.Bytes())
	r.Subject, r.Issuer = c.Subject.String(), issuerName(c)
	r.SignatureAlgorithm = signatureAlgorithm(c.SignatureAlgorithm)
	r.CertificatePEM, r.ChainPEM, r.PrivateKeyPEM = imp.certPEM, imp.chainPEM, imp.keyPEM
}

// Import errors, as ACM words them.
var (
	errCertPEM     = errValidation("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	errChainPEM    = errValidation("Unable to parse certificate chain. Please ensure the certificate chain is in PEM format.")
	errNotKey      = errValidation("Passed PEM was not a private key.")
	errKeyMismatch = errValidation("The private key does not match the public key in the certificate.")
	errChain       = errValidation("Could not validate the certificate with the certificate chain.")
)

// parseImport checks an import as ACM does: one PEM certificate, X.509
// version 3 with an issuer, valid now, with a supported key; an
// unencrypted PEM private key that matches it; and a PEM chain, if given,
// each of whose certificates signed the one before. Anything else is a
// ValidationException; it never panics, whatever the input (FuzzParseImport).
func parseImport(certData, keyData, chainData []byte, now time.Time) (*imported, error) {
	blocks, ok := pemBlocks(certData)
	if !ok || len(blocks) == 0 {
		return nil, errCertPEM
	}
	if len(blocks) > 1 {
		return nil, errValidation("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	if blocks[0].Type != "CERTIFICATE" {
		return nil, errCertPEM
	}
	cert, err := x509.ParseCertificate(blocks[0].Bytes)
	if err != nil {
		return nil, errCertPEM
	}
	switch {
	case cert.Version != 3:
		return nil, errValidation("The certificate must be an X.509 version 3 certificate.")
	case len(cert.Issuer.Names) == 0:
		return nil, errValidation("The certificate's Issuer field must not be empty.")
	case now.Before(cert.NotBefore):
		return nil, errValidation("The certificate is not in effect yet, is not valid.")
	case now.After(cert.NotAfter):
		return nil, errValidation("The certificate has expired, is not valid.")
	case slices.ContainsFunc(cert.OCSPServer, func(u string) bool { return len(u) > 1000 }):
		return nil, errValidation("The certificate's OCSP authority URL is longer than 1000 characters.")
	}
	keyAlg, err := keyAlgorithm(cert.PublicKey)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(keyData)
	if err != nil {
		return nil, err
	}
	if !publicKeyMatches(key, cert.PublicKey) {
		return nil, errKeyMismatch
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, errNotKey
	}
	imp := &imported{cert: cert, keyAlg: keyAlg, keyUsages: keyUsageNames(cert), extKeyUsages: extKeyUsages(cert),
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))}
	if chainData != nil {
		chain, err := parseChain(cert, chainData)
		if err != nil {
			return nil, err
		}
		imp.chainPEM = chain
	}
	return imp, nil
}

// pemBlocks decodes every PEM block of b; ok is false when anything but
// whitespace surrounds them.
func pemBlocks(b []byte) (blocks []*pem.Block, ok bool) {
	rest := b
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		// Anything before the block was skipped by Decode: not PEM.
		if pre := rest[:len(rest)-len(r)]; len(bytes.TrimSpace(pre[:bytes.LastIndex(pre, []byte("-----BEGIN"))])) > 0 {
			return nil, false
		}
		blocks, rest = append(blocks, block), r
	}
	return blocks, len(bytes.TrimSpace(rest)) == 0
}

// parsePrivateKey reads an unencrypted PEM private key: PKCS#8, PKCS#1
// (RSA) or SEC 1 (EC), after any EC PARAMETERS block (openssl ecparam
// -genkey writes one).
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	blocks, ok := pemBlocks(data)
	if !ok {
		return nil, errNotKey
	}
	blocks = slices.DeleteFunc(blocks, func(b *pem.Block) bool { return b.Type == "EC PARAMETERS" })
	if len(blocks) != 1 {
		return nil, errNotKey
	}
	b := blocks[0]
	if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, errValidation("The private key is encrypted: ACM imports only an unencrypted private key.")
	}
	var (
		k   any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, errNotKey
	}
	if err != nil {
		return nil, errNotKey
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, errValidation("The private key is not supported: ACM imports RSA and ECDSA keys.")
}

func publicKeyMatches(key crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}

// parseChain reads the chain and checks that each certificate signed the
// one before it, the first the certificate; it returns the chain
// re-encoded.
func parseChain(cert *x509.Certificate, data []byte) (string, error) {
	blocks, ok := pemBlocks(data)
	if !ok || len(blocks) == 0 {
		return "", errChainPEM
	}
	var out []byte
	prev := cert
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return "", errChainPEM
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "", errChainPEM
		}
		if err := prev.CheckSignatureFrom(c); err != nil {
			return "", errChain
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		prev = c
	}
	return string(out), nil
}

// keyAlgorithm names a certificate's key as ACM's KeyAlgorithm, refusing
// those ACM does not support.
func keyAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); slices.Contains([]int{1024, 2048, 3072, 4096}, bits) {
			return fmt.Sprintf("RSA_%d", bits), nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1", nil
		case elliptic.P384():
			return "EC_secp384r1", nil
		case elliptic.P521():
			return "EC_secp521r1", nil
		}
	}
	return "", errValidation("The certificate's key algorithm is not supported: ACM imports RSA keys of 1024, 2048, 3072 or 4096 bits and ECDSA keys on P-256, P-384 or P-521.")
}

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oid) })
}

// keyUsageNames are the certificate's key usages as ACM names them; ANY
// when it has no Key Usage extension (the key may be used for anything).
func keyUsageNames(c *x509.Certificate) []string {
	if !hasExtension(c, oidKeyUsage) {
		return []string{"ANY"}
	}
	names := []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "DIGITAL_SIGNATURE"}, {x509.KeyUsageContentCommitment, "NON_REPUDIATION"},
		{x509.KeyUsageKeyEncipherment, "KEY_ENCIPHERMENT"}, {x509.KeyUsageDataEncipherment, "DATA_ENCIPHERMENT"},
		{x509.KeyUsageKeyAgreement, "KEY_AGREEMENT"}, {x509.KeyUsageCertSign, "CERTIFICATE_SIGNING"},
		{x509.KeyUsageCRLSign, "CRL_SIGNING"}, {x509.KeyUsageEncipherOnly, "ENCIPHER_ONLY"}, {x509.KeyUsageDecipherOnly, "DECIPHER_ONLY"},
	}
	out := []string{}
	for _, n := range names {
		if c.KeyUsage&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// extKeyUsageNames maps Go's extended key usages to ACM's names and OIDs.
var extKeyUsageNames = map[x509.ExtKeyUsage]extendedKeyUsage{
	x509.ExtKeyUsageServerAuth:      {"TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"},
	x509.ExtKeyUsageClientAuth:      {"TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"},
	x509.ExtKeyUsageCodeSigning:     {"CODE_SIGNING", "1.3.6.1.5.5.7.3.3"},
	x509.ExtKeyUsageEmailProtection: {"EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"},
	x509.ExtKeyUsageIPSECEndSystem:  {"IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5"},
	x509.ExtKeyUsageIPSECTunnel:     {"IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6"},
	x509.ExtKeyUsageIPSECUser:       {"IPSEC_USER", "1.3.6.1.5.5.7.3.7"},
	x509.ExtKeyUsageTimeStamping:    {"TIME_STAMPING", "1.3.6.1.5.5.7.3.8"},
	x509.ExtKeyUsageOCSPSigning:     {"OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"},
	x509.ExtKeyUsageAny:             {"ANY", "2.5.29.37.0"},
}

// extKeyUsages are the certificate's extended key usages as ACM shows
// them (CUSTOM with the OID for those it has no name for); NONE when it
// has no Extended Key Usage extension.
func extKeyUsages(c *x509.Certificate) []extendedKeyUsage {
	if !hasExtension(c, oidExtKeyUsage) {
		return []extendedKeyUsage{{Name: "NONE"}}
	}
	out := []extendedKeyUsage{}
	for _, u := range c.ExtKeyUsage {
		if e, ok := extKeyUsageNames[u]; ok {
			out = append(out, e)
			continue
		}
		out = append(out, extendedKeyUsage{Name: "CUSTOM"})
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, extendedKeyUsage{Name: "CUSTOM", OID: oid.String()})
	}
	return out
}

// importedNames are the domain name (the subject's common name, else the
// first alternative name) and every name of an imported certificate.
func importedNames(c *x509.Certificate) (string, []string) {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	domain := c.Subject.CommonName
	if domain == "" && len(names) > 0 {
		domain = names[0]
	}
	if len(names) == 0 && domain != "" {
		names = []string{domain}
	}
	return domain, names
}

// issuerName is the Issuer ACM shows: the issuing CA's organization
// ("Amazon" for Amazon's CAs), else its common name.
func issuerName(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

// signatureAlgorithm names an algorithm as ACM does (Java's names, upper
// case).
func signatureAlgorithm(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.MD5WithRSA:
		return "MD5WITHRSA"
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.SHA384WithRSAPSS:
		return "SHA384WITHRSAANDMGF1"
	case x509.SHA512WithRSAPSS:
		return "SHA512WITHRSAANDMGF1"
	case x509.ECDSAWithSHA1:
		return "SHA1WITHECDSA"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	}
	return strings.ToUpper(strings.ReplaceAll(a.String(), "-", ""))
}

// colonHex is a serial number as ACM shows it: "0f:ac:b0:…".
func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(b))
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
