package codec_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/api/route53api"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

// The services' handlers go through the generated methods (zz_codec.go);
// the conformance suite drives the same encoders and decoders through the
// generic form (codec.Generic). These tests hold the two to each other on
// the services' own models: what a generated type writes is, byte for byte,
// what its generic form (by reflection, From) writes, in every protocol; and
// a request decodes into a generated type exactly as into the generic form
// and then To.

// typedService is a generated package as the tests see it: its model and
// its Server interface, whose methods give each operation's Go types.
type typedService struct {
	info   *api.ServiceInfo
	server reflect.Type
}

var typedServices = []typedService{
	{acmapi.Info, reflect.TypeFor[acmapi.Server]()},
	{ec2api.Info, reflect.TypeFor[ec2api.Server]()},
	{elbv2api.Info, reflect.TypeFor[elbv2api.Server]()},
	{rdsapi.Info, reflect.TypeFor[rdsapi.Server]()},
	{route53api.Info, reflect.TypeFor[route53api.Server]()},
	{stsapi.Info, reflect.TypeFor[stsapi.Server]()},
}

var protocols = []string{codec.Query, codec.EC2, codec.JSON, codec.RestJSON, codec.RestXML, codec.CBOR}

// filler sets every field of a generated value, with values that survive
// the generic form unchanged: lists and maps of zero to two elements (an
// empty one is present), strings that need escaping now and then,
// timestamps with and without milliseconds, structures down to depth.
type filler struct {
	r     *rand.Rand
	depth int
}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != reflect.TypeFor[time.Time]() && depth >= f.depth {
			return
		}
		if f.r.IntN(5) == 0 {
			return // absent
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			ms := []int{0, 0, 123}[f.r.IntN(3)]
			v.Set(reflect.ValueOf(time.Date(2026, time.Month(1+f.r.IntN(12)), 1+f.r.IntN(28), f.r.IntN(24), f.r.IntN(60), f.r.IntN(60), ms*1e6, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f.fill(v.Field(i), depth)
		}
	case reflect.Slice:
		if f.r.IntN(4) == 0 {
			return // absent
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(fmt.Sprintf("blob-%d\x00\xff", f.r.IntN(100))))
			return
		}
		n := f.r.IntN(3)
		if depth >= f.depth {
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if f.r.IntN(4) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		n := f.r.IntN(3)
		if depth >= f.depth {
			n = 0
		}
		for i := range n {
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(reflect.ValueOf(fmt.Sprintf("key-%d", i)), e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString([]string{"plain", "a <b> & 'c' \"d\"", "naïve ✓", ""}[f.r.IntN(4)] + fmt.Sprint(f.r.IntN(10)))
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.r.IntN(200)) - 100)
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, -2.25, 1e21}[f.r.IntN(4)])
	case reflect.Interface:
		// Documents and jsonvalue members: left out, the generic form has
		// no other way to hold them.
	}
}

// operations yields each operation of s with its input and output types.
func (s typedService) operations(t *testing.T) []struct {
	op      *model.Operation
	in, out reflect.Type
} {
	t.Helper()
	svc := s.info.Model()
	var ops []struct {
		op      *model.Operation
		in, out reflect.Type
	}
	for i := range s.server.NumMethod() {
		m := s.server.Method(i)
		op := svc.Operations[m.Name]
		if op == nil {
			t.Fatalf("%s: no operation %s in the model", s.info.Name, m.Name)
		}
		ops = append(ops, struct {
			op      *model.Operation
			in, out reflect.Type
		}{op, m.Type.In(1).Elem(), m.Type.Out(0).Elem()})
	}
	return ops
}

func TestTypedEncodeMatchesGeneric(t *testing.T) {
	for _, s := range typedServices {
		svc := s.info.Model()
		for _, proto := range protocols {
			c, err := codec.New(svc, proto)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(s.info.Name+"/"+proto, func(t *testing.T) {
				f := &filler{r: rand.New(rand.NewPCG(1, uint64(len(proto)))), depth: 4}
				for _, o := range s.operations(t) {
					for range 3 {
						v := reflect.New(o.out)
						f.fill(v.Elem(), 0)
						typed, err := c.Encode(o.op, v.Interface().(codec.Marshaler), "req-1")
						if err != nil {
							t.Fatalf("%s: typed: %v", o.op.Name, err)
						}
						g, err := codec.From(v.Interface())
						if err != nil {
							t.Fatalf("%s: From: %v", o.op.Name, err)
						}
						generic, err := c.Encode(o.op, codec.Generic(g), "req-1")
						if err != nil {
							t.Fatalf("%s: generic: %v", o.op.Name, err)
						}
						if typed.Status != generic.Status || !reflect.DeepEqual(typed.Header, generic.Header) || !bytes.Equal(typed.Body, generic.Body) {
							t.Fatalf("%s: typed and generic answers differ:\ntyped   %d %v\n%s\ngeneric %d %v\n%s", o.op.Name,
								typed.Status, typed.Header, typed.Body, generic.Status, generic.Header, generic.Body)
						}
					}
				}
			})
		}
	}
}

