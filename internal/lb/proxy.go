package lb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// reqState is what the proxy's hooks need to know about a forwarded
// request. It is the forwarded request's context too (the request's own,
// ended also by the target's deregistration delay), so that the hooks
// find it without a context.WithValue per request.
type reqState struct {
	context.Context
	listener   *compiledListener
	mode       string // X-Forwarded-For mode
	xffPort    bool
	peer       netip.AddrPort
	group      *group
	groupIndex int
	target     *target
	addr       string
	start      time.Time
	clientCtx  context.Context
	idle       time.Duration
	// sticky cookies to set on the answer
	setLB, setApp, setTG bool
	tgSticky             time.Duration
}

type reqStateKey struct{}

// Value finds the state itself under reqStateKey, without walking the
// chain of contexts.
func (st *reqState) Value(key any) any {
	if _, ok := key.(reqStateKey); ok {
		return st
	}
	return st.Context.Value(key)
}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	return st
}

// handle serves one request on a listener port.
func (n *Node) handle(port int, w http.ResponseWriter, r *http.Request) {
	snap := n.snap.Load()
	l := snap.listeners[port]
	if l == nil {
		// The listener was removed; its last connections get this.
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if countForwarded(r.Header) > maxForwardedIPs {
		n.elbError(w, StatusTooManyForwardedIPs)
		return
	}
	if snap.cfg.DropInvalidHeaderFields {
		dropInvalidHeaders(r.Header)
	}
	a := n.route(l, r, peer.Addr())
	switch a.Type {
	case ActionRedirect:
		n.redirect(w, r, l, a.Redirect)
	case ActionFixedResponse:
		n.fixedResponse(w, a.FixedResponse)
	default:
		n.forward(w, r, snap, l, a, peer)
	}
}

// route evaluates the listener's rules in priority order.
func (n *Node) route(l *compiledListener, r *http.Request, peer netip.Addr) *compiledAction {
	for i := range l.rules {
		n.counters.add(mRuleEvaluations, 1)
		if l.rules[i].matches(r, peer) {
			return l.rules[i].action
		}
	}
	return l.defaultAction
}

func (n *Node) elbError(w http.ResponseWriter, code int) {
	n.counters.elbCode(code)
	writeELBError(w, code)
}

// countForwarded counts the addresses in X-Forwarded-For.
func countForwarded(h http.Header) int {
	c := 0
	for _, v := range h.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(part) != "" {
				c++
			}
		}
	}
	return c
}

// dropInvalidHeaders removes header fields whose names are not
// [-A-Za-z0-9]+ (routing.http.drop_invalid_header_fields.enabled).
func dropInvalidHeaders(h http.Header) {
	for name := range h {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				delete(h, name)
				break
			}
		}
	}
}

// redirect answers a redirect action. Components left empty keep the
// request's; #{protocol}, #{host}, #{port}, #{path} (without its leading
// '/') and #{query} are replaced by the request's (ALB user guide,
// "Redirect actions").
func (n *Node) redirect(w http.ResponseWriter, r *http.Request, l *compiledListener, rd *Redirect) {
	protocol := strings.ToLower(l.Protocol)
	vals := strings.NewReplacer(
		"#{protocol}", protocol,
		"#{host}", hostOnly(r.Host),
		"#{port}", strconv.Itoa(l.Port),
		"#{path}", strings.TrimPrefix(r.URL.EscapedPath(), "/"),
		"#{query}", r.URL.RawQuery,
	)
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	scheme := strings.ToLower(vals.Replace(or(rd.Protocol, "#{protocol}")))
	host := vals.Replace(or(rd.Host, "#{host}"))
	port := vals.Replace(or(rd.Port, "#{port}"))
	path := vals.Replace(or(rd.Path, "/#{path}"))
	query := vals.Replace(or(rd.Query, "#{query}"))
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	loc := scheme + "://" + host
	if !(scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		loc += ":" + port
	}
	loc += path
	if query != "" {
		loc += "?" + query
	}
	code := http.StatusFound
	if rd.StatusCode == "HTTP_301" {
		code = http.StatusMovedPermanently
	}
	n.counters.add(mRedirects, 1)
	n.counters.elbCode(code)
	body := errorPage(code)
	h := w.Header()
	h.Set("Server", serverHeader)
	h.Set("Location", loc)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// fixedResponse answers a fixed-response action.
func (n *Node) fixedResponse(w http.ResponseWriter, fr *FixedResponse) {
	code, err := strconv.Atoi(fr.StatusCode)
	if err != nil || code < 100 || code > 599 {
		n.elbError(w, http.StatusInternalServerError)
		return
	}
	n.counters.add(mFixedResponses, 1)
	if code >= 400 {
		n.counters.elbCode(code)
	}
	h := w.Header()
	h.Set("Server", serverHeader)
	ct := fr.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(fr.MessageBody)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, fr.MessageBody)
}

