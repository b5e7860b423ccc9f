package route53

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minicloud/minicloud/internal/api/route53api"
)

// allowedTarget reports whether the checker may probe a: loopback, and
// minicloud's public range only when the data plane keeps that range on the
// host (SetPublicRange); never the outside world.
func (c *checker) allowedTarget(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() {
		return true
	}
	p := c.public.Load()
	return p != nil && p.Contains(a)
}

// observation is the result of the last probe.
type observation struct {
	status  string // "Success: …" or "Failure: …"
	checked time.Time
	source  string
}

// check is one health check's probing state.
type check struct {
	cfg    route53api.HealthCheckConfig
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	healthy bool
	streak  int // consecutive results disagreeing with healthy
	last    *observation
}

// checker probes every health check on its RequestInterval. A new check is
// healthy; it turns unhealthy after FailureThreshold consecutive failures
// and healthy again after as many consecutive successes, as AWS documents.
// Disabled checks are healthy and not probed; Inverted flips each result.
type checker struct {
	interval atomic.Int64 // override of RequestInterval (0: none)
	// public is the public range the data plane routes on the host; nil
	// when there is none, and then only loopback is probed.
	public atomic.Pointer[netip.Prefix]
	// resolve looks a name up in minicloud's own public zones: a health
	// check's FullyQualifiedDomainName is never sent to the host's
	// resolvers, which may be outside the machine.
	resolve func(name string) (netip.Addr, bool)

	mu      sync.Mutex
	running bool
	ctx     context.Context
	stopAll context.CancelFunc
	checks  map[string]*check
}

func newChecker() *checker { return &checker{checks: map[string]*check{}} }

func (c *checker) setInterval(d time.Duration) {
	c.interval.Store(int64(d))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		for id, ch := range c.checks {
			c.restartLocked(id, ch.cfg)
		}
	}
}

func (c *checker) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return
	}
	c.running = true
	c.ctx, c.stopAll = context.WithCancel(context.Background())
	for id, ch := range c.checks {
		c.restartLocked(id, ch.cfg)
	}
}

func (c *checker) stop() {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	c.running = false
	c.stopAll()
	var waits []chan struct{}
	for _, ch := range c.checks {
		if ch.done != nil {
			waits = append(waits, ch.done)
			ch.done = nil
		}
	}
	c.mu.Unlock()
	for _, w := range waits {
		<-w
	}
}

// set adds or reconfigures a check, keeping its current status.
func (c *checker) set(id string, cfg route53api.HealthCheckConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restartLocked(id, cfg)
}

func (c *checker) restartLocked(id string, cfg route53api.HealthCheckConfig) {
	old := c.checks[id]
	ch := &check{cfg: cfg, healthy: true}
	if old != nil {
		old.mu.Lock()
		ch.healthy, ch.last = old.healthy, old.last
		old.mu.Unlock()
		if old.cancel != nil {
			old.cancel()
		}
	}
	c.checks[id] = ch
	if !c.running {
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	ch.cancel, ch.done = cancel, make(chan struct{})
	go c.run(ctx, ch)
}

func (c *checker) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.checks[id]; ch != nil && ch.cancel != nil {
		ch.cancel()
	}
	delete(c.checks, id)
}

// reset forgets every check (after a store reset).
func (c *checker) reset(keep map[string]route53api.HealthCheckConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.checks {
		if _, ok := keep[id]; !ok {
			if ch.cancel != nil {
				ch.cancel()
			}
			delete(c.checks, id)
		}
	}
	for id, cfg := range keep {
		if _, ok := c.checks[id]; !ok {
			c.restartLocked(id, cfg)
		}
	}
}

func (c *checker) get(id string) *check {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks[id]
}

