package acm

import (
	"context"
	"crypto/tls"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/state"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestService(t *testing.T) (*Service, *clock, context.Context) {
	t.Helper()
	c := &clock{t: time.Now().UTC()}
	s := New(state.NewMemory(), Config{Now: c.now})
	ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: "000000000000", Region: "us-east-1"})
	return s, c, ctx
}

// A request pending for 72 hours has timed out, as on AWS: its status says
// so as soon as the time has come, and the validator writes it down.
func TestValidationTimesOut(t *testing.T) {
	s, c, ctx := newTestService(t)
	out, err := s.RequestCertificate(ctx, &acmapi.RequestCertificateRequest{DomainName: new("late.test")})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *acmapi.CertificateDetail {
		t.Helper()
		d, err := s.DescribeCertificate(ctx, &acmapi.DescribeCertificateRequest{CertificateArn: out.CertificateArn})
		if err != nil {
			t.Fatal(err)
		}
		return d.Certificate
	}
	c.add(validationTimeout - time.Second)
	if d := describe(); *d.Status != statusPending {
		t.Fatalf("after 72 hours less a second: %s", *d.Status)
	}
	c.add(time.Second)
	if d := describe(); *d.Status != statusTimedOut || *d.DomainValidationOptions[0].ValidationStatus != domainFailed {
		t.Fatalf("after 72 hours: %s, domain %s", *d.Status, *d.DomainValidationOptions[0].ValidationStatus)
	}
	id, _ := certID(scopeOf(ctx), *out.CertificateArn)
	if _, err := s.ctl.reconcile(ctx, reconcile.Key{Scope: scopeOf(ctx), ID: id}); err != nil {
		t.Fatal(err)
	}
	var r certRecord
	_ = s.store.View(ctx, func(tx state.Tx) error { r, _, err = certs.Get(tx, scopeOf(ctx), id); return err })
	if r.Status != statusTimedOut || r.Validations[0].Status != domainFailed {
		t.Fatalf("recorded: %s, domain %s", r.Status, r.Validations[0].Status)
	}
	list, err := s.ListCertificates(ctx, &acmapi.ListCertificatesRequest{CertificateStatuses: []string{statusTimedOut}})
	if err != nil || len(list.CertificateSummaryList) != 1 {
		t.Fatalf("listed as timed out: %+v %v", list, err)
	}
}

// An issued certificate past its NotAfter is EXPIRED, to the API and to the
// load balancers reading it through the port.
func TestExpired(t *testing.T) {
	s, c, ctx := newTestService(t)
	leaf, err := pki.New("").Issue(pki.LeafRequest{Names: []string{"soon.test"}, Key: pki.ECP256})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.ImportCertificate(ctx, &acmapi.ImportCertificateRequest{Certificate: leaf.CertificatePEM, PrivateKey: leaf.PrivateKeyPEM, CertificateChain: leaf.ChainPEM})
	if err != nil {
		t.Fatal(err)
	}
	c.t = leaf.Certificate.NotAfter.Add(time.Second)
	d, err := s.DescribeCertificate(ctx, &acmapi.DescribeCertificateRequest{CertificateArn: out.CertificateArn})
	if err != nil || *d.Certificate.Status != statusExpired {
		t.Fatalf("describe: %v %v", d, err)
	}
	cert, ok, err := s.Port().Certificate(ctx, "000000000000", "us-east-1", *out.CertificateArn)
	if err != nil || !ok || cert.Status != statusExpired {
		t.Fatalf("port: %+v %v %v", cert, ok, err)
	}
	if _, err := tls.X509KeyPair(append(cert.CertificatePEM, cert.ChainPEM...), cert.PrivateKeyPEM); err != nil {
		t.Fatalf("the port's certificate and key are no TLS key pair: %v", err)
	}
	if _, ok, _ := s.Port().Certificate(ctx, "111111111111", "us-east-1", *out.CertificateArn); ok {
		t.Fatal("another account's lookup found the certificate")
	}
}

type zones struct{ snap *dnszone.Snapshot }

func (z zones) Snapshot() *dnszone.Snapshot { return z.snap }
func (zones) Healthy(string) bool           { return true }
func (zones) Resolve(dnszone.Alias, string) ([]netip.Addr, bool, bool) {
	return nil, false, false
}

func cname(name, value string) *dnszone.RecordSet {
	return &dnszone.RecordSet{Name: name, Type: "CNAME", TTL: 300, Values: []string{value}}
}

func TestCNAMEAnswers(t *testing.T) {
	const (
		name  = "_abc.www.example.test."
		value = "_def.xyz.acm-validations.aws."
	)
	tests := []struct {
		name  string
		zones []*dnszone.Zone
		want  bool
	}{
		{"in a public zone", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Records: []*dnszone.RecordSet{cname(name, value)}}}, true},
		{"value without the final dot", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Records: []*dnszone.RecordSet{cname(name, "_def.xyz.acm-validations.aws")}}}, true},
		{"in a zone of the subdomain", []*dnszone.Zone{{ID: "Z1", Name: "example.test."}, {ID: "Z2", Name: "www.example.test.", Records: []*dnszone.RecordSet{cname(name, value)}}}, true},
		{"a wildcard answers it", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Records: []*dnszone.RecordSet{cname("*.www.example.test.", value)}}}, true},
		{"another value", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Records: []*dnszone.RecordSet{cname(name, "_other.acm-validations.aws.")}}}, false},
		{"in a private zone", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Private: true, Records: []*dnszone.RecordSet{cname(name, value)}}}, false},
		{"in a shadowed zone", []*dnszone.Zone{{ID: "Z1", Name: "example.test."}, {ID: "Z2", Name: "example.test.", Shadowed: true, Records: []*dnszone.RecordSet{cname(name, value)}}}, false},
		{"below a delegation to elsewhere", []*dnszone.Zone{{ID: "Z1", Name: "example.test.", Records: []*dnszone.RecordSet{
			{Name: "www.example.test.", Type: "NS", TTL: 300, Values: []string{"ns1.elsewhere.test."}}, cname(name, value)}}}, false},
		{"no zone", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cnameAnswers(zones{&dnszone.Snapshot{Zones: tt.zones}}, name, value); got != tt.want {
				t.Fatalf("cnameAnswers = %v, want %v", got, tt.want)
			}
		})
	}
	if cnameAnswers(nil, name, value) {
		t.Fatal("answered without zones")
	}
}

func TestValidDomainName(t *testing.T) {
	for name, want := range map[string]bool{
		"example.com": true, "*.example.com": true, "a.b.c.example.co": true, "xn--bcher-kva.example": true, "1.2.3.4.in": true,
		"example": false, "example.c": false, "-a.example.com": false, "a-.example.com": false, "a..example.com": false,
		"*.*.example.com": false, "a.*.example.com": false, "example.com.": false, "ex ample.com": false, "": false,
	} {
		if got := validDomainName(name); got != want {
			t.Errorf("validDomainName(%q) = %v, want %v", name, got, want)
		}
	}
}
