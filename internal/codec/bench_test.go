package codec_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

// The DescribeInstances benchmarks measure what the EC2 scenarios of
// docs/benchmarks.md spend in the codec: writing an answer of 100 or 1 000
// instances shaped as internal/service/ec2 builds them (about 4.5 KB of XML
// each), and reading the request that asks for them. "typed" is the
// generated path the gateway takes; "reflect" first converts the output to
// its generic form by reflection (From, as the codec did before the
// generated methods) and encodes that, for comparison in the same run.

func ec2Codec(b *testing.B) (*codec.Codec, *model.Operation) {
	b.Helper()
	svc := ec2api.Info.Model()
	c, err := codec.New(svc, codec.EC2)
	if err != nil {
		b.Fatal(err)
	}
	return c, svc.Operations["DescribeInstances"]
}

// benchInstance is instance i of a reservation, with the members a
// launched instance carries in minicloud.
func benchInstance(i int) ec2api.Instance {
	at := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	id := fmt.Sprintf("i-%017x", i)
	ip := fmt.Sprintf("172.31.%d.%d", i/250, 4+i%250)
	dns := "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal"
	group := []ec2api.GroupIdentifier{{GroupId: new("sg-0123456789abcdef0"), GroupName: new("default")}}
	return ec2api.Instance{
		AmiLaunchIndex:        new(int32(i % 100)),
		ImageId:               new("ami-17c7ffd049c791598"),
		InstanceId:            new(id),
		InstanceType:          new("t3.micro"),
		LaunchTime:            new(at),
		Monitoring:            &ec2api.Monitoring{State: new("disabled")},
		Placement:             &ec2api.Placement{AvailabilityZone: new("us-east-1a"), GroupName: new(""), Tenancy: new("default")},
		PrivateDnsName:        new(dns),
		PrivateIpAddress:      new(ip),
		ProductCodes:          []ec2api.ProductCode{},
		PublicDnsName:         new(""),
		State:                 &ec2api.InstanceState{Code: new(int32(0)), Name: new("pending")},
		StateTransitionReason: new(""),
		StateReason:           &ec2api.StateReason{Code: new("pending"), Message: new("pending")},
		SubnetId:              new("subnet-0123456789abcdef0"),
		VpcId:                 new("vpc-0123456789abcdef0"),
		Architecture:          new("x86_64"),
		BlockDeviceMappings: []ec2api.InstanceBlockDeviceMapping{{DeviceName: new("/dev/xvda"), Ebs: &ec2api.EbsInstanceBlockDevice{
			AttachTime: new(at), DeleteOnTermination: new(true), Status: new("attaching"), VolumeId: new(fmt.Sprintf("vol-%017x", i)),
		}}},
		ClientToken:  new(fmt.Sprintf("token-%d", i/100)),
		EbsOptimized: new(false),
		EnaSupport:   new(true),
		Hypervisor:   new("xen"),
		NetworkInterfaces: []ec2api.InstanceNetworkInterface{{
			Attachment: &ec2api.InstanceNetworkInterfaceAttachment{AttachTime: new(at), AttachmentId: new(fmt.Sprintf("eni-attach-%017x", i)),
				DeleteOnTermination: new(true), DeviceIndex: new(int32(0)), Status: new("attaching"), NetworkCardIndex: new(int32(0))},
			Description: new(""), Groups: group, Ipv6Addresses: []ec2api.InstanceIpv6Address{},
			MacAddress: new("02:00:00:00:00:01"), NetworkInterfaceId: new(fmt.Sprintf("eni-%017x", i)), OwnerId: new("000000000000"),
			PrivateDnsName: new(dns), PrivateIpAddress: new(ip),
			PrivateIpAddresses: []ec2api.InstancePrivateIpAddress{{Primary: new(true), PrivateDnsName: new(dns), PrivateIpAddress: new(ip)}},
			SourceDestCheck:    new(true), Status: new("in-use"), SubnetId: new("subnet-0123456789abcdef0"), VpcId: new("vpc-0123456789abcdef0"),
			InterfaceType: new("interface"),
		}},
		RootDeviceName:     new("/dev/xvda"),
		RootDeviceType:     new("ebs"),
		SecurityGroups:     group,
		SourceDestCheck:    new(true),
		Tags:               []ec2api.Tag{{Key: new("Team"), Value: new(fmt.Sprintf("team-%d", i/100))}},
		VirtualizationType: new("hvm"),
		CpuOptions:         &ec2api.CpuOptions{CoreCount: new(int32(1)), ThreadsPerCore: new(int32(2))},
		CapacityReservationSpecification: &ec2api.CapacityReservationSpecificationResponse{
			CapacityReservationPreference: new("open"),
		},
		HibernationOptions: &ec2api.HibernationOptions{Configured: new(false)},
		MetadataOptions: &ec2api.InstanceMetadataOptionsResponse{State: new("pending"), HttpTokens: new("required"),
			HttpPutResponseHopLimit: new(int32(2)), HttpEndpoint: new("enabled"), HttpProtocolIpv6: new("disabled"), InstanceMetadataTags: new("disabled")},
		EnclaveOptions:           &ec2api.EnclaveOptions{Enabled: new(false)},
		BootMode:                 new("uefi-preferred"),
		CurrentInstanceBootMode:  new("legacy-bios"),
		PlatformDetails:          new("Linux/UNIX"),
		UsageOperation:           new("RunInstances"),
		UsageOperationUpdateTime: new(at),
		PrivateDnsNameOptions: &ec2api.PrivateDnsNameOptionsResponse{
			HostnameType: new("ip-name"), EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false),
		},
		MaintenanceOptions: &ec2api.InstanceMaintenanceOptions{AutoRecovery: new("default")},
	}
}