// healthy reports a check's status; unknown checks are healthy.
func (c *checker) healthy(id string) bool {
	ch := c.get(id)
	if ch == nil {
		return true
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.healthy || deref(ch.cfg.Disabled)
}

func (c *checker) observation(id string) (observation, bool) {
	ch := c.get(id)
	if ch == nil {
		return observation{}, false
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.last == nil {
		return observation{}, false
	}
	return *ch.last, true
}

func (c *checker) run(ctx context.Context, ch *check) {
	defer close(ch.done)
	every := time.Duration(deref(ch.cfg.RequestInterval)) * time.Second
	if d := time.Duration(c.interval.Load()); d > 0 {
		every = d
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if !deref(ch.cfg.Disabled) {
			ok, obs := c.probe(ctx, ch.cfg, min(4*time.Second, max(every, time.Second)))
			if ctx.Err() != nil {
				return
			}
			if deref(ch.cfg.Inverted) {
				ok = !ok
			}
			ch.mu.Lock()
			ch.last = &obs
			if ok != ch.healthy {
				ch.streak++
				if ch.streak >= int(deref(ch.cfg.FailureThreshold)) {
					ch.healthy, ch.streak = ok, 0
				}
			} else {
				ch.streak = 0
			}
			ch.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe runs one check of cfg. Targets outside loopback and minicloud's
// public range are refused (a failure), never contacted.
func (c *checker) probe(ctx context.Context, cfg route53api.HealthCheckConfig, timeout time.Duration) (bool, observation) {
	obs := observation{checked: time.Now().UTC().Truncate(time.Second), source: "127.0.0.1"}
	fail := func(format string, args ...any) (bool, observation) {
		obs.status = "Failure: " + fmt.Sprintf(format, args...)
		return false, obs
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var addr netip.Addr
	if cfg.IPAddress != nil {
		a, err := netip.ParseAddr(*cfg.IPAddress)
		if err != nil {
			return fail("Invalid IP address %s.", *cfg.IPAddress)
		}
		addr = a
	} else {
		a, ok := netip.Addr{}, false
		if c.resolve != nil {
			a, ok = c.resolve(deref(cfg.FullyQualifiedDomainName))
		}
		if !ok {
			return fail("DNS resolution failed: %s (minicloud resolves health check names in its own public hosted zones only).", deref(cfg.FullyQualifiedDomainName))
		}
		addr = a
	}
	if !c.allowedTarget(addr) {
		return fail("Refused by minicloud: %s is neither loopback nor in the public range its data plane keeps on this host.", addr.Unmap())
	}
	hostport := net.JoinHostPort(addr.Unmap().String(), strconv.Itoa(int(deref(cfg.Port))))
	typ := deref(cfg.Type)
	if typ == "TCP" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", hostport)
		if err != nil {
			return fail("%s", dialReason(err))
		}
		if la, ok := conn.LocalAddr().(*net.TCPAddr); ok {
			obs.source = la.IP.String()
		}
		_ = conn.Close()
		obs.status = "Success: TCP connection established"
		return true, obs
	}
	scheme := "http"
	if strings.HasPrefix(typ, "HTTPS") {
		scheme = "https"
	}
	path := deref(cfg.ResourcePath)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+hostport+path, nil)
	if err != nil {
		return fail("%v", err)
	}
	if fqdn := deref(cfg.FullyQualifiedDomainName); fqdn != "" {
		req.Host = fqdn
	}
	req.Header.Set("User-Agent", "Amazon-Route53-Health-Check-Service (ref minicloud; report http://amzn.to/1vsZADi)")
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // AWS does not verify certificates either
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	if deref(cfg.EnableSNI) && deref(cfg.FullyQualifiedDomainName) != "" {
		tr.TLSClientConfig.ServerName = deref(cfg.FullyQualifiedDomainName)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fail("%s", dialReason(err))
	}
	defer resp.Body.Close()
	code := fmt.Sprintf("HTTP Status Code %d, %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fail("%s", code)
	}
	if strings.HasSuffix(typ, "_STR_MATCH") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 5120))
		if !strings.Contains(string(body), deref(cfg.SearchString)) {
			return fail("String '%s' was not found in the first 5120 bytes of the response body. %s", deref(cfg.SearchString), code)
		}
	}
	obs.status = "Success: " + code
	return true, obs
}

func dialReason(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
	case strings.Contains(err.Error(), "refused"):
		return "Connection refused."
	}
	return "Connection failed: " + err.Error()
}
