package ec2

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

// instanceAttributes are the names DescribeInstanceAttribute and
// ModifyInstanceAttribute's Attribute accept.
var instanceAttributes = []string{
	"instanceType", "kernel", "ramdisk", "userData", "disableApiTermination", "instanceInitiatedShutdownBehavior",
	"rootDeviceName", "blockDeviceMapping", "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized",
	"sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop",
}

func instanceUnknownAttribute(name string) error {
	return errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", name)
}

// instanceNotStopped is the error of changes that need a stopped instance.
func instanceNotStopped(id string) error {
	return apiErr("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", id)
}

// instanceModifications normalises ModifyInstanceAttribute's two forms
// (Attribute+Value, or one typed field) into the set of attributes changed.
func instanceModifications(in *ec2api.ModifyInstanceAttributeRequest) (map[string]bool, error) {
	set := map[string]bool{}
	if in.Attribute != nil {
		name := *in.Attribute
		if !slicesContains(instanceAttributes, name) {
			return nil, instanceUnknownAttribute(name)
		}
		v := in.Value
		switch name {
		case "instanceType":
			if in.InstanceType == nil {
				in.InstanceType = &ec2api.AttributeValue{Value: v}
			}
		case "kernel":
			if in.Kernel == nil {
				in.Kernel = &ec2api.AttributeValue{Value: v}
			}
		case "ramdisk":
			if in.Ramdisk == nil {
				in.Ramdisk = &ec2api.AttributeValue{Value: v}
			}
		case "userData":
			if in.UserData == nil && v != nil {
				in.UserData = &ec2api.BlobAttributeValue{Value: []byte(*v)}
			}
		case "instanceInitiatedShutdownBehavior":
			if in.InstanceInitiatedShutdownBehavior == nil {
				in.InstanceInitiatedShutdownBehavior = &ec2api.AttributeValue{Value: v}
			}
		case "sriovNetSupport":
			if in.SriovNetSupport == nil {
				in.SriovNetSupport = &ec2api.AttributeValue{Value: v}
			}
		case "disableApiTermination", "sourceDestCheck", "ebsOptimized", "enaSupport", "disableApiStop":
			var b *ec2api.AttributeBooleanValue
			if v != nil {
				parsed, err := strconv.ParseBool(*v)
				if err != nil {
					return nil, errInvalidParam("Value (%s) for parameter value is invalid. Expected: 'true' or 'false'.", *v)
				}
				b = &ec2api.AttributeBooleanValue{Value: new(parsed)}
			}
			switch name {
			case "disableApiTermination":
				if in.DisableApiTermination == nil {
					in.DisableApiTermination = b
				}
			case "sourceDestCheck":
				if in.SourceDestCheck == nil {
					in.SourceDestCheck = b
				}
			case "ebsOptimized":
				if in.EbsOptimized == nil {
					in.EbsOptimized = b
				}
			case "enaSupport":
				if in.EnaSupport == nil {
					in.EnaSupport = b
				}
			case "disableApiStop":
				if in.DisableApiStop == nil {
					in.DisableApiStop = b
				}
			}
		case "groupSet", "blockDeviceMapping":
		default:
			return nil, errInvalidParam("Value (%s) for parameter attribute is invalid. This attribute cannot be modified.", name)
		}
	}
	mark := func(name string, ok bool) {
		if ok {
			set[name] = true
		}
	}
	mark("instanceType", in.InstanceType != nil)
	mark("kernel", in.Kernel != nil)
	mark("ramdisk", in.Ramdisk != nil)
	mark("userData", in.UserData != nil)
	mark("disableApiTermination", in.DisableApiTermination != nil)
	mark("instanceInitiatedShutdownBehavior", in.InstanceInitiatedShutdownBehavior != nil)
	mark("sriovNetSupport", in.SriovNetSupport != nil)
	mark("sourceDestCheck", in.SourceDestCheck != nil)
	mark("ebsOptimized", in.EbsOptimized != nil)
	mark("enaSupport", in.EnaSupport != nil)
	mark("disableApiStop", in.DisableApiStop != nil)
	mark("groupSet", len(in.Groups) > 0)
	mark("blockDeviceMapping", len(in.BlockDeviceMappings) > 0)
	if len(set) == 0 {
		return nil, errMissingParam("attribute")
	}
	if len(set) > 1 {
		names := sortedIDs(set)
		return nil, errCombination("Fields for multiple attribute types specified: %s", strings.Join(names, ", "))
	}
	return set, nil
}

