package ec2

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
)

type modifyRequest = ec2api.ModifyInstanceAttributeRequest

// instanceAttribute is one attribute of DescribeInstanceAttribute and
// ModifyInstanceAttribute: how a request names a change of it, how the
// change is checked and applied, and how it is read.
type instanceAttribute struct {
	// field is the request's own field for the attribute; nil when the
	// attribute cannot be modified.
	field *attrField
	// modify checks the change against the instance and applies it, in
	// the order EC2 checks: each attribute's own (some check their value
	// before the instance's state, others after).
	modify func(c *attrChange) error
	// describe fills DescribeInstanceAttribute's answer.
	describe func(t *rtx, rec *instanceRecord, out *ec2api.InstanceAttribute) error
}

// attrField is an attribute's field in ModifyInstanceAttribute's request.
type attrField struct {
	// given reports whether the request sets the field.
	given func(in *modifyRequest) bool
	// fromValue moves the request's Value into the field, unless the
	// field is set already.
	fromValue func(in *modifyRequest, v *string) error
}

// attrString is a field of type AttributeValue.
func attrString(f func(*modifyRequest) **ec2api.AttributeValue) *attrField {
	return &attrField{
		given: func(in *modifyRequest) bool { return *f(in) != nil },
		fromValue: func(in *modifyRequest, v *string) error {
			if *f(in) == nil {
				*f(in) = &ec2api.AttributeValue{Value: v}
			}
			return nil
		},
	}
}

// attrBool is a field of type AttributeBooleanValue. The Value of the
// Attribute form must be a boolean even when the field is set as well.
func attrBool(f func(*modifyRequest) **ec2api.AttributeBooleanValue) *attrField {
	return &attrField{
		given: func(in *modifyRequest) bool { return *f(in) != nil },
		fromValue: func(in *modifyRequest, v *string) error {
			var b *ec2api.AttributeBooleanValue
			if v != nil {
				parsed, err := strconv.ParseBool(*v)
				if err != nil {
					return errInvalidParam("Value (%s) for parameter value is invalid. Expected: 'true' or 'false'.", *v)
				}
				b = &ec2api.AttributeBooleanValue{Value: new(parsed)}
			}
			if *f(in) == nil {
				*f(in) = b
			}
			return nil
		},
	}
}

// attrList is a list field, which the Attribute form cannot fill.
func attrList(n func(*modifyRequest) int) *attrField {
	return &attrField{
		given:     func(in *modifyRequest) bool { return n(in) > 0 },
		fromValue: func(*modifyRequest, *string) error { return nil },
	}
}

// attrChange is one ModifyInstanceAttribute inside its write transaction.
type attrChange struct {
	t       *rtx
	in      *modifyRequest
	rec     *instanceRecord
	id      string
	stopped bool
}

// needStopped is the check of changes that need a stopped instance.
func (c *attrChange) needStopped() error {
	if !c.stopped {
		return apiErr("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", c.id)
	}
	return nil
}

// attrBoolValue is the value of a boolean field, which must be given.
func attrBoolValue(b *ec2api.AttributeBooleanValue, name string) (bool, error) {
	if b == nil || b.Value == nil {
		return false, errMissingParam(name + ".value")
	}
	return *b.Value, nil
}

// setWhenStopped is the modify of a plain attribute that changes only
// while the instance is stopped.
func setWhenStopped(set func(c *attrChange)) func(c *attrChange) error {
	return func(c *attrChange) error {
		if err := c.needStopped(); err != nil {
			return err
		}
		set(c)
		return nil
	}
}

// boolAttribute is a boolean attribute in field f: a change's value is
// checked first, then (whenStopped) the instance's state, and set applies
// it.
func boolAttribute(name string, f func(*modifyRequest) **ec2api.AttributeBooleanValue, whenStopped bool,
	set func(c *attrChange, v bool) error, describe func(*rtx, *instanceRecord, *ec2api.InstanceAttribute) error) instanceAttribute {
	return instanceAttribute{
		field: attrBool(f),
		modify: func(c *attrChange) error {
			v, err := attrBoolValue(*f(c.in), name)
			if err != nil {
				return err
			}
			if whenStopped {
				if err := c.needStopped(); err != nil {
					return err
				}
			}
			return set(c, v)
		},
		describe: describe,
	}
}

