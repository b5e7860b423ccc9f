package vpcdns

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
	"github.com/minicloud/minicloud/internal/guestlimit"
)

// TTLs of what the resolver makes up itself.
const (
	// InstanceTTL is the TTL of the EC2 names (A and PTR), as AWS's
	// resolver answers them.
	InstanceTTL = 60
	// maxCNAME bounds CNAME chains.
	maxCNAME = 8
	// ourUDPSize is the EDNS buffer size the resolver advertises (DNS flag
	// day 2020); maxUDPSize caps what a client may ask for.
	ourUDPSize = 1232
	maxUDPSize = 4096
)

// instanceData is the name of the metadata service in the private zone.
var instanceData = netip.MustParseAddr("169.254.169.254")

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, isTCP := w.LocalAddr().(*net.TCPAddr)
	client := guestlimit.RemoteIP(w.RemoteAddr())
	if !s.g.begin(client) {
		if isTCP {
			_ = w.Close()
		}
		return
	}
	defer s.g.end(client)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(s.cfg.Upstreams)+1)*2*s.timeout)
	defer cancel()
	resp := s.answer(ctx, req, isTCP)
	if resp == nil {
		return
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("vpcdns: write", "err", err)
	}
}

// answer builds the response to req, nil to send none (resolver off). It
// never panics on a parsed message and always returns a packable message.
func (s *Server) answer(ctx context.Context, req *dns.Msg, tcp bool) *dns.Msg {
	v := s.vpc.Load()
	if !v.EnableDNSSupport || req == nil || req.Response {
		return nil
	}
	resp := new(dns.Msg)
	if len(req.Question) != 1 {
		resp.SetRcodeFormatError(req)
		resp.Question = nil
		return resp
	}
	resp.SetReply(req)
	resp.RecursionAvailable = true
	resp.Compress = true
	opt := req.IsEdns0()
	if opt != nil {
		if opt.Version() != 0 {
			resp.Rcode = dns.RcodeBadVers
			resp.SetEdns0(ourUDPSize, false)
			return resp
		}
	}
	q := req.Question[0]
	switch {
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY,
		q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused
	default:
		if out := s.resolve(ctx, v, req, resp); out != resp {
			// Forwarded: the upstream's message, EDNS included.
			resp = out
			resp.Id = req.Id
			resp.Compress = true
			return limit(resp, req, tcp)
		}
	}
	if opt != nil {
		resp.SetEdns0(ourUDPSize, opt.Do())
	}
	return limit(resp, req, tcp)
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

// view is what one query sees.
type view struct {
	vpc     *VPCInfo
	hosts   []Host
	private *zone
	public  *zone // the public names of hosts with a public IP
	hosted  []*zone
	ends    dnszone.EndpointSets
}

func (s *Server) view(v *VPCInfo) *view {
	w := &view{vpc: v}
	if s.cfg.Hosts != nil {
		w.hosts = s.cfg.Hosts()
	}
	w.private = newZone(PrivateZone(v.Region), InstanceTTL, InstanceTTL)
	w.private.add(&dns.A{Hdr: hdr("instance-data."+w.private.apex, dns.TypeA), A: instanceData.AsSlice()})
	if v.EnableDNSHostnames {
		w.public = newZone(PublicZone(v.Region), InstanceTTL, InstanceTTL)
	}
	seen := map[netip.Addr]bool{}
	for _, h := range w.hosts {
		ip := h.PrivateIP.Unmap()
		if !ip.Is4() || seen[ip] {
			continue
		}
		seen[ip] = true
		w.private.add(&dns.A{Hdr: hdr(PrivateName(v.Region, ip), dns.TypeA), A: ip.AsSlice()})
		for _, n := range h.Names {
			if n = canonical(n); dns.IsSubDomain(w.private.apex, n) && n != w.private.apex {
				w.private.add(&dns.A{Hdr: hdr(n, dns.TypeA), A: ip.AsSlice()})
			}
		}
		if pub := h.PublicIP.Unmap(); w.public != nil && pub.Is4() {
			w.public.add(&dns.A{Hdr: hdr(PublicName(v.Region, pub), dns.TypeA), A: ip.AsSlice()})
		}
	}
	w.ends = s.cfg.Endpoints.Sets()
	if s.cfg.VPCEndpoints != nil {
		w.ends = append(w.ends, s.cfg.VPCEndpoints()...)
	}
	w.hosted = s.hostedZones(v.ID)
	return w
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: canonical(name), Rrtype: t, Class: dns.ClassINET, Ttl: InstanceTTL}
}

// zoneFor is the most specific zone the resolver answers name's qtype
// question from, nil when the name is to be forwarded.
func (w *view) zoneFor(name string, qtype uint16) *zone {
	var best *zone
	consider := func(z *zone) {
		if z != nil && dns.IsSubDomain(z.apex, name) && (best == nil || len(z.apex) > len(best.apex)) {
			best = z
		}
	}
	consider(w.private)
	for _, z := range w.hosted {
		consider(z)
	}
	consider(w.reverseZone(name))
	if set := w.ends.For(name); set != nil {
		consider(endpointZone(set, name, w.vpc, qtype == dns.TypeA || qtype == dns.TypeANY))
	}
	// Public names: only the hosts' own names are answered (split
	// horizon); the rest of the public zone belongs to the internet.
	if w.public != nil {
		if _, ok := w.public.names[name]; ok {
			consider(w.public)
		}
		if z := w.publicReverse(name); z != nil {
			consider(z)
		}
	}
	return best
}

