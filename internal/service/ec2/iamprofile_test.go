package ec2_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/minicloud/minicloud/internal/sdktest"
)

// iamProfile creates an instance profile (and, when role is set, a role in
// it) and returns its ARN and ID.
func iamProfile(t *testing.T, env *testEnv, name, role string) (arn, id string) {
	t.Helper()
	c := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(env.url), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient()})
	p, err := c.CreateInstanceProfile(env.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		if _, err := c.CreateRole(env.ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddRoleToInstanceProfile(env.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(role)}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(p.InstanceProfile.Arn), aws.ToString(p.InstanceProfile.InstanceProfileId)
}

func TestRunInstancesProfileChecked(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	arn, id := iamProfile(t, env, "web-profile", "web-role")
	cases := []struct {
		name      string
		spec      *types.IamInstanceProfileSpecification
		code, msg string
	}{
		{"by name", &types.IamInstanceProfileSpecification{Name: aws.String("web-profile")}, "", ""},
		{"by ARN", &types.IamInstanceProfileSpecification{Arn: aws.String(arn)}, "", ""},
		{"unknown name", &types.IamInstanceProfileSpecification{Name: aws.String("nope")}, "InvalidParameterValue",
			"Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"},
		{"unknown ARN", &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::000000000000:instance-profile/nope")}, "InvalidParameterValue",
			"Value (arn:aws:iam::000000000000:instance-profile/nope) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"},
		{"ARN with another path", &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::000000000000:instance-profile/x/web-profile")}, "InvalidParameterValue",
			"Value (arn:aws:iam::000000000000:instance-profile/x/web-profile) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"},
		{"ARN of another account", &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::111111111111:instance-profile/web-profile")}, "InvalidParameterValue", ""},
	}
	img := instImage(t, env, "x86_64")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: aws.String(img), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				IamInstanceProfile: tc.spec})
			if tc.code != "" {
				wantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := out.Instances[0].IamInstanceProfile
			if p == nil || aws.ToString(p.Arn) != arn || aws.ToString(p.Id) != id {
				t.Errorf("profile %+v, want %s %s", p, arn, id)
			}
			as, err := env.ec2.DescribeIamInstanceProfileAssociations(env.ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
				Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{aws.ToString(out.Instances[0].InstanceId)}}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(as.IamInstanceProfileAssociations) != 1 || aws.ToString(as.IamInstanceProfileAssociations[0].IamInstanceProfile.Id) != id {
				t.Errorf("associations %+v", as.IamInstanceProfileAssociations)
			}
		})
	}
}

