package imds

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/guestlimit"
)

// InstanceData is what the metadata service knows of one instance. The
// runtime fills it; the InstanceSpec field each comes from is noted.
type InstanceData struct {
	AccountID          string // Account
	Region             string // Region
	AvailabilityZone   string // AvailabilityZone, e.g. us-east-1a
	AvailabilityZoneID string // the zone's ID, e.g. use1-az6 (not in the spec)
	InstanceID         string // InstanceID
	ReservationID      string // ReservationID
	ImageID            string // ImageID
	InstanceType       string // InstanceType
	Architecture       string // Architecture: x86_64 | arm64
	AMILaunchIndex     int
	// Hostname is the private DNS name (Hostname), served as hostname and
	// local-hostname; derived from the primary private IP when empty.
	Hostname string
	// PendingTime is when the instance last launched (LaunchTime).
	PendingTime time.Time
	KeyName     string // KeyName
	PublicKey   string // PublicKey (OpenSSH format)
	UserData    []byte // UserData, decoded
	// RootDeviceName is the root volume's device name (/dev/xvda); the
	// other EBS volumes' device names follow in EBSDevices (Volumes).
	RootDeviceName string
	EBSDevices     []string
	// SecurityGroups are the names of the primary interface's groups.
	SecurityGroups []string
	// Interfaces are the network interfaces (NetworkInterfaces), the
	// primary (device number 0) first.
	Interfaces []Interface
	// IAM instance profile (IamInstanceProfile); empty means none. Its
	// role is looked up at each request (WithRoles), since it may change
	// while the instance runs.
	IamInstanceProfileArn string
	IamInstanceProfileID  string
	// EndpointDisabled is HttpEndpoint "disabled" (!MetadataHTTPEndpoint).
	EndpointDisabled bool
	// TokensRequired is HttpTokens "required" (MetadataHTTPTokens).
	TokensRequired bool
	// TagsEnabled is InstanceMetadataTags "enabled" (MetadataTags); Tags
	// are then served under tags/instance/.
	TagsEnabled bool
	Tags        map[string]string
}

// Interface is one network interface as the metadata service shows it
// under network/interfaces/macs/<mac>/.
type Interface struct {
	DeviceNumber       int
	InterfaceID        string
	MAC                string
	OwnerID            string // the account that owns the interface
	SubnetID           string
	SubnetCIDR         string
	VpcID              string
	VpcCIDRs           []string // the VPC's IPv4 CIDR blocks, primary first
	PrivateIPs         []string // primary first
	PublicIP           string   // "" when none
	SecurityGroupIDs   []string
	SecurityGroupNames []string
}

// Lookup finds the instance that owns a source address. The handler calls
// it on every request; it must be safe for concurrent use.
type Lookup func(remoteIP netip.Addr) (*InstanceData, bool)

// Header names. AWS matches them case-insensitively, as net/http does.
const (
	hdrToken    = "X-aws-ec2-metadata-token"
	hdrTokenTTL = "X-aws-ec2-metadata-token-ttl-seconds"
	maxTokenTTL = 21600
)

// Server is the metadata service for the instances its Lookup knows,
// served on the listeners given to Serve under its Limits.
type Server struct {
	lookup Lookup
	now    func() time.Time
	key    []byte
	limits Limits
	budget *guestlimit.Budget
	stats  *Stats
	rate   *guestlimit.Rate[string]
	slots  *guestlimit.Slots[string]
	// roles answers iam/security-credentials/ (WithRoles); nil without.
	roles *roleSource
	log   *slog.Logger

	mu     sync.Mutex
	closed bool
	https  []*http.Server
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock tokens expire by and request rates are measured
// with (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLimits sets the limits (DefaultLimits' value for each zero field).
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = l } }

// WithBudget sets the descriptor budget the connections draw from;
// guestlimit.Process() by default.
func WithBudget(b *guestlimit.Budget) Option { return func(s *Server) { s.budget = b } }

// WithStats makes the server count into st, which several servers may
// share for a total.
func WithStats(st *Stats) Option { return func(s *Server) { s.stats = st } }

