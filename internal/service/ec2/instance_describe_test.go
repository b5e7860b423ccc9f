package ec2

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// filterTestInstance is an instance with every part DescribeInstances'
// filters read: two interfaces (one with an association, one without),
// two groups, a mapped EBS volume and an instance-store mapping.
func filterTestInstance() (*instanceRecord, *ec2api.Instance) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	group := func(id, name string) ec2api.GroupIdentifier {
		return ec2api.GroupIdentifier{GroupId: new(id), GroupName: new(name)}
	}
	v := &ec2api.Instance{
		InstanceId: new("i-1"), InstanceType: new("t3.micro"), ImageId: new("ami-1"), VpcId: new("vpc-1"), SubnetId: new("subnet-1"),
		PrivateIpAddress: new("10.0.0.4"), PublicIpAddress: new("198.18.0.9"), PrivateDnsName: new("ip-10-0-0-4.ec2.internal"),
		PublicDnsName: new(""), KeyName: new("k"), Architecture: new("x86_64"), RootDeviceType: new("ebs"), RootDeviceName: new("/dev/xvda"),
		Hypervisor: new("xen"), VirtualizationType: new("hvm"), ClientToken: new("tok"), PlatformDetails: new("Linux/UNIX"),
		UsageOperation: new("RunInstances"), SourceDestCheck: new(true), EbsOptimized: new(false), EnaSupport: new(true),
		StateTransitionReason: new(""), AmiLaunchIndex: new(int32(2)), State: instanceState(stateRunning), LaunchTime: new(at),
		Placement:          &ec2api.Placement{AvailabilityZone: new("us-east-1a"), GroupName: new(""), Tenancy: new("default")},
		Monitoring:         &ec2api.Monitoring{State: new("disabled")},
		StateReason:        &ec2api.StateReason{Code: new("pending"), Message: new("pending")},
		IamInstanceProfile: &ec2api.IamInstanceProfile{Arn: new("arn:aws:iam::1:instance-profile/p")},
		MetadataOptions:    &ec2api.InstanceMetadataOptionsResponse{HttpTokens: new("required"), HttpEndpoint: new("enabled")},
		SecurityGroups:     []ec2api.GroupIdentifier{group("sg-1", "default"), group("sg-2", "web")},
		BlockDeviceMappings: []ec2api.InstanceBlockDeviceMapping{
			{DeviceName: new("/dev/xvda"), Ebs: &ec2api.EbsInstanceBlockDevice{VolumeId: new("vol-1"), Status: new("attached"), DeleteOnTermination: new(true), AttachTime: new(at)}},
			{DeviceName: new("/dev/sdb"), Ebs: &ec2api.EbsInstanceBlockDevice{VolumeId: new("vol-2"), Status: new("attaching"), DeleteOnTermination: new(false)}},
			{DeviceName: new("/dev/sdc")},
		},
		NetworkInterfaces: []ec2api.InstanceNetworkInterface{
			{
				NetworkInterfaceId: new("eni-1"), SubnetId: new("subnet-1"), VpcId: new("vpc-1"), MacAddress: new("02:00:00:00:00:01"),
				PrivateDnsName: new("ip-10-0-0-4.ec2.internal"), PrivateIpAddress: new("10.0.0.4"), Status: new("in-use"), Description: new(""),
				OwnerId: new("123456789012"), InterfaceType: new("interface"), SourceDestCheck: new(true),
				Groups:      []ec2api.GroupIdentifier{group("sg-1", "default")},
				Attachment:  &ec2api.InstanceNetworkInterfaceAttachment{AttachmentId: new("eni-attach-1"), DeviceIndex: new(int32(0)), Status: new("attached"), DeleteOnTermination: new(true), AttachTime: new(at)},
				Association: &ec2api.InstanceNetworkInterfaceAssociation{PublicIp: new("198.18.0.9"), IpOwnerId: new("amazon"), PublicDnsName: new("")},
				PrivateIpAddresses: []ec2api.InstancePrivateIpAddress{
					{PrivateIpAddress: new("10.0.0.4"), PrivateDnsName: new("ip-10-0-0-4.ec2.internal"), Primary: new(true),
						Association: &ec2api.InstanceNetworkInterfaceAssociation{PublicIp: new("198.18.0.9"), IpOwnerId: new("amazon")}},
					{PrivateIpAddress: new("10.0.0.5"), Primary: new(false)},
				},
			},
			{
				NetworkInterfaceId: new("eni-2"), SubnetId: new("subnet-1"), VpcId: new("vpc-1"), Description: new("second"),
				Groups:     []ec2api.GroupIdentifier{group("sg-2", "web")},
				Attachment: &ec2api.InstanceNetworkInterfaceAttachment{AttachmentId: new("eni-attach-2"), DeviceIndex: new(int32(1)), Status: new("attaching")},
			},
		},
	}
	return &instanceRecord{Instance: *v, ReservationID: "r-1"}, v
}

