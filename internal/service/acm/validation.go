package acm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dns53"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// The validator is the controller that issues requested certificates.
//
// Contract: RequestCertificate records a certificate PENDING_VALIDATION
// with one validation CNAME per name; only the validator moves it on, and
// only while it is still pending, re-reading it in the transaction that
// writes (a handler may have deleted or retagged it meanwhile). For each
// domain still pending it asks the public DNS, as ACM does: minicloud's,
// answered from Route 53's public hosted zones by the same code and the
// same rule for several zones of one name (the delegated or oldest zone
// answers, the others are shadowed) as the DNS server on --dns-listen
// (dns53.Answer), so a record in a zone that does not answer the name on
// the host does not validate it either. A domain whose CNAME answers with
// the expected value is SUCCESS; once every domain is, the CA issues the
// certificate (outside the transaction: an RSA key takes a while) and the
// record becomes ISSUED with it. A request still pending 72 hours after it
// was made is VALIDATION_TIMED_OUT, its pending domains FAILED.
//
// It runs on internal/reconcile, one key per certificate: a certificate's
// own changes enqueue it, any change of Route 53's (a record, a zone, a
// delegation) enqueues every pending certificate, and a pending one is
// looked at again every CheckInterval regardless, which also covers a
// zone change whose snapshot was published after the event arrived.
type validator struct {
	s   *Service
	ctl *reconcile.Controller[reconcile.Key]

	mu      sync.Mutex
	pending map[reconcile.Key]bool // certificates known to be pending
}

func newValidator(s *Service) *validator {
	v := &validator{s: s, pending: map[reconcile.Key]bool{}}
	v.ctl = reconcile.New("acm validation", reconcile.Func[reconcile.Key](v.reconcile), reconcile.Options[reconcile.Key]{
		Logger: s.cfg.Logger,
		Store:  s.store,
		Sources: []reconcile.Source[reconcile.Key]{
			reconcile.Objects(certs.Service, certs.Kind),
			reconcile.Map("route53", "", func(reconcile.Object) []reconcile.Key { return v.pendingKeys() }),
		},
		List: v.list,
		// Route 53 publishes its zones right after its commit, the event
		// may come first: a short wait finds the new snapshot.
		Debounce: 50 * time.Millisecond,
	})
	return v
}

func (v *validator) start(ctx context.Context) error { return v.ctl.Start(context.WithoutCancel(ctx)) }

func (v *validator) stop(ctx context.Context) error { return v.ctl.Stop(ctx) }

func (v *validator) status() map[string]any { return v.ctl.Status().Map() }

func (v *validator) pendingKeys() []reconcile.Key {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Collect(maps.Keys(v.pending))
}

func (v *validator) setPending(k reconcile.Key, pending bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if pending {
		v.pending[k] = true
	} else {
		delete(v.pending, k)
	}
}

// list is every pending certificate.
func (v *validator) list(ctx context.Context) ([]reconcile.Key, error) {
	var keys []reconcile.Key
	err := v.s.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			sc, id, ok := certs.ParseKey(key)
			if !ok {
				return nil
			}
			r, found, err := certs.Get(tx, sc, id)
			if err == nil && found && r.Status == statusPending {
				keys = append(keys, reconcile.Key{Scope: sc, ID: id})
			}
			return err
		})
	})
	return keys, err
}

