package codec

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/minicloud/minicloud/internal/model"
)

// The fuzz targets feed arbitrary requests to DecodeInput. The property: it
// never panics, and it either returns a value or an *Error with a 4xx status
// (a malformed request is the client's fault, never a 500).

// restShapes binds members to every HTTP location, for the REST targets.
const restShapes = `{
	"RestInput": {"type": "structure", "members": {
		"Bucket": {"shape": "String", "location": "uri", "locationName": "Bucket"},
		"Key": {"shape": "String", "location": "uri", "locationName": "Key"},
		"Prefix": {"shape": "String", "location": "querystring", "locationName": "prefix"},
		"MaxKeys": {"shape": "Integer", "location": "querystring", "locationName": "max-keys"},
		"Ids": {"shape": "StringList", "location": "querystring", "locationName": "id"},
		"Rest": {"shape": "StringMap", "location": "querystring"},
		"Token": {"shape": "String", "location": "header", "locationName": "x-amz-token"},
		"Since": {"shape": "Timestamp", "location": "header", "locationName": "If-Modified-Since"},
		"Flag": {"shape": "Boolean", "location": "header", "locationName": "x-amz-flag"},
		"Raw": {"shape": "Blob", "location": "header", "locationName": "x-amz-raw"},
		"Doc": {"shape": "String", "location": "header", "locationName": "x-amz-doc", "jsonvalue": true},
		"HeaderList": {"shape": "StringList", "location": "header", "locationName": "x-amz-list"},
		"Dates": {"shape": "TimestampList", "location": "header", "locationName": "x-amz-dates"},
		"Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-amz-meta-"},
		"Name": {"shape": "String"},
		"Count": {"shape": "Integer"},
		"Score": {"shape": "Double"},
		"When": {"shape": "Timestamp"},
		"Data": {"shape": "Blob"},
		"Tags": {"shape": "StringList"},
		"Flat": {"shape": "StringList", "flattened": true, "locationName": "Item"},
		"Attrs": {"shape": "StringMap"},
		"FlatMap": {"shape": "StringMap", "flattened": true},
		"Nested": {"shape": "Nested"},
		"Items": {"shape": "NestedList"},
		"Grantee": {"shape": "Grantee"}
	}},
	"Grantee": {"type": "structure", "xmlNamespace": {"prefix": "xsi", "uri": "http://www.w3.org/2001/XMLSchema-instance"},
		"members": {
			"Type": {"shape": "String", "locationName": "xsi:type", "xmlAttribute": true},
			"ID": {"shape": "String"}
		}},
	"Nested": {"type": "structure", "members": {
		"Note": {"shape": "String"},
		"At": {"shape": "Timestamp"},
		"Inner": {"shape": "Nested"}
	}},
	"NestedList": {"type": "list", "member": {"shape": "Nested"}},
	"StringList": {"type": "list", "member": {"shape": "String"}},
	"TimestampList": {"type": "list", "member": {"shape": "Timestamp"}},
	"StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
	"String": {"type": "string"},
	"Integer": {"type": "integer"},
	"Double": {"type": "double"},
	"Boolean": {"type": "boolean"},
	"Timestamp": {"type": "timestamp"},
	"Blob": {"type": "blob"}
}`

const restOperation = `{"name": "PutObject", "http": {"method": "PUT", "requestUri": "/{Bucket}/{Key+}"},
	"input": {"shape": "RestInput", "locationName": "PutObjectRequest"}}`

func restCodec(t testing.TB, protocol string) (*Codec, *model.Operation) {
	t.Helper()
	var shapes map[string]json.RawMessage
	if err := json.Unmarshal([]byte(restShapes), &shapes); err != nil {
		t.Fatalf("rest shapes: %v", err)
	}
	svc, err := model.Build(model.Metadata{Protocol: protocol},
		map[string]json.RawMessage{"PutObject": json.RawMessage(restOperation)}, shapes)
	if err != nil {
		t.Fatalf("build rest model: %v", err)
	}
	c, err := New(svc, protocol)
	if err != nil {
		t.Fatal(err)
	}
	return c, svc.Operations["PutObject"]
}

// protocolTestBodies returns the request and response bodies of the
// aws-sdk-go protocol tests of a protocol, as fuzz seeds. It returns nothing
// when the module is not available.
func protocolTestBodies(f *testing.F, protocol string) []string {
	f.Helper()
	dir := sdkProtocolTestsDir(f)
	var out []string
	for _, direction := range []string{"input", "output"} {
		data, err := os.ReadFile(filepath.Join(dir, direction, protocol+".json"))
		if err != nil {
			f.Fatalf("seeds: %v", err)
		}
		var suites []struct {
			Cases []struct {
				Serialized *struct{ Body string } `json:"serialized"`
				Response   *struct{ Body string } `json:"response"`
			} `json:"cases"`
		}
		if err := json.Unmarshal(data, &suites); err != nil {
			f.Fatalf("seeds: %v", err)
		}
		for _, s := range suites {
			for _, c := range s.Cases {
				if c.Serialized != nil {
					out = append(out, c.Serialized.Body)
				}
				if c.Response != nil {
					out = append(out, c.Response.Body)
				}
			}
		}
	}
	return out
}

