package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestInstanceOptions(t *testing.T) {
	env := newEnv(t, "")
	t3 := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro}).InstanceId)
	t2 := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT2Micro,
		CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}}).InstanceId)
	m5 := aws.ToString(instRun(t, env, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeM5Large}).InstanceId)

	describe := func(t *testing.T) types.Instance {
		t.Helper()
		out, err := env.ec2.DescribeInstances(env.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{t3}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Reservations[0].Instances[0]
	}

	t.Run("metadata options", func(t *testing.T) {
		out, err := env.ec2.ModifyInstanceMetadataOptions(env.ctx, &ec2.ModifyInstanceMetadataOptionsInput{
			InstanceId: aws.String(t3), HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(3), HttpEndpoint: types.InstanceMetadataEndpointStateDisabled,
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.InstanceMetadataOptions.State != types.InstanceMetadataOptionsStatePending {
			t.Fatalf("answer state = %s", out.InstanceMetadataOptions.State)
		}
		md := describe(t).MetadataOptions
		if md.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(md.HttpPutResponseHopLimit) != 3 || md.HttpEndpoint != types.InstanceMetadataEndpointStateDisabled ||
			md.State != types.InstanceMetadataOptionsStateApplied {
			t.Fatalf("metadata options = %+v", md)
		}
	})

	t.Run("monitoring", func(t *testing.T) {
		out, err := env.ec2.MonitorInstances(env.ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{t3}})
		if err != nil || out.InstanceMonitorings[0].Monitoring.State != types.MonitoringStatePending {
			t.Fatalf("MonitorInstances = %+v, %v", out, err)
		}
		if st := describe(t).Monitoring.State; st != types.MonitoringStateEnabled {
			t.Fatalf("monitoring = %s", st)
		}
		un, err := env.ec2.UnmonitorInstances(env.ctx, &ec2.UnmonitorInstancesInput{InstanceIds: []string{t3}})
		if err != nil || un.InstanceMonitorings[0].Monitoring.State != types.MonitoringStateDisabling {
			t.Fatalf("UnmonitorInstances = %+v, %v", un, err)
		}
		if st := describe(t).Monitoring.State; st != types.MonitoringStateDisabled {
			t.Fatalf("monitoring = %s", st)
		}
	})

	t.Run("credit specifications", func(t *testing.T) {
		credits := func(ids ...string) map[string]string {
			t.Helper()
			out, err := env.ec2.DescribeInstanceCreditSpecifications(env.ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: ids})
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, c := range out.InstanceCreditSpecifications {
				m[aws.ToString(c.InstanceId)] = aws.ToString(c.CpuCredits)
			}
			return m
		}
		if got := credits(); len(got) != 2 || got[t3] != "unlimited" || got[t2] != "unlimited" {
			t.Fatalf("credits = %v", got)
		}
		out, err := env.ec2.ModifyInstanceCreditSpecification(env.ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
			{InstanceId: aws.String(t3), CpuCredits: aws.String("standard")},
			{InstanceId: aws.String(m5), CpuCredits: aws.String("standard")},
			{InstanceId: aws.String("i-0123456789abcdef0"), CpuCredits: aws.String("standard")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.SuccessfulInstanceCreditSpecifications) != 1 || len(out.UnsuccessfulInstanceCreditSpecifications) != 2 ||
			out.UnsuccessfulInstanceCreditSpecifications[1].Error.Code != types.UnsuccessfulInstanceCreditSpecificationErrorCodeInstanceNotFound {
			t.Fatalf("ModifyInstanceCreditSpecification = %+v", out)
		}
		if got := credits(t3); got[t3] != "standard" {
			t.Fatalf("credits = %v", got)
		}
	})

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"bad tokens", func() error {
			_, err := env.ec2.ModifyInstanceMetadataOptions(env.ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(t3), HttpTokens: "sometimes"})
			return err
		}, "InvalidParameterValue"},
		{"bad hop limit", func() error {
			_, err := env.ec2.ModifyInstanceMetadataOptions(env.ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(t3), HttpPutResponseHopLimit: aws.Int32(65)})
			return err
		}, "InvalidParameterValue"},
		{"metadata of missing instance", func() error {
			_, err := env.ec2.ModifyInstanceMetadataOptions(env.ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0123456789abcdef0")})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"monitor missing instance", func() error {
			_, err := env.ec2.MonitorInstances(env.ctx, &ec2.MonitorInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"bad credits", func() error {
			_, err := env.ec2.ModifyInstanceCreditSpecification(env.ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{{InstanceId: aws.String(t3), CpuCredits: aws.String("lots")}}})
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

func TestPlacementGroupsAndAccountAttributes(t *testing.T) {
	env := newEnv(t, "")
	pg, err := env.ec2.CreatePlacementGroup(env.ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("hpc"), Strategy: types.PlacementStrategyPartition, PartitionCount: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if pg.PlacementGroup.State != types.PlacementGroupStateAvailable || aws.ToInt32(pg.PlacementGroup.PartitionCount) != 3 || aws.ToString(pg.PlacementGroup.GroupId) == "" {
		t.Fatalf("CreatePlacementGroup = %+v", pg.PlacementGroup)
	}
	if _, err := env.ec2.CreatePlacementGroup(env.ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("web"), Strategy: types.PlacementStrategySpread}); err != nil {
		t.Fatal(err)
	}
	out, err := env.ec2.DescribePlacementGroups(env.ctx, &ec2.DescribePlacementGroupsInput{Filters: []types.Filter{{Name: aws.String("strategy"), Values: []string{"spread"}}}})
	if err != nil || len(out.PlacementGroups) != 1 || aws.ToString(out.PlacementGroups[0].GroupName) != "web" || out.PlacementGroups[0].SpreadLevel != types.SpreadLevelRack {
		t.Fatalf("DescribePlacementGroups = %+v, %v", out, err)
	}
	inst := instRun(t, env, &ec2.RunInstancesInput{Placement: &types.Placement{GroupName: aws.String("hpc")}})
	if aws.ToString(inst.Placement.GroupName) != "hpc" {
		t.Fatalf("placement = %+v", inst.Placement)
	}

	attrs, err := env.ec2.DescribeAccountAttributes(env.ctx, &ec2.DescribeAccountAttributesInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range attrs.AccountAttributes {
		got[string(aws.ToString(a.AttributeName))] = aws.ToString(a.AttributeValues[0].AttributeValue)
	}
	if len(got) != 6 || got["supported-platforms"] != "VPC" || got["max-instances"] != "20" || len(got["default-vpc"]) < 5 || got["default-vpc"][:4] != "vpc-" {
		t.Fatalf("account attributes = %v", got)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate", func() error {
			_, err := env.ec2.CreatePlacementGroup(env.ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("hpc"), Strategy: types.PlacementStrategyCluster})
			return err
		}, "InvalidPlacementGroup.Duplicate"},
		{"bad strategy", func() error {
			_, err := env.ec2.CreatePlacementGroup(env.ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("x"), Strategy: "scattered"})
			return err
		}, "InvalidParameterValue"},
		{"partition count without partition", func() error {
			_, err := env.ec2.CreatePlacementGroup(env.ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("x"), Strategy: types.PlacementStrategyCluster, PartitionCount: aws.Int32(2)})
			return err
		}, "InvalidParameterValue"},
		{"run in unknown group", func() error {
			_, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{ImageId: inst.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &types.Placement{GroupName: aws.String("nope")}})
			return err
		}, "InvalidPlacementGroup.Unknown"},
		{"delete in use", func() error {
			_, err := env.ec2.DeletePlacementGroup(env.ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("hpc")})
			return err
		}, "InvalidPlacementGroup.InUse"},
		{"delete unknown", func() error {
			_, err := env.ec2.DeletePlacementGroup(env.ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("nope")})
			return err
		}, "InvalidPlacementGroup.Unknown"},
		{"unknown attribute", func() error {
			_, err := env.ec2.DescribeAccountAttributes(env.ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{"max-happiness"}})
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
	if _, err := env.ec2.DeletePlacementGroup(env.ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
}
