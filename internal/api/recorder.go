package api

import (
	"crypto/tls"
	"time"

	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

// Call is one request the gateway routed to an operation, as an audit
// trail (CloudTrail) records it: who called what, from where, with which
// input, and what the answer was. The gateway fills it while it serves the
// request and hands it to its Recorder once the answer is known, whatever
// the answer: success, AWS error (validation, signature, access denied) or
// a handler's panic.
type Call struct {
	// Info is what the gateway knew of the request. Its identity fields
	// (Account, Caller, CallerUserID) are those of the access key as far
	// as it was resolved: a request refused before that carries its
	// access key and the account AccountFor gives it.
	Info RequestInfo
	// Issued is when the caller's temporary credentials were issued (zero
	// for long-term keys).
	Issued time.Time
	// Issuer is, for temporary credentials, the ARN of the role or IAM
	// user whose session they are (a federated user's IAM user).
	Issuer string
	// Time is when the request arrived.
	Time time.Time
	// SourceIP is the client's address as the gateway sees it.
	SourceIP  string
	UserAgent string
	// VPCEndpointID is the VPC endpoint the request came through ("" for
	// none): CloudTrail's vpcEndpointId.
	VPCEndpointID string
	// Host is the Host header; TLS the connection's state (nil for
	// plain HTTP).
	Host string
	TLS  *tls.ConnectionState
	// Service and Op are the service and operation routed to.
	Service *ServiceInfo
	Op      *model.Operation
	// Protocol is the wire protocol the request used.
	Protocol string
	// Input is the decoded input (nil when the request was refused before
	// its input was read, or when it could not be decoded); Output the
	// operation's output (nil on error or for an empty output).
	Input  codec.Marshaler
	Output codec.Marshaler
	// Err is the error the client was answered with, nil on success.
	Err *codec.Error
}

// Recorder receives every Call once it is answered. Record is called on
// the request's goroutine after the answer is written: it must return at
// once (queue the call), and must not keep Input or Output past the time
// it has encoded them, nor change them.
type Recorder interface {
	Record(c *Call)
}
