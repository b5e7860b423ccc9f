package api

import (
	"context"
	"time"

	"github.com/minicloud/minicloud/internal/codec"
)

// AccessRequest is one request an Authorizer decides: its caller is
// authenticated and its input decoded, nothing of it is acted on yet.
type AccessRequest struct {
	Info    *RequestInfo
	Service *ServiceInfo
	// Protocol is the wire protocol the request used, which decides the
	// shape of a refusal (EC2's UnauthorizedOperation, the query
	// protocols' AccessDenied, the JSON protocols' AccessDeniedException).
	Protocol string
	Identity Identity
	// Input is the operation's decoded input, for the resources it names
	// and the tags it sets.
	Input    codec.Message
	SourceIP string
	// SecureTransport is whether the request came over TLS
	// (aws:SecureTransport).
	SecureTransport bool
	Time            time.Time
	// Endpoint is the VPC endpoint the request came through (nil: none);
	// its policy must allow the request too.
	Endpoint *VPCEndpoint
}

// Authorizer decides whether a request may proceed (IAM enforcement). It
// returns nil to allow, or the AWS error the client is answered with.
type Authorizer interface {
	Authorize(ctx context.Context, req *AccessRequest) error
}
