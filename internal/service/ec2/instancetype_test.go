package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func itDescribe(t *testing.T, e *testEnv, names ...string) map[types.InstanceType]types.InstanceTypeInfo {
	t.Helper()
	in := &ec2.DescribeInstanceTypesInput{}
	for _, n := range names {
		in.InstanceTypes = append(in.InstanceTypes, types.InstanceType(n))
	}
	out, err := e.ec2.DescribeInstanceTypes(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	m := map[types.InstanceType]types.InstanceTypeInfo{}
	for _, it := range out.InstanceTypes {
		m[it.InstanceType] = it
	}
	return m
}

func TestDescribeInstanceTypesSpecs(t *testing.T) {
	e := newEnv(t, "")
	m := itDescribe(t, e, "m5.large", "g4dn.xlarge", "t3.micro", "m7g.large", "i3.large", "d2.xlarge", "p3.2xlarge", "c6i.32xlarge")
	if len(m) != 8 {
		t.Fatalf("%d types", len(m))
	}
	m5 := m["m5.large"]
	if aws.ToInt32(m5.VCpuInfo.DefaultVCpus) != 2 || aws.ToInt64(m5.MemoryInfo.SizeInMiB) != 8192 || aws.ToString(m5.NetworkInfo.NetworkPerformance) != "Up to 10 Gigabit" ||
		m5.Hypervisor != types.InstanceTypeHypervisorNitro || m5.ProcessorInfo.SupportedArchitectures[0] != types.ArchitectureTypeX8664 {
		t.Errorf("m5.large: %+v", m5)
	}
	g := m["g4dn.xlarge"]
	if g.GpuInfo == nil || len(g.GpuInfo.Gpus) != 1 || aws.ToString(g.GpuInfo.Gpus[0].Name) != "T4" || aws.ToInt32(g.GpuInfo.Gpus[0].Count) != 1 ||
		aws.ToInt32(g.GpuInfo.TotalGpuMemoryInMiB) != 16384 || aws.ToString(g.GpuInfo.Gpus[0].Manufacturer) != "NVIDIA" {
		t.Errorf("g4dn.xlarge GPU: %+v", g.GpuInfo)
	}
	if !aws.ToBool(g.InstanceStorageSupported) || g.InstanceStorageInfo.NvmeSupport != types.EphemeralNvmeSupportRequired || aws.ToInt64(g.InstanceStorageInfo.TotalSizeInGB) != 125 {
		t.Errorf("g4dn.xlarge storage: %+v", g.InstanceStorageInfo)
	}
	t3 := m["t3.micro"]
	if !aws.ToBool(t3.BurstablePerformanceSupported) || !aws.ToBool(t3.FreeTierEligible) || aws.ToInt64(t3.MemoryInfo.SizeInMiB) != 1024 ||
		aws.ToString(t3.NetworkInfo.NetworkPerformance) != "Up to 5 Gigabit" || aws.ToInt32(t3.NetworkInfo.MaximumNetworkInterfaces) != 2 {
		t.Errorf("t3.micro: %+v", t3)
	}
	if a := m["m7g.large"].ProcessorInfo; a.SupportedArchitectures[0] != types.ArchitectureTypeArm64 || aws.ToString(a.Manufacturer) != "AWS" {
		t.Errorf("m7g.large processor: %+v", a)
	}
	if s := m["i3.large"].InstanceStorageInfo; s == nil || aws.ToInt64(s.TotalSizeInGB) != 475 || s.Disks[0].Type != types.DiskTypeSsd || s.NvmeSupport != types.EphemeralNvmeSupportRequired {
		t.Errorf("i3.large storage: %+v", s)
	}
	if s := m["d2.xlarge"].InstanceStorageInfo; s == nil || s.Disks[0].Type != types.DiskTypeHdd || aws.ToInt32(s.Disks[0].Count) != 3 || aws.ToInt64(s.TotalSizeInGB) != 6144 {
		t.Errorf("d2.xlarge storage: %+v", s)
	}
	if p := m["p3.2xlarge"]; p.GpuInfo == nil || aws.ToString(p.GpuInfo.Gpus[0].Name) != "V100" || aws.ToInt32(p.VCpuInfo.DefaultVCpus) != 8 || aws.ToInt64(p.MemoryInfo.SizeInMiB) != 62464 {
		t.Errorf("p3.2xlarge: %+v", p)
	}
	if c := m["c6i.32xlarge"]; aws.ToInt32(c.VCpuInfo.DefaultVCpus) != 128 || aws.ToInt64(c.MemoryInfo.SizeInMiB) != 262144 {
		t.Errorf("c6i.32xlarge: %+v", c.VCpuInfo)
	}

	_, err := e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"m5.large", "m5.huge"}})
	wantCode(t, err, "InvalidInstanceType")
}

