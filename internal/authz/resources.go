package authz

import (
	"reflect"
	"strings"
	"sync"
)

// actionPrefix maps a signing name to its IAM service prefix where they
// differ (the service authorization reference's "service prefix").
var actionPrefix = map[string]string{
	"monitoring": "cloudwatch",
}

// Action is the IAM action of an operation: "<service prefix>:<Operation>".
func Action(signingName, operation string) string {
	prefix := signingName
	if p, ok := actionPrefix[signingName]; ok {
		prefix = p
	}
	return prefix + ":" + operation
}

// arnShape is how a service's resource ARNs are written: region and
// account are left out for global services that have none in their ARNs
// (IAM: no region; Route 53: neither).
type arnShape struct {
	service   string
	noRegion  bool
	noAccount bool
	// typedIDs: the service answers IDs with their type as a path
	// ("/hostedzone/Z1", "/change/C1"), which is the ARN's resource part.
	typedIDs bool
}

// resourceRules are, per signing name, the resource types of the
// operations minicloud serves, as each service's "Actions, resources, and
// condition keys" page lists them:
//
//   - members maps an input member naming a resource (one ID or a list)
//     to the ARN's resource part, "%s" standing for the value; "=" means
//     the member is itself an ARN;
//   - creates maps an operation that makes a resource to the resource
//     part of the new resource's ARN ("instance/*": its ID is not known
//     yet), listed before the members it also names;
//   - unscoped are the operations (by prefix) that AWS documents with no
//     resource type: they are evaluated on "*".
//
// An operation with none of these is evaluated on "*" too.
type resourceRules struct {
	shape   arnShape
	members map[string]string
	// opMembers replace members for the operations (by prefix) whose
	// member of the same name names another resource type (ssm's Name:
	// a parameter, or a document in the document operations).
	opMembers map[string]map[string]string
	creates   map[string]string
	unscoped  []string
}

