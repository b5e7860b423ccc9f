// Command instancetypegen writes EC2's instance type table
// (internal/service/ec2/instancetype_data.go) from moto's
// ec2/resources/instance_types.json.gz: a dump of AWS's
// DescribeInstanceTypes in us-east-1 that moto ships. The numbers are AWS's;
// this program only selects the families minicloud offers and flattens each
// type into an instanceTypeSpec row.
//
// moto is a peer minicloud is benchmarked against, never a build or runtime
// dependency: the generator is run by hand, on a machine where moto is
// installed, with `go generate ./internal/service/ec2/`. It finds moto
// through the Python interpreter (-python, default python3) and records
// moto's version in the header, so that a later run with another moto shows
// up as a reviewable diff of AWS's numbers.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// families are the instance families minicloud offers, in table order; every
// size moto knows of each is included. p3 (all but p3dn) is missing from the
// dump and entered by hand in instancetype_p3.go.
var families = []string{"t2", "t3", "t3a", "m5", "m6i", "m7g", "c5", "c6i", "r5", "r6i", "i3", "d2", "p3dn", "g4dn"}

func main() {
	out := flag.String("out", "instancetype_data.go", "file to write")
	python := flag.String("python", "python3", "Python interpreter that has moto installed")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("instancetypegen: ")

	src, err := findMoto(*python)
	if err != nil {
		log.Fatal(err)
	}
	code, err := generate(src)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		log.Fatal(err)
	}
}

// motoSource is moto's data file and the moto version it belongs to.
type motoSource struct {
	Version string
	Path    string
}

// findMoto asks python where moto is installed and which version it is.
func findMoto(python string) (motoSource, error) {
	cmd := exec.Command(python, "-c", "import moto, os; print(moto.__version__); print(os.path.dirname(moto.__file__))")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return motoSource{}, fmt.Errorf("find moto with %s (pip install moto): %w: %s", python, err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return motoSource{}, fmt.Errorf("find moto with %s: unexpected answer %q", python, b)
	}
	return motoSource{Version: lines[0], Path: filepath.Join(lines[1], "ec2", "resources", "instance_types.json.gz")}, nil
}

// motoType is the part of a DescribeInstanceTypes entry the table keeps.
type motoType struct {
	InstanceType                  string
	CurrentGeneration             bool
	FreeTierEligible              bool
	BurstablePerformanceSupported bool
	BareMetal                     bool
	Hypervisor                    string
	ProcessorInfo                 struct {
		SupportedArchitectures   []string
		SustainedClockSpeedInGhz float64
		Manufacturer             string
		SupportedFeatures        []string
	}
	VCpuInfo struct {
		DefaultVCpus, DefaultCores, DefaultThreadsPerCore int32
		ValidCores, ValidThreadsPerCore                   []int32
	}
	MemoryInfo          struct{ SizeInMiB int64 }
	InstanceStorageInfo *struct {
		TotalSizeInGB int64
		Disks         []struct {
			Count    int32
			SizeInGB int64
			Type     string
		}
		NvmeSupport, EncryptionSupport string
	}
	NetworkInfo struct {
		NetworkPerformance                                   string
		MaximumNetworkInterfaces, MaximumNetworkCards        int32
		Ipv4AddressesPerInterface, Ipv6AddressesPerInterface int32
		EnaSupport                                           string
		EfaSupported                                         bool
		NetworkCards                                         []struct {
			BaselineBandwidthInGbps, PeakBandwidthInGbps float64
		}
	}
	EbsInfo struct {
		EbsOptimizedSupport, NvmeSupport string
		EbsOptimizedInfo                 *struct {
			BaselineBandwidthInMbps, MaximumBandwidthInMbps   int32
			BaselineThroughputInMBps, MaximumThroughputInMBps float64
			BaselineIops, MaximumIops                         int32
		}
	}
	GpuInfo *struct {
		Gpus []struct {
			Name, Manufacturer string
			Count              int32
			MemoryInfo         struct{ SizeInMiB int32 }
		}
	}
	SupportedRootDeviceTypes, SupportedBootModes, SupportedUsageClasses  []string
	PlacementGroupInfo                                                   struct{ SupportedStrategies []string }
	HibernationSupported, DedicatedHostsSupported, AutoRecoverySupported bool
	NitroEnclavesSupport, NitroTpmSupport                                string
}