func TestIamInstanceProfileAssociations(t *testing.T) {
	env := newEnvWithRuntime(t, "", nil)
	arnA, idA := iamProfile(t, env, "profile-a", "role-a")
	arnB, idB := iamProfile(t, env, "profile-b", "")
	inst := instRun(t, env, &ec2.RunInstancesInput{})
	instID := aws.ToString(inst.InstanceId)
	profileOf := func() *types.IamInstanceProfile { return instDescribe(t, env, instID).IamInstanceProfile }
	if p := profileOf(); p != nil {
		t.Fatalf("launched without a profile, has %+v", p)
	}

	_, err := env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("nope")}})
	wantError(t, err, "InvalidParameterValue", "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
	_, err = env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String("i-0123456789abcdef0"),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("profile-a")}})
	wantCode(t, err, "InvalidInstanceID.NotFound")

	a, err := env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("profile-a")}})
	if err != nil {
		t.Fatal(err)
	}
	first := a.IamInstanceProfileAssociation
	if !strings.HasPrefix(aws.ToString(first.AssociationId), "iip-assoc-") || first.State != types.IamInstanceProfileAssociationStateAssociating ||
		aws.ToString(first.InstanceId) != instID || aws.ToString(first.IamInstanceProfile.Arn) != arnA || aws.ToString(first.IamInstanceProfile.Id) != idA ||
		first.Timestamp == nil {
		t.Fatalf("association %+v", first)
	}
	if p := profileOf(); p == nil || aws.ToString(p.Arn) != arnA || aws.ToString(p.Id) != idA {
		t.Errorf("instance profile %+v after associate", p)
	}
	_, err = env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("profile-b")}})
	wantError(t, err, "IncorrectState", "There is an existing association for instance "+instID)

	describe := func(filters ...types.Filter) []types.IamInstanceProfileAssociation {
		t.Helper()
		out, err := env.ec2.DescribeIamInstanceProfileAssociations(env.ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		return out.IamInstanceProfileAssociations
	}
	time.Sleep(1100 * time.Millisecond)
	if as := describe(types.Filter{Name: aws.String("state"), Values: []string{"associated"}}); len(as) != 1 || aws.ToString(as[0].AssociationId) != aws.ToString(first.AssociationId) {
		t.Fatalf("associated: %+v", as)
	}

	r, err := env.ec2.ReplaceIamInstanceProfileAssociation(env.ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: first.AssociationId,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(arnB)}})
	if err != nil {
		t.Fatal(err)
	}
	second := r.IamInstanceProfileAssociation
	if aws.ToString(second.AssociationId) == aws.ToString(first.AssociationId) || second.State != types.IamInstanceProfileAssociationStateAssociating ||
		aws.ToString(second.IamInstanceProfile.Id) != idB {
		t.Fatalf("replacement %+v", second)
	}
	if p := profileOf(); p == nil || aws.ToString(p.Arn) != arnB {
		t.Errorf("instance profile %+v after replace", p)
	}
	// The replaced association is no longer the active one.
	_, err = env.ec2.DisassociateIamInstanceProfile(env.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: first.AssociationId})
	wantError(t, err, "IncorrectState", "The association "+aws.ToString(first.AssociationId)+" is not the active association")
	_, err = env.ec2.DisassociateIamInstanceProfile(env.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String("iip-assoc-0123456789abcdef0")})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	_, err = env.ec2.DisassociateIamInstanceProfile(env.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String(instID)})
	wantError(t, err, "InvalidParameterValue", "Invalid value for associationId.")

	d, err := env.ec2.DisassociateIamInstanceProfile(env.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: second.AssociationId})
	if err != nil {
		t.Fatal(err)
	}
	if d.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateDisassociating {
		t.Errorf("disassociate answered %+v", d.IamInstanceProfileAssociation)
	}
	if p := profileOf(); p != nil {
		t.Errorf("instance profile %+v after disassociate", p)
	}
	time.Sleep(1100 * time.Millisecond)
	byID := map[string]types.IamInstanceProfileAssociationState{}
	for _, a := range describe(types.Filter{Name: aws.String("instance-id"), Values: []string{instID}}) {
		byID[aws.ToString(a.AssociationId)] = a.State
	}
	if byID[aws.ToString(first.AssociationId)] != "disassociated" || byID[aws.ToString(second.AssociationId)] != "disassociated" || len(byID) != 2 {
		t.Errorf("states %v", byID)
	}
	// Free again: a new association is allowed.
	third, err := env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("profile-a")}})
	if err != nil {
		t.Fatal(err)
	}
	// A terminated instance keeps no profile.
	if _, err := env.ec2.TerminateInstances(env.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{instID}}); err != nil {
		t.Fatal(err)
	}
	instWaitState(t, env, instID, "terminated")
	if as := describe(types.Filter{Name: aws.String("state"), Values: []string{"associating", "associated"}}); len(as) != 0 {
		t.Errorf("active associations after terminate: %+v", as)
	}
	_, err = env.ec2.DisassociateIamInstanceProfile(env.ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: third.IamInstanceProfileAssociation.AssociationId})
	wantCode(t, err, "IncorrectState")
	_, err = env.ec2.AssociateIamInstanceProfile(env.ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(instID),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("profile-a")}})
	wantCode(t, err, "IncorrectInstanceState")
	_, err = env.ec2.DescribeIamInstanceProfileAssociations(env.ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
}
