package ec2

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Instance types: AWS's real specifications for the families minicloud
// offers (instancetype_data.go, instancetype_p3.go), every one offered in
// every Availability Zone of every region.

// instancetype_data.go is generated from moto's copy of AWS's
// DescribeInstanceTypes; regenerating needs moto installed (see
// instancetypegen).
//go:generate go run ./instancetypegen -out instancetype_data.go

// instanceTypeSpec is one row of the table: the facts DescribeInstanceTypes
// reports, flattened.
type instanceTypeSpec struct {
	name                                      string
	current, freeTier, burstable, bareMetal   bool
	hypervisor                                string // "" for bare metal
	arch                                      []string
	ghz                                       float64
	maker                                     string
	features                                  []string
	vcpus, cores, threads                     int32
	validCores, validThreads                  []int32
	memMiB                                    int64
	storage                                   *instanceTypeStorage
	net                                       string
	enis, cards, ipv4, ipv6                   int32
	ena                                       string
	efa                                       bool
	baseGbps, peakGbps                        float64
	ebs, ebsNvme                              string
	ebsMbps                                   [2]int32 // baseline, maximum
	ebsMBps                                   [2]float64
	ebsIops                                   [2]int32
	gpu                                       *instanceTypeGPU
	root, boot, placement, usage              []string
	hibernation, dedicatedHosts, autoRecovery bool
	enclaves, tpm                             string
}

type instanceTypeStorage struct {
	totalGB, sizeGB int64
	count           int32
	kind, nvme      string
	encryption      string
}

type instanceTypeGPU struct {
	name, maker string
	count       int32
	memMiB      int32
}

// info renders the row as the API shape.
func (s *instanceTypeSpec) info() *ec2api.InstanceTypeInfo {
	out := &ec2api.InstanceTypeInfo{
		InstanceType:                 new(s.name),
		CurrentGeneration:            new(s.current),
		FreeTierEligible:             new(s.freeTier),
		SupportedUsageClasses:        s.usage,
		SupportedRootDeviceTypes:     s.root,
		SupportedVirtualizationTypes: []string{"hvm"},
		BareMetal:                    new(s.bareMetal),
		ProcessorInfo: &ec2api.ProcessorInfo{
			SupportedArchitectures:   s.arch,
			SustainedClockSpeedInGhz: new(s.ghz),
			Manufacturer:             new(s.maker),
			SupportedFeatures:        s.features,
		},
		VCpuInfo: &ec2api.VCpuInfo{
			DefaultVCpus:          new(s.vcpus),
			DefaultCores:          new(s.cores),
			DefaultThreadsPerCore: new(s.threads),
			ValidCores:            s.validCores,
			ValidThreadsPerCore:   s.validThreads,
		},
		MemoryInfo:               &ec2api.MemoryInfo{SizeInMiB: new(s.memMiB)},
		InstanceStorageSupported: new(s.storage != nil),
		EbsInfo: &ec2api.EbsInfo{
			EbsOptimizedSupport: new(s.ebs),
			EncryptionSupport:   new("supported"),
			NvmeSupport:         new(s.ebsNvme),
		},
		NetworkInfo: &ec2api.NetworkInfo{
			NetworkPerformance:       new(s.net),
			MaximumNetworkInterfaces: new(s.enis),
			MaximumNetworkCards:      new(s.cards),
			DefaultNetworkCardIndex:  new(int32(0)),
			NetworkCards: []ec2api.NetworkCardInfo{{
				NetworkCardIndex:         new(int32(0)),
				NetworkPerformance:       new(s.net),
				MaximumNetworkInterfaces: new(s.enis),
				BaselineBandwidthInGbps:  new(s.baseGbps),
				PeakBandwidthInGbps:      new(s.peakGbps),
			}},
			Ipv4AddressesPerInterface: new(s.ipv4),
			Ipv6AddressesPerInterface: new(s.ipv6),
			Ipv6Supported:             new(true),
			EnaSupport:                new(s.ena),
			EfaSupported:              new(s.efa),
			EnaSrdSupported:           new(false),
		},
		PlacementGroupInfo:            &ec2api.PlacementGroupInfo{SupportedStrategies: s.placement},
		HibernationSupported:          new(s.hibernation),
		BurstablePerformanceSupported: new(s.burstable),
		DedicatedHostsSupported:       new(s.dedicatedHosts),
		AutoRecoverySupported:         new(s.autoRecovery),
		SupportedBootModes:            s.boot,
		NitroEnclavesSupport:          new(s.enclaves),
		NitroTpmSupport:               new(s.tpm),
		PhcSupport:                    new("unsupported"),
	}
	if s.hypervisor != "" {
		out.Hypervisor = new(s.hypervisor)
	}
	if s.efa {
		out.NetworkInfo.EfaInfo = &ec2api.EfaInfo{MaximumEfaInterfaces: new(int32(1))}
	}
	if s.tpm == "supported" {
		out.NitroTpmInfo = &ec2api.NitroTpmInfo{SupportedVersions: []string{"2.0"}}
	}
	if s.ebsMbps[1] > 0 {
		out.EbsInfo.EbsOptimizedInfo = &ec2api.EbsOptimizedInfo{
			BaselineBandwidthInMbps:  new(s.ebsMbps[0]),
			BaselineThroughputInMBps: new(s.ebsMBps[0]),
			BaselineIops:             new(s.ebsIops[0]),
			MaximumBandwidthInMbps:   new(s.ebsMbps[1]),
			MaximumThroughputInMBps:  new(s.ebsMBps[1]),
			MaximumIops:              new(s.ebsIops[1]),
		}
	}
	if st := s.storage; st != nil {
		out.InstanceStorageInfo = &ec2api.InstanceStorageInfo{
			TotalSizeInGB:     new(st.totalGB),
			Disks:             []ec2api.DiskInfo{{SizeInGB: new(st.sizeGB), Count: new(st.count), Type: new(st.kind)}},
			NvmeSupport:       new(st.nvme),
			EncryptionSupport: new(st.encryption),
		}
	}
	if g := s.gpu; g != nil {
		out.GpuInfo = &ec2api.GpuInfo{
			Gpus:                []ec2api.GpuDeviceInfo{{Name: new(g.name), Manufacturer: new(g.maker), Count: new(g.count), MemoryInfo: &ec2api.GpuDeviceMemoryInfo{SizeInMiB: new(g.memMiB)}}},
			TotalGpuMemoryInMiB: new(g.count * g.memMiB),
		}
	}
	return out
}

