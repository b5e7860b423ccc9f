package dns53

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

const (
	// DefaultForwardTimeout bounds one exchange with one upstream.
	DefaultForwardTimeout = 2 * time.Second
	// ourUDPSize is the EDNS buffer size the server advertises; maxUDPSize
	// caps what a client may ask for.
	ourUDPSize = 4096
	maxUDPSize = 4096
)

// Config configures a Server.
type Config struct {
	// Source gives the hosted zones; the server answers its public zones.
	Source dnszone.Source
	// Endpoints give the service endpoint names (RDS DB instances…) the
	// server answers as AWS's public DNS does; nil: none.
	Endpoints dnszone.EndpointSources
	// Upstreams receive, in order, the queries for names outside every
	// public hosted zone. Empty: such queries are answered REFUSED, as
	// Route 53's name servers answer for zones they do not host.
	Upstreams []netip.AddrPort
	// ForwardTimeout bounds each exchange with an upstream (UDP, then TCP
	// when truncated); DefaultForwardTimeout when zero.
	ForwardTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
	// ClientRegion maps a client address to an AWS region for latency
	// routing (nil or "": unknown, the lexicographically first region).
	ClientRegion func(netip.Addr) string
	// ClientLocation maps a client address to its location for
	// geolocation routing (nil or a nil result: unknown, only the default
	// location "*" matches).
	ClientLocation func(netip.Addr) *dnszone.GeoLocation
	// OnQuery, when set, is told of every query a public hosted zone
	// answered (Route 53's query logging); it is called on the query's
	// goroutine before the answer is sent, so it must not block.
	OnQuery func(Query)
}

// Query is a query a public hosted zone answered, with what Route 53's
// query logs record of it.
type Query struct {
	Time     time.Time
	ZoneID   string
	Name     string // as asked, without the final dot
	Type     string // "A", "AAAA"…
	Rcode    string // "NOERROR", "NXDOMAIN"…
	Protocol string // "UDP" or "TCP"
	Client   netip.Addr
	// Subnet is the EDNS client subnet ("" none), as "addr/len".
	Subnet string
}

// Status is the server's health information.
type Status struct {
	Listening bool
	Addr      string // "" when not listening
	// PublicZones is the number of public hosted zones of the current
	// snapshot that answer, ShadowedZones of those that share a name with
	// the zone that answers it (Route 53's delegation rule); RecordErrors
	// the record values that did not parse (they are not served), with up
	// to ten of them in Errors.
	PublicZones   int
	ShadowedZones int
	RecordErrors  int
	Errors        []string
	// Counters since New.
	Queries, Answered, NXDomain, Forwarded, Refused, ServFail uint64
}

// Server is the host-side authoritative DNS server of the public hosted
// zones. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	timeout time.Duration

	queries, answered, nxdomain, forwarded, refused, servfail atomic.Uint64

	mu      sync.Mutex
	addr    string
	servers []*dns.Server
	done    chan struct{}
}

// New returns a stopped Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, timeout: cfg.ForwardTimeout}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.timeout <= 0 {
		s.timeout = DefaultForwardTimeout
	}
	s.cfg.Upstreams = append([]netip.AddrPort(nil), cfg.Upstreams...)
	return s
}

// Start serves DNS on UDP and TCP at addr ("127.0.0.1:53"; port 0 picks
// a free port, the same for both) and returns once both are bound.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.servers != nil {
		return errors.New("dns53: already started")
	}
	var pc net.PacketConn
	var ln net.Listener
	var err error
	for try := 0; ; try++ {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			return fmt.Errorf("dns53: listen udp %s: %w", addr, err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if _, port, _ := net.SplitHostPort(addr); port != "0" || try == 20 {
			return fmt.Errorf("dns53: listen tcp %s: %w", addr, err)
		}
	}
	servers := []*dns.Server{
		{PacketConn: pc, Handler: s, UDPSize: dns.MaxMsgSize},
		{Listener: ln, Handler: s, MaxTCPQueries: 128},
	}
	for i, srv := range servers {
		if err := serve(srv); err != nil {
			for _, started := range servers[:i] {
				_ = started.Shutdown()
			}
			pc.Close()
			ln.Close()
			return fmt.Errorf("dns53: serve: %w", err)
		}
	}
	s.servers, s.addr, s.done = servers, pc.LocalAddr().String(), make(chan struct{})
	s.log.Info("dns53: listening", "addr", s.addr, "upstreams", len(s.cfg.Upstreams))
	return nil
}

