package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/ec2query"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"
	"github.com/minicloud/minicloud/internal/model"
)

// parsedError is an error response as a client reads it.
type parsedError struct {
	Code, Message, RequestID string
}

// parseErrorLikeSDK reads an error body with aws-sdk-go-v2's own error
// parsers for the protocol.
func parseErrorLikeSDK(protocol string, resp *Response) (parsedError, error) {
	switch protocol {
	case EC2:
		ec, err := ec2query.GetErrorResponseComponents(bytes.NewReader(resp.Body))
		return parsedError{ec.Code, ec.Message, ec.RequestID}, err
	case Query, RestXML:
		ec, err := awsxml.GetErrorResponseComponents(bytes.NewReader(resp.Body), false)
		return parsedError{ec.Code, ec.Message, ec.RequestID}, err
	case JSON:
		code, msg, err := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(resp.Body)))
		return parsedError{code, msg, resp.Header.Get("X-Amzn-Requestid")}, err
	case RestJSON:
		code, msg, err := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(resp.Body)))
		// rest-json clients prefer the header's code.
		if h := resp.Header.Get("X-Amzn-Errortype"); h != "" {
			code = restjson.SanitizeErrorCode(h)
		}
		return parsedError{code, msg, resp.Header.Get("X-Amzn-Requestid")}, err
	case CBOR:
		v, err := smithycbor.Decode(resp.Body)
		if err != nil {
			return parsedError{}, err
		}
		m, ok := v.(smithycbor.Map)
		if !ok {
			return parsedError{}, fmt.Errorf("CBOR error body is %T, want a map", v)
		}
		s := func(k string) string { x, _ := m[k].(smithycbor.String); return string(x) }
		return parsedError{restjson.SanitizeErrorCode(s("__type")), s("message"), resp.Header.Get("X-Amzn-Requestid")}, nil
	}
	return parsedError{}, fmt.Errorf("no parser for %s", protocol)
}

type apiErr struct{ code, msg string }

func (e apiErr) Error() string        { return e.code + ": " + e.msg }
func (e apiErr) ErrorCode() string    { return e.code }
func (e apiErr) ErrorMessage() string { return e.msg }
func (e apiErr) HTTPStatus() int      { return 0 }

