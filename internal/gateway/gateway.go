package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/state"
)

// DefaultAccount is the account of any access key not mapped to another.
const DefaultAccount = "000000000000"

// DefaultRegion is the region of unsigned requests.
const DefaultRegion = "us-east-1"

// MaxBodyBytes bounds request bodies. No operation minicloud serves outside S3
// takes more; S3 object bodies will get their own limit.
const MaxBodyBytes = 16 << 20

// Config configures a Gateway.
type Config struct {
	Backends []Backend
	// Accounts maps access key IDs to account IDs; see AccountFor.
	Accounts   map[string]string
	Identities api.Identities
	Logger     *slog.Logger
	Version    string
	// Health adds entries to the health report (data planes, DNS, …).
	Health func() map[string]any
	// Reset wipes all state and stops everything minicloud started.
	Reset func(ctx context.Context) error
	// Diagram draws an account's architecture in a region as Mermaid text.
	Diagram func(ctx context.Context, account, region string) (string, error)
	// KnownRegion reports whether a region exists (EC2's region list); the
	// diagram refuses others with 400.
	KnownRegion func(region string) bool
	// AllowedHosts are further names the Host header may carry (besides
	// IP addresses, localhost and AWS endpoint names; see guard.go): the
	// name minicloud is reached by in a container network, say. "*.name"
	// allows the names under name.
	AllowedHosts []string
}

// Gateway is the http.Handler of minicloud's one port.
type Gateway struct {
	cfg     Config
	router  *router
	log     *slog.Logger
	started time.Time
}

// New returns a Gateway serving cfg's backends.
func New(cfg Config) *Gateway {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gateway{cfg: cfg, router: newRouter(cfg.Backends), log: cfg.Logger, started: time.Now()}
}

// AccountFor maps an access key to its account: an explicit mapping first,
// then a key that is itself a 12-digit account ID (a LocalStack convention
// that test suites rely on), else the default account.
func AccountFor(accounts map[string]string, accessKey string) string {
	if a, ok := accounts[accessKey]; ok {
		return a
	}
	if len(accessKey) == 12 && strings.Trim(accessKey, "0123456789") == "" {
		return accessKey
	}
	return DefaultAccount
}

// ServeHTTP serves one request. A panic in a handler becomes an
// InternalFailure for that request only.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := state.NewRequestID()
	internal := strings.HasPrefix(r.URL.Path, "/_minicloud/") || r.URL.Path == "/moto-api/reset"
	if why := g.refusal(r); why != "" {
		g.log.Warn("request refused", "why", why, "path", r.URL.Path, "remote", r.RemoteAddr)
		if internal {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": why})
			return
		}
		code := "AccessDenied"
		if ct := contentType(r.Header); strings.Contains(ct, "json") || strings.Contains(ct, "cbor") || r.Header.Get("X-Amz-Target") != "" {
			code = "AccessDeniedException"
		}
		writeRaw(w, genericError(r, reqID, http.StatusForbidden, code, why))
		return
	}
	if internal {
		g.serveInternal(w, r)
		return
	}
	status, svcName, opName := 0, "", ""
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("handler panic", "service", svcName, "operation", opName, "panic", p, "stack", string(debug.Stack()))
			writeRaw(w, &codec.Response{Status: 500, Header: http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {reqID}},
				Body: []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal error</Message></Error><RequestId>" + reqID + "</RequestId></ErrorResponse>")})
			status = 500
		}
		g.log.Debug("request", "service", svcName, "operation", opName, "status", status, "duration", time.Since(start), "request_id", reqID)
	}()
	resp := g.serve(r, reqID, &svcName, &opName)
	status = resp.Status
	writeRaw(w, resp)
}

