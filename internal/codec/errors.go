package codec

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/minicloud/minicloud/internal/model"
)

// Error is an AWS error as the codec writes it.
type Error struct {
	Code    string
	Message string
	// Status is the HTTP status; 0 means "take it from the model's error trait,
	// else 400".
	Status int
	// Fields are extra members of the error shape, in its generic form.
	Fields map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode, ErrorMessage and HTTPStatus let *Error stand for any AWS error.
func (e *Error) ErrorCode() string    { return e.Code }
func (e *Error) ErrorMessage() string { return e.Message }
func (e *Error) HTTPStatus() int      { return e.Status }

// APIError is what services return; any error implementing it is written as
// that AWS error. Other errors become InternalFailure (HTTP 500).
type APIError interface {
	error
	ErrorCode() string
	ErrorMessage() string
	HTTPStatus() int
}

// AsError converts any error into an *Error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var api APIError
	if errors.As(err, &api) {
		return &Error{Code: api.ErrorCode(), Message: api.ErrorMessage(), Status: api.HTTPStatus()}
	}
	return &Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
}

// clientError wraps a decoding failure in the protocol's error for a
// malformed request.
func (c *Codec) clientError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	code := "SerializationException"
	switch c.Protocol {
	case Query, EC2:
		code = "InvalidParameterValue"
	case RestXML:
		code = "MalformedXML"
	}
	return &Error{Code: code, Message: err.Error(), Status: http.StatusBadRequest}
}

func (c *Codec) xmlNamespace() string {
	if c.Service == nil {
		return ""
	}
	return c.Service.Metadata.XMLNamespace
}

