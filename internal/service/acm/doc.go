// Package acm is AWS Certificate Manager: certificates requested from
// minicloud's certificate authority (internal/pki) and validated through
// DNS as on AWS, imported certificates, their tags, and the account's
// expiry-events setting, with ACM's validation, statuses, ARNs
// (arn:aws:acm:<region>:<account>:certificate/<uuid>) and errors.
//
// What it owns:
//
//   - The handlers (certificates.go, request.go, importcert.go,
//     account.go). They check a request alone first, against the model's
//     constraints as AWS does (constraints.go: "1 validation error
//     detected: Value … at 'domainName' failed to satisfy constraint: …"),
//     then read and write the records in one transaction.
//   - The records (records.go): one per certificate, in the account's
//     region, with what DescribeCertificate shows, the certificate, chain
//     and key. Statuses that follow from time are computed when read: an
//     issued certificate past its NotAfter is EXPIRED, a request pending
//     72 hours VALIDATION_TIMED_OUT.
//   - The validator (validation.go), the controller that issues requested
//     certificates once their validation CNAMEs answer from a Route 53
//     public hosted zone; its contract is written at its top.
//   - The port (port.go): certport.Port, through which load balancers read
//     a certificate with its key and record that they use it (InUseBy).
//
// RequestCertificate: DNS validation (the default). Each name gets AWS's
// record, _<hash>.<name>. CNAME _<hash>.<letters>.acm-validations.aws., the
// same for a name in every certificate of the account; a wildcard
// validates through its base name. The certificate is issued, signed by
// minicloud's intermediate CA, within seconds of the records appearing in
// a public hosted zone that answers for the name (the validator also
// reacts to Route 53's changes); its Issuer is minicloud's, honestly, not
// Amazon. EMAIL validation is refused with InvalidParameterException
// saying why: minicloud sends no mail, so such a request could never
// complete, and a certificate pending for 72 hours with no field to say
// why would cost its user the wait. A CertificateAuthorityArn (AWS
// Private CA, which minicloud lacks) makes a PRIVATE certificate that
// FAILED with PCA_RESOURCE_NOT_FOUND; an Amazon-owned name
// (amazonaws.com, cloudfront.net, elasticbeanstalk.com) one that FAILED
// with ADDITIONAL_VERIFICATION_REQUIRED, as AWS fails them. The same
// IdempotencyToken within an hour returns the same certificate.
//
// ImportCertificate checks what ACM checks (PEM, one certificate, X.509
// v3, an issuer, valid now, RSA 1024–4096 or ECDSA P-256/384/521, an
// unencrypted key that matches, a chain each of whose certificates signed
// the one before) and reimports into an existing ARN under ACM's rules
// (same key type, no tags, usages kept). The key is kept, never returned:
// GetCertificate answers the certificate and chain.
//
// What it must not do: run a TLS server (the load balancers do, through
// the port), or reach into Route 53 other than through its
// dnszone.Source.
package acm