// reverseZone is the in-addr.arpa zone holding name when name is inside a
// VPC CIDR block: the block's reverse zones are cut at octet boundaries
// (a /16 is one zone, 0.10.in-addr.arpa; a /20 sixteen /24 zones).
func (w *view) reverseZone(name string) *zone {
	p, ok := parseReverse(name)
	if !ok {
		return nil
	}
	for _, c := range w.vpc.CIDRs {
		if !c.Addr().Is4() {
			continue
		}
		zb := (c.Bits() + 7) / 8 * 8
		if p.Bits() < zb || !c.Contains(p.Addr()) {
			continue
		}
		zp := netip.PrefixFrom(p.Addr(), zb).Masked()
		z := newZone(reverseName(zp.Addr(), zb), InstanceTTL, InstanceTTL)
		for _, h := range w.hosts {
			if ip := h.PrivateIP.Unmap(); zp.Contains(ip) {
				z.add(&dns.PTR{Hdr: hdr(reverseName(ip, 32), dns.TypePTR), Ptr: PrivateName(w.vpc.Region, ip) + "."})
			}
		}
		return z
	}
	return nil
}

// publicReverse answers the PTR of a host's public IP with its public name
// (a zone of that one name).
func (w *view) publicReverse(name string) *zone {
	p, ok := parseReverse(name)
	if !ok || p.Bits() != 32 {
		return nil
	}
	for _, h := range w.hosts {
		if h.PublicIP.Unmap() == p.Addr() {
			z := newZone(name, InstanceTTL, InstanceTTL)
			z.add(&dns.PTR{Hdr: hdr(name, dns.TypePTR), Ptr: PublicName(w.vpc.Region, p.Addr()) + "."})
			return z
		}
	}
	return nil
}

// resolve fills resp from the VPC's own data, or returns the upstream's
// answer for names it does not own (or SERVFAIL).
func (s *Server) resolve(ctx context.Context, v *VPCInfo, req, resp *dns.Msg) *dns.Msg {
	q := req.Question[0]
	w := s.view(v)
	name, owner := canonical(q.Name), q.Name
	z := w.zoneFor(name, q.Qtype)
	if z == nil {
		return s.forward(ctx, req, resp)
	}
	for hop := 0; ; hop++ {
		r := z.lookup(name, owner, q.Qtype)
		resp.Answer = append(resp.Answer, r.answer...)
		resp.Rcode = r.rcode
		if r.cname == "" {
			if r.rcode == dns.RcodeNameError || (r.rcode == dns.RcodeSuccess && len(r.answer) == 0) {
				resp.Ns = []dns.RR{z.negativeSOA()}
			}
			return resp
		}
		if hop == maxCNAME {
			resp.Rcode, resp.Answer = dns.RcodeServerFailure, nil
			return resp
		}
		name, owner = r.cname, r.cname
		if z = w.zoneFor(name, q.Qtype); z == nil {
			// A target outside the VPC's zones: resolve it upstream.
			sub := new(dns.Msg)
			sub.SetQuestion(name, q.Qtype)
			sub.RecursionDesired = true
			if opt := req.IsEdns0(); opt != nil {
				sub.SetEdns0(opt.UDPSize(), opt.Do())
			}
			fr := s.forward(ctx, sub, nil)
			if fr == nil {
				resp.Rcode = dns.RcodeServerFailure
				return resp
			}
			resp.Rcode = fr.Rcode
			resp.Answer = append(resp.Answer, fr.Answer...)
			resp.Ns = fr.Ns
			return resp
		}
	}
}

// forward sends req to the upstreams in order and returns the first
// usable answer. Without upstreams, or when none answers, it returns
// fallback with SERVFAIL (nil when fallback is nil).
func (s *Server) forward(ctx context.Context, req, fallback *dns.Msg) *dns.Msg {
	fail := func() *dns.Msg {
		if fallback != nil {
			fallback.Rcode = dns.RcodeServerFailure
		}
		return fallback
	}
	if len(s.cfg.Upstreams) == 0 {
		return fail()
	}
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
			s.log.Debug("vpcdns: upstream", "upstream", up, "name", m.Question[0].Name, "err", err)
			continue
		}
		if r.Rcode == dns.RcodeServerFailure || r.Rcode == dns.RcodeRefused {
			last = r
			continue
		}
		return r
	}
	if last != nil {
		return last
	}
	return fail()
}

// exchange is one query to one upstream: UDP, then TCP when truncated.
func (s *Server) exchange(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
	// The socket to the upstream is one more descriptor a guest's query
	// makes minicloud hold.
	if !s.g.forwardSlot() {
		return nil, errNoBudget
	}
	defer s.g.budget.Release()
	c := &dns.Client{Net: "udp", Timeout: s.timeout}
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
