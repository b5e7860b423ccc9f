package codec

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"testing"

	"github.com/minicloud/minicloud/internal/model"
)

// TestDecodeInputRejects checks that values no generic form can hold are
// client errors (400), not garbage or 500s.
func TestDecodeInputRejects(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		body     []byte
	}{
		{"json epoch out of range", JSON, []byte(`{"When": 1e300}`)},
		{"json epoch NaN string", JSON, []byte(`{"When": "NaN"}`)},
		{"json integer overflow", JSON, []byte(`{"Big": 1e19}`)},
		{"json number for string", JSON, []byte(`{"Name": 1}`)},
		{"query epoch infinity", Query, []byte(`When=Infinity`)},
		{"query bad integer", Query, []byte(`Count=x`)},
		{"cbor integer from huge float", CBOR, new(cb).indefMap().text("Count").f64(1e19).brk().Bytes()},
		{"cbor epoch out of range", CBOR, new(cb).indefMap().text("When").f64(1e300).brk().Bytes()},
		{"cbor tagged epoch NaN", CBOR, new(cb).indefMap().text("When").epoch(nan()).brk().Bytes()},
		{"cbor tagged epoch out of range", CBOR, new(cb).indefMap().text("When").epoch(1e300).brk().Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, op := thingCodec(t, tt.protocol, model.Metadata{})
			_, err := c.DecodeInput(op, &Request{Method: http.MethodPost, Path: "/", Header: http.Header{}, Body: tt.body})
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("DecodeInput error = %v, want a 400 *Error", err)
			}
		})
	}
}

func nan() float64 { return math.NaN() }

// TestEC2UnknownParameter: EC2 refuses a parameter its input does not
// declare, or a list indexed by anything but a positive integer, naming it
// up to the part it does not recognize; the common parameters (action,
// version, SigV4 and SigV2 query authentication) are not the operation's
// and pass; the query protocol ignores unknown parameters.
func TestEC2UnknownParameter(t *testing.T) {
	ec2, ec2op := thingCodec(t, EC2, model.Metadata{})
	query, queryop := thingCodec(t, Query, model.Metadata{})
	for _, tc := range []struct {
		params string
		want   string // the parameter EC2 names; "" accepted
	}{
		{"Action=PutThing&Version=2016-11-15&Name=a&Tags.1=x&Tags.2=y&Nested.Inner.Note=n&Items.1.At=1422172800", ""},
		{"Name=a&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k&X-Amz-Signature=s&AWSAccessKeyId=k&SignatureVersion=2", ""},
		{"Tags=", ""}, // an empty list
		{"Attrs.1.key=k&Attrs.1.value=v", ""},
		{"TagIds.1=x", "TagIds"},
		{"name=a", "name"},
		{"Tags.0=x", "Tags.0"},
		{"Tags.x=x", "Tags.x"},
		{"Tags=x", "Tags"},
		{"Name.1=a", "Name.1"},
		{"Items.1.Foo=1", "Items.1.Foo"},
		{"Items.1.Inner.Foo.2=1", "Items.1.Inner.Foo"},
		{"Nested.Inner.Inner.Bar=1&Zed=1", "Nested.Inner.Inner.Bar"},
		{"Attrs.1.key=k&Attrs.1.other=v", "Attrs.1.other"},
		{"Action=PutThing&Version=x&Extra=1", "Extra"},
	} {
		q, err := url.ParseQuery(tc.params)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ec2.DecodeInput(ec2op, &Request{Method: http.MethodPost, Path: "/", Query: q, Header: http.Header{}})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tc.params, err)
			}
			continue
		}
		e := AsError(err)
		if want := "The parameter " + tc.want + " is not recognized"; err == nil || e.Code != "UnknownParameter" || e.Message != want || e.Status != 400 {
			t.Errorf("%s: %v, want UnknownParameter %q", tc.params, err, want)
		}
	}
	for _, params := range []string{"TagIds.1=x&Name=a", "Extra=1&Name=a&Nested.Foo=2"} {
		q, _ := url.ParseQuery(params)
		v, err := query.DecodeInput(queryop, &Request{Method: http.MethodPost, Path: "/", Query: q, Header: http.Header{}})
		if err != nil || v["Name"] != "a" {
			t.Errorf("query %s: %v %v, want the unknown parameters ignored", params, v, err)
		}
	}
}

// TestTooManyQueryParams: past MaxQueryParams a query or EC2 request is
// refused before its parameters are decoded; at the limit it is decoded.
func TestTooManyQueryParams(t *testing.T) {
	for _, proto := range []string{Query, EC2} {
		c, op := thingCodec(t, proto, model.Metadata{})
		for _, n := range []int{MaxQueryParams, MaxQueryParams + 1} {
			q := url.Values{}
			for i := range n {
				if proto == EC2 {
					q.Set(fmt.Sprintf("Tags.%d", i+1), "v")
				} else {
					q.Set(fmt.Sprintf("Tags.member.%d", i+1), "v")
				}
			}
			v, err := c.DecodeInput(op, &Request{Method: http.MethodPost, Path: "/", Query: q, Header: http.Header{}})
			if n <= MaxQueryParams {
				if err != nil || len(v["Tags"].([]any)) != n {
					t.Errorf("%s with %d parameters: %v", proto, n, err)
				}
				continue
			}
			if e := AsError(err); err == nil || e.Code != "InvalidQueryParameter" || e.Status != 400 {
				t.Errorf("%s with %d parameters: %v, want InvalidQueryParameter", proto, n, err)
			}
		}
	}
}