func attrValue(p *string) *ec2api.AttributeValue { return &ec2api.AttributeValue{Value: p} }

func attrBoolean(b bool) *ec2api.AttributeBooleanValue {
	return &ec2api.AttributeBooleanValue{Value: new(b)}
}

// describeOnly is the describe of an attribute that needs only the record.
func describeOnly(fn func(rec *instanceRecord, out *ec2api.InstanceAttribute)) func(*rtx, *instanceRecord, *ec2api.InstanceAttribute) error {
	return func(_ *rtx, rec *instanceRecord, out *ec2api.InstanceAttribute) error {
		fn(rec, out)
		return nil
	}
}

// instanceAttributes are the attributes DescribeInstanceAttribute and
// ModifyInstanceAttribute's Attribute accept.
var instanceAttributes = map[string]instanceAttribute{
	"instanceType": {
		field: attrString(func(in *modifyRequest) **ec2api.AttributeValue { return &in.InstanceType }),
		modify: func(c *attrChange) error {
			typ := deref(c.in.InstanceType.Value)
			if err := c.needStopped(); err != nil {
				return err
			}
			info, ok := instanceTypeLookup(typ)
			if !ok {
				return errInvalidParam("Invalid value '%s' for InstanceType.", typ)
			}
			if arch := deref(c.rec.Architecture); info.ProcessorInfo != nil && arch != "" && !slices.Contains(info.ProcessorInfo.SupportedArchitectures, arch) {
				return errInvalidParam("The instance type '%s' does not support the architecture '%s' of the instance's AMI.", typ, arch)
			}
			c.rec.InstanceType = new(typ)
			if vi := info.VCpuInfo; vi != nil {
				c.rec.CpuOptions = &ec2api.CpuOptions{CoreCount: new(deref(vi.DefaultCores)), ThreadsPerCore: new(deref(vi.DefaultThreadsPerCore))}
			}
			return nil
		},
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.InstanceType = attrValue(rec.InstanceType)
		}),
	},
	"kernel": {
		field:    attrString(func(in *modifyRequest) **ec2api.AttributeValue { return &in.Kernel }),
		modify:   setWhenStopped(func(c *attrChange) { c.rec.KernelId = c.in.Kernel.Value }),
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) { out.KernelId = attrValue(rec.KernelId) }),
	},
	"ramdisk": {
		field:    attrString(func(in *modifyRequest) **ec2api.AttributeValue { return &in.Ramdisk }),
		modify:   setWhenStopped(func(c *attrChange) { c.rec.RamdiskId = c.in.Ramdisk.Value }),
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) { out.RamdiskId = attrValue(rec.RamdiskId) }),
	},
	"userData": {
		field: &attrField{
			given: func(in *modifyRequest) bool { return in.UserData != nil },
			fromValue: func(in *modifyRequest, v *string) error {
				if in.UserData == nil && v != nil {
					in.UserData = &ec2api.BlobAttributeValue{Value: []byte(*v)}
				}
				return nil
			},
		},
		modify: func(c *attrChange) error {
			if err := c.needStopped(); err != nil {
				return err
			}
			if len(c.in.UserData.Value) > instanceUserDataMax {
				return errInvalidParam("User data is limited to %d bytes", instanceUserDataMax)
			}
			c.rec.UserData = base64.StdEncoding.EncodeToString(c.in.UserData.Value)
			return nil
		},
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.UserData = &ec2api.AttributeValue{}
			if rec.UserData != "" {
				out.UserData.Value = new(rec.UserData)
			}
		}),
	},
	"disableApiTermination": boolAttribute("disableApiTermination", func(in *modifyRequest) **ec2api.AttributeBooleanValue { return &in.DisableApiTermination }, false,
		func(c *attrChange, v bool) error { c.rec.DisableAPITermination = v; return nil },
		describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.DisableApiTermination = attrBoolean(rec.DisableAPITermination)
		})),
	"disableApiStop": boolAttribute("disableApiStop", func(in *modifyRequest) **ec2api.AttributeBooleanValue { return &in.DisableApiStop }, false,
		func(c *attrChange, v bool) error {
			ext, err := instanceExtGet(c.t, c.id)
			if err != nil {
				return err
			}
			ext.DisableAPIStop = v
			return instanceExtPut(c.t, c.id, ext)
		},
		func(t *rtx, rec *instanceRecord, out *ec2api.InstanceAttribute) error {
			ext, err := instanceExtGet(t, deref(rec.InstanceId))
			if err != nil {
				return err
			}
			out.DisableApiStop = attrBoolean(ext.DisableAPIStop)
			return nil
		}),
	"instanceInitiatedShutdownBehavior": {
		field: attrString(func(in *modifyRequest) **ec2api.AttributeValue { return &in.InstanceInitiatedShutdownBehavior }),
		modify: func(c *attrChange) error {
			v := deref(c.in.InstanceInitiatedShutdownBehavior.Value)
			if err := instanceShutdownBehavior(v); err != nil {
				return err
			}
			c.rec.ShutdownBehavior = v
			return nil
		},
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.InstanceInitiatedShutdownBehavior = attrValue(new(orDefault(rec.ShutdownBehavior, "stop")))
		}),
	},
	"sriovNetSupport": {
		field: attrString(func(in *modifyRequest) **ec2api.AttributeValue { return &in.SriovNetSupport }),
		modify: func(c *attrChange) error {
			if err := c.needStopped(); err != nil {
				return err
			}
			if v := deref(c.in.SriovNetSupport.Value); v != "simple" {
				return errInvalidParam("Value (%s) for parameter sriovNetSupport is invalid. Valid values: simple.", v)
			}
			c.rec.SriovNetSupport = new("simple")
			return nil
		},
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.SriovNetSupport = attrValue(rec.SriovNetSupport)
		}),
	},
	"ebsOptimized": boolAttribute("ebsOptimized", func(in *modifyRequest) **ec2api.AttributeBooleanValue { return &in.EbsOptimized }, true,
		func(c *attrChange, v bool) error { c.rec.EbsOptimized = new(v); return nil },
		describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.EbsOptimized = attrBoolean(deref(rec.EbsOptimized))
		})),
	"enaSupport": boolAttribute("enaSupport", func(in *modifyRequest) **ec2api.AttributeBooleanValue { return &in.EnaSupport }, true,
		func(c *attrChange, v bool) error { c.rec.EnaSupport = new(v); return nil },
		describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.EnaSupport = attrBoolean(deref(rec.EnaSupport))
		})),
	"sourceDestCheck": {
		field: attrBool(func(in *modifyRequest) **ec2api.AttributeBooleanValue { return &in.SourceDestCheck }),
		modify: instanceModifyENI(func(c *attrChange, e *networkInterfaceRecord) error {
			v, err := attrBoolValue(c.in.SourceDestCheck, "sourceDestCheck")
			if err != nil {
				return err
			}
			e.SourceDestCheck = new(v)
			return nil
		}),
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.SourceDestCheck = attrBoolean(rec.SourceDestCheck == nil || *rec.SourceDestCheck)
		}),
	},
	"groupSet": {
		field: attrList(func(in *modifyRequest) int { return len(in.Groups) }),
		modify: instanceModifyENI(func(c *attrChange, e *networkInterfaceRecord) error {
			v, err := vpcs.get(c.t, deref(e.VpcId))
			if err != nil {
				return err
			}
			groups, err := instanceResolveGroups(c.t, v, deref(e.SubnetId), c.in.Groups, nil)
			if err != nil {
				return err
			}
			e.Groups = groups
			return nil
		}),
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.Groups = append([]ec2api.GroupIdentifier{}, rec.SecurityGroups...)
		}),
	},
	"blockDeviceMapping": {
		field: attrList(func(in *modifyRequest) int { return len(in.BlockDeviceMappings) }),
		modify: func(c *attrChange) error {
			for _, m := range c.in.BlockDeviceMappings {
				if err := instanceModifyMapping(c.t, c.rec, m); err != nil {
					return err
				}
			}
			return nil
		},
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.BlockDeviceMappings = append([]ec2api.InstanceBlockDeviceMapping{}, rec.BlockDeviceMappings...)
		}),
	},
	"rootDeviceName": {
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.RootDeviceName = attrValue(rec.RootDeviceName)
		}),
	},
	"productCodes": {
		describe: describeOnly(func(_ *instanceRecord, out *ec2api.InstanceAttribute) { out.ProductCodes = []ec2api.ProductCode{} }),
	},
	"enclaveOptions": {
		describe: describeOnly(func(rec *instanceRecord, out *ec2api.InstanceAttribute) {
			out.EnclaveOptions = &ec2api.EnclaveOptions{Enabled: new(rec.EnclaveOptions != nil && deref(rec.EnclaveOptions.Enabled))}
		}),
	},
}