func TestEncodeError(t *testing.T) {
	const reqID = "11111111-2222-3333-4444-555555555555"
	qc := model.Metadata{AWSQueryCompatible: map[string]any{}, XMLNamespace: "https://thing.example/doc/2020-01-01/"}
	plain := model.Metadata{XMLNamespace: "https://thing.example/doc/2020-01-01/", JSONVersion: "1.1"}
	tests := []struct {
		name       string
		protocol   string
		meta       model.Metadata
		err        error
		wantStatus int
		wantCode   string
		wantBody   string            // exact body, when set
		wantHeader map[string]string // exact header values ("" = absent)
	}{
		{
			name: "ec2 default status", protocol: EC2, meta: plain,
			err:        &Error{Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-1' does not exist"},
			wantStatus: 400, wantCode: "InvalidInstanceID.NotFound",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID &#39;i-1&#39; does not exist</Message></Error></Errors><RequestID>` + reqID + `</RequestID></Response>`,
		},
		{
			name: "ec2 internal error", protocol: EC2, meta: plain,
			err:        errors.New("disk on fire"),
			wantStatus: 500, wantCode: "InternalFailure",
		},
		{
			name: "query sender", protocol: Query, meta: plain,
			err:        &Error{Code: "ValidationError", Message: "1 validation error <detected>"},
			wantStatus: 400, wantCode: "ValidationError",
			wantBody: `<ErrorResponse xmlns="https://thing.example/doc/2020-01-01/"><Error><Type>Sender</Type><Code>ValidationError</Code>` +
				`<Message>1 validation error &lt;detected&gt;</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`,
		},
		{
			name: "query status from error trait", protocol: Query, meta: plain,
			err:        &Error{Code: "ResourceNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ResourceNotFound",
			wantBody: `<ErrorResponse xmlns="https://thing.example/doc/2020-01-01/"><Error><Type>Sender</Type><Code>ResourceNotFound</Code>` +
				`<Message>no such thing</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`,
		},
		{
			name: "query receiver fault", protocol: Query, meta: plain,
			err:        &Error{Code: "Broken", Message: "oops", Status: 503},
			wantStatus: 503, wantCode: "Broken",
			wantBody: `<ErrorResponse xmlns="https://thing.example/doc/2020-01-01/"><Error><Type>Receiver</Type><Code>Broken</Code>` +
				`<Message>oops</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`,
		},
		{
			name: "json", protocol: JSON, meta: plain,
			err:        &Error{Code: "ThingNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ThingNotFound",
			wantHeader: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amzn-Query-Error": ""},
		},
		{
			name: "json api error, status from trait", protocol: JSON, meta: plain,
			err:        apiErr{"Throttled", "slow down"},
			wantStatus: 429, wantCode: "Throttled",
		},
		{
			name: "json query-compatible", protocol: JSON, meta: qc,
			err:        &Error{Code: "ThingNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ThingNotFound",
			wantHeader: map[string]string{"X-Amzn-Query-Error": "ResourceNotFound;Sender", "Content-Type": "application/x-amz-json-1.0"},
		},
		{
			// A query-compatible service names the error by its shape; query
			// clients match on the shape's code, as in X-Amzn-Query-Error.
			name: "query query-compatible", protocol: Query, meta: qc,
			err:        &Error{Code: "ThingNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ResourceNotFound",
			wantBody: `<ErrorResponse xmlns="https://thing.example/doc/2020-01-01/"><Error><Type>Sender</Type><Code>ResourceNotFound</Code>` +
				`<Message>no such thing</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`,
		},
		{
			name: "json query-compatible receiver", protocol: JSON, meta: qc,
			err:        errors.New("boom"),
			wantStatus: 500, wantCode: "InternalFailure",
			wantHeader: map[string]string{"X-Amzn-Query-Error": "InternalFailure;Receiver"},
		},
		{
			name: "rest-json", protocol: RestJSON, meta: plain,
			err:        &Error{Code: "ThingNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ThingNotFound",
			wantHeader: map[string]string{"X-Amzn-Errortype": "ThingNotFound", "Content-Type": "application/json"},
		},
		{
			name: "rest-xml", protocol: RestXML, meta: plain,
			err:        &Error{Code: "NoSuchThing", Message: "gone", Status: 404},
			wantStatus: 404, wantCode: "NoSuchThing",
		},
		{
			name: "cbor", protocol: CBOR, meta: plain,
			err:        &Error{Code: "ThingNotFound", Message: "no such thing"},
			wantStatus: 404, wantCode: "ThingNotFound",
			wantHeader: map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "X-Amzn-Query-Error": ""},
		},
		{
			name: "cbor query-compatible", protocol: CBOR, meta: qc,
			err:        &Error{Code: "Throttled", Message: "slow down"},
			wantStatus: 429, wantCode: "Throttled",
			wantHeader: map[string]string{"X-Amzn-Query-Error": "Throttled;Sender", "Smithy-Protocol": "rpc-v2-cbor"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := thingCodec(t, tt.protocol, tt.meta)
			resp := c.EncodeError(tt.err, reqID)
			if resp.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.Status, tt.wantStatus)
			}
			if tt.wantBody != "" && string(resp.Body) != tt.wantBody {
				t.Errorf("body:\n got %s\nwant %s", resp.Body, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("X-Amzn-Requestid"); got != reqID {
				t.Errorf("X-Amzn-Requestid = %q", got)
			}
			pe, err := parseErrorLikeSDK(tt.protocol, resp)
			if err != nil {
				t.Fatalf("SDK parse: %v\nbody: %s", err, resp.Body)
			}
			want := AsError(tt.err)
			if pe.Code != tt.wantCode || pe.Message != want.Message || pe.RequestID != reqID {
				t.Errorf("SDK reads %+v, want code %q message %q request id %q\nbody: %s", pe, tt.wantCode, want.Message, reqID, resp.Body)
			}
		})
	}
}

func TestEncodeErrorFields(t *testing.T) {
	const shapes = `{
		"Conflict": {"type": "structure", "exception": true, "error": {"httpStatusCode": 409},
			"members": {
				"message": {"shape": "String"},
				"ResourceId": {"shape": "String", "locationName": "resourceId"},
				"Since": {"shape": "Timestamp"}
			}},
		"String": {"type": "string"},
		"Timestamp": {"type": "timestamp"}
	}`
	since := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	fields := map[string]any{"ResourceId": "r-1", "Since": since}
	tests := []struct {
		protocol string
		check    func(t *testing.T, resp *Response)
	}{
		{JSON, func(t *testing.T, resp *Response) {
			var body map[string]any
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body["resourceId"] != "r-1" || body["Since"] != float64(since.Unix()) {
				t.Errorf("body = %s, want resourceId and epoch Since", resp.Body)
			}
		}},
		{Query, func(t *testing.T, resp *Response) {
			if !strings.Contains(string(resp.Body), "<resourceId>r-1</resourceId><Since>2020-01-02T03:04:05Z</Since></Error>") {
				t.Errorf("body = %s, want fields after Message", resp.Body)
			}
		}},
		{CBOR, func(t *testing.T, resp *Response) {
			v, err := smithycbor.Decode(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			m := v.(smithycbor.Map)
			if ts, err := smithycbor.AsTime(m["Since"]); err != nil || !ts.Equal(since) {
				t.Errorf("Since = %v, %v", ts, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			var sh map[string]json.RawMessage
			if err := json.Unmarshal([]byte(shapes), &sh); err != nil {
				t.Fatal(err)
			}
			svc, err := model.Build(model.Metadata{Protocol: tt.protocol}, nil, sh)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := New(svc, tt.protocol)
			resp := c.EncodeError(&Error{Code: "Conflict", Message: "busy", Fields: fields}, "r")
			if resp.Status != http.StatusConflict {
				t.Errorf("status = %d, want 409", resp.Status)
			}
			tt.check(t, resp)
		})
	}
}
