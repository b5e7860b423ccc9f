package ec2

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// The built-in AMI catalogue: the public images scripts usually look up by
// name (Amazon Linux 2023, Ubuntu 24.04 and 22.04, Debian 12), in every
// region, with stable IDs derived from the region and the image name so a
// script can reuse an ID it found once.
//
// These images are not stored; they are generated on the fly and read-only
// (DeregisterImage refuses them). The instance runtime (a later data plane)
// boots instances of these AMIs with the host's own filesystem, read-only, as
// their root filesystem: the catalogue names a distribution for the API's
// sake, the bytes are the host's. Images registered with a local
// ImageLocation (RegisterImage) or created from an instance (CreateImage)
// carry their own root filesystem source instead.

// Owners of the catalogue's images.
const (
	amiOwnerAmazon    = "137112412989" // Amazon Linux, alias "amazon"
	amiOwnerCanonical = "099720109477" // Ubuntu, no alias
	amiOwnerDebian    = "136693071363" // Debian, no alias
)

type amiCatalogEntry struct {
	name, description string
	owner, alias      string
	arch              string // x86_64 | arm64
	rootDevice        string
	volumeType        string // of the 8 GiB root volume
	bootMode          string
	imdsSupport       string
	created           string // CreationDate, as EC2 renders it
	ephemeral         bool   // Ubuntu maps /dev/sdb and /dev/sdc to ephemeral0/1
}

var amiCatalog = []amiCatalogEntry{
	{name: "al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64", description: "Amazon Linux 2023 AMI 2023.6.20250101.0 x86_64 HVM kernel-6.1",
		owner: amiOwnerAmazon, alias: "amazon", arch: "x86_64", rootDevice: "/dev/xvda", volumeType: "gp3", bootMode: "uefi-preferred", imdsSupport: "v2.0", created: "2025-01-02T19:08:42.000Z"},
	{name: "al2023-ami-2023.6.20250101.0-kernel-6.1-arm64", description: "Amazon Linux 2023 AMI 2023.6.20250101.0 arm64 HVM kernel-6.1",
		owner: amiOwnerAmazon, alias: "amazon", arch: "arm64", rootDevice: "/dev/xvda", volumeType: "gp3", bootMode: "uefi", imdsSupport: "v2.0", created: "2025-01-02T19:08:44.000Z"},
	{name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101", description: "Canonical, Ubuntu, 24.04, amd64 noble image",
		owner: amiOwnerCanonical, arch: "x86_64", rootDevice: "/dev/sda1", volumeType: "gp3", bootMode: "uefi-preferred", created: "2025-01-01T07:37:21.000Z", ephemeral: true},
	{name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250101", description: "Canonical, Ubuntu, 24.04, arm64 noble image",
		owner: amiOwnerCanonical, arch: "arm64", rootDevice: "/dev/sda1", volumeType: "gp3", bootMode: "uefi", created: "2025-01-01T07:37:25.000Z", ephemeral: true},
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101", description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2025-01-01",
		owner: amiOwnerCanonical, arch: "x86_64", rootDevice: "/dev/sda1", volumeType: "gp2", bootMode: "uefi-preferred", created: "2025-01-01T06:12:03.000Z", ephemeral: true},
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20250101", description: "Canonical, Ubuntu, 22.04 LTS, arm64 jammy image build on 2025-01-01",
		owner: amiOwnerCanonical, arch: "arm64", rootDevice: "/dev/sda1", volumeType: "gp2", bootMode: "uefi", created: "2025-01-01T06:12:09.000Z", ephemeral: true},
	// Debian's AMIs use /dev/xvda as their root device, as the real ones do.
	{name: "debian-12-amd64-20250101-1990", description: "Debian 12 (20250101-1990)",
		owner: amiOwnerDebian, arch: "x86_64", rootDevice: "/dev/xvda", volumeType: "gp3", bootMode: "uefi-preferred", created: "2025-01-01T10:21:37.000Z"},
	{name: "debian-12-arm64-20250101-1990", description: "Debian 12 (20250101-1990)",
		owner: amiOwnerDebian, arch: "arm64", rootDevice: "/dev/xvda", volumeType: "gp3", bootMode: "uefi", created: "2025-01-01T10:21:41.000Z"},
}

// amiBuiltinSize is the root volume size of every built-in image, GiB.
const amiBuiltinSize = 8

