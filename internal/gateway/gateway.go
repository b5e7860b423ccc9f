package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
	"github.com/minicloud/minicloud/internal/state"
)

// DefaultAccount is the account of any access key not mapped to another.
const DefaultAccount = "000000000000"

// DefaultRegion is the region of unsigned requests.
const DefaultRegion = "us-east-1"

// DataChannelPath is where Session Manager's data channels are (the path
// of the StreamUrl StartSession answers, as on AWS's ssmmessages).
const DataChannelPath = "/v1/data-channel/"

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
	// Secrets maps access key IDs to their secret access keys, which
	// signature verification checks requests against (see auth.go).
	Secrets map[string]string
	// VerifySignatures makes every request prove its SigV4 signature.
	VerifySignatures bool
	// Now is the clock signatures are checked against (time.Now if nil).
	Now func() time.Time
	// Endpoints are further endpoints under /_minicloud/, by path, that
	// parts of the server own (Route 53's delegation of public zones).
	Endpoints map[string]http.Handler
	// BodyIdleTimeout is how long reading a request body may wait for its
	// next bytes (0: no limit). It bounds a stalled body, not a slow one:
	// a large upload that keeps sending is never cut.
	BodyIdleTimeout time.Duration
	// Recorder, if set, receives every request routed to an operation
	// once it is answered (CloudTrail; see record.go).
	Recorder api.Recorder
	// DataChannels, if set, serves Session Manager's data channels: the
	// ssmmessages websockets under DataChannelPath that the
	// session-manager-plugin opens (package ssmsession). They carry their
	// own token, not a signature, and are no API call: nothing is routed,
	// authorized or recorded for them here.
	DataChannels http.Handler
	// Authorizer, if set, decides every request once its caller is
	// resolved and its input decoded (IAM enforcement, --iam enforce); a
	// refusal is answered and recorded like any other error.
	Authorizer api.Authorizer
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

// isInternal reports whether a request is for minicloud's own endpoints
// (health, reset, diagram, OIDC, …), not an AWS API.
func isInternal(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/_minicloud/") || r.URL.Path == "/moto-api/reset"
}

// AWSOnly is the gateway as workloads reach it — on AWS's public service
// addresses and through VPC endpoints: the AWS APIs only. minicloud's own
// endpoints are the operator's, so a workload cannot reset minicloud, read
// its health or mint tokens of its OIDC issuer; they answer 404 there, as
// an AWS endpoint answers a path it does not serve.
func (g *Gateway) AWSOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isInternal(r) {
			http.NotFound(w, r)
			return
		}
		g.ServeHTTP(w, r)
	})
}

// ServeHTTP serves one request. A panic in a handler becomes an
// InternalFailure for that request only.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := state.NewRequestID()
	internal := isInternal(r)
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
		// Answered in the service's protocol (EC2's shape for EC2): read
		// what the request says of itself, acting on none of it.
		cred, _ := parseCredential(r)
		body, err := readBody(r)
		form, _ := queryForm(r, body)
		resp := g.errorResponse(r, cred, form, reqID, &codec.Error{Code: code, Message: why, Status: http.StatusForbidden})
		if err != nil {
			resp.Header.Set("Connection", "close")
		}
		writeRaw(w, resp)
		return
	}
	if internal {
		g.serveInternal(w, r)
		return
	}
	if g.cfg.DataChannels != nil && strings.HasPrefix(r.URL.Path, DataChannelPath) {
		g.cfg.DataChannels.ServeHTTP(w, r)
		return
	}
	status, svcName, opName := 0, "", ""
	var rt *route
	call := g.newCall(r, start)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // the answer failed half sent: net/http drops the connection
			}
			g.log.Error("handler panic", "service", svcName, "operation", opName, "panic", p, "stack", string(debug.Stack()))
			e := &codec.Error{Code: "InternalFailure", Message: "internal error", Status: http.StatusInternalServerError}
			if rt != nil {
				writeRaw(w, rt.b.codec(rt.proto).EncodeError(e, reqID))
			} else {
				writeRaw(w, genericError(r, reqID, e.Status, e.Code, e.Message))
			}
			status = 500
			call.Err = e
		}
		g.record(call, status)
		g.log.Debug("request", "service", svcName, "operation", opName, "status", status, "duration", time.Since(start), "request_id", reqID)
	}()
	if g.cfg.BodyIdleTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = &progressBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: g.cfg.BodyIdleTimeout}
	}
	resp, ans := g.serve(r, reqID, &rt, call)
	if rt != nil {
		svcName, opName = rt.b.Info.Name, rt.opName
	}
	if ans != nil {
		status = ans.write(w, g.log)
		return
	}
	status = resp.Status
	writeRaw(w, resp)
}

