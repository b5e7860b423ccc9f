package gateway

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

// Backend is one service as the gateway serves it: its generated description
// and the handlers of the operations it implements.
type Backend struct {
	Info     *api.ServiceInfo
	Handlers map[string]api.Handler
}

// backend adds what the gateway derives from the model on first use.
type backend struct {
	Backend
	once    sync.Once
	svc     *model.Service
	codecs  map[string]*codec.Codec
	restOps []*model.Operation // most specific URI first
}

func (b *backend) load() *model.Service {
	b.once.Do(func() {
		b.svc = b.Info.Model()
		b.codecs = map[string]*codec.Codec{}
		for _, p := range append([]string{b.svc.Metadata.Protocol}, b.Info.Protocols...) {
			if c, err := codec.New(b.svc, p); err == nil {
				b.codecs[p] = c
			}
		}
		for _, name := range b.svc.OperationNames() {
			b.restOps = append(b.restOps, b.svc.Operations[name])
		}
		sort.SliceStable(b.restOps, func(i, j int) bool {
			return b.restOps[i].Path.Specificity() > b.restOps[j].Path.Specificity()
		})
	})
	return b.svc
}

func (b *backend) codec(protocol string) *codec.Codec {
	b.load()
	return b.codecs[protocol]
}

// route is the outcome of routing: which service, protocol and operation.
type route struct {
	b      *backend
	proto  string
	opName string
	labels map[string]string
}

// routeError is a routing failure. b and proto are set when the service was
// identified, so the error can be written in the service's own protocol.
type routeError struct {
	b      *backend
	proto  string
	opName string
	status int
	code   string
	msg    string
}

func (e *routeError) Error() string { return e.code + ": " + e.msg }

type router struct {
	backends  []*backend
	bySigning map[string][]*backend
	byTarget  map[string]*backend
}

func newRouter(backends []Backend) *router {
	r := &router{bySigning: map[string][]*backend{}, byTarget: map[string]*backend{}}
	for _, b := range backends {
		be := &backend{Backend: b}
		r.backends = append(r.backends, be)
		r.bySigning[b.Info.SigningName] = append(r.bySigning[b.Info.SigningName], be)
		if p := b.Info.TargetPrefix; p != "" {
			r.byTarget[p] = be
			// A dotted prefix (CloudTrail's
			// "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
			// which botocore sends) is its service shape's name alone in
			// the Smithy-built SDKs (aws-sdk-go-v2: "CloudTrail_20131101").
			if i := strings.LastIndexByte(p, '.'); i >= 0 {
				r.byTarget[p[i+1:]] = be
			}
		}
	}
	return r
}

func contentType(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return strings.ToLower(mt)
}

// route identifies service, protocol and operation. form holds the parsed
// query-protocol parameters (query string and url-encoded body), or nil.
func (rt *router) route(r *http.Request, cred credential, form url.Values) (*route, error) {
	// smithy-rpc-v2: POST /service/{Service}/operation/{Operation}.
	if strings.HasPrefix(r.URL.Path, "/service/") || r.Header.Get("Smithy-Protocol") != "" {
		return rt.routeRPCv2(r, cred)
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return rt.routeTarget(target, cred)
	}
	cands := rt.candidates(r, cred)
	if action := form.Get("Action"); action != "" {
		return rt.routeAction(action, form.Get("Version"), cands)
	}
	return rt.routeREST(r, cands)
}

// candidates are the services the request may be for: those signed for its
// credential scope's service, else those named by the Host's first label
// (ec2.localhost, sts.us-east-1.amazonaws.com), else all.
func (rt *router) candidates(r *http.Request, cred credential) []*backend {
	if cred.Service != "" {
		if bs := rt.bySigning[cred.Service]; len(bs) > 0 {
			return bs
		}
		return nil
	}
	host := r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	first, _, _ := strings.Cut(host, ".")
	for _, b := range rt.backends {
		if first == b.Info.EndpointPrefix || first == b.Info.SigningName {
			return []*backend{b}
		}
	}
	return rt.backends
}

func (rt *router) routeRPCv2(r *http.Request, cred credential) (*route, error) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "service" || parts[2] != "operation" {
		return nil, &routeError{status: 404, code: "UnknownOperationException", msg: fmt.Sprintf("The path %s is not a smithy-rpc-v2 operation path (/service/{Service}/operation/{Operation}).", r.URL.Path)}
	}
	b := rt.byTarget[parts[1]]
	if b == nil {
		return nil, &routeError{status: 404, code: "UnknownServiceException", msg: fmt.Sprintf("minicloud knows no service %q.", parts[1])}
	}
	if !b.Info.Speaks(codec.CBOR) {
		return nil, &routeError{b: b, proto: b.Info.Protocols[0], status: 400, code: "UnknownOperationException", msg: fmt.Sprintf("Service %s does not accept the smithy-rpc-v2-cbor protocol.", b.Info.Name)}
	}
	return rt.operation(b, codec.CBOR, parts[3], nil, "UnknownOperationException")
}