// reconcile looks at one certificate; see the contract above.
func (v *validator) reconcile(ctx context.Context, k reconcile.Key) (reconcile.Result, error) {
	s := v.s
	var (
		r     certRecord
		found bool
	)
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		r, found, err = certs.Get(tx, k.Scope, k.ID)
		return err
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	if !found || r.Status != statusPending {
		v.setPending(k, false)
		return reconcile.Result{}, nil
	}
	now := s.now()
	if r.status(now) == statusTimedOut {
		v.setPending(k, false)
		return reconcile.Result{}, v.write(ctx, k, func(p *certRecord) {
			for i := range p.Validations {
				p.Validations[i].Status = p.domainStatus(p.Validations[i], now)
			}
			p.Status = statusTimedOut
		})
	}
	v.setPending(k, true)
	validated := map[string]bool{} // domains validated by this check
	all := true
	for _, d := range r.Validations {
		if d.Status == domainSuccess {
			continue
		}
		if cnameAnswers(s.cfg.Zones, d.RecordName, d.RecordValue) {
			validated[d.DomainName] = true
			continue
		}
		all = false
	}
	var leaf *pki.Leaf
	if all {
		if leaf, err = s.cfg.CA.Issue(pki.LeafRequest{Names: r.Names, Key: pki.KeyAlgorithm(r.KeyAlgorithm)}); err != nil {
			return reconcile.Result{}, fmt.Errorf("issue %s: %w", r.ARN, err)
		}
	}
	// Writing only what changed: every write is an event that brings the
	// certificate back here.
	if leaf != nil || len(validated) > 0 {
		err = v.write(ctx, k, func(p *certRecord) {
			for i, d := range p.Validations {
				if validated[d.DomainName] {
					p.Validations[i].Status = domainSuccess
				}
			}
			if leaf != nil {
				issue(p, leaf, s.now())
			}
		})
	}
	if err != nil || leaf != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Requeue(min(s.cfg.CheckInterval, r.CreatedAt.Add(validationTimeout).Sub(now))), nil
}

// write changes a certificate that is still pending, in one transaction.
func (v *validator) write(ctx context.Context, k reconcile.Key, fn func(*certRecord)) error {
	return v.s.store.Update(ctx, func(tx state.Tx) error {
		r, found, err := certs.Get(tx, k.Scope, k.ID)
		if err != nil || !found || r.Status != statusPending {
			return err
		}
		fn(&r)
		return certs.Put(tx, k.Scope, k.ID, r)
	})
}

// issue makes r the issued certificate leaf.
func issue(r *certRecord, leaf *pki.Leaf, now time.Time) {
	c := leaf.Certificate
	r.Status, r.IssuedAt = statusIssued, now
	r.NotBefore, r.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	r.Serial, r.Subject, r.Issuer = colonHex(c.SerialNumber.Bytes()), c.Subject.String(), issuerName(c)
	r.SignatureAlgorithm = signatureAlgorithm(c.SignatureAlgorithm)
	r.KeyUsages, r.ExtendedKeyUsages = keyUsageNames(c), extKeyUsages(c)
	r.CertificatePEM, r.ChainPEM, r.PrivateKeyPEM = string(leaf.CertificatePEM), string(leaf.ChainPEM), string(leaf.PrivateKeyPEM)
}

// publicZone is the zones the internet reaches: public and not shadowed by
// another zone of the same name (dns53's filter for --dns-listen).
func publicZone(z *dnszone.Zone) bool { return !z.Private && !z.Shadowed }

// cnameAnswers is whether the public DNS answers name's CNAME with value.
func cnameAnswers(src dnszone.Source, name, value string) bool {
	if src == nil {
		return false
	}
	req := new(dns.Msg)
	req.SetQuestion(dns.Fqdn(name), dns.TypeCNAME)
	resp, owned := dns53.Answer(src, publicZone, req, dns53.ClientInfo{})
	if !owned || resp.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range resp.Answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(dns.Fqdn(c.Target), dns.Fqdn(value)) {
			return true
		}
	}
	return false
}

// validationCNAME is a domain's validation record, of AWS's shape:
// _<32 hex>.<domain>. → _<32 hex>.<10 letters>.acm-validations.aws.
// A wildcard validates through its base domain, and the record is the same
// for a domain in every certificate of the account, as AWS's (a renewal, or
// a second certificate for the name, validates with the record already
// there).
func validationCNAME(account, domain string) (name, value string) {
	base := strings.ToLower(strings.TrimPrefix(domain, "*."))
	sum := sha256.Sum256([]byte("minicloud acm validation\x00" + account + "\x00" + base))
	more := sha256.Sum256(sum[:])
	label := make([]byte, 10)
	for i := range label {
		label[i] = 'a' + more[16+i]%26
	}
	return "_" + hex.EncodeToString(sum[:16]) + "." + base + ".",
		"_" + hex.EncodeToString(more[:16]) + "." + string(label) + ".acm-validations.aws."
}