// amiDerivedID is prefix + 17 hex digits of SHA-256(region/name/what).
func amiDerivedID(prefix, region, name, what string) string {
	sum := sha256.Sum256([]byte(region + "/" + name + "/" + what))
	return prefix + "-" + hex.EncodeToString(sum[:])[:17]
}

// amiBuiltin is one region's generated catalogue.
type amiBuiltin struct {
	images    []imageRecord
	snapshots []snapshotRecord
}

var amiBuiltins sync.Map // region → *amiBuiltin

// amiCatalogFor returns the built-in images and their root snapshots in
// region. The values are shared: callers copy before changing anything.
func amiCatalogFor(region string) *amiBuiltin {
	if b, ok := amiBuiltins.Load(region); ok {
		return b.(*amiBuiltin)
	}
	b := &amiBuiltin{}
	for _, e := range amiCatalog {
		imageID := amiDerivedID("ami", region, e.name, "image")
		snapID := amiDerivedID("snap", region, e.name, "root")
		root := &ec2api.EbsBlockDevice{
			DeleteOnTermination: new(true),
			SnapshotId:          new(snapID),
			VolumeSize:          new(int32(amiBuiltinSize)),
			VolumeType:          new(e.volumeType),
			Encrypted:           new(false),
		}
		if e.volumeType == "gp3" {
			root.Iops, root.Throughput = new(int32(3000)), new(int32(125))
		}
		bdm := []ec2api.BlockDeviceMapping{{DeviceName: new(e.rootDevice), Ebs: root}}
		if e.ephemeral {
			bdm = append(bdm,
				ec2api.BlockDeviceMapping{DeviceName: new("/dev/sdb"), VirtualName: new("ephemeral0")},
				ec2api.BlockDeviceMapping{DeviceName: new("/dev/sdc"), VirtualName: new("ephemeral1")})
		}
		location := e.owner + "/" + e.name
		if e.alias != "" {
			location = e.alias + "/" + e.name
		}
		img := ec2api.Image{
			Architecture:        new(e.arch),
			CreationDate:        new(e.created),
			ImageId:             new(imageID),
			ImageLocation:       new(location),
			ImageType:           new("machine"),
			Public:              new(true),
			OwnerId:             new(e.owner),
			PlatformDetails:     new("Linux/UNIX"),
			UsageOperation:      new("RunInstances"),
			State:               new("available"),
			BlockDeviceMappings: bdm,
			Description:         new(e.description),
			EnaSupport:          new(true),
			Hypervisor:          new("xen"),
			Name:                new(e.name),
			RootDeviceName:      new(e.rootDevice),
			RootDeviceType:      new("ebs"),
			SriovNetSupport:     new("simple"),
			VirtualizationType:  new("hvm"),
			BootMode:            new(e.bootMode),
		}
		if e.alias != "" {
			img.ImageOwnerAlias = new(e.alias)
		}
		if e.imdsSupport != "" {
			img.ImdsSupport = new(e.imdsSupport)
		}
		b.images = append(b.images, imageRecord{Image: img})
		start, _ := time.Parse(time.RFC3339, e.created)
		snap := ec2api.Snapshot{
			Description: new("Auto-created snapshot for AMI " + imageID),
			Encrypted:   new(false),
			OwnerId:     new(e.owner),
			Progress:    new("100%"),
			SnapshotId:  new(snapID),
			StartTime:   new(start.Add(-2 * time.Minute)),
			State:       new("completed"),
			VolumeId:    new("vol-ffffffff"),
			VolumeSize:  new(int32(amiBuiltinSize)),
			StorageTier: new("standard"),
		}
		if e.alias != "" {
			snap.OwnerAlias = new(e.alias)
		}
		b.snapshots = append(b.snapshots, snapshotRecord{Snapshot: snap})
	}
	actual, _ := amiBuiltins.LoadOrStore(region, b)
	return actual.(*amiBuiltin)
}

// amiBuiltinImage finds a built-in image of region by ID.
func amiBuiltinImage(region, id string) (*imageRecord, bool) {
	for _, img := range amiCatalogFor(region).images {
		if deref(img.ImageId) == id {
			c := img
			return &c, true
		}
	}
	return nil, false
}

// amiBuiltinSnapshot finds a built-in root snapshot of region by ID.
func amiBuiltinSnapshot(region, id string) (*snapshotRecord, bool) {
	for _, s := range amiCatalogFor(region).snapshots {
		if deref(s.SnapshotId) == id {
			c := s
			return &c, true
		}
	}
	return nil, false
}
