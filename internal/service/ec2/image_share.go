package ec2

import (
	"context"
	"slices"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Image attributes, launch permissions and copies. An image shared with an
// account (launchPermission) is found by that account's DescribeImages,
// DescribeImages ExecutableUsers and RunInstances through the sharing index
// (share.go); one that is not shared does not exist for it.

// imageShareEntry is the index entry of an image's launch permissions.
func imageShareEntry(img *imageRecord) shareEntry {
	e := shareEntry{Owner: deref(img.OwnerId), Public: deref(img.Public)}
	for _, p := range img.LaunchPermissions {
		if p.UserId != nil {
			e.Users = append(e.Users, *p.UserId)
		}
	}
	return e
}

// imagesSharedWithCaller lists the images other accounts shared with the
// caller (explicitly or publicly), settled.
func imagesSharedWithCaller(t *rtx) ([]*imageRecord, error) {
	shared, err := sharedWithCaller(t, sharedImages)
	if err != nil {
		return nil, err
	}
	var out []*imageRecord
	for _, id := range sortedIDs(shared) {
		img, ok, err := images.find(shared[id], id)
		if err != nil {
			return nil, err
		}
		if ok {
			imageSettle(img, t.now)
			out = append(out, img)
		}
	}
	return out, nil
}

// imageOwned finds one of the caller's own images for a change (or a
// read) only its owner may make.
func imageOwned(t *rtx, id string) (*imageRecord, error) {
	img, err := imageByID(t, id)
	if err != nil {
		return nil, err
	}
	if deref(img.OwnerId) != t.scope.Account {
		return nil, apiErr("AuthFailure", "Not authorized for image:%s", id)
	}
	return img, nil
}

// imageAttributes are the attributes DescribeImageAttribute answers, each
// filling its part of the answer; launchPermission is the owner's only.
var imageAttributes = map[string]func(img *imageRecord, out *ec2api.ImageAttribute){
	"description": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.Description = &ec2api.AttributeValue{Value: img.Description}
	},
	"kernel": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.KernelId = &ec2api.AttributeValue{Value: img.KernelId}
	},
	"ramdisk": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.RamdiskId = &ec2api.AttributeValue{Value: img.RamdiskId}
	},
	"launchPermission": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.LaunchPermissions = append([]ec2api.LaunchPermission{}, img.LaunchPermissions...)
		if deref(img.Public) {
			out.LaunchPermissions = append(out.LaunchPermissions, ec2api.LaunchPermission{Group: new("all")})
		}
	},
	"productCodes": func(img *imageRecord, out *ec2api.ImageAttribute) { out.ProductCodes = []ec2api.ProductCode{} },
	"blockDeviceMapping": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.BlockDeviceMappings = append([]ec2api.BlockDeviceMapping{}, img.BlockDeviceMappings...)
	},
	"sriovNetSupport": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.SriovNetSupport = &ec2api.AttributeValue{Value: img.SriovNetSupport}
	},
	"bootMode": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.BootMode = &ec2api.AttributeValue{Value: img.BootMode}
	},
	"tpmSupport": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.TpmSupport = &ec2api.AttributeValue{Value: img.TpmSupport}
	},
	"uefiData": func(img *imageRecord, out *ec2api.ImageAttribute) { out.UefiData = &ec2api.AttributeValue{} },
	"imdsSupport": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.ImdsSupport = &ec2api.AttributeValue{Value: img.ImdsSupport}
	},
	"lastLaunchedTime": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.LastLaunchedTime = &ec2api.AttributeValue{Value: img.LastLaunchedTime}
	},
	"deregistrationProtection": func(img *imageRecord, out *ec2api.ImageAttribute) {
		out.DeregistrationProtection = &ec2api.AttributeValue{Value: new(orDefault(deref(img.DeregistrationProtection), "disabled"))}
	},
}