// statusOf returns the HTTP status of an error: set by the service, else the
// model's trait for a shape of that code, else 400.
func (c *Codec) statusOf(e *Error) (int, bool) {
	sender := true
	status := e.Status
	if sh := c.errorShape(e.Code); sh != nil {
		if sh.Error != nil {
			if status == 0 {
				status = sh.Error.HTTPStatusCode
			}
			sender = sh.Error.SenderFault || !sh.Fault
		} else if sh.Fault {
			sender = false
		}
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status >= 500 {
		sender = false
	}
	return status, sender
}

func (c *Codec) errorShape(code string) *model.Shape {
	if c.Service == nil {
		return nil
	}
	if sh, ok := c.Service.Shapes[code]; ok && sh.Exception {
		return sh
	}
	for _, sh := range c.Service.Shapes {
		if sh.Exception && sh.Error != nil && sh.Error.Code == code {
			return sh
		}
	}
	return nil
}

// queryErrorCode is the code a query-compatible service reports for a shape:
// its error trait's code when it has one.
func (c *Codec) queryErrorCode(code string) string {
	if sh := c.errorShape(code); sh != nil && sh.Error != nil && sh.Error.Code != "" {
		return sh.Error.Code
	}
	return code
}

// EncodeError writes an error in the protocol's exact shape.
func (c *Codec) EncodeError(err error, requestID string) *Response {
	e := AsError(err)
	status, sender := c.statusOf(e)
	resp := &Response{Status: status, Header: http.Header{}}
	c.setRequestID(resp.Header, requestID)
	typ := "Sender"
	if !sender {
		typ = "Receiver"
	}
	b := &bufWriter{}
	switch c.Protocol {
	case EC2:
		resp.Header.Set("Content-Type", "text/xml;charset=UTF-8")
		x := &xmlEncoder{w: b}
		b.WriteString(xml.Header)
		b.WriteString("<Response><Errors><Error><Code>")
		x.text(e.Code)
		b.WriteString("</Code><Message>")
		x.text(e.Message)
		b.WriteString("</Message></Error></Errors><RequestID>")
		x.text(requestID)
		b.WriteString("</RequestID></Response>")
	case Query, RestXML:
		resp.Header.Set("Content-Type", "text/xml")
		x := &xmlEncoder{w: b}
		b.WriteString(`<ErrorResponse`)
		if ns := c.xmlNamespace(); ns != "" && c.Protocol == Query {
			x.attr("xmlns", ns)
		}
		b.WriteString("><Error><Type>" + typ + "</Type><Code>")
		code := e.Code
		if c.Protocol == Query && c.Service != nil && c.Service.Metadata.QueryCompatible() {
			// A query-compatible service's errors are named by their shape
			// (what JSON and CBOR clients match on); in query they are named
			// by the shape's query code, as in X-Amzn-Query-Error.
			code = c.queryErrorCode(code)
		}
		x.text(code)
		b.WriteString("</Code><Message>")
		x.text(e.Message)
		b.WriteString("</Message>")
		c.xmlErrorFields(x, e)
		b.WriteString("</Error><RequestId>")
		x.text(requestID)
		b.WriteString("</RequestId></ErrorResponse>")
	case JSON:
		resp.Header.Set("Content-Type", c.jsonContentType())
		(&jsonEncoder{w: b}).object(c.errorBody(e, "__type"), nil)
	case RestJSON:
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Set("X-Amzn-Errortype", e.Code)
		(&jsonEncoder{w: b}).object(c.errorBody(e, "code"), nil)
	case CBOR:
		resp.Header.Set("Content-Type", "application/cbor")
		resp.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		(&cborEncoder{w: b}).object(c.errorBody(e, "__type"), nil)
	}
	resp.Body = b.b
	if c.Service != nil && c.Service.Metadata.QueryCompatible() && (c.Protocol == JSON || c.Protocol == CBOR) {
		resp.Header.Set("X-Amzn-Query-Error", c.queryErrorCode(e.Code)+";"+typ)
	}
	return resp
}

// xmlErrorFields writes an error's extra fields as elements of <Error>. With
// the error's shape they are written as its members (wire names, timestamp
// and blob formats); without one, only string fields can be written, in key
// order so the output is stable.
func (c *Codec) xmlErrorFields(x *xmlEncoder, e *Error) {
	if len(e.Fields) == 0 {
		return
	}
	if sh := c.errorShape(e.Code); sh != nil {
		Generic(withoutMessage(sh, e.Fields)).MarshalAWS(x, sh.MemberRefs)
		return
	}
	for _, k := range sortedKeys(e.Fields) {
		if s, ok := e.Fields[k].(string); ok {
			x.String(&model.Ref{Name: k, Shape: stringShape}, s)
		}
	}
}

var (
	stringShape   = &model.Shape{Type: "string"}
	documentShape = &model.Shape{Type: "structure", Document: true}
)

// errorBody is the JSON or CBOR body of an error: its code (under
// typeKey, "__type" or "code") and message first, as AWS writes them, then
// the error's fields, through its shape when the model has it (so that
// member names, timestamps and blobs are written as the protocol wants), as
// given otherwise.
type errorBody struct {
	head   []string // name, value pairs written first
	fields map[string]any
	shape  *model.Shape
}

func (c *Codec) errorBody(e *Error, typeKey string) *errorBody {
	body := &errorBody{head: []string{typeKey, e.Code, "message", e.Message}, fields: e.Fields}
	if sh := c.errorShape(e.Code); sh != nil && len(e.Fields) > 0 {
		body.fields, body.shape = withoutMessage(sh, e.Fields), sh
	}
	return body
}

func (b *errorBody) MarshalAWS(enc Encoder, _ []*model.Ref) {
	for i := 0; i+1 < len(b.head); i += 2 {
		enc.String(&model.Ref{Name: b.head[i], Shape: stringShape}, b.head[i+1])
	}
	if b.shape != nil {
		Generic(b.fields).MarshalAWS(enc, b.shape.MemberRefs)
		return
	}
	for _, k := range sortedKeys(b.fields) {
		if k == "message" || k == "__type" || k == "code" {
			continue
		}
		enc.Value(&model.Ref{Name: k, Shape: documentShape}, b.fields[k])
	}
}

// withoutMessage drops the shape's message member from fields: the codec
// writes the message itself, from Error.Message.
func withoutMessage(sh *model.Shape, fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if strings.EqualFold(k, "message") {
			continue
		}
		if _, ok := sh.Members[k]; ok {
			out[k] = v
		}
	}
	return out
}