// ModifyInstanceAttribute changes one attribute of an instance.
func (s *Service) ModifyInstanceAttribute(ctx context.Context, in *ec2api.ModifyInstanceAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	set, err := instanceModifications(in)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		id := deref(rec.InstanceId)
		st := instanceStateName(rec)
		if st == stateTerminated || st == stateShuttingDown {
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", id)
		}
		stopped := st == stateStopped
		ext, err := instanceExtGet(t, id)
		if err != nil {
			return err
		}
		boolOf := func(b *ec2api.AttributeBooleanValue, name string) (bool, error) {
			if b == nil || b.Value == nil {
				return false, errMissingParam(name + ".value")
			}
			return *b.Value, nil
		}
		switch {
		case set["instanceType"]:
			typ := deref(in.InstanceType.Value)
			if !stopped {
				return instanceNotStopped(id)
			}
			info, ok := instanceTypeLookup(typ)
			if !ok {
				return errInvalidParam("Invalid value '%s' for InstanceType.", typ)
			}
			if arch := deref(rec.Architecture); info.ProcessorInfo != nil && arch != "" && !slicesContains(info.ProcessorInfo.SupportedArchitectures, arch) {
				return errInvalidParam("The instance type '%s' does not support the architecture '%s' of the instance's AMI.", typ, arch)
			}
			rec.InstanceType = new(typ)
			if vi := info.VCpuInfo; vi != nil {
				rec.CpuOptions = &ec2api.CpuOptions{CoreCount: new(deref(vi.DefaultCores)), ThreadsPerCore: new(deref(vi.DefaultThreadsPerCore))}
			}
		case set["userData"]:
			if !stopped {
				return instanceNotStopped(id)
			}
			if len(in.UserData.Value) > instanceUserDataMax {
				return errInvalidParam("User data is limited to %d bytes", instanceUserDataMax)
			}
			rec.UserData = base64.StdEncoding.EncodeToString(in.UserData.Value)
		case set["kernel"]:
			if !stopped {
				return instanceNotStopped(id)
			}
			rec.KernelId = in.Kernel.Value
		case set["ramdisk"]:
			if !stopped {
				return instanceNotStopped(id)
			}
			rec.RamdiskId = in.Ramdisk.Value
		case set["sriovNetSupport"]:
			if !stopped {
				return instanceNotStopped(id)
			}
			if v := deref(in.SriovNetSupport.Value); v != "simple" {
				return errInvalidParam("Value (%s) for parameter sriovNetSupport is invalid. Valid values: simple.", v)
			}
			rec.SriovNetSupport = new("simple")
		case set["ebsOptimized"]:
			v, err := boolOf(in.EbsOptimized, "ebsOptimized")
			if err != nil {
				return err
			}
			if !stopped {
				return instanceNotStopped(id)
			}
			rec.EbsOptimized = new(v)
		case set["enaSupport"]:
			v, err := boolOf(in.EnaSupport, "enaSupport")
			if err != nil {
				return err
			}
			if !stopped {
				return instanceNotStopped(id)
			}
			rec.EnaSupport = new(v)
		case set["disableApiTermination"]:
			v, err := boolOf(in.DisableApiTermination, "disableApiTermination")
			if err != nil {
				return err
			}
			rec.DisableAPITermination = v
		case set["disableApiStop"]:
			v, err := boolOf(in.DisableApiStop, "disableApiStop")
			if err != nil {
				return err
			}
			ext.DisableAPIStop = v
			if err := instanceExtPut(t, id, ext); err != nil {
				return err
			}
		case set["instanceInitiatedShutdownBehavior"]:
			v := deref(in.InstanceInitiatedShutdownBehavior.Value)
			if err := instanceShutdownBehavior(v); err != nil {
				return err
			}
			rec.ShutdownBehavior = v
		case set["sourceDestCheck"], set["groupSet"]:
			e, err := instanceOnlyENI(t, id)
			if err != nil {
				return err
			}
			if set["sourceDestCheck"] {
				v, err := boolOf(in.SourceDestCheck, "sourceDestCheck")
				if err != nil {
					return err
				}
				e.SourceDestCheck = new(v)
			} else {
				v, err := vpcs.get(t, deref(e.VpcId))
				if err != nil {
					return err
				}
				groups, err := instanceResolveGroups(t, v, deref(e.SubnetId), in.Groups, nil)
				if err != nil {
					return err
				}
				e.Groups = groups
			}
			if err := networkInterfaces.put(t, e); err != nil {
				return err
			}
			if err := instanceRefreshNetwork(t, rec); err != nil {
				return err
			}
		case set["blockDeviceMapping"]:
			for _, m := range in.BlockDeviceMappings {
				if err := instanceModifyMapping(t, rec, m); err != nil {
					return err
				}
			}
		}
		return instances.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// instanceOnlyENI returns an instance's interface when it has exactly one,
// as the instance-level network attributes require.
func instanceOnlyENI(t *rtx, id string) (*networkInterfaceRecord, error) {
	enis, err := instanceENIs(t, id)
	if err != nil {
		return nil, err
	}
	if len(enis) != 1 {
		return nil, apiErr("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", id)
	}
	return enis[0], nil
}

// instanceModifyMapping changes DeleteOnTermination of an attached volume.
func instanceModifyMapping(t *rtx, rec *instanceRecord, m ec2api.InstanceBlockDeviceMappingSpecification) error {
	device := deref(m.DeviceName)
	for i := range rec.BlockDeviceMappings {
		b := &rec.BlockDeviceMappings[i]
		if deref(b.DeviceName) != device || b.Ebs == nil {
			continue
		}
		if m.Ebs == nil || m.Ebs.DeleteOnTermination == nil {
			return nil
		}
		if vid := deref(m.Ebs.VolumeId); vid != "" && vid != deref(b.Ebs.VolumeId) {
			return errInvalidParam("Volume %s is not attached to instance %s as device %s.", vid, deref(rec.InstanceId), device)
		}
		dot := *m.Ebs.DeleteOnTermination
		b.Ebs.DeleteOnTermination = new(dot)
		v, ok, err := volumes.find(t, deref(b.Ebs.VolumeId))
		if err != nil || !ok {
			return err
		}
		for j := range v.Attachments {
			if deref(v.Attachments[j].InstanceId) == deref(rec.InstanceId) {
				v.Attachments[j].DeleteOnTermination = new(dot)
			}
		}
		return volumes.put(t, v)
	}
	return errInvalidParam("The device '%s' is not mapped to instance '%s'.", device, deref(rec.InstanceId))
}

// DescribeInstanceAttribute returns one attribute of an instance.
func (s *Service) DescribeInstanceAttribute(ctx context.Context, in *ec2api.DescribeInstanceAttributeRequest) (*ec2api.InstanceAttribute, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name := deref(in.Attribute)
	if name == "" {
		return nil, errMissingParam("attribute")
	}
	if !slicesContains(instanceAttributes, name) {
		return nil, instanceUnknownAttribute(name)
	}
	var out ec2api.InstanceAttribute
	err := s.view(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		id := deref(rec.InstanceId)
		out.InstanceId = new(id)
		str := func(p *string) *ec2api.AttributeValue { return &ec2api.AttributeValue{Value: p} }
		boolean := func(b bool) *ec2api.AttributeBooleanValue { return &ec2api.AttributeBooleanValue{Value: new(b)} }
		switch name {
		case "instanceType":
			out.InstanceType = str(rec.InstanceType)
		case "kernel":
			out.KernelId = str(rec.KernelId)
		case "ramdisk":
			out.RamdiskId = str(rec.RamdiskId)
		case "userData":
			out.UserData = &ec2api.AttributeValue{}
			if rec.UserData != "" {
				out.UserData.Value = new(rec.UserData)
			}
		case "disableApiTermination":
			out.DisableApiTermination = boolean(rec.DisableAPITermination)
		case "disableApiStop":
			ext, err := instanceExtGet(t, id)
			if err != nil {
				return err
			}
			out.DisableApiStop = boolean(ext.DisableAPIStop)
		case "instanceInitiatedShutdownBehavior":
			out.InstanceInitiatedShutdownBehavior = str(new(orDefault(rec.ShutdownBehavior, "stop")))
		case "rootDeviceName":
			out.RootDeviceName = str(rec.RootDeviceName)
		case "blockDeviceMapping":
			out.BlockDeviceMappings = append([]ec2api.InstanceBlockDeviceMapping{}, rec.BlockDeviceMappings...)
		case "productCodes":
			out.ProductCodes = []ec2api.ProductCode{}
		case "sourceDestCheck":
			out.SourceDestCheck = boolean(rec.SourceDestCheck == nil || *rec.SourceDestCheck)
		case "groupSet":
			out.Groups = append([]ec2api.GroupIdentifier{}, rec.SecurityGroups...)
		case "ebsOptimized":
			out.EbsOptimized = boolean(deref(rec.EbsOptimized))
		case "sriovNetSupport":
			out.SriovNetSupport = str(rec.SriovNetSupport)
		case "enaSupport":
			out.EnaSupport = boolean(deref(rec.EnaSupport))
		case "enclaveOptions":
			out.EnclaveOptions = &ec2api.EnclaveOptions{Enabled: new(rec.EnclaveOptions != nil && deref(rec.EnclaveOptions.Enabled))}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
