package ec2

// instanceTypeP3 holds the P3 sizes (NVIDIA V100 16 GiB, Intel Xeon
// E5-2686 v4, Xen), entered by hand from AWS's instance type documentation:
// the DescribeInstanceTypes dump instancetype_data.go comes from no longer
// lists them. p3dn.24xlarge is in the generated table.
var instanceTypeP3 = []instanceTypeSpec{
	{name: "p3.2xlarge", current: true, hypervisor: "xen",
		arch: []string{"x86_64"}, ghz: 2.3, maker: "Intel",
		vcpus: 8, cores: 4, threads: 2, validCores: []int32{1, 2, 3, 4}, validThreads: []int32{1, 2}, memMiB: 62464,
		net: "Up to 10 Gigabit", enis: 4, cards: 1, ipv4: 15, ipv6: 15, ena: "supported", baseGbps: 2.5, peakGbps: 10.0,
		ebs: "default", ebsNvme: "unsupported", ebsMbps: [2]int32{1750, 1750}, ebsMBps: [2]float64{218.75, 218.75}, ebsIops: [2]int32{10000, 10000},
		gpu:  &instanceTypeGPU{name: "V100", maker: "NVIDIA", count: 1, memMiB: 16384},
		root: []string{"ebs"}, boot: []string{"legacy-bios"}, placement: []string{"cluster", "partition", "spread"}, usage: []string{"on-demand", "spot"},
		dedicatedHosts: true, autoRecovery: true, enclaves: "unsupported", tpm: "unsupported"},
	{name: "p3.8xlarge", current: true, hypervisor: "xen",
		arch: []string{"x86_64"}, ghz: 2.3, maker: "Intel",
		vcpus: 32, cores: 16, threads: 2, validCores: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, validThreads: []int32{1, 2}, memMiB: 249856,
		net: "10 Gigabit", enis: 8, cards: 1, ipv4: 30, ipv6: 30, ena: "supported", baseGbps: 10.0, peakGbps: 10.0,
		ebs: "default", ebsNvme: "unsupported", ebsMbps: [2]int32{7000, 7000}, ebsMBps: [2]float64{875.0, 875.0}, ebsIops: [2]int32{40000, 40000},
		gpu:  &instanceTypeGPU{name: "V100", maker: "NVIDIA", count: 4, memMiB: 16384},
		root: []string{"ebs"}, boot: []string{"legacy-bios"}, placement: []string{"cluster", "partition", "spread"}, usage: []string{"on-demand", "spot"},
		dedicatedHosts: true, autoRecovery: true, enclaves: "unsupported", tpm: "unsupported"},
	{name: "p3.16xlarge", current: true, hypervisor: "xen",
		arch: []string{"x86_64"}, ghz: 2.3, maker: "Intel",
		vcpus: 64, cores: 32, threads: 2, validCores: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, validThreads: []int32{1, 2}, memMiB: 499712,
		net: "25 Gigabit", enis: 8, cards: 1, ipv4: 30, ipv6: 30, ena: "supported", baseGbps: 25.0, peakGbps: 25.0,
		ebs: "default", ebsNvme: "unsupported", ebsMbps: [2]int32{14000, 14000}, ebsMBps: [2]float64{1750.0, 1750.0}, ebsIops: [2]int32{80000, 80000},
		gpu:  &instanceTypeGPU{name: "V100", maker: "NVIDIA", count: 8, memMiB: 16384},
		root: []string{"ebs"}, boot: []string{"legacy-bios"}, placement: []string{"cluster", "partition", "spread"}, usage: []string{"on-demand", "spot"},
		dedicatedHosts: true, autoRecovery: true, enclaves: "unsupported", tpm: "unsupported"},
}