// ListenAndServe is Start, then waits until Stop.
func (s *Server) ListenAndServe(addr string) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	<-done
	return nil
}

// Addr is the bound address (UDP and TCP), "" when stopped.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop closes the sockets and waits (bounded) for queries in flight. It
// is idempotent; the Server may be started again.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.ShutdownContext(ctx); err != nil {
			s.log.Debug("dns53: shutdown", "err", err)
		}
		cancel()
		if srv.PacketConn != nil {
			srv.PacketConn.Close()
		}
		if srv.Listener != nil {
			srv.Listener.Close()
		}
	}
	if s.done != nil {
		close(s.done)
	}
	s.servers, s.addr, s.done = nil, "", nil
}

// Status reports the server's state and counters.
func (s *Server) Status() Status {
	st := Status{
		Addr:     s.Addr(),
		Queries:  s.queries.Load(),
		Answered: s.answered.Load(), NXDomain: s.nxdomain.Load(),
		Forwarded: s.forwarded.Load(), Refused: s.refused.Load(), ServFail: s.servfail.Load(),
	}
	st.Listening = st.Addr != ""
	if s.cfg.Source != nil {
		idx := indexFor(s.cfg.Source.Snapshot())
		var errs []error
		if idx.snap != nil {
			for _, z := range idx.snap.Zones {
				switch {
				case z.Private:
				case z.Shadowed:
					st.ShadowedZones++
				default:
					st.PublicZones++
				}
			}
			for _, e := range idx.all {
				errs = append(errs, e.zone().errors()...)
			}
		}
		st.RecordErrors = len(errs)
		for _, e := range errs[:min(len(errs), 10)] {
			st.Errors = append(st.Errors, e.Error())
		}
	}
	return st
}

// serve runs srv in the background once it has started.
func serve(srv *dns.Server) error {
	started := make(chan struct{})
	errc := make(chan error, 1)
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("server ended at once")
		}
		return err
	}
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		client = ap.Addr().Unmap()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(s.cfg.Upstreams)+1)*2*s.timeout)
	defer cancel()
	resp := s.handle(ctx, req, client, tcp)
	if resp == nil {
		return
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("dns53: write", "err", err)
	}
}

// publicZone is the zone filter of the host-side server: the public zones
// the internet would reach, so not those another zone of the same name
// shadows.
func publicZone(z *dnszone.Zone) bool { return !z.Private && !z.Shadowed }

// handle builds the response to req; nil sends none (a response).
func (s *Server) handle(ctx context.Context, req *dns.Msg, client netip.Addr, tcp bool) *dns.Msg {
	if req == nil || req.Response {
		return nil
	}
	s.queries.Add(1)
	resp := new(dns.Msg)
	if len(req.Question) != 1 {
		resp.SetRcodeFormatError(req)
		resp.Question = nil
		return resp
	}
	resp.SetReply(req)
	opt := req.IsEdns0()
	if opt != nil && opt.Version() != 0 {
		resp.Rcode = dns.RcodeBadVers
		resp.SetEdns0(ourUDPSize, false)
		return resp
	}
	q := req.Question[0]
	switch {
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY,
		q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused
	default:
		ci := ClientInfo{Addr: client}
		if s.cfg.ClientRegion != nil && client.IsValid() {
			ci.Region = s.cfg.ClientRegion(client)
		}
		if s.cfg.ClientLocation != nil && client.IsValid() {
			ci.Location = s.cfg.ClientLocation(client)
		}
		sets := s.cfg.Endpoints.Sets()
		if set := sets.For(canonical(q.Name)); set != nil {
			resp = answerEndpoint(set, req)
		} else if a, owned := Answer(s.cfg.Source, publicZone, req, ci); owned {
			resp = a
			s.logQuery(req, resp, client, tcp)
			if target := DanglingCNAME(resp); target != "" && req.RecursionDesired && !chaseEndpoint(sets, resp, target) && len(s.cfg.Upstreams) > 0 {
				s.chase(ctx, req, resp, target)
			}
		} else if len(s.cfg.Upstreams) == 0 {
			resp.Rcode = dns.RcodeRefused
		} else if fr := s.forward(ctx, req); fr != nil {
			s.forwarded.Add(1)
			fr.Id = req.Id
			fr.Compress = true
			return limit(fr, req, tcp)
		} else {
			resp.Rcode = dns.RcodeServerFailure
		}
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
		s.answered.Add(1)
	case dns.RcodeNameError:
		s.nxdomain.Add(1)
	case dns.RcodeRefused:
		s.refused.Add(1)
	case dns.RcodeServerFailure:
		s.servfail.Add(1)
	}
	if opt != nil {
		resp.SetEdns0(ourUDPSize, opt.Do())
	}
	return limit(resp, req, tcp)
}