// generate renders the table from moto's data file.
func generate(src motoSource) ([]byte, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(src.Path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Path, err)
		}
		r = zr
	}
	var all map[string]motoType
	if err := json.NewDecoder(r).Decode(&all); err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path, err)
	}
	types, err := selectTypes(all)
	if err != nil {
		return nil, err
	}
	return render(src, types)
}

// selectTypes returns every type of the offered families, by family in
// table order and by size within one.
func selectTypes(all map[string]motoType) ([]motoType, error) {
	var out []motoType
	for _, fam := range families {
		rank := map[string]int{}
		for name := range all {
			if f, _, _ := strings.Cut(name, "."); f != fam {
				continue
			}
			r, err := sizeRank(name)
			if err != nil {
				return nil, err
			}
			rank[name] = r
		}
		if len(rank) == 0 {
			return nil, fmt.Errorf("moto lists no instance type of family %s", fam)
		}
		names := slices.SortedFunc(maps.Keys(rank), func(a, b string) int { return rank[a] - rank[b] })
		for _, n := range names {
			out = append(out, all[n])
		}
	}
	return out, nil
}

var nxlarge = regexp.MustCompile(`^([0-9]+)xlarge$`)

// sizeRank orders the sizes of a family as AWS lists them: nano to xlarge,
// then 2xlarge, 4xlarge … by multiple, then metal.
func sizeRank(name string) (int, error) {
	_, size, _ := strings.Cut(name, ".")
	if i := slices.Index([]string{"nano", "micro", "small", "medium", "large", "xlarge"}, size); i >= 0 {
		return i, nil
	}
	if m := nxlarge.FindStringSubmatch(size); m != nil {
		n, _ := strconv.Atoi(m[1])
		return 10 + n, nil
	}
	if size == "metal" {
		return 1 << 20, nil
	}
	return 0, fmt.Errorf("instance type %s: unknown size %q", name, size)
}