// checkDecodeResult is the fuzz property.
func checkDecodeResult(t *testing.T, v map[string]any, err error) {
	t.Helper()
	if err == nil {
		if v == nil {
			t.Fatal("DecodeInput returned neither a value nor an error")
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("DecodeInput error %T (%v), want *Error", err, err)
	}
	if e.Status < 400 || e.Status > 499 {
		t.Fatalf("DecodeInput error status %d (%v), want 4xx", e.Status, e)
	}
}

func FuzzQueryInput(f *testing.F) {
	for _, b := range protocolTestBodies(f, "query") {
		f.Add(b)
	}
	f.Add("Action=PutThing&Version=2020-01-01&Name=a&Count=1&When=2015-01-25T08%3A00%3A00Z&Data=aGk%3D" +
		"&Tags.member.1=a&Tags.member.3=b&Attrs.entry.1.key=k&Attrs.entry.1.value=v" +
		"&Nested.Inner.Inner.Note=x&Items.member.1.At=1422172800")
	// EC2's names, so that the EC2 decoder gets past UnknownParameter.
	f.Add("Action=PutThing&Version=2016-11-15&Name=a&Count=1&Tags.1=a&Tags.3=b&Attrs.1.key=k&Attrs.1.value=v" +
		"&Nested.Inner.Inner.Note=x&Items.1.At=1422172800&Items.2.Inner.Note=y")
	c, op := thingCodec(f, Query, model.Metadata{})
	ec2, ec2op := thingCodec(f, EC2, model.Metadata{})
	f.Fuzz(func(t *testing.T, body string) {
		r := &Request{Method: http.MethodPost, Path: "/", Header: http.Header{}, Body: []byte(body)}
		v, err := c.DecodeInput(op, r)
		checkDecodeResult(t, v, err)
		q, _ := url.ParseQuery(body)
		v, err = ec2.DecodeInput(ec2op, &Request{Method: http.MethodGet, Path: "/", Query: q, Header: http.Header{}})
		checkDecodeResult(t, v, err)
	})
}

func FuzzJSONInput(f *testing.F) {
	for _, b := range protocolTestBodies(f, "json") {
		f.Add(b)
	}
	f.Add(`{"Name":"a","Count":1,"Big":9007199254740993,"Ratio":"NaN","When":1422172800.123,"Data":"aGk=",` +
		`"Tags":["a",null],"Attrs":{"k":"v"},"Nested":{"Inner":{"At":"2015-01-25T08:00:00Z"}},"Items":[{}]}`)
	c, op := thingCodec(f, JSON, model.Metadata{})
	f.Fuzz(func(t *testing.T, body string) {
		h := http.Header{}
		h.Set("X-Amz-Target", "Thing.PutThing")
		v, err := c.DecodeInput(op, &Request{Method: http.MethodPost, Path: "/", Header: h, Body: []byte(body)})
		checkDecodeResult(t, v, err)
	})
}

func FuzzCBORInput(f *testing.F) {
	indefinite := new(cb).indefMap().
		text("Name").text("x").
		text("When").epoch(1422172800.5).
		text("Data").bytes([]byte{1}).
		text("Tags").indefList().text("a").brk().
		text("Nested").indefMap().text("Inner").indefMap().brk().brk().
		brk()
	f.Add(indefinite.Bytes())
	f.Add([]byte{0xa0})
	f.Add([]byte{0xbf, 0xff})
	for _, b := range protocolTestBodies(f, "json") {
		f.Add([]byte(b))
	}
	c, op := thingCodec(f, CBOR, model.Metadata{})
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := c.DecodeInput(op, cborRequest(body))
		checkDecodeResult(t, v, err)
	})
}

// fuzzRest decodes a REST request made of a body, a path, a query string and
// one value used for every bound header.
func fuzzRest(t *testing.T, c *Codec, op *model.Operation, body, path, query, header string) {
	q, err := url.ParseQuery(query)
	if err != nil {
		q = url.Values{}
	}
	labels, ok := op.Path.Match(path, q)
	if !ok {
		return
	}
	h := http.Header{}
	for _, k := range []string{"x-amz-token", "If-Modified-Since", "x-amz-flag", "x-amz-raw", "x-amz-doc",
		"x-amz-list", "x-amz-dates", "x-amz-meta-a"} {
		h.Set(k, header)
	}
	v, err := c.DecodeInput(op, &Request{Method: http.MethodPut, Path: path, Query: q, Header: h, Body: []byte(body), Labels: labels})
	checkDecodeResult(t, v, err)
}

func FuzzRestXMLInput(f *testing.F) {
	for _, b := range protocolTestBodies(f, "rest-xml") {
		f.Add(b, "/bucket/key", "prefix=a&max-keys=3&id=1&id=2&x=y", "v")
	}
	f.Add(`<PutObjectRequest><Name>a</Name><Item>1</Item><Item>2</Item><FlatMap><key>k</key><value>v</value></FlatMap>`+
		`<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>i</ID></Grantee>`+
		`<Nested><Inner><At>2015-01-25T08:00:00Z</At></Inner></Nested></PutObjectRequest>`,
		"/b/k%2F1/2", "max-keys=x", "Sun, 25 Jan 2015 08:00:00 GMT")
	c, op := restCodec(f, RestXML)
	f.Fuzz(func(t *testing.T, body, path, query, header string) {
		fuzzRest(t, c, op, body, path, query, header)
	})
}

func FuzzRestJSONInput(f *testing.F) {
	for _, b := range protocolTestBodies(f, "rest-json") {
		f.Add(b, "/bucket/key", "prefix=a&max-keys=3&id=1&id=2&x=y", "v")
	}
	f.Add(`{"Name":"a","Count":1,"When":1422172800,"Data":"aGk=","Tags":["a"],"Nested":{"Inner":{}}}`,
		"/b/k/1", "", "eyJGb28iOiJCYXIifQ==")
	c, op := restCodec(f, RestJSON)
	f.Fuzz(func(t *testing.T, body, path, query, header string) {
		fuzzRest(t, c, op, body, path, query, header)
	})
}
