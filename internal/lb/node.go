package lb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options are what a node needs from its controller.
type Options struct {
	// Listen opens a listener for a listener's port (inside the node's
	// network namespace, in the controller). Required.
	Listen func(ctx context.Context, port int) (net.Listener, error)
	// Dial connects to targets, for traffic and health checks. Default:
	// net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Certificate returns an ACM certificate's chain and key by ARN; called
	// during each TLS handshake of an HTTPS listener. Required for HTTPS.
	Certificate func(ctx context.Context, arn string) (*tls.Certificate, error)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// CookieKey seals stickiness cookies (16, 24 or 32 bytes, AES). The
	// nodes of one load balancer share it so that a cookie one node set
	// works on every other; default: a random key of this node.
	CookieKey []byte
	// MaxConnections caps concurrent client connections; past it new
	// connections are closed and counted in RejectedConnectionCount
	// (0: no cap).
	MaxConnections int
}

// connectTimeout is ALB's connection timeout to targets: "The load balancer
// failed to establish a connection to the target before the connection
// timeout expired (10 seconds)" (ALB troubleshooting guide, HTTP 504).
const connectTimeout = 10 * time.Second

// maxHeaderBytes is ALB's limit on a request's whole header (64 KB).
const maxHeaderBytes = 64 << 10

// Node is one load balancer node: it serves a Config's listeners, routes
// requests by their rules, proxies them to targets and checks the targets'
// health.
type Node struct {
	opts     Options
	log      *slog.Logger
	sealer   *cookieSealer
	counters counterSet
	proxy    *httputil.ReverseProxy
	// checkClient sends health checks: a new connection per check, no
	// redirects followed, targets' certificates not verified.
	checkClient *http.Client

	ctx    context.Context // cancelled by Close: checks stop, requests end
	cancel context.CancelFunc

	snap atomic.Pointer[snapshot]

	mu        sync.Mutex // serializes Update and Close
	groups    map[string]*group
	listeners map[int]*portServer
	closed    bool
}

// snapshot is a compiled Config: what a request reads, without locks.
type snapshot struct {
	cfg       *Config
	idle      time.Duration
	listeners map[int]*compiledListener
}

type compiledListener struct {
	Listener
	rules         []compiledRule
	defaultAction *compiledAction
	// X-Forwarded-Proto and X-Forwarded-Port, ready for each request
	xfProto, xfPort string
}

// compiledAction is an action with its target groups resolved.
type compiledAction struct {
	Action
	groups  []*group // forward: parallel to Action.TargetGroups
	weights []int64
	mu      sync.Mutex
	cur     []int64 // smooth weighted round robin over groups
}