var rules = map[string]*resourceRules{
	"ec2": {
		shape: arnShape{service: "ec2"},
		members: map[string]string{
			"InstanceId": "instance/%s", "InstanceIds": "instance/%s",
			"VpcId": "vpc/%s", "SubnetId": "subnet/%s", "SubnetIds": "subnet/%s",
			"GroupId": "security-group/%s", "GroupIds": "security-group/%s", "SecurityGroupIds": "security-group/%s",
			"InternetGatewayId": "internet-gateway/%s", "NatGatewayId": "natgateway/%s",
			"RouteTableId": "route-table/%s", "NetworkAclId": "network-acl/%s",
			"NetworkInterfaceId": "network-interface/%s", "AllocationId": "elastic-ip/%s",
			"VpcEndpointId": "vpc-endpoint/%s", "VpcEndpointIds": "vpc-endpoint/%s",
			"KeyName": "key-pair/%s", "ImageId": "image/%s", "VolumeId": "volume/%s",
			"SnapshotId": "snapshot/%s", "Resources": ec2ByID,
		},
		creates: map[string]string{
			"RunInstances": "instance/*", "CreateVpc": "vpc/*", "CreateDefaultVpc": "vpc/*", "CreateSubnet": "subnet/*",
			"CreateDefaultSubnet": "subnet/*", "CreateInternetGateway": "internet-gateway/*", "CreateNatGateway": "natgateway/*",
			"CreateRouteTable": "route-table/*", "CreateSecurityGroup": "security-group/*", "CreateNetworkAcl": "network-acl/*",
			"AllocateAddress": "elastic-ip/*", "CreateNetworkInterface": "network-interface/*", "CreateVpcEndpoint": "vpc-endpoint/*",
			"CreateKeyPair": "key-pair/*", "ImportKeyPair": "key-pair/*", "CreateImage": "image/*", "RegisterImage": "image/*",
			"CreateVolume": "volume/*", "CreateSnapshot": "snapshot/*",
		},
		unscoped: []string{"Describe", "GetManagedPrefixListEntries"},
	},
	"rds": {
		shape: arnShape{service: "rds"},
		members: map[string]string{
			"DBInstanceIdentifier": "db:%s", "SourceDBInstanceIdentifier": "db:%s", "TargetDBInstanceIdentifier": "db:%s",
			"DBSubnetGroupName": "subgrp:%s", "DBParameterGroupName": "pg:%s",
			"DBSnapshotIdentifier": "snapshot:%s", "TargetDBSnapshotIdentifier": "snapshot:%s", "ResourceName": "=",
		},
		unscoped: []string{"DescribeDBEngineVersions", "DescribeEngineDefaultParameters", "DescribeOrderableDBInstanceOptions"},
	},
	"elasticloadbalancing": {
		shape: arnShape{service: "elasticloadbalancing"},
		members: map[string]string{
			"LoadBalancerArn": "=", "LoadBalancerArns": "=", "TargetGroupArn": "=", "TargetGroupArns": "=",
			"ListenerArn": "=", "ListenerArns": "=", "RuleArn": "=", "RuleArns": "=", "ResourceArns": "=",
		},
		creates: map[string]string{
			"CreateLoadBalancer": "loadbalancer/*", "CreateTargetGroup": "targetgroup/*",
		},
		unscoped: []string{"Describe"},
	},
	"iam": {
		shape: arnShape{service: "iam", noRegion: true},
		members: map[string]string{
			"UserName": "user/%s", "GroupName": "group/%s", "RoleName": "role/%s", "PolicyArn": "=",
			"InstanceProfileName": "instance-profile/%s",
		},
		unscoped: []string{"List", "GetAccount", "CreateAccountAlias", "DeleteAccountAlias", "GetAccountAuthorizationDetails", "SimulateCustomPolicy"},
	},
	"sts": {
		shape: arnShape{service: "sts", noRegion: true},
		// GetFederationToken's Name is the federated user it makes.
		members:  map[string]string{"RoleArn": "=", "Name": "federated-user/%s"},
		unscoped: []string{"GetCallerIdentity", "GetSessionToken", "DecodeAuthorizationMessage"},
	},
	"logs": {
		shape: arnShape{service: "logs"},
		members: map[string]string{
			"LogGroupName": "log-group:%s", "LogGroupIdentifier": "log-group:%s", "ResourceArn": "=", "ResourceArns": "=",
		},
		unscoped: []string{"DescribeLogGroups", "DescribeQueries", "GetQueryResults", "StopQuery", "TestMetricFilter", "GetLogRecord"},
	},
	"acm": {
		shape:    arnShape{service: "acm"},
		members:  map[string]string{"CertificateArn": "="},
		unscoped: []string{"ListCertificates", "GetAccountConfiguration", "PutAccountConfiguration", "RequestCertificate", "ImportCertificate"},
	},
	"route53": {
		shape: arnShape{service: "route53", noRegion: true, noAccount: true, typedIDs: true},
		members: map[string]string{
			"HostedZoneId": "hostedzone/%s", "Id": "hostedzone/%s", "HealthCheckId": "healthcheck/%s",
		},
		unscoped: []string{"List", "GetHostedZoneCount", "GetHealthCheckCount", "CreateHostedZone", "CreateHealthCheck"},
	},
	"monitoring": {
		shape:    arnShape{service: "cloudwatch"},
		members:  map[string]string{"AlarmName": "alarm:%s", "AlarmNames": "alarm:%s", "ResourceARN": "=", "DashboardName": "dashboard/%s", "DashboardNames": "dashboard/%s"},
		unscoped: []string{"PutMetricData", "ListMetrics", "GetMetricStatistics", "GetMetricData", "DescribeAlarms", "DescribeAlarmsForMetric", "DescribeAlarmHistory", "ListDashboards", "GetMetricWidgetImage"},
	},
	"ssm": {
		shape: arnShape{service: "ssm"},
		members: map[string]string{
			"Name": ssmParameter, "Names": ssmParameter, "Path": ssmParameter,
			"DocumentName": ssmDocument, "InstanceId": ec2Instance, "InstanceIds": ec2Instance, "Target": ec2Instance,
			// A session is arn:…:session/<id>, as AWS's documented
			// "session/${aws:userid}-*" policies for one's own sessions need.
			"SessionId": "session/%s",
		},
		opMembers: map[string]map[string]string{
			"CreateDocument": {"Name": ssmDocument}, "GetDocument": {"Name": ssmDocument}, "DescribeDocument": {"Name": ssmDocument},
			"UpdateDocument": {"Name": ssmDocument}, "DeleteDocument": {"Name": ssmDocument}, "ListDocumentVersions": {"Name": ssmDocument},
		},
		unscoped: []string{"DescribeParameters", "DescribeInstanceInformation", "ListDocuments", "ListCommands", "ListCommandInvocations",
			"GetCommandInvocation", "CancelCommand", "DescribeSessions",
			"AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource"},
	},
	"cloudtrail": {
		shape:    arnShape{service: "cloudtrail"},
		members:  map[string]string{"Name": "trail/%s"},
		unscoped: []string{"LookupEvents", "DescribeTrails", "ListTrails"},
	},
}

