// Package route53 implements Amazon Route 53's control plane: public and
// private hosted zones, resource record sets (changed atomically in
// batches), health checks with a checker that probes real endpoints, and
// tags. Route 53 is global: every record lives in the caller's account under
// region "global".
//
// It also serves the DNS servers through dnszone.Source (Source): an
// immutable snapshot of every zone, made after each committed change from
// the one before (only the changed names of the changed zone are new) and
// read lock-free, and the checker's view of each health check.
//
// Name servers are fake: each public zone gets four deterministic names of
// AWS's shape (ns-N.awsdns-NN.com., .net., .org., .co.uk.) derived from its
// ID, or those of the reusable delegation set it was created on
// (reusable.go); they do not resolve to anything minicloud serves.
//
// Around the zones: account and zone limits with AWS's default quotas,
// ListTagsForResources, ListHostedZonesByVPC and VPC association
// authorizations (account.go); AWS's geolocations (geo.go, countries from
// tzdata's ISO 3166 table in zz_geo.go); TestDNSAnswer, answered by
// dns53.Answer over the service's own snapshot restricted to the zone, as
// the DNS server would answer (testdns.go); query logging (querylog.go):
// the DNS server hands each query a public zone answered to LogQuery,
// which queues it when the zone has a config, and a goroutine started by
// Start writes the queue every second to the config's CloudWatch Logs
// group through logport, one line per query in AWS's format. DNSSEC
// (dnssec.go) needs a KMS key minicloud does not have: the operations
// answer what AWS answers for a zone whose key cannot be used.
package route53

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/state"
)

// zoneRecord is a hosted zone; its record sets are name records of their
// own (rrsets.go), written in the same transaction as Count.
type zoneRecord struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	CallerReference string           `json:"callerReference"`
	Comment         *string          `json:"comment,omitempty"`
	Private         bool             `json:"private"`
	Created         time.Time        `json:"created,omitzero"`
	VPCs            []route53api.VPC `json:"vpcs,omitempty"`
	NameServers     []string         `json:"nameServers,omitempty"`
	// DelegationSetID is the reusable delegation set whose name servers
	// the zone uses ("" for the zone's own set).
	DelegationSetID string `json:"delegationSetId,omitempty"`
	// AuthorizedVPCs are the VPCs (of other accounts) this private zone's
	// owner authorised to be associated with it.
	AuthorizedVPCs []route53api.VPC `json:"authorizedVpcs,omitempty"`
	Tags           []route53api.Tag `json:"tags,omitempty"`
	// Count is the number of record sets (ResourceRecordSetCount).
	Count int `json:"count"`
	// Records are the record sets of a zone written before they moved to
	// name records; the service moves them there when it starts.
	Records []route53api.ResourceRecordSet `json:"records,omitempty"`
}

// refRecord remembers a CallerReference (kept after deletion, as AWS does).
type refRecord struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
}

type changeRecord struct {
	ID          string    `json:"id"`
	SubmittedAt time.Time `json:"submittedAt"`
	Comment     *string   `json:"comment,omitempty"`
}

type healthCheckRecord struct {
	route53api.HealthCheck
	Tags []route53api.Tag `json:"tags,omitempty"`
}

var (
	zones        = state.Table[zoneRecord]{Service: "route53", Kind: "hostedzone"}
	zoneRefs     = state.Table[refRecord]{Service: "route53", Kind: "zoneref"}
	changes      = state.Table[changeRecord]{Service: "route53", Kind: "change"}
	healthChecks = state.Table[healthCheckRecord]{Service: "route53", Kind: "healthcheck"}
	hcRefs       = state.Table[refRecord]{Service: "route53", Kind: "healthcheckref"}
)

