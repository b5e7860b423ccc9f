package minicloudtest_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/minicloudtest"
)

// TestIsolation: two clouds at once share nothing a test could see: not a
// VPC, not an address, not a public range.
func TestIsolation(t *testing.T) {
	t.Parallel()
	a, b := minicloudtest.New(t), minicloudtest.New(t)
	ctx := t.Context()
	vpc, err := ec2.NewFromConfig(a.Config).CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ec2.NewFromConfig(b.Config).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}})
	if code := errorCode(err); code != "InvalidVpcID.NotFound" {
		t.Errorf("the other cloud's DescribeVpcs(%s): %v, want InvalidVpcID.NotFound", aws.ToString(vpc.Vpc.VpcId), err)
	}
	if a.Endpoint == b.Endpoint || a.DNSAddr == b.DNSAddr {
		t.Errorf("two clouds share an address: %s %s, %s %s", a.Endpoint, a.DNSAddr, b.Endpoint, b.DNSAddr)
	}
	aOn, _ := a.DataPlane()
	bOn, _ := b.DataPlane()
	if aOn && bOn && (a.PublicCIDR().Overlaps(b.PublicCIDR())) {
		t.Errorf("two clouds with data planes share public IPs: %s and %s", a.PublicCIDR(), b.PublicCIDR())
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     []minicloudtest.Option
		region   string
		wantZone string
	}{
		{name: "default", region: "us-east-1", wantZone: "us-east-1a"},
		{name: "region", opts: []minicloudtest.Option{minicloudtest.WithRegion("eu-west-1")}, region: "eu-west-1", wantZone: "eu-west-1a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mc := minicloudtest.New(t, append(tc.opts, minicloudtest.WithoutDataPlane())...)
			if mc.Config.Region != tc.region {
				t.Errorf("region %q, want %q", mc.Config.Region, tc.region)
			}
			if on, why := mc.DataPlane(); on || why == "" {
				t.Errorf("WithoutDataPlane: data plane on=%v (%q), want off with a reason", on, why)
			}
			out, err := ec2.NewFromConfig(mc.Config).DescribeAvailabilityZones(t.Context(), &ec2.DescribeAvailabilityZonesInput{})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.AvailabilityZones[0].ZoneName); got != tc.wantZone {
				t.Errorf("first zone %s, want %s", got, tc.wantZone)
			}
		})
	}
}

// TestIAM: with WithIAM, Config is the account's root, and an IAM user's
// key gets what its policies allow: here nothing.
func TestIAM(t *testing.T) {
	t.Parallel()
	mc := minicloudtest.New(t, minicloudtest.WithIAM(), minicloudtest.WithoutDataPlane())
	ctx := t.Context()
	client := iam.NewFromConfig(mc.Config)
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bob := mc.Config.Copy()
	bob.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	_, err = ec2.NewFromConfig(bob).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if code := errorCode(err); code != "UnauthorizedOperation" {
		t.Errorf("bob's DescribeVpcs: %v, want UnauthorizedOperation", err)
	}
	forged := mc.Config.Copy()
	forged.Credentials = credentials.NewStaticCredentialsProvider(minicloudtest.AccessKeyID, "not-the-secret", "")
	_, err = ec2.NewFromConfig(forged).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if code := errorCode(err); code != "AuthFailure" {
		t.Errorf("DescribeVpcs with a wrong secret: %v, want AuthFailure", err)
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