// New makes a node that serves nothing until Update.
func New(opts Options) (*Node, error) {
	if opts.Listen == nil {
		return nil, errors.New("lb: Options.Listen is required")
	}
	if opts.Dial == nil {
		d := &net.Dialer{}
		opts.Dial = d.DialContext
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	sealer, err := newCookieSealer(opts.CookieKey)
	if err != nil {
		return nil, fmt.Errorf("lb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		opts: opts, log: lg, sealer: sealer, ctx: ctx, cancel: cancel,
		groups: map[string]*group{}, listeners: map[int]*portServer{},
	}
	n.checkClient = &http.Client{
		Transport: &http.Transport{
			DialContext:       n.dial,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	n.proxy = &httputil.ReverseProxy{
		Rewrite:        n.rewrite,
		Transport:      roundTripperFunc(n.roundTrip),
		ModifyResponse: n.modifyResponse,
		ErrorHandler:   n.proxyError,
		ErrorLog:       log.New(slogWriter{lg}, "", 0),
		BufferPool:     copyBuffers,
	}
	n.snap.Store(&snapshot{cfg: &Config{}, idle: Config{}.idleTimeout(), listeners: map[int]*compiledListener{}})
	return n, nil
}

// dial connects to a target with ALB's connection timeout.
func (n *Node) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return n.opts.Dial(ctx, network, addr)
}

// Update replaces the node's configuration. Requests in flight finish on
// the configuration they started with; targets that stay keep their
// health; listeners on new ports open and those on removed ports stop
// accepting (their connections finish). An invalid Config changes nothing.
// A port that cannot be opened is an error returned after the rest of the
// Config took effect; the next Update tries it again.
func (n *Node) Update(ctx context.Context, cfg Config) error {
	cfg = cloneConfig(cfg)
	matchers := make(map[string]codeMatcher, len(cfg.TargetGroups))
	for _, tg := range cfg.TargetGroups {
		if _, dup := matchers[tg.ARN]; dup {
			return fmt.Errorf("lb: target group %s listed twice", tg.ARN)
		}
		m, err := parseMatcher(tg.HealthCheck.withDefaults(tg.Protocol).Matcher)
		if err != nil {
			return fmt.Errorf("lb: target group %s: %w", tg.ARN, err)
		}
		matchers[tg.ARN] = m
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("lb: node closed")
	}
	groupsNext := make(map[string]*group, len(cfg.TargetGroups))
	for _, tg := range cfg.TargetGroups {
		g := n.groups[tg.ARN]
		if g == nil {
			g = newGroup(n, tg.ARN)
		}
		groupsNext[tg.ARN] = g
	}
	snap, used, err := n.compile(&cfg, groupsNext)
	if err != nil {
		return err
	}
	for _, tg := range cfg.TargetGroups {
		groupsNext[tg.ARN].update(tg, matchers[tg.ARN], used[tg.ARN], snap.idle)
	}
	for arn, g := range n.groups {
		if groupsNext[arn] == nil {
			g.remove()
			g.transport.Load().retire()
		}
	}
	n.groups = groupsNext
	n.snap.Store(snap)
	return n.syncListeners(ctx, cfg.Listeners)
}

// compile builds the snapshot and finds which groups listeners use.
func (n *Node) compile(cfg *Config, groups map[string]*group) (*snapshot, map[string]bool, error) {
	used := map[string]bool{}
	compileAction := func(actions []Action) (*compiledAction, error) {
		a := terminalAction(actions)
		if a == nil {
			return nil, errors.New("no forward, redirect or fixed-response action")
		}
		ca := &compiledAction{Action: *a}
		switch a.Type {
		case ActionForward:
			if len(a.TargetGroups) == 0 {
				return nil, errors.New("forward action without target groups")
			}
			for _, wt := range a.TargetGroups {
				g := groups[wt.ARN]
				if g == nil {
					return nil, fmt.Errorf("forward to unknown target group %s", wt.ARN)
				}
				w := int64(wt.Weight)
				if len(a.TargetGroups) == 1 {
					w = 1
				}
				ca.groups = append(ca.groups, g)
				ca.weights = append(ca.weights, w)
				if w > 0 {
					used[wt.ARN] = true
				}
			}
			ca.cur = make([]int64, len(ca.groups))
		case ActionRedirect:
			if a.Redirect == nil {
				return nil, errors.New("redirect action without its configuration")
			}
		case ActionFixedResponse:
			if a.FixedResponse == nil {
				return nil, errors.New("fixed-response action without its configuration")
			}
		}
		return ca, nil
	}
	snap := &snapshot{cfg: cfg, idle: cfg.idleTimeout(), listeners: map[int]*compiledListener{}}
	for _, l := range cfg.Listeners {
		if _, dup := snap.listeners[l.Port]; dup {
			return nil, nil, fmt.Errorf("lb: two listeners on port %d", l.Port)
		}
		if l.Protocol != HTTP && l.Protocol != HTTPS {
			return nil, nil, fmt.Errorf("lb: listener %d: protocol %q is not HTTP or HTTPS", l.Port, l.Protocol)
		}
		if l.Protocol == HTTPS && (len(l.Certificates) == 0 || n.opts.Certificate == nil) {
			return nil, nil, fmt.Errorf("lb: HTTPS listener %d needs a certificate and Options.Certificate", l.Port)
		}
		rules, err := compileRules(l.Rules, compileAction)
		if err != nil {
			return nil, nil, fmt.Errorf("lb: listener %d: %w", l.Port, err)
		}
		def, err := compileAction(l.DefaultActions)
		if err != nil {
			return nil, nil, fmt.Errorf("lb: listener %d default action: %w", l.Port, err)
		}
		snap.listeners[l.Port] = &compiledListener{Listener: l, rules: rules, defaultAction: def,
			xfProto: strings.ToLower(l.Protocol), xfPort: strconv.Itoa(l.Port)}
	}
	return snap, used, nil
}

// cloneConfig copies what the node keeps, so that the caller may reuse its
// slices.
func cloneConfig(c Config) Config {
	c.Listeners = slices.Clone(c.Listeners)
	for i := range c.Listeners {
		l := &c.Listeners[i]
		l.Certificates = slices.Clone(l.Certificates)
		l.Rules = slices.Clone(l.Rules)
		l.DefaultActions = slices.Clone(l.DefaultActions)
	}
	c.TargetGroups = slices.Clone(c.TargetGroups)
	for i := range c.TargetGroups {
		c.TargetGroups[i].Targets = slices.Clone(c.TargetGroups[i].Targets)
	}
	return c
}

// Health is every target's health as this node's checks see it, by target
// group ARN (draining targets included).
func (n *Node) Health() map[string][]TargetHealth {
	n.mu.Lock()
	groups := maps.Clone(n.groups)
	n.mu.Unlock()
	out := make(map[string][]TargetHealth, len(groups))
	for arn, g := range groups {
		out[arn] = g.health()
	}
	return out
}

// Counters is a snapshot of the node's counters.
func (n *Node) Counters() Counters {
	n.mu.Lock()
	groups := maps.Clone(n.groups)
	n.mu.Unlock()
	c := Counters{
		LoadBalancer: n.counters.snapshot(),
		TargetGroups: make(map[string]Stats, len(groups)),
		Targets:      make(map[string]map[TargetKey]Stats, len(groups)),
	}
	for arn, g := range groups {
		s := g.counters.snapshot()
		per := map[TargetKey]Stats{}
		var healthy, unhealthy int64
		for _, h := range g.health() {
			switch h.State {
			case StateHealthy:
				healthy++
			case StateUnhealthy:
				unhealthy++
			}
		}
		g.mu.Lock()
		for k, t := range g.targets {
			per[k] = t.counters.snapshot()
		}
		g.mu.Unlock()
		s.Counts[MetricHealthyHostCount] = healthy
		s.Counts[MetricUnHealthyHostCount] = unhealthy
		c.TargetGroups[arn] = s
		c.Targets[arn] = per
	}
	return c
}

// Addr is the address of the listener serving port, or nil.
func (n *Node) Addr(port int) net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ps := n.listeners[port]; ps != nil {
		return ps.ln.Addr()
	}
	return nil
}

// Close stops accepting, lets requests in flight finish until ctx ends,
// then ends the rest and stops health checks.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	servers := slices.Collect(maps.Values(n.listeners))
	n.listeners = map[int]*portServer{}
	n.mu.Unlock()

	var errs []error
	for _, ps := range servers {
		if err := ps.shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
	}
	n.cancel()
	for _, ps := range servers {
		_ = ps.srv.Close()
		<-ps.done
	}
	n.mu.Lock()
	for _, g := range n.groups {
		g.transport.Load().retire()
	}
	n.mu.Unlock()
	return errors.Join(errs...)
}

// portServer serves one listener port.
type portServer struct {
	port int
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

func (ps *portServer) shutdown(ctx context.Context) error {
	err := ps.srv.Shutdown(ctx)
	if err != nil {
		return fmt.Errorf("lb: listener %d: %w", ps.port, err)
	}
	return nil
}

// syncListeners opens the ports the configuration has and closes the
// others; a port whose protocol changes keeps its socket (each connection
// takes the protocol in force when it is accepted).
func (n *Node) syncListeners(ctx context.Context, ls []Listener) error {
	want := map[int]bool{}
	var errs []error
	for _, l := range ls {
		want[l.Port] = true
		if n.listeners[l.Port] != nil {
			continue
		}
		raw, err := n.opts.Listen(ctx, l.Port)
		if err != nil {
			errs = append(errs, fmt.Errorf("lb: listen on port %d: %w", l.Port, err))
			continue
		}
		n.listeners[l.Port] = n.serve(l.Port, raw)
	}
	for port, ps := range n.listeners {
		if !want[port] {
			delete(n.listeners, port)
			go func() {
				sctx, cancel := context.WithTimeout(context.Background(), n.snap.Load().idle)
				defer cancel()
				if err := ps.shutdown(sctx); err != nil {
					n.log.Debug("listener closed with connections open", "port", port, "err", err)
					_ = ps.srv.Close()
				}
			}()
		}
	}
	return errors.Join(errs...)
}

func (n *Node) serve(port int, raw net.Listener) *portServer {
	ps := &portServer{port: port, ln: raw, done: make(chan struct{})}
	ps.srv = &http.Server{
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.handle(port, w, r) }),
		ConnState:      n.connState,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       log.New(serverLogWriter{n}, "", 0),
		BaseContext:    func(net.Listener) context.Context { return n.ctx },
	}
	ln := &nodeListener{Listener: raw, n: n, port: port}
	ln.tls = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		return n.tlsConfig(port), nil
	}}
	go func() {
		defer close(ps.done)
		if err := ps.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("listener stopped", "port", port, "err", err)
		}
	}()
	return ps
}