// DescribeImageAttribute gives one attribute of an image the caller can
// see; who an image is shared with only its owner sees.
func (s *Service) DescribeImageAttribute(ctx context.Context, in *ec2api.DescribeImageAttributeRequest) (*ec2api.ImageAttribute, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	attr := deref(in.Attribute)
	if attr == "" {
		return nil, errMissingParam("attribute")
	}
	fill, ok := imageAttributes[attr]
	if !ok {
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	out := &ec2api.ImageAttribute{ImageId: in.ImageId}
	err := s.view(ctx, func(t *rtx) error {
		lookup := imageByID
		if attr == "launchPermission" {
			lookup = imageOwned
		}
		img, err := lookup(t, deref(in.ImageId))
		if err != nil {
			return err
		}
		fill(img, out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// imagePermissionChanges gathers ModifyImageAttribute's launchPermission
// changes (grantChanges); sharing with organizations is refused, there
// being no AWS Organizations.
func imagePermissionChanges(in *ec2api.ModifyImageAttributeRequest) (add, remove []grant, err error) {
	grants := func(l []ec2api.LaunchPermission) ([]grant, error) {
		var gs []grant
		for _, p := range l {
			if p.OrganizationArn != nil || p.OrganizationalUnitArn != nil {
				return nil, apiErr("UnsupportedOperation", "Sharing with organizations is not supported: minicloud has no AWS Organizations.")
			}
			gs = append(gs, grant{user: deref(p.UserId), group: deref(p.Group)})
		}
		return gs, nil
	}
	if in.LaunchPermission != nil {
		if add, err = grants(in.LaunchPermission.Add); err != nil {
			return nil, nil, err
		}
		if remove, err = grants(in.LaunchPermission.Remove); err != nil {
			return nil, nil, err
		}
	}
	invalid := func(kind string) func(string) error {
		return func(v string) error {
			return apiErr("InvalidAMIAttributeItemValue", "Invalid attribute item value \"%s\" for %s item type.", v, kind)
		}
	}
	return grantChanges(add, remove, in.UserIds, in.UserGroups, deref(in.OperationType), invalid("userId"), invalid("group"))
}

// imageApplyPermissions adds and removes launch permissions; the group
// "all" is the image's Public flag.
func imageApplyPermissions(img *imageRecord, add, remove []grant) {
	for _, g := range add {
		if g.group != "" {
			img.Public = new(true)
		} else if !slices.ContainsFunc(img.LaunchPermissions, func(q ec2api.LaunchPermission) bool { return deref(q.UserId) == g.user }) {
			img.LaunchPermissions = append(img.LaunchPermissions, ec2api.LaunchPermission{UserId: new(g.user)})
		}
	}
	for _, g := range remove {
		if g.group != "" {
			img.Public = new(false)
		} else {
			img.LaunchPermissions = slices.DeleteFunc(img.LaunchPermissions, func(q ec2api.LaunchPermission) bool { return deref(q.UserId) == g.user })
		}
	}
}

// imageSave stores an image whose permissions changed, and its entry in
// the sharing index.
func imageSave(t *rtx, img *imageRecord) error {
	if err := images.put(t, img); err != nil {
		return err
	}
	return shareSync(t, sharedImages, deref(img.ImageId), imageShareEntry(img))
}

// ModifyImageAttribute changes an image's description or launch
// permissions (shares it with accounts or publicly, or stops sharing it).
func (s *Service) ModifyImageAttribute(ctx context.Context, in *ec2api.ModifyImageAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	attr := deref(in.Attribute)
	var description *string
	switch {
	case in.Description != nil:
		description = new(deref(in.Description.Value))
	case attr == "description":
		description = new(deref(in.Value))
	}
	var add, remove []grant
	if description == nil {
		if attr != "" && attr != "launchPermission" {
			return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
		}
		var err error
		if add, remove, err = imagePermissionChanges(in); err != nil {
			return nil, err
		}
		if len(add) == 0 && len(remove) == 0 {
			return nil, errMissingParam("launchPermission or description")
		}
	}
	err := s.update(ctx, func(t *rtx) error {
		img, err := imageOwned(t, deref(in.ImageId))
		if err != nil {
			return err
		}
		if description != nil {
			img.Description = description
			return images.put(t, img)
		}
		imageApplyPermissions(img, add, remove)
		return imageSave(t, img)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// ResetImageAttribute makes an image private again (launchPermission is
// the only attribute that resets).
func (s *Service) ResetImageAttribute(ctx context.Context, in *ec2api.ResetImageAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	switch a := deref(in.Attribute); a {
	case "":
		return nil, errMissingParam("attribute")
	case "launchPermission":
	default:
		return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. The only attribute that can be reset is launchPermission.", a)
	}
	err := s.update(ctx, func(t *rtx) error {
		img, err := imageOwned(t, deref(in.ImageId))
		if err != nil {
			return err
		}
		img.LaunchPermissions, img.Public = nil, new(false)
		return imageSave(t, img)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// CopyImage copies an image of SourceRegion the caller can launch (its
// own, a built-in or a shared one) into the region the request is sent
// to: a new pending image owned by the caller whose EBS snapshots are
// copies of the source's and whose root filesystem is the source's.
func (s *Service) CopyImage(ctx context.Context, in *ec2api.CopyImageRequest) (*ec2api.CopyImageResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	switch {
	case deref(in.SourceImageId) == "":
		return nil, errMissingParam("SourceImageId")
	case deref(in.SourceRegion) == "":
		return nil, errMissingParam("SourceRegion")
	case deref(in.Name) == "":
		return nil, errMissingParam("Name")
	}
	tags, err := tagsFor(in.TagSpecifications, "image")
	if err != nil {
		return nil, err
	}
	var id string
	err = s.update(ctx, func(t *rtx) error {
		if err := imageCheckName(t, *in.Name); err != nil {
			return err
		}
		if _, ok := regionByName(*in.SourceRegion); !ok {
			return errInvalidParam("Value (%s) for parameter SourceRegion is invalid.", *in.SourceRegion)
		}
		srcT := *t
		srcT.scope.Region = *in.SourceRegion
		src, err := imageByID(&srcT, *in.SourceImageId)
		if err != nil {
			return err
		}
		if deref(src.State) != "available" {
			return apiErr("IncorrectState", "Image '%s' is not 'available'.", *in.SourceImageId)
		}
		id = state.NewID("ami")
		cp := &imageRecord{Image: imageBase(t, id, t.scope.Account+"/"+*in.Name), SourceImageID: *in.SourceImageId, SourceRegion: *in.SourceRegion}
		cp.Name, cp.Description, cp.State = in.Name, in.Description, new("pending")
		cp.Architecture, cp.VirtualizationType, cp.RootDeviceName = src.Architecture, src.VirtualizationType, src.RootDeviceName
		cp.EnaSupport, cp.SriovNetSupport, cp.BootMode, cp.ImdsSupport = src.EnaSupport, src.SriovNetSupport, src.BootMode, src.ImdsSupport
		cp.PlatformDetails, cp.UsageOperation = src.PlatformDetails, src.UsageOperation
		if deref(in.CopyImageTags) {
			cp.Tags = append(slices.Clone(src.Tags), tags...)
		} else {
			cp.Tags = append(cp.Tags, tags...)
		}
		for _, m := range src.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.SnapshotId != nil {
				srcSnap, err := volumeSnapshotOf(&srcT, deref(src.OwnerId), *m.Ebs.SnapshotId)
				if err != nil {
					return err
				}
				desc := "Copied for DestinationAmi " + id + " from SourceAmi " + *in.SourceImageId + " for SourceSnapshot " + *m.Ebs.SnapshotId
				sn, err := snapshotCopy(t, srcSnap, *in.SourceRegion, desc, in.Encrypted, deref(in.KmsKeyId), nil)
				if err != nil {
					return err
				}
				ebs := *m.Ebs
				ebs.SnapshotId, ebs.Encrypted, ebs.KmsKeyId = sn.SnapshotId, sn.Encrypted, sn.KmsKeyId
				m.Ebs = &ebs
				if deref(m.DeviceName) == deref(src.RootDeviceName) {
					cp.RootSnapshotID = deref(sn.SnapshotId)
				}
			}
			cp.BlockDeviceMappings = append(cp.BlockDeviceMappings, m)
		}
		return images.put(t, cp)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CopyImageResult{ImageId: new(id)}, nil
}
