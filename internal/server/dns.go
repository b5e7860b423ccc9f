package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/dns53"
	"github.com/minicloud/minicloud/internal/dnszone"
)

// DNS listen modes (--dns-listen): an address, "off", or DNSListenAuto.
const (
	DNSListenOff  = "off"
	DNSListenAuto = "auto"
	// DNSFallbackAddr is where DNSListenAuto listens when 127.0.0.1:53 is
	// taken or not permitted.
	DNSFallbackAddr = "127.0.0.1:8053"
)

// dnsServer is the authoritative DNS server for Route 53's public zones
// and RDS's endpoint names, as a listener part: Server.Start starts it.
type dnsServer struct {
	listen    string // Config.DNSListen
	zones     dnszone.Source
	endpoints dnszone.EndpointSources
	onQuery   func(dns53.Query) // Route 53's query logging
	logger    *slog.Logger
	srv       *dns53.Server // nil when not listening
	reason    string        // why not, when not
}

// Start listens. In auto mode it tries 127.0.0.1:53, then DNSFallbackAddr,
// and runs without DNS (saying why in health) when neither is free, so that
// several minicloud processes can share a host; an explicit address must be
// free.
func (d *dnsServer) Start(context.Context) error {
	addr := d.listen
	if addr == "" || addr == DNSListenOff {
		d.reason = "off (--dns-listen=off)"
		return nil
	}
	try := []string{addr}
	if addr == DNSListenAuto {
		try = []string{"127.0.0.1:53", DNSFallbackAddr}
	}
	var lastErr error
	for _, a := range try {
		srv := dns53.New(dns53.Config{Source: d.zones, Endpoints: d.endpoints, Upstreams: dnsUpstreamsExcept(a), OnQuery: d.onQuery, Logger: d.logger})
		if err := srv.Start(a); err != nil {
			lastErr = err
			continue
		}
		d.srv = srv
		return nil
	}
	if addr == DNSListenAuto {
		d.reason = fmt.Sprintf("off: could not listen on %v: %v", try, lastErr)
		d.logger.Warn("DNS server not started", "reason", d.reason)
		return nil
	}
	return fmt.Errorf("DNS on %s: %w", addr, lastErr)
}

// Stop stops listening.
func (d *dnsServer) Stop(context.Context) error {
	if d.srv != nil {
		d.srv.Stop()
	}
	return nil
}

// Health says where DNS listens, or why it does not.
func (d *dnsServer) Health() map[string]any {
	if d.srv == nil {
		return map[string]any{"state": d.reason}
	}
	return map[string]any{"state": "on", "listen": d.srv.Addr(), "status": d.srv.Status()}
}

// DNSAddr is where the DNS server listens, "" when it does not.
func (s *Server) DNSAddr() string {
	if s.dns.srv == nil {
		return ""
	}
	return s.dns.srv.Addr()
}

// dnsUpstreamsExcept is dnsUpstreams without the server's own address, so
// that it never forwards to itself.
func dnsUpstreamsExcept(listen string) []netip.AddrPort {
	self, err := netip.ParseAddrPort(listen)
	// A wildcard or unparsable listen address (":53", "0.0.0.0:53") covers
	// every loopback address on its port.
	wild := err != nil || self.Addr().IsUnspecified()
	portStr := listen[strings.LastIndex(listen, ":")+1:]
	var out []netip.AddrPort
	for _, u := range dnsUpstreams() {
		if u == self || (wild && strconv.Itoa(int(u.Port())) == portStr) {
			continue
		}
		out = append(out, u)
	}
	return out
}