// tlsConfig is an HTTPS listener's TLS settings for one handshake, from
// the configuration in force.
func (n *Node) tlsConfig(port int) *tls.Config {
	l := n.snap.Load().listeners[port]
	protos := []string{"h2", "http/1.1"}
	if l == nil || n.snap.Load().cfg.HTTP2Disabled {
		protos = []string{"http/1.1"}
	}
	var certs []string
	c := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: protos}
	if l != nil {
		certs = l.Certificates
		if p := l.TLS; p != nil {
			c.MinVersion, c.MaxVersion, c.CipherSuites = p.MinVersion, p.MaxVersion, p.CipherSuites
		}
	}
	c.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return n.certificateFor(hello, certs)
	}
	return c
}

// certificateFor picks the listener's certificate for a handshake: the
// first whose names cover the SNI name, else the default (the first).
func (n *Node) certificateFor(hello *tls.ClientHelloInfo, arns []string) (*tls.Certificate, error) {
	if len(arns) == 0 {
		return nil, errors.New("lb: listener has no certificate")
	}
	var def *tls.Certificate
	for i, arn := range arns {
		c, err := n.opts.Certificate(hello.Context(), arn)
		if err != nil {
			n.log.Warn("certificate unavailable", "certificate", arn, "err", err)
			continue
		}
		if i == 0 {
			def = c
		}
		if hello.ServerName != "" && leafCovers(c, hello.ServerName) {
			return c, nil
		}
	}
	if def == nil {
		return nil, fmt.Errorf("lb: default certificate %s unavailable", arns[0])
	}
	return def, nil
}