func (rt *router) routeTarget(target string, cred credential) (*route, error) {
	// The operation follows the last dot: a prefix may hold dots.
	i := strings.LastIndexByte(target, '.')
	prefix, op, ok := target[:max(i, 0)], target[i+1:], i >= 0
	if !ok || op == "" {
		return nil, &routeError{status: 400, code: "UnknownOperationException", msg: fmt.Sprintf("X-Amz-Target %q is not of the form Service.Operation.", truncate(target, 128))}
	}
	b := rt.byTarget[prefix]
	if b == nil {
		return nil, &routeError{status: 400, code: "UnknownOperationException", msg: fmt.Sprintf("minicloud knows no service with target prefix %q.", truncate(prefix, 128))}
	}
	if !b.Info.Speaks(codec.JSON) {
		return nil, &routeError{b: b, proto: b.Info.Protocols[0], status: 400, code: "UnknownOperationException", msg: fmt.Sprintf("Service %s does not accept the JSON protocol.", b.Info.Name)}
	}
	return rt.operation(b, codec.JSON, op, nil, "UnknownOperationException")
}

func (rt *router) routeAction(action, version string, cands []*backend) (*route, error) {
	var speaking []*backend
	for _, b := range cands {
		if b.Info.Speaks(codec.Query) || b.Info.Speaks(codec.EC2) {
			speaking = append(speaking, b)
		}
	}
	if len(speaking) == 0 {
		return nil, &routeError{status: 400, code: "InvalidAction", msg: fmt.Sprintf("The action %s is not valid for this web service.", truncate(action, 128))}
	}
	// Several services may share a signing name (ELB classic and v2): the
	// Version parameter picks one, else the one that has the action.
	pick := speaking[0]
	for _, b := range speaking {
		if version != "" && b.Info.APIVersion == version {
			pick = b
			break
		}
		if _, ok := b.load().Operations[action]; ok {
			pick = b
		}
	}
	proto := codec.Query
	if pick.Info.Speaks(codec.EC2) {
		proto = codec.EC2
	}
	return rt.operation(pick, proto, action, nil, "InvalidAction")
}

func (rt *router) routeREST(r *http.Request, cands []*backend) (*route, error) {
	var speaking []*backend
	for _, b := range cands {
		if b.Info.Speaks(codec.RestJSON) || b.Info.Speaks(codec.RestXML) {
			speaking = append(speaking, b)
		}
	}
	if len(speaking) == 0 {
		if len(cands) == 1 {
			b := cands[0]
			return nil, &routeError{b: b, proto: b.Info.Protocols[0], status: 400, code: "MissingAction", msg: "The request must contain the parameter Action."}
		}
		return nil, &routeError{status: 400, code: "UnknownService", msg: "minicloud could not tell which AWS service this request is for: sign it with SigV4 (the credential scope names the service) or send X-Amz-Target or an Action parameter."}
	}
	path := r.URL.EscapedPath()
	query := r.URL.Query()
	for _, b := range speaking {
		b.load()
		for _, op := range b.restOps {
			if op.HTTP.Method != r.Method {
				continue
			}
			if labels, ok := op.Path.Match(path, query); ok {
				proto := codec.RestJSON
				if b.Info.Speaks(codec.RestXML) {
					proto = codec.RestXML
				}
				return rt.operation(b, proto, op.Name, labels, "UnknownOperationException")
			}
		}
	}
	b := speaking[0]
	return nil, &routeError{b: b, proto: b.Info.Protocols[0], status: 404, code: "UnknownOperationException", msg: fmt.Sprintf("No %s operation matches %s %s.", b.Info.Name, r.Method, truncate(path, 256))}
}

// operation completes a route once the service and the operation's name are
// known: the name must be in the model, and minicloud must implement it.
func (rt *router) operation(b *backend, proto, name string, labels map[string]string, unknownCode string) (*route, error) {
	svc := b.load()
	if _, ok := svc.Operations[name]; !ok {
		msg := fmt.Sprintf("The action %s is not valid for this web service.", truncate(name, 128))
		if unknownCode != "InvalidAction" {
			msg = fmt.Sprintf("Operation %s is not an operation of %s.", truncate(name, 128), b.Info.Name)
		}
		return nil, &routeError{b: b, proto: proto, status: 400, code: unknownCode, msg: msg}
	}
	if _, ok := b.Handlers[name]; !ok {
		return nil, &routeError{b: b, proto: proto, opName: name, status: http.StatusNotImplemented, code: "NotImplemented",
			msg: fmt.Sprintf("minicloud does not implement %s %s yet. See the status table in minicloud's README for what is implemented.", b.Info.Name, name)}
	}
	return &route{b: b, proto: proto, opName: name, labels: labels}, nil
}