// Service is the Route 53 implementation.
type Service struct {
	store state.Store
	now   func() time.Time
	// syncDelay is how long a change reports PENDING to GetChange (0: it is
	// INSYNC from the first GetChange, since the snapshot already has it).
	syncDelay time.Duration

	snap atomic.Pointer[dnszone.Snapshot]
	// mu is held by every change to the hosted zones from before its
	// transaction until the snapshot holding it is published: snapshots
	// follow the commits in order, each built from the one before.
	mu sync.Mutex
	// delegated is the registrar's choice per public zone name (name →
	// zone ID; see delegation.go), under mu.
	delegated map[string]string

	// endpoints are the other services' endpoint names (load balancers
	// next to RDS): alias targets outside the hosted zones resolve there.
	endpoints atomic.Pointer[dnszone.EndpointSources]

	checker *checker
	qlog    queryLogger
	unsub   func()
	done    chan struct{}
	// qlogDone stops the query log writer.
	qlogDone chan struct{}
	qlogExit chan struct{}
}

// Option configures the service.
type Option func(*Service)

// WithChangeSyncDelay makes GetChange report PENDING for d after a change.
func WithChangeSyncDelay(d time.Duration) Option { return func(s *Service) { s.syncDelay = d } }

// WithCheckInterval overrides every health check's RequestInterval (a
// minicloud-only knob for tests; 0 keeps AWS's 10 or 30 seconds).
func WithCheckInterval(d time.Duration) Option {
	return func(s *Service) { s.checker.interval.Store(int64(d)) }
}

// New returns the Route 53 service over store. It loads the current zones
// into the snapshot; Start begins health checking.
func New(store state.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, delegated: map[string]string{}}
	s.checker = newChecker()
	s.checker.resolve = s.resolvePublic
	for _, o := range opts {
		o(s)
	}
	s.snap.Store(&dnszone.Snapshot{})
	_ = s.rebuildAll(context.Background())
	return s
}

// SetPublicRange lets health checks probe addresses of p: minicloud's
// public range, which only a running data plane keeps on the host (without
// it, such traffic would follow the host's default route off the machine).
func (s *Service) SetPublicRange(p netip.Prefix) { s.checker.public.Store(&p) }

// SetEndpoints gives the service the endpoint names other services
// publish, so that an alias to a load balancer answers with its addresses.
func (s *Service) SetEndpoints(srcs dnszone.EndpointSources) { s.endpoints.Store(&srcs) }

// resolvePublic finds an A record for name in the public hosted zones.
func (s *Service) resolvePublic(name string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, ".")) + "."
	for _, z := range s.snap.Load().Zones {
		if z.Private || z.Shadowed {
			continue
		}
		for _, r := range z.Find(name) {
			if r.Type != "A" || len(r.Values) == 0 {
				continue
			}
			if a, err := netip.ParseAddr(r.Values[0]); err == nil {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// SetCheckInterval is WithCheckInterval on a running service.
func (s *Service) SetCheckInterval(d time.Duration) { s.checker.setInterval(d) }

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return route53api.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return route53api.Info }

// Start starts the health checker and follows store resets.
func (s *Service) Start(ctx context.Context) error {
	ch, unsub := s.store.Subscribe("")
	s.unsub = unsub
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		for ev := range ch {
			if ev.Reset || ev.Resync {
				_ = s.rebuildAll(context.Background())
			}
		}
	}()
	s.checker.start()
	s.qlogDone, s.qlogExit = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.qlogExit)
		s.runQueryLogs(s.qlogDone, queryLogInterval)
	}()
	return nil
}

// queryLogInterval is how often queued queries are written to their log
// groups (AWS delivers query logs within about a minute; sooner is
// friendlier to tests).
const queryLogInterval = time.Second

// Stop stops the checker and the store subscription. Neither waits on
// anything slow, so ctx is not consulted.
func (s *Service) Stop(context.Context) error {
	s.checker.stop()
	if s.qlogDone != nil {
		close(s.qlogDone)
		<-s.qlogExit
		s.qlogDone = nil
	}
	if s.unsub != nil {
		s.unsub()
		<-s.done
		s.unsub = nil
	}
	return nil
}

