package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// A web page the developer visits must not be able to drive minicloud:
// with the data plane on, RunInstances runs code as root on this machine.
// Two ways in are closed here, for every request (the AWS APIs and
// /_minicloud/* alike):
//
//   - Cross-site requests. A page can send a "simple" cross-origin POST
//     (a form: application/x-www-form-urlencoded, which is the query
//     protocol) without any preflight. Browsers mark such requests with
//     an Origin header and Sec-Fetch-Site; AWS's clients send neither. A
//     request is refused when its Origin is not on this machine (loopback
//     or localhost: a console or a developer's own app served locally),
//     is "null" (sandboxed frames, files), or Sec-Fetch-Site says
//     cross-site.
//   - DNS rebinding. A page on attacker.example can make its name resolve
//     to 127.0.0.1 and then talk to minicloud "same-origin"; its requests
//     carry Host: attacker.example. A request is refused unless its Host
//     is an IP address, localhost or a name under it, an AWS endpoint name
//     (…amazonaws.com, as when a client's endpoint is resolved to
//     minicloud, and as every SDK in an instance sends to the in-VPC
//     listener of package vpcapi), or a name configured with
//     Config.AllowedHosts.
//
// The refusal is an AWS-shaped 403 in the format the request's content
// type suggests, and nothing of the request is acted on.

// awsDomains are the endpoint domains of AWS's partitions that clients may
// be pointed at minicloud with.
var awsDomains = []string{"amazonaws.com", "amazonaws.com.cn", "api.aws", "c2s.ic.gov", "sc2s.sgov.gov"}

// refusal reports why r must be refused, or "" to serve it.
func (g *Gateway) refusal(r *http.Request) string {
	if !g.hostAllowed(r.Host) {
		return "minicloud refuses requests for host " + quoteHeader(r.Host) + ": a web page using DNS rebinding sends such a Host. " +
			"Use 127.0.0.1, localhost or an AWS endpoint name, or allow the name with --allow-host."
	}
	if o := r.Header.Get("Origin"); o != "" && !localOrigin(o) {
		return "minicloud refuses requests from web pages (Origin " + quoteHeader(o) + "): a page could otherwise drive this machine's cloud."
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return "minicloud refuses cross-site requests from web pages (Sec-Fetch-Site: cross-site)."
	}
	return ""
}

// hostAllowed reports whether a Host header may reach minicloud.
func (g *Gateway) hostAllowed(hostport string) bool {
	if hostport == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, d := range awsDomains {
		if strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	for _, a := range g.cfg.AllowedHosts {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if host == a || strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]) {
			return true
		}
	}
	return false
}

// localOrigin reports whether a browser Origin is a page served by this
// machine: loopback or localhost, any port.
func localOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// quoteHeader quotes a header value for a message, cut short.
func quoteHeader(v string) string {
	return "\"" + truncate(strings.ToValidUTF8(v, "?"), 100) + "\""
}