// forward sends the request to a target of the action's target groups.
func (n *Node) forward(w http.ResponseWriter, r *http.Request, snap *snapshot, l *compiledListener, a *compiledAction, peer netip.AddrPort) {
	now := time.Now()
	st := &reqState{
		listener: l, mode: snap.cfg.XFFMode, xffPort: snap.cfg.XFFClientPort, peer: peer,
		clientCtx: r.Context(), idle: snap.idle,
	}
	gi := n.pickGroup(r, a, now, st)
	if gi < 0 {
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	g := a.groups[gi]
	st.group, st.groupIndex = g, gi

	g.mu.Lock()
	sticky := g.cfg.Stickiness
	g.mu.Unlock()
	var prefer *TargetKey
	switch sticky.Type {
	case StickyLBCookie:
		prefer = n.stickyTarget(r, cookieLB, g.arn, now)
		st.setLB = true
	case StickyAppCookie:
		prefer = n.stickyTarget(r, appCookieName(gi), g.arn, now)
		st.setApp = true
	}
	t, addr := g.pick(prefer)
	if t == nil {
		// "The target groups for the load balancer have no registered
		// targets" (ALB troubleshooting guide, HTTP 503).
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	defer g.release(t)
	st.target, st.addr = t, addr
	n.counters.add(mRequestCount, 1)
	g.counters.add(mRequestCount, 1)
	t.counters.add(mRequestCount, 1)

	// The request ends when the target's deregistration delay runs out.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	st.Context = ctx
	st.start = time.Now()
	n.proxy.ServeHTTP(w, r.WithContext(st))
}

// pickGroup chooses the forward's target group: the AWSALBTG cookie's when
// group stickiness is on and it names one of them, else by weight (smooth
// weighted round robin: over N requests each group gets its share within
// one request). -1: every weight is 0.
func (n *Node) pickGroup(r *http.Request, a *compiledAction, now time.Time, st *reqState) int {
	if len(a.groups) == 1 {
		return 0
	}
	if a.GroupStickiness > 0 {
		st.setTG, st.tgSticky = true, a.GroupStickiness
		if v := requestCookie(r, cookieTG); v != "" {
			if arn, _, err := n.sealer.open(kindGroup, v, now); err == nil {
				for i, g := range a.groups {
					if g.arn == arn && a.weights[i] > 0 {
						return i
					}
				}
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var total int64
	best := -1
	for i, w := range a.weights {
		if w <= 0 {
			continue
		}
		a.cur[i] += w
		total += w
		if best < 0 || a.cur[i] > a.cur[best] {
			best = i
		}
	}
	if best >= 0 {
		a.cur[best] -= total
	}
	return best
}

// stickyTarget is the target a stickiness cookie names, if the cookie is
// one this load balancer sealed for this group and has not expired.
func (n *Node) stickyTarget(r *http.Request, cookie, groupARN string, now time.Time) *TargetKey {
	v := requestCookie(r, cookie)
	if v == "" {
		return nil
	}
	arn, key, err := n.sealer.open(kindTarget, v, now)
	if err != nil || arn != groupARN {
		return nil
	}
	return &key
}

// rewrite builds the request to the target: its address, and the headers
// ALB adds (ALB user guide, "HTTP headers and Application Load Balancers").
func (n *Node) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.In.Context())
	out := pr.Out
	st.group.mu.Lock()
	scheme := "http"
	if st.group.cfg.Protocol == HTTPS {
		scheme = "https"
	}
	st.group.mu.Unlock()
	out.URL.Scheme = scheme
	out.URL.Host = st.addr
	out.Host = pr.In.Host

	// ReverseProxy drops the client's X-Forwarded-* before Rewrite; ALB
	// passes X-Forwarded-Host and Forwarded through unchanged.
	for _, h := range []string{"X-Forwarded-Host", "Forwarded"} {
		if v := pr.In.Header.Values(h); len(v) > 0 {
			out.Header[h] = v
		}
	}
	var ab [len("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")]byte
	client := st.peer.Addr().AppendTo(ab[:0])
	if st.xffPort {
		client = st.peer.AppendTo(ab[:0])
	}
	// One backing array for the values of the headers set here, and keys
	// already canonical: fewer allocations per request than Header.Set.
	vals := make([]string, 4)
	prior := pr.In.Header.Values("X-Forwarded-For")
	switch st.mode {
	case XFFPreserve:
		if len(prior) > 0 {
			vals[0] = strings.Join(prior, ", ")
			out.Header["X-Forwarded-For"] = vals[0:1:1]
		}
	case XFFRemove:
		delete(out.Header, "X-Forwarded-For")
	default:
		if len(prior) > 0 {
			vals[0] = strings.Join(prior, ", ") + ", " + string(client)
		} else {
			vals[0] = string(client)
		}
		out.Header["X-Forwarded-For"] = vals[0:1:1]
	}
	vals[1], vals[2] = st.listener.xfProto, st.listener.xfPort
	vals[3] = traceID(pr.In.Header.Get("X-Amzn-Trace-Id"), time.Now())
	out.Header["X-Forwarded-Proto"] = vals[1:2:2]
	out.Header["X-Forwarded-Port"] = vals[2:3:3]
	out.Header["X-Amzn-Trace-Id"] = vals[3:4:4]
}

func (n *Node) roundTrip(r *http.Request) (*http.Response, error) {
	st := stateOf(r.Context())
	return st.group.transport.Load().RoundTrip(r)
}

// modifyResponse counts the target's answer and sets stickiness cookies.
func (n *Node) modifyResponse(res *http.Response) error {
	st := stateOf(res.Request.Context())
	rt := time.Since(st.start)
	for _, c := range []*counterSet{&n.counters, &st.group.counters, &st.target.counters} {
		c.targetCode(res.StatusCode)
		c.responseTime(rt)
	}
	now := time.Now()
	if st.setLB {
		d := n.stickyDuration(st.group)
		v := n.sealer.seal(kindTarget, now.Add(d), st.group.arn, st.target.key)
		setStickyCookies(res.Header, cookieLB, cookieLBCORS, v, now.Add(d))
	}
	if st.setApp && n.appCookieSet(st.group, res) {
		d := n.stickyDuration(st.group)
		v := n.sealer.seal(kindTarget, now.Add(d), st.group.arn, st.target.key)
		setStickyCookies(res.Header, appCookieName(st.groupIndex), "", v, now.Add(d))
	}
	if st.setTG {
		v := n.sealer.seal(kindGroup, now.Add(st.tgSticky), st.group.arn, TargetKey{})
		setStickyCookies(res.Header, cookieTG, cookieTGCORS, v, now.Add(st.tgSticky))
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := res.Body.(io.ReadWriteCloser); ok {
			res.Body = newActivityConn(rwc, st.idle)
		}
	}
	return nil
}

func (n *Node) stickyDuration(g *group) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d := g.cfg.Stickiness.Duration; d > 0 {
		return d
	}
	return defaultStickiness
}

// appCookieSet reports whether the target's answer sets the group's
// application cookie: ALB then (re)issues AWSALBAPP-n for that target.
func (n *Node) appCookieSet(g *group, res *http.Response) bool {
	g.mu.Lock()
	name := g.cfg.Stickiness.AppCookieName
	g.mu.Unlock()
	for _, c := range res.Cookies() {
		if c.Name == name {
			return true
		}
	}
	return false
}

// proxyError answers when the target gave no usable answer: 504 when it
// did not answer in time (connection or idle timeout), 460 (counted, not
// seen) when the client left first, 502 otherwise (refused, reset,
// malformed answer). ALB troubleshooting guide, "The load balancer
// generates an HTTP error".
func (n *Node) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r.Context())
	code := http.StatusBadGateway
	var ne net.Error
	switch {
	case st != nil && st.clientCtx.Err() != nil:
		code = StatusClientClosed
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		code = http.StatusGatewayTimeout
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" || code == http.StatusGatewayTimeout {
		n.counters.add(mTargetConnectionErrors, 1)
		if st != nil {
			st.group.counters.add(mTargetConnectionErrors, 1)
			st.target.counters.add(mTargetConnectionErrors, 1)
		}
	}
	n.log.Debug("target request failed", "status", code, "err", err)
	n.elbError(w, code)
}

