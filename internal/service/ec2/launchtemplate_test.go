package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ltCreate creates a template with data and returns its ID.
func ltCreate(t *testing.T, env *testEnv, name string, data *types.RequestLaunchTemplateData) string {
	t.Helper()
	out, err := env.ec2.CreateLaunchTemplate(env.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name), LaunchTemplateData: data, VersionDescription: aws.String("v1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lt := out.LaunchTemplate
	if aws.ToString(lt.LaunchTemplateName) != name || aws.ToInt64(lt.DefaultVersionNumber) != 1 || aws.ToInt64(lt.LatestVersionNumber) != 1 ||
		len(lt.Tags) != 1 || aws.ToString(lt.CreatedBy) == "" || lt.CreateTime == nil {
		t.Fatalf("CreateLaunchTemplate = %+v", lt)
	}
	return aws.ToString(lt.LaunchTemplateId)
}

func TestLaunchTemplateVersions(t *testing.T) {
	env := newEnv(t, "")
	img := instImage(t, env, "x86_64")
	id := ltCreate(t, env, "web", &types.RequestLaunchTemplateData{ImageId: aws.String(img), InstanceType: types.InstanceTypeT3Micro,
		Monitoring: &types.LaunchTemplatesMonitoringRequest{Enabled: aws.Bool(true)}})

	// Version 2 from version 1: its data over the source's.
	v2, err := env.ec2.CreateLaunchTemplateVersion(env.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(id), SourceVersion: aws.String("1"), VersionDescription: aws.String("bigger"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Large},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := v2.LaunchTemplateVersion.LaunchTemplateData
	if aws.ToInt64(v2.LaunchTemplateVersion.VersionNumber) != 2 || aws.ToBool(v2.LaunchTemplateVersion.DefaultVersion) ||
		d.InstanceType != types.InstanceTypeT3Large || aws.ToString(d.ImageId) != img || !aws.ToBool(d.Monitoring.Enabled) {
		t.Fatalf("version 2 = %+v, data %+v", v2.LaunchTemplateVersion, d)
	}
	// Version 3 by name, without a source: only its own data.
	v3, err := env.ec2.CreateLaunchTemplateVersion(env.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateName: aws.String("web"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Small},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v3.LaunchTemplateVersion.LaunchTemplateData.ImageId != nil {
		t.Fatalf("version 3 inherited without SourceVersion: %+v", v3.LaunchTemplateVersion.LaunchTemplateData)
	}

	versions := func(in *ec2.DescribeLaunchTemplateVersionsInput) []int64 {
		t.Helper()
		out, err := env.ec2.DescribeLaunchTemplateVersions(env.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int64
		for _, v := range out.LaunchTemplateVersions {
			ns = append(ns, aws.ToInt64(v.VersionNumber))
		}
		return ns
	}
	for _, tc := range []struct {
		name string
		in   ec2.DescribeLaunchTemplateVersionsInput
		want []int64
	}{
		{"all", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)}, []int64{1, 2, 3}},
		{"latest", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"$Latest"}}, []int64{3}},
		{"default", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web"), Versions: []string{"$Default"}}, []int64{1}},
		{"numbers", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"3", "1"}}, []int64{1, 3}},
		{"min max", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), MinVersion: aws.String("2"), MaxVersion: aws.String("2")}, []int64{2}},
		{"filter", ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Filters: []types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.large", "t3.small"}}}}, []int64{2, 3}},
		{"every template", ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}}, []int64{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versions(&tc.in); len(got) != len(tc.want) || (len(got) > 0 && (got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1])) {
				t.Fatalf("versions = %v, want %v", got, tc.want)
			}
		})
	}

	// The default version moves; the default one cannot be deleted.
	m, err := env.ec2.ModifyLaunchTemplate(env.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2")})
	if err != nil || aws.ToInt64(m.LaunchTemplate.DefaultVersionNumber) != 2 {
		t.Fatalf("ModifyLaunchTemplate = %+v, %v", m, err)
	}
	if got := versions(&ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Filters: []types.Filter{{Name: aws.String("is-default-version"), Values: []string{"true"}}}}); len(got) != 1 || got[0] != 2 {
		t.Fatalf("default version = %v", got)
	}
	del, err := env.ec2.DeleteLaunchTemplateVersions(env.ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"1", "2", "9"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.SuccessfullyDeletedLaunchTemplateVersions) != 1 || len(del.UnsuccessfullyDeletedLaunchTemplateVersions) != 2 ||
		del.UnsuccessfullyDeletedLaunchTemplateVersions[1].ResponseError.Code != types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist {
		t.Fatalf("DeleteLaunchTemplateVersions = %+v", del)
	}
	if got := versions(&ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id)}); len(got) != 2 {
		t.Fatalf("versions after delete = %v", got)
	}

	lts, err := env.ec2.DescribeLaunchTemplates(env.ctx, &ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{{Name: aws.String("tag:team"), Values: []string{"web"}}}})
	if err != nil || len(lts.LaunchTemplates) != 1 || aws.ToInt64(lts.LaunchTemplates[0].LatestVersionNumber) != 3 {
		t.Fatalf("DescribeLaunchTemplates = %+v, %v", lts, err)
	}
	if _, err := env.ec2.DeleteLaunchTemplate(env.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	lts, err = env.ec2.DescribeLaunchTemplates(env.ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil || len(lts.LaunchTemplates) != 0 {
		t.Fatalf("after delete: %+v, %v", lts, err)
	}
}

func TestLaunchTemplateErrors(t *testing.T) {
	env := newEnv(t, "")
	id := ltCreate(t, env, "app", &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Micro})
	missing := "lt-0123456789abcdef0"
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate name", func() error {
			_, err := env.ec2.CreateLaunchTemplate(env.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"), LaunchTemplateData: &types.RequestLaunchTemplateData{KeyName: aws.String("k")}})
			return err
		}, "InvalidLaunchTemplateName.AlreadyExistsException"},
		{"malformed name", func() error {
			_, err := env.ec2.CreateLaunchTemplate(env.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("a b"), LaunchTemplateData: &types.RequestLaunchTemplateData{KeyName: aws.String("k")}})
			return err
		}, "InvalidLaunchTemplateName.MalformedException"},
		{"no data", func() error {
			// The SDK sends an empty structure as no parameter at all.
			_, err := env.ec2.CreateLaunchTemplate(env.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("nodata"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
			return err
		}, "MissingParameter"},
		{"bad instance type", func() error {
			_, err := env.ec2.CreateLaunchTemplate(env.ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("badtype"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: "t9.huge"}})
			return err
		}, "InvalidParameterValue"},
		{"version of missing id", func() error {
			_, err := env.ec2.CreateLaunchTemplateVersion(env.ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(missing), LaunchTemplateData: &types.RequestLaunchTemplateData{KeyName: aws.String("k")}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"malformed id", func() error {
			_, err := env.ec2.DeleteLaunchTemplate(env.ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String("lt-zz")})
			return err
		}, "InvalidLaunchTemplateId.Malformed"},
		{"missing name", func() error {
			_, err := env.ec2.DescribeLaunchTemplateVersions(env.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("nope")})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"neither id nor name", func() error {
			_, err := env.ec2.ModifyLaunchTemplate(env.ctx, &ec2.ModifyLaunchTemplateInput{DefaultVersion: aws.String("1")})
			return err
		}, "MissingParameter"},
		{"missing source version", func() error {
			_, err := env.ec2.CreateLaunchTemplateVersion(env.ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id), SourceVersion: aws.String("7"), LaunchTemplateData: &types.RequestLaunchTemplateData{KeyName: aws.String("k")}})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"missing default version", func() error {
			_, err := env.ec2.ModifyLaunchTemplate(env.ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("5")})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"describe missing id", func() error {
			_, err := env.ec2.DescribeLaunchTemplates(env.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{missing}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"describe missing name", func() error {
			_, err := env.ec2.DescribeLaunchTemplates(env.ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"run from missing template", func() error {
			_, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(missing)}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"run from template without image", func() error {
			_, err := env.ec2.RunInstances(env.ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("app")}})
			return err
		}, "MissingParameter"},
		{"instance data of missing instance", func() error {
			_, err := env.ec2.GetLaunchTemplateData(env.ctx, &ec2.GetLaunchTemplateDataInput{InstanceId: aws.String("i-0123456789abcdef0")})
			return err
		}, "InvalidInstanceID.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
}

// TestRunInstancesFromLaunchTemplate launches from a template: its data
// under the request's parameters, and the template's tags on the instance.
func TestRunInstancesFromLaunchTemplate(t *testing.T) {
	env := newEnv(t, "")
	img := instImage(t, env, "x86_64")
	id := ltCreate(t, env, "svc", &types.RequestLaunchTemplateData{
		ImageId: aws.String(img), InstanceType: types.InstanceTypeT3Small,
		Monitoring:      &types.LaunchTemplatesMonitoringRequest{Enabled: aws.Bool(true)},
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateRequired},
		TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			{Key: aws.String("Name"), Value: aws.String("from-template")}, {Key: aws.String("tier"), Value: aws.String("back")},
		}}},
	})
	if _, err := env.ec2.CreateLaunchTemplateVersion(env.ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(id), SourceVersion: aws.String("$Latest"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Medium},
	}); err != nil {
		t.Fatal(err)
	}
	tagsOf := func(inst types.Instance) map[string]string {
		m := map[string]string{}
		for _, tg := range inst.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		in       ec2.RunInstancesInput
		wantType types.InstanceType
		wantVer  string
		wantName string
	}{
		{"default version", ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id)}}, types.InstanceTypeT3Small, "1", "from-template"},
		{"latest by name", ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("svc"), Version: aws.String("$Latest")}}, types.InstanceTypeT3Medium, "2", "from-template"},
		{"request wins", ec2.RunInstancesInput{
			LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id), Version: aws.String("2")},
			InstanceType:      types.InstanceTypeT3Micro,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("mine")}}}},
		}, types.InstanceTypeT3Micro, "2", "mine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			inst := instRun(t, env, &in)
			tags := tagsOf(inst)
			if inst.InstanceType != tc.wantType || aws.ToString(inst.ImageId) != img || (inst.Monitoring.State != types.MonitoringStateEnabled && inst.Monitoring.State != types.MonitoringStatePending) ||
				inst.MetadataOptions.HttpTokens != types.HttpTokensStateRequired {
				t.Fatalf("instance = type %s image %s monitoring %s tokens %s", inst.InstanceType, aws.ToString(inst.ImageId), inst.Monitoring.State, inst.MetadataOptions.HttpTokens)
			}
			if tags["aws:ec2launchtemplate:id"] != id || tags["aws:ec2launchtemplate:version"] != tc.wantVer || tags["Name"] != tc.wantName || tags["tier"] != "back" {
				t.Fatalf("tags = %v", tags)
			}
		})
	}

	// GetLaunchTemplateData reads an instance back as template data.
	inst := instRun(t, env, &ec2.RunInstancesInput{LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(id)}})
	got, err := env.ec2.GetLaunchTemplateData(env.ctx, &ec2.GetLaunchTemplateDataInput{InstanceId: inst.InstanceId})
	if err != nil {
		t.Fatal(err)
	}
	d := got.LaunchTemplateData
	if aws.ToString(d.ImageId) != img || d.InstanceType != types.InstanceTypeT3Small || !aws.ToBool(d.Monitoring.Enabled) || len(d.NetworkInterfaces) != 1 ||
		len(d.TagSpecifications) != 1 || len(d.TagSpecifications[0].Tags) != 2 {
		t.Fatalf("GetLaunchTemplateData = %+v", d)
	}
}