// serve answers one AWS request. *routed is set as soon as the request's
// service and operation are known, so that a panic is answered in its
// protocol too. call gathers what the Recorder is told (record.go).
func (g *Gateway) serve(r *http.Request, reqID string, routed **route, call *api.Call) (*codec.Response, *answer) {
	cred, credErr := parseCredential(r)
	body, err := readBody(r)
	if err != nil {
		// The body is cut short: route on what was read, so that the
		// error is in the service's shape (EC2's, say).
		form, _ := queryForm(r, body)
		resp := g.errorResponse(r, cred, form, reqID, err)
		// The rest of the body is not read: the connection cannot carry
		// another request (and net/http would otherwise wait to drain it).
		resp.Header.Set("Connection", "close")
		return resp, nil
	}
	// payload is the body decoded; body stays as sent, for the signature.
	payload, err := decompress(r, body)
	if err != nil {
		return g.errorResponse(r, cred, nil, reqID, err), nil
	}
	form, err := queryForm(r, payload)
	if err != nil {
		return g.errorResponse(r, cred, form, reqID, err), nil
	}
	if cred.Service != "" && len(g.router.bySigning[cred.Service]) == 0 {
		return genericError(r, reqID, 400, "UnknownService", fmt.Sprintf("minicloud does not serve the service %q named by the request's credential scope.", cred.Service)), nil
	}
	rt, err := g.router.route(r, cred, form)
	if err != nil {
		var re *routeError
		if errors.As(err, &re) && re.b != nil {
			*routed = &route{b: re.b, proto: re.proto, opName: re.opName}
			e := &codec.Error{Code: re.code, Message: re.msg, Status: re.status}
			g.routed(call, *routed, reqID, cred)
			call.Err = e
			return re.b.codec(re.proto).EncodeError(e, reqID), nil
		}
		if errors.As(err, &re) {
			return genericError(r, reqID, re.status, re.code, re.msg), nil
		}
		return genericError(r, reqID, 500, "InternalFailure", err.Error()), nil
	}
	*routed = rt
	c := rt.b.codec(rt.proto)
	g.routed(call, rt, reqID, cred)
	fail := func(err error) (*codec.Response, *answer) {
		call.Err = codec.AsError(err)
		return c.EncodeError(call.Err, reqID), nil
	}
	if credErr != nil {
		var se *sigError
		errors.As(credErr, &se)
		code := se.code
		if rt.proto == codec.JSON || rt.proto == codec.RestJSON || rt.proto == codec.CBOR {
			code += "Exception"
		}
		return fail(&codec.Error{Code: code, Message: se.msg, Status: 400})
	}
	if !g.cfg.VerifySignatures && cred.Presigned && !cred.Expires.IsZero() && g.now().After(cred.Expires) {
		return fail(&codec.Error{Code: "AccessDenied", Message: "Request has expired", Status: 403})
	}
	region := cmp.Or(cred.Region, DefaultRegion)
	k, err := g.lookupKey(r.Context(), cred.AccessKey, region)
	if err != nil {
		return fail(err)
	}
	call.Info.Account, call.Info.Caller, call.Info.CallerUserID, call.Issued, call.Issuer = k.Account, k.ARN, k.UserID, k.Issued, k.RoleARN
	if g.cfg.VerifySignatures && (cred.Signed || !unsignedOps[rt.b.Info.SigningName][rt.opName]) {
		if err := g.verify(r, body, cred, rt, k); err != nil {
			return fail(err)
		}
	}
	info := &api.RequestInfo{RequestID: reqID, Service: rt.b.Info.Name, Operation: rt.opName, Region: region, AccessKey: cred.AccessKey,
		Account: k.Account, Caller: k.ARN, CallerUserID: k.UserID, SourceIP: remoteIP(r), Host: r.Host, TLS: r.TLS != nil}
	vpce := api.VPCEndpointOf(r.Context())
	if vpce != nil {
		info.SourceVPC, info.SourceVPCE = vpce.VPCID, vpce.ID
	}
	svc := rt.b.load()
	op := svc.Operations[rt.opName]
	req := &codec.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header, Body: payload, Labels: rt.labels}
	out, err := rt.b.Handlers[rt.opName](api.WithRequest(r.Context(), info), func(in codec.Message) error {
		if err := c.Decode(op, req, in); err != nil {
			return err
		}
		call.Input = in
		if g.cfg.Authorizer != nil {
			return g.cfg.Authorizer.Authorize(r.Context(), &api.AccessRequest{Info: info, Service: rt.b.Info, Protocol: rt.proto, Identity: k.Identity,
				Input: in, SourceIP: info.SourceIP, SecureTransport: r.TLS != nil, Time: g.now(), Endpoint: vpce})
		}
		return nil
	})
	if err != nil {
		if codec.AsError(err).Code == "InternalFailure" {
			g.log.Error("operation failed", "service", info.Service, "operation", info.Operation, "request_id", reqID, "error", err)
		}
		return fail(err)
	}
	call.Output = out
	return nil, &answer{c: c, op: op, out: out, reqID: reqID}
}

