// Package api is the contract between the gateway and the services: one
// handler shape for every AWS operation (typed input in, typed output or AWS
// error out), the per-request context, and the descriptions of the services
// whose protocol code is generated into its sub-packages (stsapi, ec2api, …).
//
// It must not hold business logic or know how requests are routed.
package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

//go:generate go run ../codec/codegen -config services.json -out .

// Handler serves one operation. It reads the request through decode into
// the operation's input, a generated type (decode checks the model's
// required members), and returns the output to write, also a generated
// type (nil for an empty one), or an AWS error. Services write typed
// functions and wrap them with Typed; the generated Handlers does.
type Handler func(ctx context.Context, decode func(in codec.Message) error) (codec.Marshaler, error)

// Typed adapts a typed operation function to a Handler. I and O are
// generated types (see the *api packages): the codec reads the request
// straight into an I and writes the O straight to the wire, through their
// generated methods, without reflection or an intermediate form.
func Typed[I, O any, PI interface {
	*I
	codec.Message
}, PO interface {
	*O
	codec.Marshaler
}](fn func(context.Context, *I) (*O, error)) Handler {
	return func(ctx context.Context, decode func(codec.Message) error) (codec.Marshaler, error) {
		in := PI(new(I))
		if err := decode(in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil || out == nil {
			return nil, err
		}
		return PO(out), nil
	}
}

// ServiceInfo describes one AWS service as the gateway needs it to route,
// without loading the model: loading waits for the service's first request.
type ServiceInfo struct {
	// Name is minicloud's name for the service, as in the health report.
	Name           string
	SigningName    string
	EndpointPrefix string
	APIVersion     string
	// Protocols lists the wire protocols clients may use, preferred first.
	Protocols    []string
	TargetPrefix string
	JSONVersion  string
	// Model loads the generated model (operations and the shapes of the
	// implemented ones) once.
	Model func() *model.Service
}

// Speaks reports whether clients may use protocol with the service.
func (s *ServiceInfo) Speaks(protocol string) bool {
	for _, p := range s.Protocols {
		if p == protocol {
			return true
		}
	}
	return false
}

// Errorf returns an AWS error with the given HTTP status and code.
func Errorf(status int, code, format string, args ...any) error {
	return &codec.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// RequestInfo is what the gateway knows of the request being served.
type RequestInfo struct {
	RequestID string
	Service   string
	Operation string
	Region    string
	Account   string
	AccessKey string
	// Caller is the principal ARN of the credentials, e.g.
	// arn:aws:iam::000000000000:root or an assumed-role session.
	Caller string
	// CallerUserID is the UserId GetCallerIdentity reports.
	CallerUserID string
	// SourceIP is the caller's address as the gateway sees it: loopback
	// from the host, an instance's public IP (or its NAT gateway's) from a
	// VPC through the in-VPC listener (package vpcapi), its private IP
	// through an interface VPC endpoint.
	SourceIP string
	// SourceVPC and SourceVPCE are the VPC and the VPC endpoint a request
	// came through (aws:SourceVpc, aws:SourceVpce; CloudTrail's
	// vpcEndpointId); empty for every other path.
	SourceVPC, SourceVPCE string
	// Host is the request's Host header and TLS whether it came over TLS:
	// how the caller reached minicloud (127.0.0.1:4566 from the host,
	// ssm.us-east-1.amazonaws.com in a VPC), for answers that name an
	// address to come back to (Session Manager's StreamUrl).
	Host string
	TLS  bool
}

// VPCEndpoint is the VPC endpoint a connection came through, as the
// endpoint's listener tells the gateway (WithVPCEndpoint).
type VPCEndpoint struct {
	// ID is the vpce- ID, VPCID its VPC's.
	ID, VPCID string
	// Policy is the endpoint's policy document, which must allow every
	// request through it when IAM is enforced.
	Policy string
}

type vpceKey struct{}

// WithVPCEndpoint returns ctx carrying the endpoint its request came
// through.
func WithVPCEndpoint(ctx context.Context, e *VPCEndpoint) context.Context {
	return context.WithValue(ctx, vpceKey{}, e)
}

// VPCEndpointOf is the endpoint ctx's request came through, nil for none.
func VPCEndpointOf(ctx context.Context) *VPCEndpoint {
	e, _ := ctx.Value(vpceKey{}).(*VPCEndpoint)
	return e
}

type ctxKey struct{}

// WithRequest returns ctx carrying info.
func WithRequest(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// Request returns the RequestInfo of ctx; outside a request it returns a
// zero RequestInfo, so callers never need a nil check.
func Request(ctx context.Context) *RequestInfo {
	if info, ok := ctx.Value(ctxKey{}).(*RequestInfo); ok {
		return info
	}
	return &RequestInfo{}
}

// Identity is the principal behind an access key.
type Identity struct {
	Account string
	ARN     string
	UserID  string
	// Secret is the key's secret access key and SessionToken the token
	// its requests must carry, for SigV4 verification (the gateway's
	// --verify-signatures).
	Secret       string
	SessionToken string
	// Issued is when temporary credentials were issued (zero for
	// long-term keys): CloudTrail's sessionContext creationDate.
	Issued time.Time
	// Inactive marks a key its owner deactivated (IAM UpdateAccessKey):
	// signature verification refuses it as a key AWS does not know.
	Inactive bool
	// RoleARN is, for an assumed-role session, the role's ARN with its
	// path; SessionPolicies the session policy documents it was issued
	// with (Policy, and PolicyArns' documents as they were then);
	// SessionTags its session tags and SourceIdentity its source
	// identity. IAM enforcement evaluates them.
	RoleARN         string
	SessionPolicies []string
	SessionTags     map[string]string
	SourceIdentity  string
}

// Identities resolves access keys that a service issued, such as the
// temporary credentials of STS AssumeRole. found is false for keys it did not
// issue; err is an AWS error (e.g. ExpiredToken) for keys it rejects.
type Identities interface {
	Resolve(ctx context.Context, accessKey string) (id Identity, found bool, err error)
}

// IdentityChain asks each of its Identities in turn: the first that
// issued a key answers for it.
type IdentityChain []Identities

// Resolve implements Identities.
func (c IdentityChain) Resolve(ctx context.Context, accessKey string) (Identity, bool, error) {
	for _, ids := range c {
		id, found, err := ids.Resolve(ctx, accessKey)
		if err != nil || found {
			return id, found, err
		}
	}
	return Identity{}, false, nil
}

// Violations collects the constraint failures of one request, for the
// services (JSON protocols) that answer them all at once as AWS does:
// ValidationException "2 validation errors detected: Value 'x' at 'name'
// failed to satisfy constraint: Member must …; …". The codec enforces only
// required members; handlers check the rest with their member paths.
type Violations []string

// Add records a violation; a nil value is one AWS does not echo (blobs,
// sensitive members).
func (v *Violations) Add(value *string, path, constraint string) {
	if value == nil {
		*v = append(*v, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, constraint))
		return
	}
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", *value, path, constraint))
}

// Err is the ValidationException (HTTP 400) for what was collected, nil
// if nothing.
func (v Violations) Err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return Errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: %s", v[0])
	}
	return Errorf(http.StatusBadRequest, "ValidationException", "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}