// WithLogger sets where failures to reach IAM or STS are logged.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns the metadata service answering for the instances lookup
// knows.
func New(lookup Lookup, opts ...Option) *Server {
	s := &Server{lookup: lookup, now: time.Now, key: make([]byte, 32)}
	if _, err := rand.Read(s.key); err != nil {
		panic("imds: no randomness for the token key: " + err.Error())
	}
	for _, o := range opts {
		o(s)
	}
	s.limits = s.limits.withDefaults()
	if s.budget == nil {
		s.budget = guestlimit.Process()
	}
	if s.stats == nil {
		s.stats = new(Stats)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// The rate table holds one key per instance (and one for callers that
	// are none): its bound is only a backstop.
	s.rate = guestlimit.NewRate[string](s.limits.RequestsPerSecond, s.limits.Burst, maxRateKeys, s.now)
	s.slots = guestlimit.NewSlots[string](s.limits.ConnsPerInstance, s.limits.Conns, s.budget)
	return s
}

// ServeHTTP answers one metadata request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "EC2ws")
	d, ok := s.instance(r)
	if !s.rate.Allow(instanceKey(d, ok)) {
		s.stats.Throttled.Add(1)
		writeError(w, http.StatusTooManyRequests)
		return
	}
	if !ok || d.EndpointDisabled {
		writeError(w, http.StatusForbidden)
		return
	}
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut {
			w.Header().Set("Allow", "PUT")
			writeError(w, http.StatusMethodNotAllowed)
			return
		}
		s.putToken(w, r, d)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed)
		return
	}
	if tok := r.Header.Get(hdrToken); tok != "" {
		left, ok := s.checkToken(tok, d.InstanceID)
		if !ok {
			writeError(w, http.StatusUnauthorized)
			return
		}
		w.Header().Set(hdrTokenTTL, strconv.Itoa(left))
	} else if d.TokensRequired {
		writeError(w, http.StatusUnauthorized)
		return
	}
	parts := pathParts(r.URL.Path)
	iv, err := s.iamFor(r.Context(), d, parts)
	if err != nil {
		// AWS's metadata service answers 500 when it cannot reach what
		// it serves; the guest retries.
		s.log.Warn("metadata service: role credentials", "instance", d.InstanceID, "err", err)
		writeError(w, http.StatusInternalServerError)
		return
	}
	body, ctype, ok := resolve(d, iv, parts)
	if !ok {
		writeError(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// instance finds the requesting instance by the connection's source
// address only.
func (s *Server) instance(r *http.Request) (*InstanceData, bool) {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ip = ap.Addr()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		ip = a
	} else {
		return nil, false
	}
	d, ok := s.lookup(ip.Unmap())
	return d, ok && d != nil
}

// putToken issues an IMDSv2 session token.
func (s *Server) putToken(w http.ResponseWriter, r *http.Request, d *InstanceData) {
	// AWS refuses token requests that went through a proxy, so that a
	// misconfigured proxy in the instance cannot hand tokens out.
	if len(r.Header.Values("X-Forwarded-For")) > 0 {
		writeError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(strings.TrimSpace(r.Header.Get(hdrTokenTTL)))
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		writeError(w, http.StatusBadRequest)
		return
	}
	tok := s.newToken(d.InstanceID, s.now().Add(time.Duration(ttl)*time.Second))
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set(hdrTokenTTL, strconv.Itoa(ttl))
	w.Header().Set("Content-Length", strconv.Itoa(len(tok)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(tok))
}

// Tokens: version byte, expiry (Unix milliseconds, 8 bytes), 8 random
// bytes, then 16 bytes of HMAC-SHA256 over those and the instance ID.
const (
	tokenVersion = 1
	tokenBody    = 1 + 8 + 8
	tokenMAC     = 16
)

func (s *Server) newToken(instanceID string, expiry time.Time) string {
	b := make([]byte, tokenBody, tokenBody+tokenMAC)
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(expiry.UnixMilli()))
	_, _ = rand.Read(b[9:17])
	return base64.StdEncoding.EncodeToString(append(b, s.mac(b, instanceID)...))
}

// checkToken validates tok for instanceID and returns its remaining
// lifetime in whole seconds (rounded up).
func (s *Server) checkToken(tok, instanceID string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(b) != tokenBody+tokenMAC || b[0] != tokenVersion {
		return 0, false
	}
	if !hmac.Equal(b[tokenBody:], s.mac(b[:tokenBody], instanceID)) {
		return 0, false
	}
	left := time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9]))).Sub(s.now())
	if left <= 0 {
		return 0, false
	}
	return int((left + time.Second - 1) / time.Second), true
}

func (s *Server) mac(body []byte, instanceID string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	m.Write([]byte(instanceID))
	return m.Sum(nil)[:tokenMAC]
}

// errorTitles are the titles of AWS's error pages.
var errorTitles = map[int]string{
	http.StatusBadRequest:          "400 - Bad Request",
	http.StatusUnauthorized:        "401 - Unauthorized",
	http.StatusForbidden:           "403 - Forbidden",
	http.StatusNotFound:            "404 - Not Found",
	http.StatusMethodNotAllowed:    "405 - Method Not Allowed",
	http.StatusTooManyRequests:     "429 - Too Many Requests",
	http.StatusInternalServerError: "500 - Internal Server Error",
}

// writeError answers with AWS's XHTML error page.
func writeError(w http.ResponseWriter, status int) {
	title := errorTitles[status]
	body := `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>` + title + `</title>
 </head>
 <body>
  <h1>` + title + `</h1>
 </body>
</html>
`
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
