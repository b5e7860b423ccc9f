package ec2

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// AMIs: the built-in catalogue (ami_catalog.go) and the caller's own images
// (RegisterImage, CreateImage). CreateImage's images are "pending" for
// imageDelay after their CreationDate, then "available".

const imageDelay = 2 * time.Second

// imageTimeFormat is how EC2 renders CreationDate.
const imageTimeFormat = "2006-01-02T15:04:05.000Z"

func imageNotFound(ids ...string) error {
	if len(ids) == 1 {
		return apiErr("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
	}
	return apiErr("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

// imageIsCode reports whether err carries the AWS error code (api.Errorf's
// errors are not state.Errors, so state.IsCode does not see them).
func imageIsCode(err error, code string) bool {
	var c interface{ ErrorCode() string }
	return errors.As(err, &c) && c.ErrorCode() == code
}

func imageMalformed(id string) error {
	return apiErr("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
}

// imageSettle advances a pending image by the clock.
func imageSettle(img *imageRecord, now time.Time) {
	if deref(img.State) != "pending" {
		return
	}
	created, err := time.Parse(imageTimeFormat, deref(img.CreationDate))
	if err == nil && !now.Before(created.Add(imageDelay)) {
		img.State = new("available")
	}
}

// imageByID finds an image the caller can launch: a built-in of the region,
// one of its own, or one another account shared with it (image_share.go).
// RunInstances uses it.
func imageByID(t *rtx, id string) (*imageRecord, error) {
	if !images.validID(id) {
		return nil, imageMalformed(id)
	}
	if img, ok := amiBuiltinImage(t.scope.Region, id); ok {
		return img, nil
	}
	img, ok, err := images.find(t, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		owner, shared, err := shareOwner(t, sharedImages, id)
		if err != nil {
			return nil, err
		}
		if shared {
			img, ok, err = images.find(owner, id)
			if err != nil {
				return nil, err
			}
		}
	}
	if !ok {
		return nil, imageNotFound(id)
	}
	imageSettle(img, t.now)
	return img, nil
}

// imageFilterValues gives DescribeImages' filters for one image.
func imageFilterValues(img *imageRecord) map[string][]string {
	m := map[string][]string{
		"architecture":         one(deref(img.Architecture)),
		"boot-mode":            one(deref(img.BootMode)),
		"creation-date":        one(deref(img.CreationDate)),
		"deprecation-time":     one(deref(img.DeprecationTime)),
		"description":          one(deref(img.Description)),
		"ena-support":          boolValue(img.EnaSupport),
		"hypervisor":           one(deref(img.Hypervisor)),
		"image-id":             one(deref(img.ImageId)),
		"image-type":           one(deref(img.ImageType)),
		"imds-support":         one(deref(img.ImdsSupport)),
		"is-public":            boolValue(img.Public),
		"kernel-id":            one(deref(img.KernelId)),
		"manifest-location":    one(deref(img.ImageLocation)),
		"name":                 one(deref(img.Name)),
		"owner-alias":          one(deref(img.ImageOwnerAlias)),
		"owner-id":             one(deref(img.OwnerId)),
		"platform":             one(deref(img.Platform)),
		"platform-details":     one(deref(img.PlatformDetails)),
		"product-code":         nil,
		"product-code.type":    nil,
		"ramdisk-id":           one(deref(img.RamdiskId)),
		"root-device-name":     one(deref(img.RootDeviceName)),
		"root-device-type":     one(deref(img.RootDeviceType)),
		"source-instance-id":   one(deref(img.SourceInstanceId)),
		"sriov-net-support":    one(deref(img.SriovNetSupport)),
		"state":                one(deref(img.State)),
		"state-reason-code":    nil,
		"state-reason-message": nil,
		"tpm-support":          one(deref(img.TpmSupport)),
		"usage-operation":      one(deref(img.UsageOperation)),
		"virtualization-type":  one(deref(img.VirtualizationType)),
	}
	for _, k := range []string{"delete-on-termination", "device-name", "snapshot-id", "volume-size", "volume-type", "encrypted"} {
		m["block-device-mapping."+k] = nil
	}
	for _, b := range img.BlockDeviceMappings {
		m["block-device-mapping.device-name"] = append(m["block-device-mapping.device-name"], ptrValues(b.DeviceName)...)
		if e := b.Ebs; e != nil {
			m["block-device-mapping.delete-on-termination"] = append(m["block-device-mapping.delete-on-termination"], boolValue(e.DeleteOnTermination)...)
			m["block-device-mapping.snapshot-id"] = append(m["block-device-mapping.snapshot-id"], ptrValues(e.SnapshotId)...)
			m["block-device-mapping.volume-type"] = append(m["block-device-mapping.volume-type"], ptrValues(e.VolumeType)...)
			m["block-device-mapping.encrypted"] = append(m["block-device-mapping.encrypted"], boolValue(e.Encrypted)...)
			if e.VolumeSize != nil {
				m["block-device-mapping.volume-size"] = append(m["block-device-mapping.volume-size"], strconv.Itoa(int(*e.VolumeSize)))
			}
		}
	}
	return m
}

// imageFilterNames lists every filter DescribeImages accepts (plus tags).
var imageFilterNames = func() []string {
	var out []string
	for n := range imageFilterValues(&imageRecord{}) {
		out = append(out, n)
	}
	return out
}()

var imageAccountRE = lazyregexp.New(`^[0-9]{12}$`)

// imageOwnerMatches applies Owners: self, an alias (amazon,
// aws-marketplace, aws-backup-vault) or an account ID. Canonical's and
// Debian's images have no alias, so "amazon" does not match them.
func imageOwnerMatches(t *rtx, img *imageRecord, owners []string) bool {
	if len(owners) == 0 {
		return true
	}
	for _, o := range owners {
		switch {
		case o == "self" && deref(img.OwnerId) == t.scope.Account:
			return true
		case o == deref(img.OwnerId):
			return true
		case img.ImageOwnerAlias != nil && o == *img.ImageOwnerAlias:
			return true
		}
	}
	return false
}

// imageExecutableBy applies ExecutableUsers: "all" is the public images;
// self or an account ID names the images explicitly shared with that
// account (launchPermission, image_share.go).
func imageExecutableBy(t *rtx, img *imageRecord, users []string) bool {
	if len(users) == 0 {
		return true
	}
	for _, u := range users {
		if u == "self" {
			u = t.scope.Account
		}
		if u == "all" && deref(img.Public) || u != "all" && slices.ContainsFunc(img.LaunchPermissions, func(p ec2api.LaunchPermission) bool { return deref(p.UserId) == u }) {
			return true
		}
	}
	return false
}

// DescribeImages lists the built-in images and the caller's own.
func (s *Service) DescribeImages(ctx context.Context, in *ec2api.DescribeImagesRequest) (*ec2api.DescribeImagesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	for _, o := range in.Owners {
		switch {
		case o == "self", o == "amazon", o == "aws-marketplace", o == "aws-backup-vault", imageAccountRE.MatchString(o):
		default:
			return nil, apiErr("InvalidUserID.Malformed", "User ID '%s' is not valid", o)
		}
	}
	for _, u := range in.ExecutableUsers {
		if u != "all" && u != "self" && !imageAccountRE.MatchString(u) {
			return nil, apiErr("InvalidUserID.Malformed", "User ID '%s' is not valid", u)
		}
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, imageFilterNames...); err != nil {
		return nil, err
	}
	var recs []*imageRecord
	err := s.view(ctx, func(t *rtx) error {
		var cands []*imageRecord
		if len(in.ImageIds) > 0 {
			var missing []string
			seen := map[string]bool{}
			for _, id := range in.ImageIds {
				if seen[id] {
					continue
				}
				seen[id] = true
				img, err := imageByID(t, id)
				switch {
				case err == nil:
					cands = append(cands, img)
				case imageIsCode(err, "InvalidAMIID.NotFound"):
					missing = append(missing, id)
				default:
					return err
				}
			}
			if len(missing) > 0 {
				return imageNotFound(missing...)
			}
		} else {
			own, err := images.all(t)
			if err != nil {
				return err
			}
			for _, img := range own {
				imageSettle(img, t.now)
			}
			cands = own
			shared, err := imagesSharedWithCaller(t)
			if err != nil {
				return err
			}
			cands = append(cands, shared...)
			for _, b := range amiCatalogFor(t.scope.Region).images {
				c := b
				cands = append(cands, &c)
			}
		}
		deprecatedToo := deref(in.IncludeDeprecated) || len(in.ImageIds) > 0
		for _, img := range cands {
			if !imageOwnerMatches(t, img, in.Owners) || !imageExecutableBy(t, img, in.ExecutableUsers) {
				continue
			}
			if !deprecatedToo && deref(img.OwnerId) != t.scope.Account && img.DeprecationTime != nil {
				if dt, err := time.Parse(imageTimeFormat, *img.DeprecationTime); err == nil && !t.now.Before(dt) {
					continue
				}
			}
			vals := imageFilterValues(img)
			ok, err := state.MatchWithTags(fs, fromAPITags(img.Tags), func(n string) ([]string, bool) { x, ok := vals[n]; return x, ok })
			if err != nil {
				return err
			}
			if ok {
				recs = append(recs, img)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(i *imageRecord) string { return deref(i.ImageId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeImagesResult{Images: []ec2api.Image{}, NextToken: next}
	for _, img := range pg {
		out.Images = append(out.Images, img.Image)
	}
	return out, nil
}

// imageNameRE is AWS's rule for AMI names.
var imageNameRE = lazyregexp.New(`^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$`)

// imageCheckName validates a new image's name and its uniqueness in the
// account and region.
func imageCheckName(t *rtx, name string) error {
	if name == "" {
		return errMissingParam("name")
	}
	if !imageNameRE.MatchString(name) {
		return apiErr("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	own, err := images.all(t)
	if err != nil {
		return err
	}
	for _, img := range own {
		if deref(img.Name) == name {
			return apiErr("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, deref(img.ImageId))
		}
	}
	return nil
}

// imageLocalRoot reports whether location names a local directory or
// tarball: minicloud's extension to RegisterImage, where such a path becomes
// the image's root filesystem source.
func imageLocalRoot(location string) (bool, error) {
	if !strings.HasPrefix(location, "/") {
		return false, nil
	}
	fi, err := os.Stat(location)
	if err != nil {
		return false, errInvalidParam("The image location %s is not a readable local directory or tarball.", location)
	}
	if fi.IsDir() {
		return true, nil
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst"} {
		if strings.HasSuffix(location, ext) {
			return true, nil
		}
	}
	return false, errInvalidParam("The image location %s is neither a directory nor a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst).", location)
}

// RegisterImage registers an AMI from a root snapshot (RootDeviceName and
// BlockDeviceMappings) or, as minicloud's extension, from an ImageLocation
// that is a local directory or tarball; a root snapshot standing for that
// filesystem is created so launches work as for any EBS-backed image.
func (s *Service) RegisterImage(ctx context.Context, in *ec2api.RegisterImageRequest) (*ec2api.RegisterImageResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "image")
	if err != nil {
		return nil, err
	}
	arch, virt, err := imageCheckRegister(in)
	if err != nil {
		return nil, err
	}
	var id string
	err = s.update(ctx, func(t *rtx) error {
		if err := imageCheckName(t, deref(in.Name)); err != nil {
			return err
		}
		location := deref(in.ImageLocation)
		local, err := imageLocalRoot(location)
		if err != nil {
			return err
		}
		id = state.NewID("ami")
		root, err := imageRegisterRoot(t, in, id, location, local)
		if err != nil {
			return err
		}
		if location == "" {
			location = t.scope.Account + "/" + deref(in.Name)
		}
		img := &imageRecord{Image: imageBase(t, id, location), RootSnapshotID: root.snapshot}
		img.State = new("available")
		img.Name = in.Name
		img.Description = in.Description
		img.Architecture = new(arch)
		img.VirtualizationType = new(virt)
		img.BlockDeviceMappings = root.mappings
		img.RootDeviceName = new(root.device)
		img.EnaSupport = in.EnaSupport
		img.SriovNetSupport = in.SriovNetSupport
		img.BootMode = in.BootMode
		img.TpmSupport = in.TpmSupport
		img.ImdsSupport = in.ImdsSupport
		img.KernelId = in.KernelId
		img.RamdiskId = in.RamdiskId
		if tags != nil {
			img.Tags = tags
		}
		return images.put(t, img)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RegisterImageResult{ImageId: new(id)}, nil
}

// imageCheckRegister checks RegisterImage's architecture and
// virtualization type, with their defaults.
func imageCheckRegister(in *ec2api.RegisterImageRequest) (arch, virt string, err error) {
	arch = orDefault(deref(in.Architecture), "x86_64")
	if !slices.Contains([]string{"i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"}, arch) {
		return "", "", errInvalidParam("Value (%s) for parameter architecture is invalid.", arch)
	}
	virt = orDefault(deref(in.VirtualizationType), "paravirtual") // AWS's documented default
	if virt != "hvm" && virt != "paravirtual" {
		return "", "", errInvalidParam("Value (%s) for parameter virtualizationType is invalid.", virt)
	}
	return arch, virt, nil
}

// imageBase is what every image minicloud makes has: an EBS-backed Linux
// machine image of the caller's, created now.
func imageBase(t *rtx, id, location string) ec2api.Image {
	return ec2api.Image{
		CreationDate:    new(t.now.Format(imageTimeFormat)),
		ImageId:         new(id),
		ImageLocation:   new(location),
		ImageType:       new("machine"),
		Public:          new(false),
		OwnerId:         new(t.scope.Account),
		PlatformDetails: new("Linux/UNIX"),
		UsageOperation:  new("RunInstances"),
		Hypervisor:      new("xen"),
		RootDeviceType:  new("ebs"),
		Tags:            []ec2api.Tag{},
	}
}

// imageRoot is a registered image's block devices and the root among them.
type imageRoot struct {
	mappings []ec2api.BlockDeviceMapping
	device   string // the root device's name
	snapshot string // the root device's snapshot, "" without one
}

// imageRegisterRoot resolves a registered image's block devices: a local
// root filesystem without mappings gets a snapshot standing for it; each
// EBS mapping gets its snapshot's size and encryption, gp2 and
// DeleteOnTermination unless given.
func imageRegisterRoot(t *rtx, in *ec2api.RegisterImageRequest, id, location string, local bool) (imageRoot, error) {
	root := imageRoot{mappings: slices.Clone(in.BlockDeviceMappings), device: deref(in.RootDeviceName)}
	if local && len(root.mappings) == 0 {
		root.device = orDefault(root.device, "/dev/xvda")
		snap := &snapshotRecord{Snapshot: ec2api.Snapshot{
			Description: new("Root filesystem of " + id + " from " + location),
			Encrypted:   new(false),
			OwnerId:     new(t.scope.Account),
			Progress:    new("100%"),
			SnapshotId:  new(state.NewID("snap")),
			StartTime:   new(t.now),
			State:       new("completed"),
			VolumeId:    new("vol-ffffffff"),
			VolumeSize:  new(int32(amiBuiltinSize)),
			StorageTier: new("standard"),
			Tags:        []ec2api.Tag{},
		}}
		if err := snapshots.put(t, snap); err != nil {
			return imageRoot{}, err
		}
		root.mappings = []ec2api.BlockDeviceMapping{{DeviceName: new(root.device), Ebs: &ec2api.EbsBlockDevice{SnapshotId: snap.SnapshotId}}}
	}
	if location == "" && root.device == "" {
		return imageRoot{}, errMissingParam("rootDeviceName")
	}
	for i := range root.mappings {
		b := &root.mappings[i]
		if b.Ebs == nil {
			continue
		}
		e := *b.Ebs
		b.Ebs = &e
		if e.SnapshotId != nil {
			snap, err := snapshotGet(t, *e.SnapshotId)
			if err != nil {
				return imageRoot{}, err
			}
			if e.VolumeSize == nil {
				e.VolumeSize = snap.VolumeSize
			}
			if e.Encrypted == nil {
				e.Encrypted = new(deref(snap.Encrypted))
			}
		}
		if e.VolumeType == nil {
			e.VolumeType = new("gp2")
		}
		if e.DeleteOnTermination == nil {
			e.DeleteOnTermination = new(true)
		}
		if deref(b.DeviceName) == root.device && e.SnapshotId != nil {
			root.snapshot = *e.SnapshotId
		}
	}
	if root.snapshot == "" && !local {
		return imageRoot{}, apiErr("InvalidBlockDeviceMapping", "The device name %s must be given a snapshot in the block device mappings, as the root device of an EBS-backed image.", root.device)
	}
	return root, nil
}

// CreateImage creates an AMI from an instance: a snapshot of each of its EBS
// volumes (pending, like the image, for imageDelay).
func (s *Service) CreateImage(ctx context.Context, in *ec2api.CreateImageRequest) (*ec2api.CreateImageResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	imgTags, err := tagsFor(in.TagSpecifications, "image", "image", "snapshot")
	if err != nil {
		return nil, err
	}
	snapTags, err := tagsFor(in.TagSpecifications, "snapshot", "image", "snapshot")
	if err != nil {
		return nil, err
	}
	var id string
	err = s.update(ctx, func(t *rtx) error {
		inst, err := instances.get(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		instID := deref(inst.InstanceId)
		if st := volumeInstanceState(inst); st != "running" && st != "stopped" {
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged.", instID)
		}
		if err := imageCheckName(t, deref(in.Name)); err != nil {
			return err
		}
		id = state.NewID("ami")
		bdms, rootSnap, err := imageSnapshotVolumes(t, inst, "Created by CreateImage("+instID+") for "+id, snapTags)
		if err != nil {
			return err
		}
		img := &imageRecord{Image: imageBase(t, id, t.scope.Account+"/"+deref(in.Name)), RootSnapshotID: rootSnap}
		img.State = new("pending")
		img.Name = in.Name
		img.Description = in.Description
		img.Architecture = inst.Architecture
		img.VirtualizationType = new("hvm")
		img.BlockDeviceMappings = imageOverrideMappings(bdms, in.BlockDeviceMappings)
		img.RootDeviceName = inst.RootDeviceName
		img.EnaSupport = inst.EnaSupport
		img.SriovNetSupport = new("simple")
		img.SourceInstanceId = new(instID)
		if src, _ := imageByID(t, deref(inst.ImageId)); src != nil {
			img.BootMode, img.ImdsSupport, img.TpmSupport = src.BootMode, src.ImdsSupport, src.TpmSupport
			if img.Architecture == nil {
				img.Architecture = src.Architecture
			}
		}
		if imgTags != nil {
			img.Tags = imgTags
		}
		return images.put(t, img)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateImageResult{ImageId: new(id)}, nil
}

// imageSnapshotVolumes snapshots each of an instance's EBS volumes and
// returns the image mappings of the snapshots, and the root's snapshot.
func imageSnapshotVolumes(t *rtx, inst *instanceRecord, description string, tags []ec2api.Tag) ([]ec2api.BlockDeviceMapping, string, error) {
	var bdms []ec2api.BlockDeviceMapping
	rootSnap := ""
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs == nil || m.Ebs.VolumeId == nil {
			continue
		}
		v, err := volumeGet(t, *m.Ebs.VolumeId)
		if err != nil {
			return nil, "", err
		}
		snap, err := snapshotNew(t, v, description, tags)
		if err != nil {
			return nil, "", err
		}
		if deref(m.DeviceName) == deref(inst.RootDeviceName) {
			rootSnap = deref(snap.SnapshotId)
		}
		// A gp2 volume shows the IOPS its size gives it, but a mapping
		// names IOPS only for the types that take them (AWS's gp2 images
		// have none, and RunInstances refuses them for gp2).
		iops := v.Iops
		if typ := deref(v.VolumeType); typ != "io1" && typ != "io2" && typ != "gp3" {
			iops = nil
		}
		bdms = append(bdms, ec2api.BlockDeviceMapping{DeviceName: m.DeviceName, Ebs: &ec2api.EbsBlockDevice{
			DeleteOnTermination: new(true),
			SnapshotId:          snap.SnapshotId,
			VolumeSize:          v.Size,
			VolumeType:          v.VolumeType,
			Iops:                iops,
			Throughput:          v.Throughput,
			Encrypted:           v.Encrypted,
		}})
	}
	return bdms, rootSnap, nil
}

// imageOverrideMappings applies CreateImage's mappings to the instance's,
// by device name: NoDevice removes one, an EBS mapping changes its size,
// type and DeleteOnTermination, and a device the instance lacks is added.
func imageOverrideMappings(bdms, req []ec2api.BlockDeviceMapping) []ec2api.BlockDeviceMapping {
	for _, r := range req {
		i := slices.IndexFunc(bdms, func(b ec2api.BlockDeviceMapping) bool { return deref(b.DeviceName) == deref(r.DeviceName) })
		switch {
		case r.NoDevice != nil && i >= 0:
			bdms = slices.Delete(bdms, i, i+1)
		case i >= 0 && r.Ebs != nil:
			e := *bdms[i].Ebs
			if r.Ebs.VolumeSize != nil {
				e.VolumeSize = r.Ebs.VolumeSize
			}
			if r.Ebs.VolumeType != nil {
				e.VolumeType = r.Ebs.VolumeType
			}
			if r.Ebs.DeleteOnTermination != nil {
				e.DeleteOnTermination = r.Ebs.DeleteOnTermination
			}
			bdms[i].Ebs = &e
		case i < 0 && r.NoDevice == nil:
			bdms = append(bdms, r)
		}
	}
	return bdms
}

// DeregisterImage deregisters one of the caller's images; its snapshots
// remain. The built-in images belong to other accounts.
func (s *Service) DeregisterImage(ctx context.Context, in *ec2api.DeregisterImageRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(t *rtx) error {
		img, err := imageByID(t, deref(in.ImageId))
		if err != nil {
			return err
		}
		if deref(img.OwnerId) != t.scope.Account {
			return apiErr("AuthFailure", "Not authorized for image:%s", deref(img.ImageId))
		}
		if err := shareSync(t, sharedImages, deref(img.ImageId), shareEntry{}); err != nil {
			return err
		}
		return images.del(t, deref(img.ImageId))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}
