package ec2

import "github.com/minicloud/minicloud/internal/api/ec2api"

// What instances need of the other areas of the package, in one place.

// instanceTypeLookup describes an instance type (instancetype*.go). m1.small,
// RunInstances' default type, is a previous-generation type that the
// DescribeInstanceTypes catalogue leaves out; AWS still launches it when no
// type is given, so it is described here.
func instanceTypeLookup(name string) (*ec2api.InstanceTypeInfo, bool) {
	if info, ok := instanceTypeInfo(name); ok {
		return info, true
	}
	if name == instanceDefaultType {
		return &ec2api.InstanceTypeInfo{
			InstanceType:       new(instanceDefaultType),
			ProcessorInfo:      &ec2api.ProcessorInfo{SupportedArchitectures: []string{"i386", "x86_64"}},
			VCpuInfo:           &ec2api.VCpuInfo{DefaultVCpus: new(int32(1)), DefaultCores: new(int32(1)), DefaultThreadsPerCore: new(int32(1))},
			MemoryInfo:         &ec2api.MemoryInfo{SizeInMiB: new(int64(1740))},
			NetworkInfo:        &ec2api.NetworkInfo{MaximumNetworkInterfaces: new(int32(2))},
			SupportedBootModes: []string{"legacy-bios"},
		}, true
	}
	return nil, false
}

// instanceKeyMaterial is the OpenSSH public key of a key pair, or "".
func instanceKeyMaterial(t *rtx, name string) string {
	k, err := keyPairByName(t, name)
	if err != nil {
		return ""
	}
	return deref(k.PublicKey)
}