func instanceUnknownAttribute(name string) error {
	return errInvalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", name)
}

// instanceModification normalises ModifyInstanceAttribute's two forms
// (Attribute+Value, or one typed field) into the one attribute changed
// and a request with that attribute's own field set. It reads no state.
func instanceModification(in *modifyRequest) (string, *modifyRequest, error) {
	req := *in
	if in.Attribute != nil {
		name := *in.Attribute
		attr, ok := instanceAttributes[name]
		if !ok {
			return "", nil, instanceUnknownAttribute(name)
		}
		if attr.field == nil {
			return "", nil, errInvalidParam("Value (%s) for parameter attribute is invalid. This attribute cannot be modified.", name)
		}
		if err := attr.field.fromValue(&req, in.Value); err != nil {
			return "", nil, err
		}
	}
	var given []string
	for name, attr := range instanceAttributes {
		if attr.field != nil && attr.field.given(&req) {
			given = append(given, name)
		}
	}
	switch len(given) {
	case 0:
		return "", nil, errMissingParam("attribute")
	case 1:
		return given[0], &req, nil
	}
	slices.Sort(given)
	return "", nil, errCombination("Fields for multiple attribute types specified: %s", strings.Join(given, ", "))
}

// instanceModifyENI is the modify of an instance-level network attribute,
// which changes the instance's only interface.
func instanceModifyENI(change func(c *attrChange, e *networkInterfaceRecord) error) func(c *attrChange) error {
	return func(c *attrChange) error {
		e, err := instanceOnlyENI(c.t, c.id)
		if err != nil {
			return err
		}
		if err := change(c, e); err != nil {
			return err
		}
		if err := networkInterfaces.put(c.t, e); err != nil {
			return err
		}
		return instanceRefreshNetwork(c.t, c.rec)
	}
}

// ModifyInstanceAttribute changes one attribute of an instance.
func (s *Service) ModifyInstanceAttribute(ctx context.Context, in *ec2api.ModifyInstanceAttributeRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	name, req, err := instanceModification(in)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(req.InstanceId))
		if err != nil {
			return err
		}
		id := deref(rec.InstanceId)
		st := instanceStateName(rec)
		if st == stateTerminated || st == stateShuttingDown {
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", id)
		}
		c := &attrChange{t: t, in: req, rec: rec, id: id, stopped: st == stateStopped}
		if err := instanceAttributes[name].modify(c); err != nil {
			return err
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
	attr, ok := instanceAttributes[name]
	if !ok {
		return nil, instanceUnknownAttribute(name)
	}
	var out ec2api.InstanceAttribute
	err := s.view(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		out.InstanceId = new(deref(rec.InstanceId))
		return attr.describe(t, rec, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