func TestDescribeInstanceTypesFiltersAndPages(t *testing.T) {
	e := newEnv(t, "")
	filter := func(name string, values ...string) []types.InstanceTypeInfo {
		t.Helper()
		var all []types.InstanceTypeInfo
		p := ec2.NewDescribeInstanceTypesPaginator(e.ec2, &ec2.DescribeInstanceTypesInput{
			Filters: []types.Filter{{Name: aws.String(name), Values: values}}, MaxResults: aws.Int32(5)})
		for p.HasMorePages() {
			out, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.InstanceTypes) > 5 {
				t.Fatalf("page of %d", len(out.InstanceTypes))
			}
			all = append(all, out.InstanceTypes...)
		}
		return all
	}
	for _, it := range filter("processor-info.supported-architecture", "arm64") {
		if s := string(it.InstanceType); s[:4] != "m7g." {
			t.Errorf("arm64 type %s", s)
		}
	}
	if got := filter("processor-info.supported-architecture", "arm64"); len(got) != 9 {
		t.Errorf("%d arm64 types, want the 9 m7g sizes", len(got))
	}
	if got := filter("instance-type", "t3.*"); len(got) != 7 {
		t.Errorf("%d t3 types, want 7", len(got))
	}
	for _, it := range filter("burstable-performance-supported", "true") {
		if s := string(it.InstanceType); s[:2] != "t2" && s[:2] != "t3" {
			t.Errorf("burstable %s", s)
		}
	}
	if got := filter("vcpu-info.default-vcpus", "2"); len(got) == 0 {
		t.Error("no 2-vCPU types")
	}
	if got := filter("memory-info.size-in-mib", "8192"); len(got) == 0 {
		t.Error("no 8 GiB types")
	}
	if got := filter("instance-storage-supported", "true"); len(got) == 0 {
		t.Error("no instance-storage types")
	}
	if got := filter("free-tier-eligible", "true"); len(got) == 0 {
		t.Error("no free-tier types")
	}
	for _, it := range filter("network-info.network-performance", "Up to 5 Gigabit") {
		if aws.ToString(it.NetworkInfo.NetworkPerformance) != "Up to 5 Gigabit" {
			t.Errorf("%s: %s", it.InstanceType, aws.ToString(it.NetworkInfo.NetworkPerformance))
		}
	}
	_, err := e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{{Name: aws.String("gpu-brand"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = e.ec2.DescribeInstanceTypes(e.ctx, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(101)})
	wantCode(t, err, "InvalidParameterValue")
}

func TestDescribeInstanceTypeOfferings(t *testing.T) {
	e := newEnv(t, "")
	zones, err := e.ec2.DescribeAvailabilityZones(e.ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lt   types.LocationType
		want int
	}{
		{"", 1},
		{types.LocationTypeRegion, 1},
		{types.LocationTypeAvailabilityZone, len(zones.AvailabilityZones)},
		{types.LocationTypeAvailabilityZoneId, len(zones.AvailabilityZones)},
	} {
		out, err := e.ec2.DescribeInstanceTypeOfferings(e.ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: tc.lt,
			Filters: []types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.micro"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.InstanceTypeOfferings) != tc.want {
			t.Errorf("%q: %d offerings, want %d", tc.lt, len(out.InstanceTypeOfferings), tc.want)
		}
		for _, o := range out.InstanceTypeOfferings {
			if o.InstanceType != "t3.micro" || (tc.lt == "" && aws.ToString(o.Location) != "us-east-1") {
				t.Errorf("offering %+v", o)
			}
		}
	}
	out, err := e.ec2.DescribeInstanceTypeOfferings(e.ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone,
		Filters: []types.Filter{{Name: aws.String("location"), Values: []string{"us-east-1a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	all := itDescribe(t, e)
	if len(out.InstanceTypeOfferings) != len(all) {
		t.Errorf("us-east-1a offers %d types, want all %d", len(out.InstanceTypeOfferings), len(all))
	}
	_, err = e.ec2.DescribeInstanceTypeOfferings(e.ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: "planet"})
	wantCode(t, err, "InvalidParameterValue")
}