// instanceTypeIndex is the table by name, built once.
var instanceTypeIndex = sync.OnceValue(func() map[string]*instanceTypeSpec {
	m := make(map[string]*instanceTypeSpec, len(instanceTypeTable)+len(instanceTypeP3))
	for _, tab := range [][]instanceTypeSpec{instanceTypeTable, instanceTypeP3} {
		for i := range tab {
			m[tab[i].name] = &tab[i]
		}
	}
	return m
})

// instanceTypeInfo returns the specification of an instance type, for
// RunInstances to validate InstanceType and size the instance. The result is
// the caller's to keep.
func instanceTypeInfo(name string) (*ec2api.InstanceTypeInfo, bool) {
	s, ok := instanceTypeIndex()[name]
	if !ok {
		return nil, false
	}
	return s.info(), true
}

// instanceTypeNames lists every known type, in table order.
func instanceTypeNames() []string {
	var out []string
	for _, tab := range [][]instanceTypeSpec{instanceTypeTable, instanceTypeP3} {
		for i := range tab {
			out = append(out, tab[i].name)
		}
	}
	return out
}

func instanceTypeFmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func instanceTypeInts[T int32 | int64](xs ...T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatInt(int64(x), 10)
	}
	return out
}

// instanceTypeFilterValues gives DescribeInstanceTypes' filters for a type.
func instanceTypeFilterValues(s *instanceTypeSpec) map[string][]string {
	b := func(v bool) []string { return []string{strconv.FormatBool(v)} }
	m := map[string][]string{
		"auto-recovery-supported":                                 b(s.autoRecovery),
		"bare-metal":                                              b(s.bareMetal),
		"burstable-performance-supported":                         b(s.burstable),
		"current-generation":                                      b(s.current),
		"dedicated-hosts-supported":                               b(s.dedicatedHosts),
		"ebs-info.ebs-optimized-support":                          one(s.ebs),
		"ebs-info.encryption-support":                             {"supported"},
		"ebs-info.nvme-support":                                   one(s.ebsNvme),
		"free-tier-eligible":                                      b(s.freeTier),
		"hibernation-supported":                                   b(s.hibernation),
		"hypervisor":                                              one(s.hypervisor),
		"instance-storage-supported":                              b(s.storage != nil),
		"instance-type":                                           {s.name},
		"memory-info.size-in-mib":                                 instanceTypeInts(s.memMiB),
		"network-info.efa-supported":                              b(s.efa),
		"network-info.ena-support":                                one(s.ena),
		"network-info.ipv4-addresses-per-interface":               instanceTypeInts(s.ipv4),
		"network-info.ipv6-addresses-per-interface":               instanceTypeInts(s.ipv6),
		"network-info.ipv6-supported":                             {"true"},
		"network-info.maximum-network-cards":                      instanceTypeInts(s.cards),
		"network-info.maximum-network-interfaces":                 instanceTypeInts(s.enis),
		"network-info.network-performance":                        {s.net},
		"nitro-enclaves-support":                                  one(s.enclaves),
		"nitro-tpm-support":                                       one(s.tpm),
		"placement-group-info.supported-strategies":               s.placement,
		"processor-info.manufacturer":                             one(s.maker),
		"processor-info.supported-architecture":                   s.arch,
		"processor-info.supported-features":                       s.features,
		"processor-info.sustained-clock-speed-in-ghz":             {instanceTypeFmtFloat(s.ghz)},
		"supported-boot-mode":                                     s.boot,
		"supported-root-device-type":                              s.root,
		"supported-usage-class":                                   s.usage,
		"supported-virtualization-type":                           {"hvm"},
		"vcpu-info.default-cores":                                 instanceTypeInts(s.cores),
		"vcpu-info.default-threads-per-core":                      instanceTypeInts(s.threads),
		"vcpu-info.default-vcpus":                                 instanceTypeInts(s.vcpus),
		"vcpu-info.valid-cores":                                   instanceTypeInts(s.validCores...),
		"vcpu-info.valid-threads-per-core":                        instanceTypeInts(s.validThreads...),
		"gpu-info.total-gpu-memory-in-mib":                        nil,
		"nitro-tpm-info.supported-versions":                       nil,
		"instance-storage-info.disk.count":                        nil,
		"instance-storage-info.disk.size-in-gb":                   nil,
		"instance-storage-info.disk.type":                         nil,
		"instance-storage-info.nvme-support":                      nil,
		"instance-storage-info.encryption-support":                nil,
		"instance-storage-info.total-size-in-gb":                  nil,
		"ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps":  nil,
		"ebs-info.ebs-optimized-info.baseline-iops":               nil,
		"ebs-info.ebs-optimized-info.baseline-throughput-in-mbps": nil,
		"ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps":   nil,
		"ebs-info.ebs-optimized-info.maximum-iops":                nil,
		"ebs-info.ebs-optimized-info.maximum-throughput-in-mbps":  nil,
	}
	if s.tpm == "supported" {
		m["nitro-tpm-info.supported-versions"] = []string{"2.0"}
	}
	if g := s.gpu; g != nil {
		m["gpu-info.total-gpu-memory-in-mib"] = instanceTypeInts(g.count * g.memMiB)
	}
	if st := s.storage; st != nil {
		m["instance-storage-info.disk.count"] = instanceTypeInts(st.count)
		m["instance-storage-info.disk.size-in-gb"] = instanceTypeInts(st.sizeGB)
		m["instance-storage-info.disk.type"] = []string{st.kind}
		m["instance-storage-info.nvme-support"] = []string{st.nvme}
		m["instance-storage-info.encryption-support"] = one(st.encryption)
		m["instance-storage-info.total-size-in-gb"] = instanceTypeInts(st.totalGB)
	}
	if s.ebsMbps[1] > 0 {
		m["ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps"] = instanceTypeInts(s.ebsMbps[0])
		m["ebs-info.ebs-optimized-info.baseline-iops"] = instanceTypeInts(s.ebsIops[0])
		m["ebs-info.ebs-optimized-info.baseline-throughput-in-mbps"] = []string{instanceTypeFmtFloat(s.ebsMBps[0])}
		m["ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps"] = instanceTypeInts(s.ebsMbps[1])
		m["ebs-info.ebs-optimized-info.maximum-iops"] = instanceTypeInts(s.ebsIops[1])
		m["ebs-info.ebs-optimized-info.maximum-throughput-in-mbps"] = []string{instanceTypeFmtFloat(s.ebsMBps[1])}
	}
	return m
}

