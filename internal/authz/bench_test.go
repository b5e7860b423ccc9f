package authz

import (
	"context"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/iampolicy"
)

// fixedPolicies answers one policy set for everyone, as IAM's cache does
// once warm.
type fixedPolicies struct{ set iampolicy.PolicySet }

func (f fixedPolicies) PoliciesFor(context.Context, iampolicy.Principal) (iampolicy.PolicySet, map[string]string, error) {
	return f.set, map[string]string{"team": "blue"}, nil
}

// BenchmarkAuthorize is the request path's cost of enforcement with IAM's
// policies cached: the question built from the request (action,
// resources read from the input, context keys) and evaluated.
func BenchmarkAuthorize(b *testing.B) {
	pol, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Sid":"Describe","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},`+
		`{"Sid":"Run","Effect":"Allow","Action":"ec2:*Instances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}},`+
		`{"Sid":"NotProd","Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`, iampolicy.Identity)
	if err != nil {
		b.Fatal(err)
	}
	e := New(Config{Policies: fixedPolicies{iampolicy.PolicySet{Identity: []*iampolicy.Policy{pol}}}})
	ec2Info := &api.ServiceInfo{Name: "ec2", SigningName: "ec2"}
	for _, tc := range []struct {
		name  string
		op    string
		input codec.Message
	}{
		{"DescribeVpcs", "DescribeVpcs", &ec2api.DescribeVpcsRequest{}},
		{"StopInstances", "StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := &api.AccessRequest{Info: &api.RequestInfo{Operation: tc.op, Region: "us-east-1", Account: "111111111111"},
				Service: ec2Info, Protocol: codec.EC2, Input: tc.input, SourceIP: "127.0.0.1", Time: time.Now(),
				Identity: api.Identity{Account: "111111111111", ARN: "arn:aws:iam::111111111111:user/bob", UserID: "AIDAEXAMPLE"}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Authorize(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
