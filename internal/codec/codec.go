package codec

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/minicloud/minicloud/internal/model"
)

// Protocol names as the models spell them.
const (
	Query    = "query"
	EC2      = "ec2"
	JSON     = "json"
	RestJSON = "rest-json"
	RestXML  = "rest-xml"
	CBOR     = "smithy-rpc-v2-cbor"
)

// Request is an HTTP request as the codec needs it. Path is the escaped path.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Labels holds the URI label values of REST operations, found by routing.
	Labels map[string]string
}

// Response is an HTTP response the codec wrote or is to read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Codec reads and writes one service's messages in one protocol.
type Codec struct {
	Service  *model.Service
	Protocol string
}

// New returns the codec of svc for protocol, which must be one the codec knows.
func New(svc *model.Service, protocol string) (*Codec, error) {
	switch protocol {
	case Query, EC2, JSON, RestJSON, RestXML, CBOR:
		return &Codec{Service: svc, Protocol: protocol}, nil
	}
	return nil, fmt.Errorf("codec: unknown protocol %q", protocol)
}

// DecodeInput parses a request into the operation's input value. Errors are
// *Error values with the protocol's client-error code.
func (c *Codec) DecodeInput(op *model.Operation, r *Request) (map[string]any, error) {
	if op.Input == nil {
		return map[string]any{}, nil
	}
	var (
		v   map[string]any
		err error
	)
	switch c.Protocol {
	case Query, EC2:
		v, err = c.decodeQueryInput(op, r)
	case JSON:
		v, err = decodeJSONStruct(op.Input.Shape, r.Body)
	case CBOR:
		v, err = decodeCBORStruct(op.Input.Shape, r.Body)
	case RestJSON, RestXML:
		v, err = c.decodeRestInput(op, r)
	}
	if err != nil {
		return nil, c.clientError(err)
	}
	return v, nil
}

// EncodeOutput writes the operation's output value as a response.
func (c *Codec) EncodeOutput(op *model.Operation, out map[string]any, requestID string) (*Response, error) {
	resp := &Response{Status: http.StatusOK, Header: http.Header{}}
	if op.HTTP.ResponseCode != 0 {
		resp.Status = op.HTTP.ResponseCode
	}
	var err error
	switch c.Protocol {
	case Query:
		err = c.encodeQueryOutput(op, out, requestID, resp)
	case EC2:
		err = c.encodeEC2Output(op, out, requestID, resp)
	case JSON:
		resp.Header.Set("Content-Type", c.jsonContentType())
		err = encodeJSONBody(op.Output, out, resp)
	case CBOR:
		resp.Header.Set("Content-Type", "application/cbor")
		resp.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		err = encodeCBORBody(op.Output, out, resp)
	case RestJSON, RestXML:
		err = c.encodeRestOutput(op, out, resp)
	}
	if err != nil {
		return nil, fmt.Errorf("codec: encode %s output: %w", op.Name, err)
	}
	c.setRequestID(resp, requestID)
	return resp, nil
}

// DecodeOutput parses a response into the operation's output value, as a client
// would. The conformance tests use it to check EncodeOutput.
func (c *Codec) DecodeOutput(op *model.Operation, resp *Response) (map[string]any, error) {
	if op.Output == nil {
		return map[string]any{}, nil
	}
	switch c.Protocol {
	case Query, EC2:
		return c.decodeQueryOutput(op, resp)
	case JSON, CBOR:
		// Clients ignore the body of an output without members, whatever
		// it holds (the protocol tests send "success" there).
		if len(op.Output.Shape.MemberNames) == 0 {
			return map[string]any{}, nil
		}
		if c.Protocol == CBOR {
			return decodeCBORStruct(op.Output.Shape, resp.Body)
		}
		return decodeJSONStruct(op.Output.Shape, resp.Body)
	default:
		return c.decodeRestOutput(op, resp)
	}
}

func (c *Codec) jsonContentType() string {
	v := c.Service.Metadata.JSONVersion
	if v == "" {
		v = "1.0"
	}
	return "application/x-amz-json-" + v
}

func (c *Codec) setRequestID(resp *Response, id string) {
	resp.Header.Set("X-Amzn-Requestid", id)
	if c.Protocol == RestXML {
		resp.Header.Set("X-Amz-Request-Id", id)
	}
}