func leafCovers(c *tls.Certificate, name string) bool {
	leaf := c.Leaf
	if leaf == nil {
		if len(c.Certificate) == 0 {
			return false
		}
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return false
		}
	}
	return leaf.VerifyHostname(name) == nil
}

// nodeListener counts and wraps accepted connections, refuses those past
// MaxConnections, and starts TLS on HTTPS ports.
type nodeListener struct {
	net.Listener
	n    *Node
	port int
	tls  *tls.Config
}

func (l *nodeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if max := l.n.opts.MaxConnections; max > 0 && l.n.counters.v[mActiveConnections].Load() >= int64(max) {
			l.n.counters.add(mRejectedConnections, 1)
			_ = c.Close()
			continue
		}
		cl := l.n.snap.Load().listeners[l.port]
		https := cl != nil && cl.Protocol == HTTPS
		tc := newTrackedConn(c, l.n, !https)
		if https {
			return tls.Server(tc, l.tls), nil
		}
		return tc, nil
	}
}

// connState runs the idle timeout: a connection waiting for a request (new
// or between keep-alive requests, HTTP/2 without open streams) closes
// after it.
func (n *Node) connState(c net.Conn, s http.ConnState) {
	t := trackedOf(c)
	if t == nil {
		return
	}
	switch s {
	case http.StateNew, http.StateIdle:
		t.armIdle(n.snap.Load().idle)
	default:
		t.stopIdle()
	}
}

// serverLogWriter takes net/http's server log lines: TLS handshake
// failures are ClientTLSNegotiationErrorCount; the rest is debug noise
// (clients resetting connections).
type serverLogWriter struct{ n *Node }

func (w serverLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if strings.Contains(line, "TLS handshake error") {
		w.n.counters.add(mClientTLSErrors, 1)
	}
	w.n.log.Debug("http server", "msg", line)
	return len(p), nil
}

// slogWriter sends a log.Logger's lines to slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimSpace(string(p)))
	return len(p), nil
}

// copyBuffers are the buffers ReverseProxy copies answers' bodies with.
// Without a pool it makes a 32 KiB buffer per request, which the
// collector then has to reclaim: for small answers that was the largest
// allocation on a request's path.
var copyBuffers = &bufferPool{}

// bufferPool is an httputil.BufferPool of 32 KiB buffers (the size
// ReverseProxy uses without one).
type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == copyBufferSize {
		buf = buf[:copyBufferSize]
		b.p.Put(&buf)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
