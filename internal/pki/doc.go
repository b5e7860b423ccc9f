// Package pki is minicloud's local certificate authority: the issuer of
// the certificates ACM hands out for RequestCertificate, which minicloud's
// load balancers serve.
//
// # The hierarchy
//
// A root CA signs one intermediate CA, which signs every leaf, as a public
// CA is built (Amazon's: root, intermediates, leaves). Both CA keys are
// ECDSA P-256: generating one takes microseconds where an RSA key takes
// tens to hundreds of milliseconds (the CA is made on the first request
// that needs it, inside that request), the certificates are small, and
// every TLS client that speaks TLS 1.2 verifies ECDSA signatures (curl and
// OpenSSL, Go, Python, Java, browsers). The signature of a chain is
// independent of the leaf's key, so RSA leaves (ACM's default) work with
// every cipher suite they work with under an RSA CA.
//
// The root lives 20 years and the intermediate 10; it is named "minicloud
// Root CA <id>", the id a hash of its public key, so that the roots of two
// state directories are told apart in a trust store. Leaves are ACM's
// certificates: 395 days, the requested names as subject alternative names
// and the first as the common name, key usage digital signature (and key
// encipherment for RSA keys), extended key usage TLS server
// authentication only (ACM's since June 2025), subject and authority key
// identifiers, keys RSA 2048, ECDSA P-256 or P-384.
//
// # Where it lives
//
// Nothing is made at start-up: New only records where the CA belongs.
// The first call that needs it (Root, RootPEM, Issue) loads it from the
// directory, or makes it there: root.pem, root.key, intermediate.pem,
// intermediate.key, the keys PKCS#8 with mode 0600 in a 0700 directory.
// The four files are written into a temporary directory next to it and
// renamed into place at once, so a crash leaves no half-made CA and two
// processes making it at once (the server and `minicloud ca --state-dir`)
// end up with the same one: the second rename fails and that process
// loads the first's. A directory with some files missing is an error,
// never silently replaced: a user may trust the root already. With no
// directory (--ephemeral) the CA lives in memory for the process's life.
//
// The keys never leave the directory: Authority exposes the root's
// certificate, never a CA key, and leaves' keys go to the caller (ACM
// keeps them in its records, inside the 0600 state store).
package pki