func (g *Gateway) serve(r *http.Request, reqID string, svcName, opName *string) *codec.Response {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return genericError(r, reqID, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("The request body exceeds the maximum of %d bytes.", MaxBodyBytes))
		}
		return genericError(r, reqID, http.StatusBadRequest, "IncompleteBody", "The request body could not be read: "+err.Error())
	}
	cred, credErr := parseCredential(r)
	var form url.Values
	if r.Header.Get("X-Amz-Target") == "" && !strings.HasPrefix(r.URL.Path, "/service/") {
		form = r.URL.Query()
		if contentType(r.Header) == "application/x-www-form-urlencoded" && len(body) > 0 {
			bf, err := url.ParseQuery(string(body))
			if err != nil {
				return genericError(r, reqID, 400, "MalformedQueryString", "The request body is not a valid URL-encoded query string.")
			}
			for k, v := range r.URL.Query() {
				if _, ok := bf[k]; !ok {
					bf[k] = v
				}
			}
			form = bf
		}
	}
	if cred.Service != "" && len(g.router.bySigning[cred.Service]) == 0 {
		return genericError(r, reqID, 400, "UnknownService", fmt.Sprintf("minicloud does not serve the service %q named by the request's credential scope.", cred.Service))
	}
	rt, err := g.router.route(r, cred, form)
	if err != nil {
		var re *routeError
		if errors.As(err, &re) && re.b != nil {
			*svcName, *opName = re.b.Info.Name, re.opName
			return re.b.codec(re.proto).EncodeError(&codec.Error{Code: re.code, Message: re.msg, Status: re.status}, reqID)
		}
		if errors.As(err, &re) {
			return genericError(r, reqID, re.status, re.code, re.msg)
		}
		return genericError(r, reqID, 500, "InternalFailure", err.Error())
	}
	*svcName, *opName = rt.b.Info.Name, rt.opName
	c := rt.b.codec(rt.proto)
	if credErr != nil {
		var se *sigError
		errors.As(credErr, &se)
		code := se.code
		if rt.proto == codec.JSON || rt.proto == codec.RestJSON || rt.proto == codec.CBOR {
			code += "Exception"
		}
		return c.EncodeError(&codec.Error{Code: code, Message: se.msg, Status: 400}, reqID)
	}
	if cred.Presigned && !cred.Expires.IsZero() && time.Now().After(cred.Expires) {
		return c.EncodeError(&codec.Error{Code: "AccessDenied", Message: "Request has expired", Status: 403}, reqID)
	}
	info, err := g.identify(r.Context(), cred, reqID, rt)
	if err != nil {
		return c.EncodeError(err, reqID)
	}
	svc := rt.b.load()
	op := svc.Operations[rt.opName]
	in, err := c.DecodeInput(op, &codec.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header, Body: body, Labels: rt.labels})
	if err != nil {
		return c.EncodeError(err, reqID)
	}
	if err := c.CheckRequired(op, in); err != nil {
		return c.EncodeError(err, reqID)
	}
	out, err := rt.b.Handlers[rt.opName](api.WithRequest(r.Context(), info), in)
	if err != nil {
		if codec.AsError(err).Code == "InternalFailure" {
			g.log.Error("operation failed", "service", info.Service, "operation", info.Operation, "request_id", reqID, "error", err)
		}
		return c.EncodeError(err, reqID)
	}
	resp, err := c.EncodeOutput(op, out, reqID)
	if err != nil {
		g.log.Error("encode failed", "service", info.Service, "operation", info.Operation, "error", err)
		return c.EncodeError(err, reqID)
	}
	return resp
}

// identify resolves the caller: region from the credential scope, account and
// principal from the access key.
func (g *Gateway) identify(ctx context.Context, cred credential, reqID string, rt *route) (*api.RequestInfo, error) {
	info := &api.RequestInfo{RequestID: reqID, Service: rt.b.Info.Name, Operation: rt.opName, Region: cred.Region, AccessKey: cred.AccessKey}
	if info.Region == "" {
		info.Region = DefaultRegion
	}
	if g.cfg.Identities != nil && cred.AccessKey != "" {
		id, found, err := g.cfg.Identities.Resolve(ctx, cred.AccessKey)
		if err != nil {
			return nil, err
		}
		if found {
			info.Account, info.Caller, info.CallerUserID = id.Account, id.ARN, id.UserID
			return info, nil
		}
	}
	info.Account = AccountFor(g.cfg.Accounts, cred.AccessKey)
	info.Caller = "arn:" + state.PartitionOf(info.Region) + ":iam::" + info.Account + ":root"
	info.CallerUserID = info.Account
	return info, nil
}

// genericError answers a request whose service is unknown, in the format its
// Content-Type suggests: JSON for JSON requests, else query-style XML.
func genericError(r *http.Request, reqID string, status int, code, msg string) *codec.Response {
	resp := &codec.Response{Status: status, Header: http.Header{"X-Amzn-Requestid": {reqID}}}
	ct := contentType(r.Header)
	if strings.Contains(ct, "json") || r.Header.Get("X-Amz-Target") != "" {
		resp.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp.Body, _ = json.Marshal(map[string]string{"__type": code, "message": msg})
		return resp
	}
	if strings.Contains(ct, "cbor") {
		c := &codec.Codec{Protocol: codec.CBOR}
		return c.EncodeError(&codec.Error{Code: code, Message: msg, Status: status}, reqID)
	}
	c := &codec.Codec{Protocol: codec.RestXML}
	return c.EncodeError(&codec.Error{Code: code, Message: msg, Status: status}, reqID)
}

func writeRaw(w http.ResponseWriter, resp *codec.Response) {
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	if resp.Header.Get("Content-Type") == "" && len(resp.Body) > 0 {
		h.Set("Content-Type", "text/xml")
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