// answer is an operation's output, written to the client straight from
// its generated type.
type answer struct {
	c     *codec.Codec
	op    *model.Operation
	out   codec.Marshaler
	reqID string
}

// write sends the answer and returns its status. An answer that fails
// before any of it is sent becomes an InternalFailure; one that fails
// after can only end the connection.
func (a *answer) write(w http.ResponseWriter, log *slog.Logger) int {
	status, err := a.c.WriteOutput(w, a.op, a.out, a.reqID)
	if err == nil {
		return status
	}
	log.Error("encode failed", "operation", a.op.Name, "request_id", a.reqID, "error", err)
	if errors.Is(err, codec.ErrPartial) {
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	resp := a.c.EncodeError(err, a.reqID)
	writeRaw(w, resp)
	return resp.Status
}

// readBody reads the request body up to MaxBodyBytes. On error it returns
// what it read with a *codec.Error: RequestEntityTooLarge past the limit,
// RequestTimeout when the client stopped sending (see progressBody),
// IncompleteBody otherwise.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return body, &codec.Error{Code: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("The request body exceeds the maximum of %d bytes.", MaxBodyBytes)}
	case errors.As(err, &ne) && ne.Timeout():
		return body, &codec.Error{Code: "RequestTimeout", Status: http.StatusBadRequest, Message: "Your socket connection to the server was not read from or written to within the timeout period."}
	}
	return body, &codec.Error{Code: "IncompleteBody", Status: http.StatusBadRequest, Message: "The request body could not be read: " + err.Error()}
}

// queryForm is the query-protocol parameters of a request (its query
// string and url-encoded body), nil for requests of the JSON and CBOR
// protocols.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	if r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(r.URL.Path, "/service/") {
		return nil, nil
	}
	if err := codec.CheckParamCount(r.URL.RawQuery); err != nil {
		return nil, err
	}
	form := r.URL.Query()
	if contentType(r.Header) != "application/x-www-form-urlencoded" || len(body) == 0 {
		return form, nil
	}
	if err := codec.CheckParamCount(string(body)); err != nil {
		return formHead(body), err // routes the error to its service
	}
	bf, err := url.ParseQuery(string(body))
	for k, v := range form {
		if _, ok := bf[k]; !ok {
			bf[k] = v
		}
	}
	if err != nil {
		return bf, &codec.Error{Code: "MalformedQueryString", Status: 400, Message: "The request body is not a valid URL-encoded query string."}
	}
	return bf, nil
}

