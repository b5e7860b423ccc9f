package lb

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
)

// serverHeader is what an ALB puts in the Server header of the answers it
// writes itself (errors, redirects, fixed responses).
const serverHeader = "awselb/2.0"

// Status codes an ALB uses beyond the standard ones (ALB user guide,
// "Troubleshoot your Application Load Balancers": HTTP 460, HTTP 463).
const (
	// StatusClientClosed is logged and counted when the client closed the
	// connection before the load balancer could answer; nothing is sent.
	StatusClientClosed = 460
	// StatusTooManyForwardedIPs answers a request whose X-Forwarded-For
	// header holds more than 30 addresses.
	StatusTooManyForwardedIPs = 463
)

// maxForwardedIPs is ALB's limit of addresses in X-Forwarded-For.
const maxForwardedIPs = 30

// pageTexts are the reason phrases of ALB's own pages where they differ
// from Go's: ALB's pages read as nginx's do ("503 Service Temporarily
// Unavailable", "504 Gateway Time-out").
var pageTexts = map[int]string{
	http.StatusServiceUnavailable:    "Service Temporarily Unavailable",
	http.StatusGatewayTimeout:        "Gateway Time-out",
	http.StatusRequestEntityTooLarge: "Request Entity Too Large",
	StatusClientClosed:               "",
	StatusTooManyForwardedIPs:        "",
}

// statusText is the reason phrase of one of ALB's own answers.
func statusText(code int) string {
	if t, ok := pageTexts[code]; ok {
		return t
	}
	return http.StatusText(code)
}

// errorPage is the HTML body ALB writes for an error it generates, as
// clients see it ("<center><h1>502 Bad Gateway</h1></center>"…).
func errorPage(code int) []byte {
	title := strconv.Itoa(code)
	if t := statusText(code); t != "" {
		title += " " + t
	}
	return fmt.Appendf(nil, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n</body>\r\n</html>\r\n", title, title)
}

// writeELBError writes one of the load balancer's own error answers.
func writeELBError(w http.ResponseWriter, code int) {
	body := errorPage(code)
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Server", serverHeader)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// rawErrorResponse is a whole HTTP/1.1 answer with AWS's page, for a
// connection that Go's server refuses before any handler runs.
func rawErrorResponse(code int) []byte {
	body := errorPage(code)
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nServer: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", code, statusText(code), serverHeader, len(body))
	b.Write(body)
	return b.Bytes()
}