// update runs fn in a read-write transaction of the caller's global scope.
func (s *Service) update(ctx context.Context, fn func(tx state.Tx, sc state.Scope) error) error {
	sc := state.Global(api.Request(ctx).Account)
	return s.store.Update(ctx, func(tx state.Tx) error { return fn(tx, sc) })
}

// change is update for a change the DNS servers see: once fn's
// transaction has committed, publish makes the next snapshot, before
// change returns. So no answer (nor GetChange's INSYNC) precedes the
// snapshot that holds the change, and snapshots are made in commit order.
func (s *Service) change(ctx context.Context, fn func(tx state.Tx, sc state.Scope) error, publish func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.update(ctx, fn); err != nil {
		return err
	}
	publish()
	return nil
}

func (s *Service) view(ctx context.Context, fn func(tx state.Tx, sc state.Scope) error) error {
	sc := state.Global(api.Request(ctx).Account)
	return s.store.View(ctx, func(tx state.Tx) error { return fn(tx, sc) })
}

// Errors.

func errNoSuchZone(id string) error {
	return api.Errorf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

func errNoSuchHealthCheck(id string) error {
	return api.Errorf(http.StatusNotFound, "NoSuchHealthCheck", "A health check with id %s does not exist.", id)
}

func errInvalidInput(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

func errBatch(msgs []string) error {
	return api.Errorf(http.StatusBadRequest, "InvalidChangeBatch", "[%s]", strings.Join(msgs, ", "))
}

// IDs.

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomAlnum(n int) string {
	b := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(b) < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < 252 && len(b) < n { // 252 = 7*36: unbiased
				b = append(b, idAlphabet[int(c)%len(idAlphabet)])
			}
		}
	}
	return string(b)
}

// newZoneID returns "Z" and 20 upper-case letters and digits, the shape of
// current AWS zone IDs (Z0123456789ABCDEFGHIJ).
func newZoneID() string { return "Z" + randomAlnum(20) }

// newChangeID returns "C" and 13 upper-case letters and digits.
func newChangeID() string { return "C" + randomAlnum(13) }

func newHealthCheckID() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	b := []byte(hex.EncodeToString(raw))
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

func stripPrefix(id *string, prefix string) string {
	if id == nil {
		return ""
	}
	return strings.TrimPrefix(*id, prefix)
}

// nameServers derives a public zone's four (fake) AWS name servers.
func nameServers(zoneID string) []string {
	sum := sha256.Sum256([]byte(zoneID))
	n := int(binary.BigEndian.Uint16(sum[0:2]) % 512)
	tlds := []string{"com", "net", "org", "co.uk"}
	out := make([]string, 4)
	for i, tld := range tlds {
		out[i] = fmt.Sprintf("ns-%d.awsdns-%02d.%s.", n+512*i, int(sum[2+i])%64, tld)
	}
	return out
}

// privateNameServers are the name servers AWS shows in a private zone's NS.
var privateNameServers = []string{"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."}

func (s *Service) newChange(tx state.Tx, sc state.Scope, comment *string) (*route53api.ChangeInfo, error) {
	c := changeRecord{ID: newChangeID(), SubmittedAt: s.now().UTC().Truncate(time.Millisecond), Comment: comment}
	if err := changes.Put(tx, sc, c.ID, c); err != nil {
		return nil, err
	}
	return &route53api.ChangeInfo{Id: new("/change/" + c.ID), Status: new("PENDING"), SubmittedAt: new(c.SubmittedAt), Comment: comment}, nil
}