// TestInstanceFilterValues pins every DescribeInstances filter's values
// for one instance, and the list of filter names (empty ones included:
// EC2 accepts them, and they match nothing).
func TestInstanceFilterValues(t *testing.T) {
	rec, v := filterTestInstance()
	got := instanceFilterValues("123456789012", rec, v)
	want := map[string][]string{
		"ami-launch-index":                           {"2"},
		"architecture":                               {"x86_64"},
		"availability-zone":                          {"us-east-1a"},
		"block-device-mapping.attach-time":           {"2024-05-06T07:08:09.000Z"},
		"block-device-mapping.delete-on-termination": {"true", "false"},
		"block-device-mapping.device-name":           {"/dev/xvda", "/dev/sdb", "/dev/sdc"},
		"block-device-mapping.status":                {"attached", "attaching"},
		"block-device-mapping.volume-id":             {"vol-1", "vol-2"},
		"client-token":                               {"tok"},
		"dns-name":                                   nil,
		"ebs-optimized":                              {"false"},
		"ena-support":                                {"true"},
		"group-id":                                   {"sg-1", "sg-2"},
		"group-name":                                 {"default", "web"},
		"hypervisor":                                 {"xen"},
		"iam-instance-profile.arn":                   {"arn:aws:iam::1:instance-profile/p"},
		"image-id":                                   {"ami-1"},
		"instance-id":                                {"i-1"},
		"instance-state-code":                        {"16"},
		"instance-state-name":                        {"running"},
		"instance-type":                              {"t3.micro"},
		"instance.group-id":                          {"sg-1", "sg-2"},
		"instance.group-name":                        {"default", "web"},
		"ip-address":                                 {"198.18.0.9"},
		"kernel-id":                                  nil,
		"key-name":                                   {"k"},
		"launch-time":                                {"2024-05-06T07:08:09.000Z"},
		"metadata-options.http-endpoint":             {"enabled"},
		"metadata-options.http-tokens":               {"required"},
		"monitoring-state":                           {"disabled"},
		"network-interface.addresses.association.ip-owner-id":        {"amazon"},
		"network-interface.addresses.association.public-dns-name":    nil,
		"network-interface.addresses.association.public-ip":          {"198.18.0.9"},
		"network-interface.addresses.primary":                        {"true", "false"},
		"network-interface.addresses.private-dns-name":               {"ip-10-0-0-4.ec2.internal"},
		"network-interface.addresses.private-ip-address":             {"10.0.0.4", "10.0.0.5"},
		"network-interface.association.allocation-id":                nil,
		"network-interface.association.association-id":               nil,
		"network-interface.association.ip-owner-id":                  {"amazon"},
		"network-interface.association.public-dns-name":              nil,
		"network-interface.association.public-ip":                    {"198.18.0.9"},
		"network-interface.attachment.attach-time":                   {"2024-05-06T07:08:09.000Z"},
		"network-interface.attachment.attachment-id":                 {"eni-attach-1", "eni-attach-2"},
		"network-interface.attachment.delete-on-termination":         {"true", "false"},
		"network-interface.attachment.device-index":                  {"0", "1"},
		"network-interface.attachment.ena-srd-enabled":               nil,
		"network-interface.attachment.instance-id":                   {"i-1", "i-1"},
		"network-interface.attachment.instance-owner-id":             {"123456789012", "123456789012"},
		"network-interface.attachment.network-card-index":            {"0", "0"},
		"network-interface.attachment.network-card-index.deprecated": nil,
		"network-interface.attachment.status":                        {"attached", "attaching"},
		"network-interface.availability-zone":                        nil,
		"network-interface.description":                              {"second"},
		"network-interface.group-id":                                 {"sg-1", "sg-2"},
		"network-interface.group-name":                               {"default", "web"},
		"network-interface.interface-type":                           {"interface"},
		"network-interface.ipv6-address":                             nil,
		"network-interface.ipv6-addresses.ipv6-address":              nil,
		"network-interface.mac-address":                              {"02:00:00:00:00:01"},
		"network-interface.network-interface-id":                     {"eni-1", "eni-2"},
		"network-interface.owner-id":                                 {"123456789012"},
		"network-interface.private-dns-name":                         {"ip-10-0-0-4.ec2.internal"},
		"network-interface.private-ip-address":                       {"10.0.0.4"},
		"network-interface.requester-id":                             nil,
		"network-interface.requester-managed":                        {"false", "false"},
		"network-interface.source-dest-check":                        {"true", "false"},
		"network-interface.status":                                   {"in-use"},
		"network-interface.subnet-id":                                {"subnet-1", "subnet-1"},
		"network-interface.vpc-id":                                   {"vpc-1", "vpc-1"},
		"owner-id":                                                   {"123456789012"},
		"placement-group-name":                                       nil,
		"platform":                                                   nil,
		"platform-details":                                           {"Linux/UNIX"},
		"private-dns-name":                                           {"ip-10-0-0-4.ec2.internal"},
		"private-ip-address":                                         {"10.0.0.4"},
		"ramdisk-id":                                                 nil,
		"reservation-id":                                             {"r-1"},
		"root-device-name":                                           {"/dev/xvda"},
		"root-device-type":                                           {"ebs"},
		"source-dest-check":                                          {"true"},
		"state-reason-code":                                          {"pending"},
		"state-reason-message":                                       {"pending"},
		"state-transition-reason":                                    nil,
		"subnet-id":                                                  {"subnet-1"},
		"tenancy":                                                    {"default"},
		"usage-operation":                                            {"RunInstances"},
		"virtualization-type":                                        {"hvm"},
		"vpc-id":                                                     {"vpc-1"},
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[name]; !ok || !slices.Equal(g, want[name]) {
			t.Errorf("%s: got %q (present %v), want %q", name, g, ok, want[name])
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected filter %s: %q", name, got[name])
		}
	}
	// An empty instance still lists every name: DescribeInstances checks
	// the request's filter names against them.
	empty := instanceFilterValues("", &instanceRecord{}, &ec2api.Instance{})
	if !slices.Equal(slices.Sorted(maps.Keys(empty)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("filter names of an empty instance differ")
	}
}