// render writes the Go source of the table, one row per type with its
// fields on a few lines grouped as DescribeInstanceTypes groups them.
func render(src motoSource, types []motoType) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by instancetypegen from moto %s's ec2/resources/instance_types.json.gz. DO NOT EDIT.\n\n", src.Version)
	b.WriteString("// The data is a dump of AWS's DescribeInstanceTypes (us-east-1) that moto\n" +
		"// ships; the numbers are AWS's and are reviewed in the diff when the table is\n" +
		"// regenerated (go generate ./internal/service/ec2/, with moto installed).\n" +
		"// p3.{2,8,16}xlarge, which that dump no longer has, are in instancetype_p3.go,\n" +
		"// entered from AWS's documentation.\n\npackage ec2\n\n")
	b.WriteString("// instanceTypeTable lists the instance types minicloud knows, by family.\nvar instanceTypeTable = []instanceTypeSpec{\n")
	for _, t := range types {
		if err := row(&b, t); err != nil {
			return nil, err
		}
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// row writes one instanceTypeSpec literal. Fields that are false or absent
// are left out, so each row shows what sets the type apart.
func row(b *bytes.Buffer, t motoType) error {
	n := t.NetworkInfo
	if len(n.NetworkCards) != 1 {
		return fmt.Errorf("%s: %d network cards; the table holds one", t.InstanceType, len(n.NetworkCards))
	}
	fmt.Fprintf(b, "{name: %q, %shypervisor: %q,\n", t.InstanceType,
		set(t.CurrentGeneration, "current")+set(t.FreeTierEligible, "freeTier")+set(t.BurstablePerformanceSupported, "burstable")+set(t.BareMetal, "bareMetal"),
		t.Hypervisor)
	p := t.ProcessorInfo
	fmt.Fprintf(b, "arch: %s, ghz: %s, maker: %q,", strs(p.SupportedArchitectures), pyFloat(p.SustainedClockSpeedInGhz), p.Manufacturer)
	if len(p.SupportedFeatures) > 0 {
		fmt.Fprintf(b, " features: %s,", strs(p.SupportedFeatures))
	}
	b.WriteString("\n")
	v := t.VCpuInfo
	fmt.Fprintf(b, "vcpus: %d, cores: %d, threads: %d, ", v.DefaultVCpus, v.DefaultCores, v.DefaultThreadsPerCore)
	if len(v.ValidCores) > 0 || len(v.ValidThreadsPerCore) > 0 {
		fmt.Fprintf(b, "validCores: %s, validThreads: %s, ", ints(v.ValidCores), ints(v.ValidThreadsPerCore))
	}
	fmt.Fprintf(b, "memMiB: %d,\n", t.MemoryInfo.SizeInMiB)
	if s := t.InstanceStorageInfo; s != nil {
		if len(s.Disks) != 1 {
			return fmt.Errorf("%s: %d kinds of disk; the table holds one", t.InstanceType, len(s.Disks))
		}
		d := s.Disks[0]
		fmt.Fprintf(b, "storage: &instanceTypeStorage{totalGB: %d, count: %d, sizeGB: %d, kind: %q, nvme: %q, encryption: %q},\n",
			s.TotalSizeInGB, d.Count, d.SizeInGB, d.Type, s.NvmeSupport, s.EncryptionSupport)
	}
	fmt.Fprintf(b, "net: %q, enis: %d, cards: %d, ipv4: %d, ipv6: %d, ena: %q, %sbaseGbps: %s, peakGbps: %s,\n",
		n.NetworkPerformance, n.MaximumNetworkInterfaces, n.MaximumNetworkCards, n.Ipv4AddressesPerInterface, n.Ipv6AddressesPerInterface,
		n.EnaSupport, set(n.EfaSupported, "efa"), pyFloat(n.NetworkCards[0].BaselineBandwidthInGbps), pyFloat(n.NetworkCards[0].PeakBandwidthInGbps))
	e := t.EbsInfo
	fmt.Fprintf(b, "ebs: %q, ebsNvme: %q,", e.EbsOptimizedSupport, e.NvmeSupport)
	if o := e.EbsOptimizedInfo; o != nil {
		fmt.Fprintf(b, " ebsMbps: [2]int32{%d, %d}, ebsMBps: [2]float64{%s, %s}, ebsIops: [2]int32{%d, %d},",
			o.BaselineBandwidthInMbps, o.MaximumBandwidthInMbps, pyFloat(o.BaselineThroughputInMBps), pyFloat(o.MaximumThroughputInMBps),
			o.BaselineIops, o.MaximumIops)
	}
	b.WriteString("\n")
	if g := t.GpuInfo; g != nil {
		if len(g.Gpus) != 1 {
			return fmt.Errorf("%s: %d kinds of GPU; the table holds one", t.InstanceType, len(g.Gpus))
		}
		d := g.Gpus[0]
		fmt.Fprintf(b, "gpu: &instanceTypeGPU{name: %q, maker: %q, count: %d, memMiB: %d},\n", d.Name, d.Manufacturer, d.Count, d.MemoryInfo.SizeInMiB)
	}
	fmt.Fprintf(b, "root: %s, boot: %s, placement: %s, usage: %s,\n",
		strs(t.SupportedRootDeviceTypes), strs(t.SupportedBootModes), strs(t.PlacementGroupInfo.SupportedStrategies), strs(t.SupportedUsageClasses))
	fmt.Fprintf(b, "%senclaves: %q, tpm: %q},\n",
		set(t.HibernationSupported, "hibernation")+set(t.DedicatedHostsSupported, "dedicatedHosts")+set(t.AutoRecoverySupported, "autoRecovery"),
		t.NitroEnclavesSupport, t.NitroTpmSupport)
	return nil
}

// set renders a true boolean field; a false one is left out.
func set(on bool, field string) string {
	if on {
		return field + ": true, "
	}
	return ""
}

func strs(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

func ints(xs []int32) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Itoa(int(x))
	}
	return "[]int32{" + strings.Join(q, ", ") + "}"
}

// pyFloat writes a float as the table always has (Python's repr, which the
// first version of the table was written with): shortest form, and a whole
// number keeps ".0" so the literal reads as the float it is.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