// Resources are the ARNs an operation's input names, in the caller's
// partition, region and account; nil means "*".
func Resources(signingName, op string, input any, partition, region, account string) []string {
	r := rules[signingName]
	if r == nil {
		return nil
	}
	for _, u := range r.unscoped {
		if strings.HasPrefix(op, u) {
			return nil
		}
	}
	base := r.shape.base(partition, region, account)
	var out []string
	if c, ok := r.creates[op]; ok {
		out = append(out, base+c)
	}
	members := r.members
	for prefix, m := range r.opMembers {
		if strings.HasPrefix(op, prefix) {
			members = m
		}
	}
	forMembers(input, members, func(format, v string) {
		switch {
		case v == "":
		case format == ssmParameter:
			out = append(out, base+"parameter/"+ssmParameterName(v))
		case format == ssmDocument && !strings.HasPrefix(v, "arn:"):
			out = append(out, ssmDocumentARN(partition, region, account, v))
		case format == ec2Instance && !strings.HasPrefix(v, "arn:"):
			out = append(out, "arn:"+partition+":ec2:"+region+":"+account+":instance/"+v)
		case format == "=" || strings.HasPrefix(v, "arn:"):
			out = append(out, v)
		case format == ec2ByID:
			out = append(out, base+ec2Type(v)+"/"+v)
		case r.shape.typedIDs && strings.HasPrefix(v, "/"):
			out = append(out, base+v[1:])
		default:
			out = append(out, base+strings.Replace(format, "%s", v, 1))
		}
	})
	return out
}

// Systems Manager's members: a parameter name (its ARN does not repeat
// the name's leading slash, nor a ":version" or ":label" selector), a
// document name (AWS's own documents have no account in their ARNs), an
// instance ID (an EC2 ARN).
const (
	ssmParameter = "<ssm parameter>"
	ssmDocument  = "<ssm document>"
	ec2Instance  = "<ec2 instance>"
)

func ssmParameterName(v string) string {
	if strings.HasPrefix(v, "arn:") {
		_, v, _ = strings.Cut(v, ":parameter")
	}
	v, _, _ = strings.Cut(v, ":")
	return strings.TrimPrefix(v, "/")
}

// awsDocumentPrefixes start the names of the documents AWS owns.
var awsDocumentPrefixes = []string{"AWS-", "AWSEC2-", "AWSSupport-", "AWSConfigRemediation-", "AmazonCloudWatch-", "AmazonEKS-", "SSM-"}

func ssmDocumentARN(partition, region, account, name string) string {
	for _, p := range awsDocumentPrefixes {
		if strings.HasPrefix(name, p) {
			account = ""
			break
		}
	}
	return "arn:" + partition + ":ssm:" + region + ":" + account + ":document/" + name
}

// ec2ByID marks a member listing IDs of any EC2 resource type (CreateTags'
// Resources): the type is read from each ID's prefix.
const ec2ByID = "<by id>"

var ec2Prefixes = map[string]string{
	"i": "instance", "vpc": "vpc", "subnet": "subnet", "sg": "security-group", "igw": "internet-gateway",
	"nat": "natgateway", "rtb": "route-table", "acl": "network-acl", "eni": "network-interface",
	"eipalloc": "elastic-ip", "vpce": "vpc-endpoint", "ami": "image", "vol": "volume", "snap": "snapshot", "key": "key-pair",
}

func ec2Type(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	if t, ok := ec2Prefixes[prefix]; ok {
		return t
	}
	return prefix
}

func (s arnShape) base(partition, region, account string) string {
	if s.noRegion {
		region = ""
	}
	if s.noAccount {
		account = ""
	}
	return "arn:" + partition + ":" + s.service + ":" + region + ":" + account + ":"
}

// fieldIndex caches, per input type, the top-level members a service's
// rules name, by field index.
var fieldIndex sync.Map // reflect.Type → []memberField

type memberField struct {
	index  int
	format string
}

// forMembers calls fn with each value of input's members that members
// names: string, *string and []string fields.
func forMembers(input any, members map[string]string, fn func(format, v string)) {
	rv := reflect.ValueOf(input)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return
	}
	t := rv.Type()
	cached, ok := fieldIndex.Load(t)
	if !ok {
		var fs []memberField
		for i := range t.NumField() {
			if f, ok := members[t.Field(i).Name]; ok {
				fs = append(fs, memberField{i, f})
			}
		}
		cached, _ = fieldIndex.LoadOrStore(t, fs)
	}
	for _, mf := range cached.([]memberField) {
		f := rv.Field(mf.index)
		switch f.Kind() {
		case reflect.String:
			fn(mf.format, f.String())
		case reflect.Pointer:
			if !f.IsNil() && f.Elem().Kind() == reflect.String {
				fn(mf.format, f.Elem().String())
			}
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				for j := range f.Len() {
					fn(mf.format, f.Index(j).String())
				}
			}
		}
	}
}
