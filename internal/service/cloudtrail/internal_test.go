package cloudtrail

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/api/stsapi"
	"github.com/minicloud/minicloud/internal/codec"
)

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		service, op string
		readOnly    bool
		response    bool
	}{
		{"ec2", "DescribeInstances", true, false},
		{"ec2", "RunInstances", false, true},
		{"ec2", "GetConsoleOutput", true, false},
		{"rds", "CreateDBInstance", false, true},
		{"elbv2", "DescribeLoadBalancers", true, false},
		{"logs", "FilterLogEvents", true, false},
		{"logs", "StartQuery", true, true},
		{"logs", "PutLogEvents", false, true},
		{"sts", "AssumeRole", true, true},
		{"sts", "GetCallerIdentity", true, false},
		{"sts", "GetSessionToken", true, true},
		{"cloudtrail", "LookupEvents", true, false},
		{"acm", "ExportCertificate", false, true},
		{"route53", "TestDNSAnswer", true, false},
		{"route53", "ChangeResourceRecordSets", false, true},
	} {
		if got := isReadOnly(tc.service, tc.op); got != tc.readOnly {
			t.Errorf("%s:%s readOnly %v, want %v", tc.service, tc.op, got, tc.readOnly)
		}
		if got := keepsResponse(tc.service, tc.op); got != tc.response {
			t.Errorf("%s:%s responseElements kept %v, want %v", tc.service, tc.op, got, tc.response)
		}
	}
}

// params encodes v as an event member of service's operation op.
func params(t *testing.T, info *api.ServiceInfo, op string, v codec.Marshaler, response bool) (map[string]any, []resource) {
	t.Helper()
	o := info.Model().Operations[op]
	ref := o.Input
	if response {
		ref = o.Output
	}
	res := newResourceSet(info.Name)
	raw := encodeParams(v, ref, info.Name, response, res)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v in %s", op, err, raw)
	}
	return m, res.list
}

func TestParamsRedactionAndResources(t *testing.T) {
	exp := time.Date(2020, 1, 11, 0, 18, 27, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		info     *api.ServiceInfo
		op       string
		v        codec.Marshaler
		response bool
		want     map[string]any
		res      []resource
	}{
		{
			name: "EC2 user data is removed, lists are items, names are EC2's",
			info: ec2api.Info, op: "RunInstances",
			v: &ec2api.RunInstancesRequest{ImageId: new("ami-1"), MinCount: new(int32(1)), MaxCount: new(int32(1)),
				UserData: new("c2VjcmV0"), SubnetId: new("subnet-1"), SecurityGroupIds: []string{"sg-1", "sg-2"}},
			want: map[string]any{"imageId": "ami-1", "minCount": 1.0, "maxCount": 1.0, "userData": "<sensitiveDataRemoved>",
				"subnetId": "subnet-1", "securityGroupId": map[string]any{"items": []any{"sg-1", "sg-2"}}},
			res: []resource{{"AWS::EC2::Ami", "ami-1"}, {"AWS::EC2::SecurityGroup", "sg-1"}, {"AWS::EC2::SecurityGroup", "sg-2"}, {"AWS::EC2::Subnet", "subnet-1"}},
		},
		{
			name: "RDS masks the master password, names lowerCamelCase",
			info: rdsapi.Info, op: "CreateDBInstance",
			v: &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: new("db1"), MasterUserPassword: new("hunter22"),
				VpcSecurityGroupIds: []string{"sg-9"}},
			want: map[string]any{"dBInstanceIdentifier": "db1", "masterUserPassword": "****", "vpcSecurityGroupIds": []any{"sg-9"}},
			res:  []resource{{"AWS::RDS::DBInstance", "db1"}, {"AWS::EC2::SecurityGroup", "sg-9"}},
		},
		{
			name: "an answer leaves sensitive members out; Java dates",
			info: stsapi.Info, op: "AssumeRole", response: true,
			v: &stsapi.AssumeRoleResponse{Credentials: &stsapi.Credentials{AccessKeyId: new("ASIAX"), SecretAccessKey: new("s3cr3t"),
				SessionToken: new("tok"), Expiration: &exp}},
			want: map[string]any{"credentials": map[string]any{"accessKeyId": "ASIAX", "sessionToken": "tok", "expiration": "Jan 11, 2020, 12:18:27 AM"}},
			res:  []resource{{"AWS::IAM::AccessKey", "ASIAX"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, res := params(t, tc.info, tc.op, tc.v, tc.response)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("params\n got %v\nwant %v", got, tc.want)
			}
			if !reflect.DeepEqual(res, tc.res) {
				t.Errorf("resources\n got %v\nwant %v", res, tc.res)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	issued := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		caller, userID string
		want           string
		user           string
	}{
		{"arn:aws:iam::123456789012:root", "123456789012", `{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012","accessKeyId":"AKIA1"}`, "root"},
		{"arn:aws:iam::123456789012:user/dev/alice", "AIDAX", `{"type":"IAMUser","principalId":"AIDAX","arn":"arn:aws:iam::123456789012:user/dev/alice","accountId":"123456789012","accessKeyId":"AKIA1","userName":"alice"}`, "alice"},
		{"arn:aws:sts::123456789012:assumed-role/deployer/ci", "AROAX:ci", `{"type":"AssumedRole","principalId":"AROAX:ci","arn":"arn:aws:sts::123456789012:assumed-role/deployer/ci","accountId":"123456789012","accessKeyId":"AKIA1","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAX","arn":"arn:aws:iam::123456789012:role/deployer","accountId":"123456789012","userName":"deployer"},"attributes":{"creationDate":"2026-01-02T03:04:05Z","mfaAuthenticated":"false"}}}`, "ci"},
	} {
		c := &api.Call{Info: api.RequestInfo{Account: "123456789012", AccessKey: "AKIA1", Caller: tc.caller, CallerUserID: tc.userID}, Issued: issued}
		id := identityOf(c)
		b, _ := json.Marshal(id)
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.caller, b, tc.want)
		}
		if u := usernameOf(id); u != tc.user {
			t.Errorf("%s: username %q, want %q", tc.caller, u, tc.user)
		}
	}
}