// traceID is the X-Amzn-Trace-Id sent to the target. Without a valid
// incoming header, a new "Root=1-<seconds>-<96 bits>"; with one, its
// fields kept and a Self field (re)placed first: "If the header is present
// and has a valid Root field, the load balancer inserts a Self field …
// If the header is present and has a Self field, the load balancer updates
// the value of the Self field" (ALB user guide, "Request tracing for your
// Application Load Balancer").
func traceID(in string, now time.Time) string {
	if in == "" {
		var b [40]byte
		return string(appendTraceValue(append(b[:0], "Root="...), now))
	}
	id := newTraceValue(now)
	var fields []string
	valid := false
	for f := range strings.SplitSeq(in, ";") {
		f = strings.TrimSpace(f)
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "Self":
			continue
		case "Root":
			valid = validTraceValue(v)
		}
		if f != "" {
			fields = append(fields, f)
		}
	}
	if !valid {
		return "Root=" + id
	}
	return "Self=" + id + ";" + strings.Join(fields, ";")
}

func newTraceValue(now time.Time) string {
	var b [35]byte
	return string(appendTraceValue(b[:0], now))
}

// appendTraceValue appends "1-<8 hex seconds>-<24 hex random>".
func appendTraceValue(dst []byte, now time.Time) []byte {
	var r [12]byte
	_, _ = rand.Read(r[:])
	dst = append(dst, "1-"...)
	sec := uint32(now.Unix())
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, "0123456789abcdef"[sec>>shift&0xf])
	}
	dst = append(dst, '-')
	return hex.AppendEncode(dst, r[:])
}

// validTraceValue checks "1-<8 hex>-<24 hex>".
func validTraceValue(v string) bool {
	if len(v) != 35 || v[:2] != "1-" || v[10] != '-' {
		return false
	}
	for _, c := range v[2:10] + v[11:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