// instanceTypeFilterNames lists the filters DescribeInstanceTypes accepts.
var instanceTypeFilterNames = func() []string {
	var out []string
	for n := range instanceTypeFilterValues(&instanceTypeSpec{}) {
		out = append(out, n)
	}
	return out
}()

// DescribeInstanceTypes describes the named types, or all, filtered.
func (s *Service) DescribeInstanceTypes(ctx context.Context, in *ec2api.DescribeInstanceTypesRequest) (*ec2api.DescribeInstanceTypesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := instanceTypeCheckFilters(fs); err != nil {
		return nil, err
	}
	idx := instanceTypeIndex()
	names := instanceTypeNames()
	if len(in.InstanceTypes) > 0 {
		var missing []string
		for _, n := range in.InstanceTypes {
			if _, ok := idx[n]; !ok {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return nil, apiErr("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
		}
		names = slices.Compact(slices.Sorted(slices.Values(in.InstanceTypes)))
	}
	var match []*instanceTypeSpec
	for _, n := range names {
		spec := idx[n]
		vals := instanceTypeFilterValues(spec)
		ok, err := state.Match(fs, func(f string) ([]string, bool) { v, ok := vals[f]; return v, ok })
		if err != nil {
			return nil, err
		}
		if ok {
			match = append(match, spec)
		}
	}
	pg, next, err := page(match, in.MaxResults, in.NextToken, func(s *instanceTypeSpec) string { return s.name }, 5, 100)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceTypesResult{InstanceTypes: []ec2api.InstanceTypeInfo{}, NextToken: next}
	for _, spec := range pg {
		out.InstanceTypes = append(out.InstanceTypes, *spec.info())
	}
	return out, nil
}

// instanceTypeCheckFilters rejects unknown filter names; instance-type
// filters have no tags.
func instanceTypeCheckFilters(fs []state.Filter) error {
	for _, f := range fs {
		if !slices.Contains(instanceTypeFilterNames, f.Name) {
			return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", f.Name)
		}
	}
	return nil
}

// DescribeInstanceTypeOfferings lists where each type is offered: the
// region, or every Availability Zone of it (by name or ID).
func (s *Service) DescribeInstanceTypeOfferings(ctx context.Context, in *ec2api.DescribeInstanceTypeOfferingsRequest) (*ec2api.DescribeInstanceTypeOfferingsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	lt := deref(in.LocationType)
	if lt == "" {
		lt = "region"
	}
	region := regionOrSynthetic(ctxRegion(ctx))
	var locations []string
	switch lt {
	case "region":
		locations = []string{region.Name}
	case "availability-zone":
		for _, z := range region.Zones {
			locations = append(locations, region.Name+z.Letter)
		}
	case "availability-zone-id":
		for _, z := range region.Zones {
			locations = append(locations, z.ID)
		}
	default:
		return nil, errInvalidParam("Value (%s) for parameter locationType is invalid. Valid values are: region, availability-zone, availability-zone-id, outpost.", lt)
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "instance-type", "location"); err != nil {
		return nil, err
	}
	for _, f := range fs {
		if strings.HasPrefix(f.Name, "tag") {
			return nil, errInvalidParam("The filter '%s' is invalid", f.Name)
		}
	}
	var all []*ec2api.InstanceTypeOffering
	for _, loc := range locations {
		for _, n := range instanceTypeNames() {
			ok, err := state.Match(fs, func(f string) ([]string, bool) {
				switch f {
				case "instance-type":
					return []string{n}, true
				case "location":
					return []string{loc}, true
				}
				return nil, false
			})
			if err != nil {
				return nil, err
			}
			if ok {
				all = append(all, &ec2api.InstanceTypeOffering{InstanceType: new(n), LocationType: new(lt), Location: new(loc)})
			}
		}
	}
	pg, next, err := page(all, in.MaxResults, in.NextToken, func(o *ec2api.InstanceTypeOffering) string {
		return deref(o.Location) + "/" + deref(o.InstanceType)
	}, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceTypeOfferingsResult{InstanceTypeOfferings: []ec2api.InstanceTypeOffering{}, NextToken: next}
	for _, o := range pg {
		out.InstanceTypeOfferings = append(out.InstanceTypeOfferings, *o)
	}
	return out, nil
}
