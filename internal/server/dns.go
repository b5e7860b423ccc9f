package server

import (
	"fmt"
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

// startDNS starts the authoritative server for Route 53's public zones. In
// auto mode it tries 127.0.0.1:53, then DNSFallbackAddr, and runs without
// DNS (saying why in health) when neither is free, so that several minicloud
// processes can share a host; an explicit address must be free.
func (s *Server) startDNS() error {
	addr := s.cfg.DNSListen
	if addr == "" || addr == DNSListenOff {
		s.dnsReason = "off (--dns-listen=off)"
		return nil
	}
	try := []string{addr}
	if addr == DNSListenAuto {
		try = []string{"127.0.0.1:53", DNSFallbackAddr}
	}
	var lastErr error
	for _, a := range try {
		srv := dns53.New(dns53.Config{Source: s.route53.Source(), Endpoints: dnszone.EndpointSources{s.rds.EndpointSource()}, Upstreams: dnsUpstreamsExcept(a), Logger: s.cfg.Logger})
		if err := srv.Start(a); err != nil {
			lastErr = err
			continue
		}
		s.dns = srv
		return nil
	}
	if addr == DNSListenAuto {
		s.dnsReason = fmt.Sprintf("off: could not listen on %v: %v", try, lastErr)
		s.cfg.Logger.Warn("DNS server not started", "reason", s.dnsReason)
		return nil
	}
	return fmt.Errorf("DNS on %s: %w", addr, lastErr)
}

// DNSAddr is where the DNS server listens, "" when it does not.
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

func (s *Server) dnsHealth() map[string]any {
	if s.dns == nil {
		return map[string]any{"state": s.dnsReason}
	}
	return map[string]any{"state": "on", "listen": s.dns.Addr(), "status": s.dns.Status()}
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