// formHeadBytes is how much of a form body formHead reads.
const formHeadBytes = 4096

// formHead is the parameters at the start of a form body (the first
// formHeadBytes, up to the last complete parameter): Action and Version,
// which clients send first, for routing a request whose whole body is not
// read.
func formHead(body []byte) url.Values {
	head := body[:min(len(body), formHeadBytes)]
	if len(body) > formHeadBytes || len(head) == formHeadBytes {
		head = head[:max(bytes.LastIndexByte(head, '&'), 0)]
	}
	form, _ := url.ParseQuery(string(head))
	return form
}

// errorResponse answers a request that failed before it was routed (a body
// too large or too slow, a malformed form) in its service's protocol when
// routing what is known of it finds the service, else as genericError
// does. So EC2's clients always get EC2's <Response><Errors> shape.
func (g *Gateway) errorResponse(r *http.Request, cred credential, form url.Values, reqID string, err error) *codec.Response {
	e := codec.AsError(err)
	if c := g.codecFor(r, cred, form); c != nil {
		return c.EncodeError(e, reqID)
	}
	return genericError(r, reqID, e.Status, e.Code, e.Message)
}

// codecFor is the codec of the service and protocol a request is for, as
// far as its head and form tell: routed if it routes, else the service its
// credential scope names; nil if neither says.
func (g *Gateway) codecFor(r *http.Request, cred credential, form url.Values) *codec.Codec {
	if form == nil && r.Header.Get("X-Amz-Target") == "" && !strings.HasPrefix(r.URL.Path, "/service/") {
		form = r.URL.Query()
	}
	rt, err := g.router.route(r, cred, form)
	var re *routeError
	switch {
	case err == nil:
		return rt.b.codec(rt.proto)
	case errors.As(err, &re) && re.b != nil:
		return re.b.codec(re.proto)
	case len(g.router.bySigning[cred.Service]) > 0:
		b := g.router.bySigning[cred.Service][0]
		return b.codec(b.Info.Protocols[0])
	}
	return nil
}

// Overloaded answers a request turned away before it is served (the
// server at its connection limit) with 503 in its service's protocol,
// from its head alone: ServiceUnavailable, as AWS's front ends answer, or
// SlowDown for S3, S3's word for it.
func (g *Gateway) Overloaded(r *http.Request, msg string) *codec.Response {
	cred, _ := parseCredential(r)
	e := &codec.Error{Code: "ServiceUnavailable", Message: msg, Status: http.StatusServiceUnavailable}
	var form url.Values
	if contentType(r.Header) == "application/x-www-form-urlencoded" && r.Body != nil {
		// An unsigned query request names its service only in its body.
		head, _ := io.ReadAll(io.LimitReader(r.Body, formHeadBytes))
		form = formHead(head)
		for k, v := range r.URL.Query() {
			form[k] = v
		}
	}
	c := g.codecFor(r, cred, form)
	if c == nil {
		return genericError(r, state.NewRequestID(), e.Status, e.Code, e.Message)
	}
	if c.Service.Metadata.EndpointPrefix == "s3" {
		e.Code, e.Message = "SlowDown", "Please reduce your request rate."
	}
	return c.EncodeError(e, state.NewRequestID())
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

// progressBody moves the connection's read deadline forward before every
// read of the body, so that each read must make progress within idle, and
// lifts it once the body ends: the handler that runs after the body is
// read must not be cut by it (net/http cancels a request's context when
// its connection's background read fails).
type progressBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *progressBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle)) // unsupported by httptest's recorder: no limit there
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