// GetChange reports INSYNC once syncDelay has passed since the change (by
// default at once: a change is in the DNS snapshot when its call returns).
func (s *Service) GetChange(ctx context.Context, in *route53api.GetChangeRequest) (*route53api.GetChangeResponse, error) {
	id := stripPrefix(in.Id, "/change/")
	var c changeRecord
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var ok bool
		var err error
		if id == "" {
			return api.Errorf(http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist.")
		}
		c, ok, err = changes.Get(tx, sc, id)
		if err == nil && !ok {
			return api.Errorf(http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	status := "INSYNC"
	if s.now().Sub(c.SubmittedAt) < s.syncDelay {
		status = "PENDING"
	}
	return &route53api.GetChangeResponse{ChangeInfo: &route53api.ChangeInfo{Id: new("/change/" + c.ID), Status: new(status), SubmittedAt: new(c.SubmittedAt), Comment: c.Comment}}, nil
}

// maxItems parses a MaxItems string: default def, at most max.
func maxItems(p *string, def, max int) (int, error) {
	if p == nil || *p == "" {
		return def, nil
	}
	n, err := strconv.Atoi(*p)
	if err != nil || n < 1 {
		return 0, errInvalidInput("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a positive integer", *p)
	}
	if n > max {
		n = max
	}
	return n, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Tags.

func applyTags(tags []route53api.Tag, add []route53api.Tag, remove []string) []route53api.Tag {
	out := tags[:0:0]
	drop := map[string]bool{}
	for _, k := range remove {
		drop[k] = true
	}
	for _, t := range add {
		drop[deref(t.Key)] = true
	}
	for _, t := range tags {
		if !drop[deref(t.Key)] {
			out = append(out, t)
		}
	}
	for _, t := range add {
		out = append(out, route53api.Tag{Key: t.Key, Value: new(deref(t.Value))})
	}
	return out
}

// ChangeTagsForResource adds and removes tags of a hosted zone or health check.
func (s *Service) ChangeTagsForResource(ctx context.Context, in *route53api.ChangeTagsForResourceRequest) (*route53api.ChangeTagsForResourceResponse, error) {
	if len(in.AddTags) > 10 {
		return nil, errInvalidInput("1 validation error detected: Value '%v' at 'addTags' failed to satisfy constraint: Member must have length less than or equal to 10", len(in.AddTags))
	}
	for _, t := range in.AddTags {
		if deref(t.Key) == "" {
			return nil, errInvalidInput("Tag key must not be empty")
		}
	}
	typ, id := deref(in.ResourceType), deref(in.ResourceId)
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		switch typ {
		case "hostedzone":
			z, err := getZone(tx, sc, id)
			if err != nil {
				return err
			}
			z.Tags = applyTags(z.Tags, in.AddTags, in.RemoveTagKeys)
			if len(z.Tags) > 50 {
				return api.Errorf(http.StatusBadRequest, "ThrottlingException", "Too many tags")
			}
			return zones.Put(tx, sc, z.ID, *z)
		case "healthcheck":
			h, err := getHealthCheck(tx, sc, id)
			if err != nil {
				return err
			}
			h.Tags = applyTags(h.Tags, in.AddTags, in.RemoveTagKeys)
			return healthChecks.Put(tx, sc, id, *h)
		}
		return errInvalidInput("1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [healthcheck, hostedzone]", typ)
	})
	if err != nil {
		return nil, err
	}
	return &route53api.ChangeTagsForResourceResponse{}, nil
}

// ListTagsForResource lists a hosted zone's or health check's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *route53api.ListTagsForResourceRequest) (*route53api.ListTagsForResourceResponse, error) {
	typ, id := deref(in.ResourceType), deref(in.ResourceId)
	var tags []route53api.Tag
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		switch typ {
		case "hostedzone":
			z, err := getZone(tx, sc, id)
			if err != nil {
				return err
			}
			tags = z.Tags
			return nil
		case "healthcheck":
			h, err := getHealthCheck(tx, sc, id)
			if err != nil {
				return err
			}
			tags = h.Tags
			return nil
		}
		return errInvalidInput("1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [healthcheck, hostedzone]", typ)
	})
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []route53api.Tag{}
	}
	return &route53api.ListTagsForResourceResponse{ResourceTagSet: &route53api.ResourceTagSet{ResourceType: new(typ), ResourceId: new(id), Tags: tags}}, nil
}