// benchOutput is an answer of n instances, 100 to a reservation as the
// scenario launches them.
func benchOutput(n int) *ec2api.DescribeInstancesResult {
	out := &ec2api.DescribeInstancesResult{Reservations: []ec2api.Reservation{}}
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			out.Reservations = append(out.Reservations, ec2api.Reservation{
				ReservationId: new(fmt.Sprintf("r-%017x", i/100)), OwnerId: new("000000000000"),
				Groups: []ec2api.GroupIdentifier{}, Instances: []ec2api.Instance{},
			})
		}
		r := &out.Reservations[len(out.Reservations)-1]
		r.Instances = append(r.Instances, benchInstance(i))
	}
	return out
}

// discard is a ResponseWriter that counts and drops what it is sent, so
// that the benchmark measures the encoder, not a growing recorder.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func BenchmarkDescribeInstancesEncode(b *testing.B) {
	c, op := ec2Codec(b)
	for _, n := range []int{100, 1000} {
		out := benchOutput(n)
		b.Run(fmt.Sprintf("typed/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			w := &discard{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				w.n = 0
				if _, err := c.WriteOutput(w, op, out, "req-1"); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w.n))
		})
		b.Run(fmt.Sprintf("reflect/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			w := &discard{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				w.n = 0
				g, err := codec.From(out)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.WriteOutput(w, op, codec.Generic(g), "req-1"); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w.n))
		})
	}
}

func BenchmarkDescribeInstancesDecode(b *testing.B) {
	c, op := ec2Codec(b)
	for _, n := range []int{1, 100} {
		// A request naming n instances and the scenario's tag filter.
		q := url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"},
			"Filter.1.Name": {"tag:Team"}, "Filter.1.Value.1": {"team-3"}}
		for i := range n {
			q.Set("InstanceId."+strconv.Itoa(i+1), fmt.Sprintf("i-%017x", i))
		}
		body := []byte(q.Encode())
		req := func() *codec.Request {
			return &codec.Request{Method: http.MethodPost, Path: "/", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: body}
		}
		b.Run(fmt.Sprintf("typed/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var in ec2api.DescribeInstancesRequest
				if err := c.Decode(op, req(), &in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("reflect/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, err := c.DecodeInput(op, req())
				if err != nil {
					b.Fatal(err)
				}
				var in ec2api.DescribeInstancesRequest
				if err := codec.To(g, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