// logQuery tells Config.OnQuery of a query a hosted zone answered.
func (s *Server) logQuery(req, resp *dns.Msg, client netip.Addr, tcp bool) {
	if s.cfg.OnQuery == nil {
		return
	}
	q := req.Question[0]
	lq := Query{
		Time: time.Now().UTC(), ZoneID: ZoneFor(s.cfg.Source, publicZone, q.Name),
		Name: strings.TrimSuffix(q.Name, "."), Type: dns.TypeToString[q.Qtype], Rcode: dns.RcodeToString[resp.Rcode],
		Protocol: "UDP", Client: client,
	}
	if tcp {
		lq.Protocol = "TCP"
	}
	if opt := req.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if cs, ok := o.(*dns.EDNS0_SUBNET); ok {
				lq.Subnet = fmt.Sprintf("%s/%d", cs.Address, cs.SourceNetmask)
			}
		}
	}
	s.cfg.OnQuery(lq)
}

// chase resolves the target of a CNAME leaving the hosted zones upstream
// and appends its answer (for clients that recurse through this server).
func (s *Server) chase(ctx context.Context, req, resp *dns.Msg, target string) {
	sub := new(dns.Msg)
	sub.SetQuestion(target, req.Question[0].Qtype)
	sub.RecursionDesired = true
	if opt := req.IsEdns0(); opt != nil {
		sub.SetEdns0(opt.UDPSize(), opt.Do())
	}
	fr := s.forward(ctx, sub)
	if fr == nil {
		return
	}
	s.forwarded.Add(1)
	resp.Rcode = fr.Rcode
	resp.Answer = append(resp.Answer, fr.Answer...)
	resp.Ns = fr.Ns
}

// limit truncates a UDP answer to what the client can take.
func limit(resp, req *dns.Msg, tcp bool) *dns.Msg {
	if tcp {
		return resp
	}
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = min(max(int(opt.UDPSize()), dns.MinMsgSize), maxUDPSize)
	}
	resp.Truncate(size)
	return resp
}

// forward sends req to the upstreams in order and returns the first
// usable answer (a SERVFAIL/REFUSED one when nothing better), nil when
// none answers.
func (s *Server) forward(ctx context.Context, req *dns.Msg) *dns.Msg {
	m := req.Copy()
	m.Id = dns.Id()
	m.Response = false
	var last *dns.Msg
	for _, up := range s.cfg.Upstreams {
		if ctx.Err() != nil {
			break
		}
		r, err := s.exchange(ctx, m, up.String())
		if err != nil {
			s.log.Debug("dns53: upstream", "upstream", up, "name", m.Question[0].Name, "err", err)
			continue
		}
		if r.Rcode == dns.RcodeServerFailure || r.Rcode == dns.RcodeRefused {
			last = r
			continue
		}
		return r
	}
	return last
}

// exchange is one query to one upstream: UDP, then TCP when truncated.
func (s *Server) exchange(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: s.timeout, UDPSize: dns.MaxMsgSize}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		return nil, err
	}
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, m.Question[0].Name) {
		return nil, dns.ErrId
	}
	return r, nil
}
