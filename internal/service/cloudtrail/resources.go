package cloudtrail

// An event's Resources (LookupEvents) are the resources its request and,
// for calls that change something, its answer name, found by member name:
// a string member, or a list of strings, named in resourceMembers holds
// resources of that type, at any depth (RunInstances' answer names its
// instances, their subnet, VPC and security groups). Read-only calls take
// them from the request only: a DescribeInstances names the instances
// asked for, not every instance it answered with. AWS documents the
// resource types, not the rule per operation: this is the rule its
// console's Resources column follows for the services minicloud serves.

// resourceMembers maps a member name to its resource type, per service
// ("" for any service). A service's own entry wins: IAM's GroupName is
// a group, EC2's a security group.
var resourceMembers = map[string]map[string]string{
	"": {
		"InstanceId":          "AWS::EC2::Instance",
		"InstanceIds":         "AWS::EC2::Instance",
		"VpcId":               "AWS::EC2::VPC",
		"VpcIds":              "AWS::EC2::VPC",
		"SubnetId":            "AWS::EC2::Subnet",
		"SubnetIds":           "AWS::EC2::Subnet",
		"Subnets":             "AWS::EC2::Subnet",
		"GroupId":             "AWS::EC2::SecurityGroup",
		"GroupIds":            "AWS::EC2::SecurityGroup",
		"SecurityGroupIds":    "AWS::EC2::SecurityGroup",
		"SecurityGroups":      "AWS::EC2::SecurityGroup",
		"VpcSecurityGroupIds": "AWS::EC2::SecurityGroup",
		"VpcSecurityGroupId":  "AWS::EC2::SecurityGroup",
		"InternetGatewayId":   "AWS::EC2::InternetGateway",
		"NatGatewayId":        "AWS::EC2::NatGateway",
		"RouteTableId":        "AWS::EC2::RouteTable",
		"NetworkAclId":        "AWS::EC2::NetworkAcl",
		"NetworkInterfaceId":  "AWS::EC2::NetworkInterface",
		"AllocationId":        "AWS::EC2::EIP",
		"ImageId":             "AWS::EC2::Ami",
		"KeyName":             "AWS::EC2::KeyPair",
		"VolumeId":            "AWS::EC2::Volume",
		"LaunchTemplateId":    "AWS::EC2::LaunchTemplate",

		"DBInstanceIdentifier":  "AWS::RDS::DBInstance",
		"DBClusterIdentifier":   "AWS::RDS::DBCluster",
		"DBSnapshotIdentifier":  "AWS::RDS::DBSnapshot",
		"DBSubnetGroupName":     "AWS::RDS::DBSubnetGroup",
		"DBParameterGroupName":  "AWS::RDS::DBParameterGroup",
		"LoadBalancerArn":       "AWS::ElasticLoadBalancingV2::LoadBalancer",
		"LoadBalancerArns":      "AWS::ElasticLoadBalancingV2::LoadBalancer",
		"TargetGroupArn":        "AWS::ElasticLoadBalancingV2::TargetGroup",
		"TargetGroupArns":       "AWS::ElasticLoadBalancingV2::TargetGroup",
		"ListenerArn":           "AWS::ElasticLoadBalancingV2::Listener",
		"ListenerArns":          "AWS::ElasticLoadBalancingV2::Listener",
		"CertificateArn":        "AWS::ACM::Certificate",
		"HostedZoneId":          "AWS::Route53::HostedZone",
		"AlarmName":             "AWS::CloudWatch::Alarm",
		"AlarmNames":            "AWS::CloudWatch::Alarm",
		"UserName":              "AWS::IAM::User",
		"RoleName":              "AWS::IAM::Role",
		"RoleArn":               "AWS::IAM::Role",
		"PolicyArn":             "AWS::IAM::Policy",
		"InstanceProfileName":   "AWS::IAM::InstanceProfile",
		"AccessKeyId":           "AWS::IAM::AccessKey",
		"logGroupName":          "AWS::Logs::LogGroup",
		"S3BucketName":          "AWS::S3::Bucket",
		"TrailName":             "AWS::CloudTrail::Trail",
		"DBClusterSnapshotName": "AWS::RDS::DBClusterSnapshot",
	},
	"iam": {"GroupName": "AWS::IAM::Group"},
	"ec2": {"GroupName": "AWS::EC2::SecurityGroup"},
}

// resource is one entry of an event's Resources.
type resource struct {
	Type string `json:"t"`
	Name string `json:"n"`
}

// resourceSet collects an event's resources, each once, in the order met.
type resourceSet struct {
	table   map[string]string
	generic map[string]string
	list    []resource
}

func newResourceSet(service string) *resourceSet {
	return &resourceSet{table: resourceMembers[service], generic: resourceMembers[""]}
}

// note adds the resource a string value names, when its member (or the
// list it is an element of: the encoder passes the list's member name)
// is a resource member.
func (s *resourceSet) note(member, v string) {
	if s == nil || v == "" {
		return
	}
	t := s.typeOf(member)
	if t == "" {
		return
	}
	for _, r := range s.list {
		if r.Type == t && r.Name == v {
			return
		}
	}
	s.list = append(s.list, resource{Type: t, Name: v})
}

func (s *resourceSet) typeOf(member string) string {
	if member == "" {
		return ""
	}
	if t, ok := s.table[member]; ok {
		return t
	}
	return s.generic[member]
}