// decodeCase is a request to one service's operation for the decode test
// and fuzz target; the fuzzer replaces its body.
type decodeCase struct {
	svc    typedService
	op     string
	labels map[string]string
	body   string
}

var decodeCases = []decodeCase{
	{svc: typedServices[1], op: "DescribeInstances", body: "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3ATeam&Filter.1.Value.1=team-3&InstanceId.1=i-1&MaxResults=5"},
	{svc: typedServices[1], op: "RunInstances", body: "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=2&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v&BlockDeviceMapping.1.DeviceName=%2Fdev%2Fsdf&BlockDeviceMapping.1.Ebs.VolumeSize=8&UserData=aGk%3D"},
	{svc: typedServices[1], op: "AuthorizeSecurityGroupIngress", body: "Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"},
	{svc: typedServices[3], op: "CreateDBInstance", body: "Action=CreateDBInstance&Version=2014-10-31&DBInstanceIdentifier=db1&DBInstanceClass=db.t3.micro&Engine=postgres&AllocatedStorage=20&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&Tags.Tag.1.Key=k&Tags.Tag.1.Value=v"},
	{svc: typedServices[2], op: "CreateLoadBalancer", body: "Action=CreateLoadBalancer&Version=2015-12-01&Name=lb&Subnets.member.1=subnet-1&Subnets.member.2=subnet-2&Tags.member.1.Key=k&Tags.member.1.Value=v"},
	{svc: typedServices[5], op: "AssumeRole", body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v"},
	{svc: typedServices[0], op: "RequestCertificate", body: `{"DomainName":"example.com","ValidationMethod":"DNS","SubjectAlternativeNames":["a.example.com"],"Tags":[{"Key":"k","Value":"v"}],"Options":{"CertificateTransparencyLoggingPreference":"ENABLED"}}`},
	{svc: typedServices[0], op: "ImportCertificate", body: `{"Certificate":"Y2VydA==","PrivateKey":"a2V5","Tags":[]}`},
	{svc: typedServices[4], op: "ChangeResourceRecordSets", labels: map[string]string{"Id": "Z1"}, body: `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>198.18.0.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`},
}

// checkDecodeAgrees decodes one request both ways and compares.
func checkDecodeAgrees(t *testing.T, dc decodeCase, body string) {
	t.Helper()
	svc := dc.svc.info.Model()
	op := svc.Operations[dc.op]
	c, err := codec.New(svc, dc.svc.info.Protocols[0])
	if err != nil {
		t.Fatal(err)
	}
	m, ok := dc.svc.server.MethodByName(dc.op)
	if !ok {
		t.Fatalf("no method %s", dc.op)
	}
	req := func() *codec.Request {
		r := &codec.Request{Method: op.HTTP.Method, Path: "/", Header: http.Header{}, Query: url.Values{}, Body: []byte(body), Labels: dc.labels}
		if c.Protocol == codec.JSON {
			r.Header.Set("X-Amz-Target", dc.svc.info.TargetPrefix+"."+dc.op)
		}
		return r
	}
	typed := reflect.New(m.Type.In(1).Elem())
	terr := c.Decode(op, req(), typed.Interface().(codec.Message))

	generic, gerr := c.DecodeInput(op, req())
	if gerr == nil {
		gerr = c.CheckRequired(op, generic)
	}
	want := reflect.New(m.Type.In(1).Elem())
	if gerr == nil {
		if err := codec.To(generic, want.Interface()); err != nil {
			gerr = &codec.Error{Code: "ValidationError", Message: err.Error(), Status: 400}
		}
	}
	switch {
	case terr == nil && gerr == nil:
		if !reflect.DeepEqual(typed.Interface(), want.Interface()) {
			t.Fatalf("%s %q: typed %+v, generic %+v", dc.op, body, typed.Elem().Interface(), want.Elem().Interface())
		}
	case terr == nil || gerr == nil:
		t.Fatalf("%s %q: typed error %v, generic error %v", dc.op, body, terr, gerr)
	default:
		te, ge := codec.AsError(terr), codec.AsError(gerr)
		if te.Code != ge.Code || te.Status != ge.Status {
			t.Fatalf("%s %q: typed error %v, generic error %v", dc.op, body, terr, gerr)
		}
	}
}

func TestTypedDecodeMatchesGeneric(t *testing.T) {
	for _, dc := range decodeCases {
		t.Run(dc.svc.info.Name+"/"+dc.op, func(t *testing.T) {
			checkDecodeAgrees(t, dc, dc.body)
			// And a few broken forms of it.
			for _, b := range []string{"", dc.body[:len(dc.body)/2], strings.ReplaceAll(dc.body, "1", "99999999999"), dc.body + "&Bogus.1=x", strings.ReplaceAll(dc.body, "=", "")} {
				checkDecodeAgrees(t, dc, b)
			}
		})
	}
}

// FuzzTypedDecode holds the generated decoding to the generic one on the
// services' own operations: same error code, or the same value.
func FuzzTypedDecode(f *testing.F) {
	for i, dc := range decodeCases {
		f.Add(uint8(i), dc.body)
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		checkDecodeAgrees(t, decodeCases[int(which)%len(decodeCases)], body)
	})
}
