package ec2

import (
	"context"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// instanceLaunch is a validated RunInstances network plan for one instance:
// the interfaces to create (or attach), in device order.
type instanceLaunchENI struct {
	deviceIndex         int32
	existing            *networkInterfaceRecord
	subnet              *subnetRecord
	vpc                 *vpcRecord
	groups              []ec2api.GroupIdentifier
	privateIP           string
	secondary           []string
	secondaryCount      int
	description         string
	deleteOnTermination bool
}

// RunInstances launches instances: it records them pending, with their
// network interfaces, addresses and volumes, and returns the reservation.
// Booting them is the instance runtime's job (runtime.go).
//
// IamInstanceProfile is recorded as given (Arn, or an ARN built from Name),
// with no IAM check: minicloud has no IAM instance profiles yet.
func (s *Service) RunInstances(ctx context.Context, in *ec2api.RunInstancesRequest) (*ec2api.Reservation, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	minCount, maxCount := deref(in.MinCount), deref(in.MaxCount)
	if in.MinCount == nil {
		return nil, errMissingParam("MinCount")
	}
	if in.MaxCount == nil {
		return nil, errMissingParam("MaxCount")
	}
	if minCount < 1 {
		return nil, errInvalidParam("Value (%d) for parameter minCount is invalid. Expected a positive number.", minCount)
	}
	if maxCount < 1 {
		return nil, errInvalidParam("Value (%d) for parameter maxCount is invalid. Expected a positive number.", maxCount)
	}
	if minCount > maxCount {
		return nil, errInvalidParam("Invalid value '%d' for MinCount. MinCount must be less than or equal to MaxCount.", minCount)
	}
	if in.LaunchTemplate != nil {
		return nil, apiErr("InvalidParameterValue", "Launch templates are not supported by minicloud yet.")
	}
	imageID := deref(in.ImageId)
	if imageID == "" {
		return nil, errMissingParam("ImageId")
	}
	if in.UserData != nil {
		if err := instanceDecodeUserData(*in.UserData); err != nil {
			return nil, err
		}
	}
	instType := deref(in.InstanceType)
	if instType == "" {
		instType = instanceDefaultType
	}
	typeInfo, ok := instanceTypeLookup(instType)
	if !ok {
		return nil, errInvalidParam("Invalid value '%s' for InstanceType.", instType)
	}
	shutdown := "stop"
	if in.InstanceInitiatedShutdownBehavior != nil {
		shutdown = *in.InstanceInitiatedShutdownBehavior
		if err := instanceShutdownBehavior(shutdown); err != nil {
			return nil, err
		}
	}
	if len(in.NetworkInterfaces) > 0 {
		switch {
		case in.SubnetId != nil:
			return nil, errCombination("Network interfaces and an instance-level subnet ID may not be specified on the same request")
		case len(in.SecurityGroupIds) > 0 || len(in.SecurityGroups) > 0:
			return nil, errCombination("Network interfaces and an instance-level security groups may not be specified on the same request")
		case in.PrivateIpAddress != nil:
			return nil, errCombination("Network interfaces and an instance-level private IP address should not be specified on the same request")
		}
		for _, ni := range in.NetworkInterfaces {
			if deref(ni.AssociatePublicIpAddress) && len(in.NetworkInterfaces) > 1 {
				return nil, errCombination("The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.")
			}
			if deref(ni.AssociatePublicIpAddress) && deref(ni.DeviceIndex) != 0 {
				return nil, errCombination("The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.")
			}
		}
	}
	tagTypes := []string{"instance", "volume", "network-interface"}
	instTags, err := tagsFor(in.TagSpecifications, "instance", tagTypes...)
	if err != nil {
		return nil, err
	}
	volTags, err := tagsFor(in.TagSpecifications, "volume", tagTypes...)
	if err != nil {
		return nil, err
	}
	eniTags, err := tagsFor(in.TagSpecifications, "network-interface", tagTypes...)
	if err != nil {
		return nil, err
	}
	token := deref(in.ClientToken)
	hashed := *in
	hashed.ClientToken, hashed.DryRun = nil, nil
	hash := state.HashParams(&hashed)
	idem := state.Idempotency{Service: "ec2"}

	var res ec2api.Reservation
	err = s.update(ctx, func(t *rtx) error {
		if err := instancePurge(t); err != nil {
			return err
		}
		if resID, found, err := idem.Check(t.tx, t.scope, "RunInstances", token, hash); err != nil {
			return err
		} else if found {
			recs, err := instanceReservationOf(t, resID)
			if err != nil {
				return err
			}
			views := make([]ec2api.Instance, 0, len(recs))
			for _, r := range recs {
				views = append(views, s.instanceView(r))
			}
			res = instanceReservation(t, resID, views)
			return nil
		}
		var key *keyPairRecord
		if name := deref(in.KeyName); name != "" {
			if key, err = keyPairByName(t, name); err != nil {
				return err
			}
		}
		img, err := imageByID(t, imageID)
		if err != nil {
			return err
		}
		if st := deref(img.State); st != "available" {
			return apiErr("InvalidAMIID.Unavailable", "The image id '[%s]' is not available (state %s)", imageID, st)
		}
		arch := deref(img.Architecture)
		if typeInfo.ProcessorInfo != nil && arch != "" && !slicesContains(typeInfo.ProcessorInfo.SupportedArchitectures, arch) {
			typeArch := strings.Join(typeInfo.ProcessorInfo.SupportedArchitectures, ", ")
			return errInvalidParam("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.", typeArch, arch)
		}
		plan, autoPublic, err := s.instancePlanNetwork(t, in)
		if err != nil {
			return err
		}
		primary := plan[0]
		zone := deref(primary.subnet.AvailabilityZone)
		if in.Placement != nil && deref(in.Placement.AvailabilityZone) != "" && deref(in.Placement.AvailabilityZone) != zone {
			return errInvalidParam("Invalid value '%s' for availabilityZone. Subnet %s is in availability zone %s.", deref(in.Placement.AvailabilityZone), deref(primary.subnet.SubnetId), zone)
		}
		count, err := instanceCapacity(t, plan, int(minCount), int(maxCount))
		if err != nil {
			return err
		}
		resID := state.NewID("r")
		launch := t.now.Truncate(time.Second)
		views := make([]ec2api.Instance, 0, count)
		for i := range count {
			rec, err := s.instanceCreate(t, in, instanceCreateArgs{
				index: int32(i), resID: resID, launch: launch, img: img, typeInfo: typeInfo, instType: instType,
				key: key, plan: plan, autoPublic: autoPublic, shutdown: shutdown, token: token,
				instTags: instTags, volTags: volTags, eniTags: eniTags,
			})
			if err != nil {
				return err
			}
			v := s.instanceView(rec)
			// RunInstances answers before the public address is assigned.
			v.PublicIpAddress, v.PublicDnsName = nil, new("")
			for j := range v.NetworkInterfaces {
				v.NetworkInterfaces[j].Association = nil
				for k := range v.NetworkInterfaces[j].PrivateIpAddresses {
					v.NetworkInterfaces[j].PrivateIpAddresses[k].Association = nil
				}
			}
			if v.Monitoring != nil && deref(v.Monitoring.State) == "enabled" {
				v.Monitoring = &ec2api.Monitoring{State: new("pending")}
			}
			if v.MetadataOptions != nil {
				m := *v.MetadataOptions
				m.State = new("pending")
				v.MetadataOptions = &m
			}
			views = append(views, v)
		}
		res = instanceReservation(t, resID, views)
		return idem.Record(t.tx, t.scope, "RunInstances", token, hash, resID)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// instancePlanNetwork resolves RunInstances' subnet, groups and interfaces.
// autoPublic says whether the primary interface gets a public IP.
func (s *Service) instancePlanNetwork(t *rtx, in *ec2api.RunInstancesRequest) ([]*instanceLaunchENI, bool, error) {
	zone := ""
	if in.Placement != nil {
		zone = deref(in.Placement.AvailabilityZone)
		if zone != "" {
			if _, ok := subnetZone(regionOrSynthetic(t.scope.Region), zone, ""); !ok {
				return nil, false, errInvalidParam("Invalid availability zone: [%s]", zone)
			}
		}
	}
	subnetFor := func(id string) (*subnetRecord, *vpcRecord, error) {
		if id != "" {
			return eniSubnet(t, id)
		}
		v, err := s.ensureDefaultVPC(t)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			return nil, nil, apiErr("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
		}
		sn, err := vpcDefaultSubnet(t, zone)
		if err != nil {
			return nil, nil, err
		}
		if sn == nil {
			if zone != "" {
				return nil, nil, apiErr("MissingInput", "No subnets found for the default VPC '%s' in availability zone '%s'. Please specify a subnet.", deref(v.VpcId), zone)
			}
			return nil, nil, apiErr("MissingInput", "No subnets found for the default VPC '%s'. Please specify a subnet.", deref(v.VpcId))
		}
		return sn, v, nil
	}
	if len(in.NetworkInterfaces) == 0 {
		sn, v, err := subnetFor(deref(in.SubnetId))
		if err != nil {
			return nil, false, err
		}
		groups, err := instanceResolveGroups(t, v, deref(sn.SubnetId), in.SecurityGroupIds, in.SecurityGroups)
		if err != nil {
			return nil, false, err
		}
		return []*instanceLaunchENI{{subnet: sn, vpc: v, groups: groups, privateIP: deref(in.PrivateIpAddress), deleteOnTermination: true}},
			deref(sn.MapPublicIpOnLaunch), nil
	}
	var (
		plan       []*instanceLaunchENI
		autoPublic bool
		seen       = map[int32]bool{}
	)
	for _, ni := range in.NetworkInterfaces {
		idx := deref(ni.DeviceIndex)
		if ni.DeviceIndex == nil {
			return nil, false, errMissingParam("NetworkInterface.DeviceIndex")
		}
		if seen[idx] {
			return nil, false, errInvalidParam("Each network interface requires a unique device index.")
		}
		seen[idx] = true
		p := &instanceLaunchENI{deviceIndex: idx, description: deref(ni.Description), deleteOnTermination: true}
		if id := deref(ni.NetworkInterfaceId); id != "" {
			e, err := networkInterfaces.get(t, id)
			if err != nil {
				return nil, false, err
			}
			if e.Attachment != nil {
				return nil, false, apiErr("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", id)
			}
			if deref(in.MaxCount) > 1 {
				return nil, false, errInvalidParam("You may specify an existing network interface only when launching one instance.")
			}
			sn, v, err := eniSubnet(t, deref(e.SubnetId))
			if err != nil {
				return nil, false, err
			}
			p.existing, p.subnet, p.vpc, p.groups = e, sn, v, e.Groups
			p.deleteOnTermination = deref(ni.DeleteOnTermination)
		} else {
			sn, v, err := subnetFor(deref(ni.SubnetId))
			if err != nil {
				return nil, false, err
			}
			groups, err := instanceResolveGroups(t, v, deref(sn.SubnetId), ni.Groups, nil)
			if err != nil {
				return nil, false, err
			}
			p.subnet, p.vpc, p.groups = sn, v, groups
			p.privateIP = deref(ni.PrivateIpAddress)
			for _, pa := range ni.PrivateIpAddresses {
				if deref(pa.Primary) {
					p.privateIP = deref(pa.PrivateIpAddress)
				} else {
					p.secondary = append(p.secondary, deref(pa.PrivateIpAddress))
				}
			}
			p.secondaryCount = int(deref(ni.SecondaryPrivateIpAddressCount))
			if ni.DeleteOnTermination != nil {
				p.deleteOnTermination = *ni.DeleteOnTermination
			}
		}
		if idx == 0 {
			autoPublic = deref(p.subnet.MapPublicIpOnLaunch)
			if ni.AssociatePublicIpAddress != nil {
				autoPublic = *ni.AssociatePublicIpAddress
			}
		}
		plan = append(plan, p)
	}
	if !seen[0] {
		return nil, false, errInvalidParam("When specifying network interfaces, you must include a device at index 0.")
	}
	slicesSortPlan(plan)
	for _, p := range plan[1:] {
		if deref(p.subnet.AvailabilityZone) != deref(plan[0].subnet.AvailabilityZone) {
			return nil, false, errInvalidParam("The network interfaces must all be in the same availability zone.")
		}
	}
	return plan, autoPublic, nil
}

func slicesSortPlan(plan []*instanceLaunchENI) {
	for i := 1; i < len(plan); i++ {
		for j := i; j > 0 && plan[j].deviceIndex < plan[j-1].deviceIndex; j-- {
			plan[j], plan[j-1] = plan[j-1], plan[j]
		}
	}
}

// instanceCapacity returns how many instances the subnets' free addresses
// allow: MaxCount if possible, else at least MinCount.
func instanceCapacity(t *rtx, plan []*instanceLaunchENI, minCount, maxCount int) (int, error) {
	need := map[string]int{}
	fixed := false
	for _, p := range plan {
		if p.existing != nil {
			fixed = true
			continue
		}
		if p.privateIP != "" || len(p.secondary) > 0 {
			fixed = true
		}
		need[deref(p.subnet.SubnetId)] += 1 + len(p.secondary) + p.secondaryCount
	}
	count := maxCount
	if fixed {
		if minCount > 1 {
			return 0, errCombination("Specifying a private IP address or an existing network interface is only supported when launching a single instance.")
		}
		count = 1
	}
	for _, p := range plan {
		id := deref(p.subnet.SubnetId)
		n, ok := need[id]
		if !ok || n == 0 {
			continue
		}
		free, err := availableIPCount(t, p.subnet)
		if err != nil {
			return 0, err
		}
		if fit := int(free) / n; fit < count {
			count = fit
		}
	}
	if count < minCount {
		return 0, apiErr("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", deref(plan[0].subnet.SubnetId))
	}
	return count, nil
}

type instanceCreateArgs struct {
	index      int32
	resID      string
	launch     time.Time
	img        *imageRecord
	typeInfo   *ec2api.InstanceTypeInfo
	instType   string
	key        *keyPairRecord
	plan       []*instanceLaunchENI
	autoPublic bool
	shutdown   string
	token      string
	instTags   []ec2api.Tag
	volTags    []ec2api.Tag
	eniTags    []ec2api.Tag
}

// instanceCreate stores one new pending instance with its interfaces,
// public address and volumes.
func (s *Service) instanceCreate(t *rtx, in *ec2api.RunInstancesRequest, a instanceCreateArgs) (*instanceRecord, error) {
	id := state.NewID("i")
	zone := deref(a.plan[0].subnet.AvailabilityZone)
	img := a.img
	tenancy := "default"
	if in.Placement != nil && deref(in.Placement.Tenancy) != "" {
		tenancy = *in.Placement.Tenancy
	}
	placement := &ec2api.Placement{AvailabilityZone: new(zone), GroupName: new(""), Tenancy: new(tenancy)}
	if in.Placement != nil && deref(in.Placement.GroupName) != "" {
		placement.GroupName = in.Placement.GroupName
	}
	monitoring := "disabled"
	if in.Monitoring != nil && deref(in.Monitoring.Enabled) {
		monitoring = "enabled"
	}
	cpu := &ec2api.CpuOptions{}
	if vi := a.typeInfo.VCpuInfo; vi != nil {
		cpu.CoreCount, cpu.ThreadsPerCore = new(deref(vi.DefaultCores)), new(deref(vi.DefaultThreadsPerCore))
		if cpu.CoreCount != nil && *cpu.CoreCount == 0 {
			cpu.CoreCount = new(deref(vi.DefaultVCpus))
		}
		if cpu.ThreadsPerCore != nil && *cpu.ThreadsPerCore == 0 {
			cpu.ThreadsPerCore = new(int32(1))
		}
	}
	if in.CpuOptions != nil {
		if in.CpuOptions.CoreCount != nil {
			cpu.CoreCount = new(*in.CpuOptions.CoreCount)
		}
		if in.CpuOptions.ThreadsPerCore != nil {
			cpu.ThreadsPerCore = new(*in.CpuOptions.ThreadsPerCore)
		}
	}
	md := instanceMetadataOptions(img, in.MetadataOptions)
	bootMode := "legacy-bios"
	switch deref(img.BootMode) {
	case "uefi":
		bootMode = "uefi"
	case "uefi-preferred":
		if a.typeInfo != nil && slicesContains(a.typeInfo.SupportedBootModes, "uefi") {
			bootMode = "uefi"
		}
	}
	if deref(img.Architecture) == "arm64" {
		bootMode = "uefi"
	}
	platformDetails, usage := deref(img.PlatformDetails), deref(img.UsageOperation)
	if platformDetails == "" {
		platformDetails = "Linux/UNIX"
	}
	if usage == "" {
		usage = "RunInstances"
	}
	rec := &instanceRecord{
		Instance: ec2api.Instance{
			AmiLaunchIndex:        new(a.index),
			ImageId:               img.ImageId,
			InstanceId:            new(id),
			InstanceType:          new(a.instType),
			LaunchTime:            new(a.launch),
			Monitoring:            &ec2api.Monitoring{State: new(monitoring)},
			Placement:             placement,
			Platform:              img.Platform,
			ProductCodes:          []ec2api.ProductCode{},
			State:                 instanceState(statePending),
			StateTransitionReason: new(""),
			StateReason:           &ec2api.StateReason{Code: new("pending"), Message: new("pending")},
			Architecture:          img.Architecture,
			BlockDeviceMappings:   []ec2api.InstanceBlockDeviceMapping{},
			ClientToken:           new(a.token),
			EbsOptimized:          new(deref(in.EbsOptimized)),
			EnaSupport:            new(img.EnaSupport == nil || *img.EnaSupport),
			Hypervisor:            new("xen"),
			VirtualizationType:    new(orDefault(deref(img.VirtualizationType), "hvm")),
			Tags:                  cloneTags(a.instTags),
			CpuOptions:            cpu,
			CapacityReservationSpecification: &ec2api.CapacityReservationSpecificationResponse{
				CapacityReservationPreference: new("open"),
			},
			HibernationOptions:       &ec2api.HibernationOptions{Configured: new(false)},
			MetadataOptions:          md,
			EnclaveOptions:           &ec2api.EnclaveOptions{Enabled: new(false)},
			BootMode:                 img.BootMode,
			CurrentInstanceBootMode:  new(bootMode),
			PlatformDetails:          new(platformDetails),
			UsageOperation:           new(usage),
			UsageOperationUpdateTime: new(a.launch),
			PrivateDnsNameOptions: &ec2api.PrivateDnsNameOptionsResponse{
				HostnameType: new("ip-name"), EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false),
			},
			MaintenanceOptions: &ec2api.InstanceMaintenanceOptions{AutoRecovery: new("default")},
		},
		ReservationID:         a.resID,
		UserData:              deref(in.UserData),
		DisableAPITermination: deref(in.DisableApiTermination),
		ShutdownBehavior:      a.shutdown,
	}
	if a.key != nil {
		rec.KeyName = a.key.KeyName
	}
	if in.KernelId != nil {
		rec.KernelId = in.KernelId
	}
	if in.RamdiskId != nil {
		rec.RamdiskId = in.RamdiskId
	}
	if p := in.IamInstanceProfile; p != nil && (deref(p.Arn) != "" || deref(p.Name) != "") {
		arn := deref(p.Arn)
		if arn == "" {
			arn = state.NewARN(state.Global(t.scope.Account), "iam", "instance-profile/"+deref(p.Name)).String()
		}
		rec.IamInstanceProfile = &ec2api.IamInstanceProfile{Arn: new(arn), Id: new(state.NewUniqueID("AIPA"))}
	}
	// Interfaces.
	for _, p := range a.plan {
		var e *networkInterfaceRecord
		if p.existing != nil {
			e = p.existing
		} else {
			var err error
			e, err = eniNew(t, p.subnet, p.groups, p.privateIP, p.secondary, p.secondaryCount, p.description, cloneTags(a.eniTags))
			if err != nil {
				return nil, err
			}
			e.Description = new(p.description)
		}
		eniAttach(t, e, id, p.deviceIndex, p.deleteOnTermination)
		e.Attachment.AttachTime = new(a.launch)
		if p.deviceIndex == 0 && a.autoPublic {
			if err := eniAssignAutoPublicIP(t, e); err != nil {
				return nil, err
			}
		}
		if err := networkInterfaces.put(t, e); err != nil {
			return nil, err
		}
	}
	// Volumes: the root volume, then the extra EBS mappings.
	var rootOverride *ec2api.EbsBlockDevice
	rootName := deref(img.RootDeviceName)
	for _, m := range in.BlockDeviceMappings {
		if deref(m.DeviceName) == rootName && m.Ebs != nil {
			rootOverride = m.Ebs
		}
	}
	root, err := s.newRootVolume(t, rec, img, rootOverride)
	if err != nil {
		return nil, err
	}
	if err := instanceTagVolume(t, root, a.volTags); err != nil {
		return nil, err
	}
	for _, m := range instanceExtraMappings(img, in.BlockDeviceMappings) {
		v, err := instanceExtraVolume(t, rec, m)
		if err != nil {
			return nil, err
		}
		if err := instanceTagVolume(t, v, a.volTags); err != nil {
			return nil, err
		}
	}
	enis, err := instanceENIs(t, id)
	if err != nil {
		return nil, err
	}
	instanceApplyNetwork(t, rec, enis)
	if err := instances.put(t, rec); err != nil {
		return nil, err
	}
	ext := &instanceExt{ImageName: deref(img.Name), AutoPublicIP: a.autoPublic, DisableAPIStop: deref(in.DisableApiStop), Generation: 1}
	if err := instanceExtPut(t, id, ext); err != nil {
		return nil, err
	}
	return rec, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cloneTags(in []ec2api.Tag) []ec2api.Tag {
	out := make([]ec2api.Tag, len(in))
	copy(out, in)
	return out
}

// instanceMetadataOptions applies RunInstances' MetadataOptions to the
// defaults: IMDSv2 required with a hop limit of 2 for images that declare
// ImdsSupport v2.0 (Amazon Linux 2023), else tokens optional, hop limit 1.
func instanceMetadataOptions(img *imageRecord, req *ec2api.InstanceMetadataOptionsRequest) *ec2api.InstanceMetadataOptionsResponse {
	md := &ec2api.InstanceMetadataOptionsResponse{
		State:                   new("applied"),
		HttpTokens:              new("optional"),
		HttpPutResponseHopLimit: new(int32(1)),
		HttpEndpoint:            new("enabled"),
		HttpProtocolIpv6:        new("disabled"),
		InstanceMetadataTags:    new("disabled"),
	}
	if deref(img.ImdsSupport) == "v2.0" {
		md.HttpTokens, md.HttpPutResponseHopLimit = new("required"), new(int32(2))
	}
	if req != nil {
		if req.HttpTokens != nil {
			md.HttpTokens = new(*req.HttpTokens)
		}
		if req.HttpPutResponseHopLimit != nil {
			md.HttpPutResponseHopLimit = new(*req.HttpPutResponseHopLimit)
		}
		if req.HttpEndpoint != nil {
			md.HttpEndpoint = new(*req.HttpEndpoint)
		}
		if req.HttpProtocolIpv6 != nil {
			md.HttpProtocolIpv6 = new(*req.HttpProtocolIpv6)
		}
		if req.InstanceMetadataTags != nil {
			md.InstanceMetadataTags = new(*req.InstanceMetadataTags)
		}
	}
	return md
}

func instanceTagVolume(t *rtx, v *volumeRecord, tags []ec2api.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	v.Tags = cloneTags(tags)
	return volumes.put(t, v)
}

// instanceExtraMappings returns the EBS mappings besides the root one: the
// image's and the request's (which override the image's by device name;
// NoDevice removes one). Instance-store (VirtualName) mappings are left out.
func instanceExtraMappings(img *imageRecord, req []ec2api.BlockDeviceMapping) []ec2api.BlockDeviceMapping {
	root := deref(img.RootDeviceName)
	var out []ec2api.BlockDeviceMapping
	idx := map[string]int{}
	add := func(m ec2api.BlockDeviceMapping) {
		name := deref(m.DeviceName)
		if name == root {
			return
		}
		if i, ok := idx[name]; ok {
			out[i] = m
			return
		}
		idx[name] = len(out)
		out = append(out, m)
	}
	for _, m := range img.BlockDeviceMappings {
		add(m)
	}
	for _, m := range req {
		add(m)
	}
	var keep []ec2api.BlockDeviceMapping
	for _, m := range out {
		if m.NoDevice != nil || m.Ebs == nil {
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

// instanceExtraVolume creates and attaches a non-root EBS volume of a
// block device mapping.
func instanceExtraVolume(t *rtx, rec *instanceRecord, m ec2api.BlockDeviceMapping) (*volumeRecord, error) {
	device := deref(m.DeviceName)
	if !volumeDeviceRE.MatchString(device) {
		return nil, errInvalidParam("Invalid device name %s", device)
	}
	e := m.Ebs
	spec := volumeSpec{typ: orDefault(deref(e.VolumeType), "gp2"), size: e.VolumeSize, iops: e.Iops, throughput: e.Throughput,
		encrypted: deref(e.Encrypted), snapshotID: deref(e.SnapshotId)}
	if spec.snapshotID != "" {
		snapSize, err := volumeSnapshotSize(t, spec.snapshotID)
		if err != nil {
			return nil, err
		}
		if spec.size != nil && *spec.size < snapSize {
			return nil, apiErr("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", *spec.size, spec.snapshotID, snapSize)
		}
		if spec.size == nil {
			spec.size = new(snapSize)
		}
	}
	size, iops, throughput, err := volumeValidate(spec)
	if err != nil {
		return nil, err
	}
	dot := e.DeleteOnTermination == nil || *e.DeleteOnTermination
	at := deref(rec.LaunchTime)
	v := &volumeRecord{ec2api.Volume{
		VolumeId:           new(state.NewID("vol")),
		AvailabilityZone:   rec.Placement.AvailabilityZone,
		CreateTime:         new(at),
		Encrypted:          new(spec.encrypted),
		Size:               new(size),
		SnapshotId:         new(spec.snapshotID),
		State:              new("in-use"),
		Iops:               iops,
		Throughput:         throughput,
		VolumeType:         new(spec.typ),
		MultiAttachEnabled: new(false),
		Tags:               []ec2api.Tag{},
	}}
	v.Attachments = []ec2api.VolumeAttachment{{AttachTime: new(at), Device: new(device), InstanceId: rec.InstanceId,
		State: new("attached"), VolumeId: v.VolumeId, DeleteOnTermination: new(dot)}}
	if err := volumes.put(t, v); err != nil {
		return nil, err
	}
	rec.BlockDeviceMappings = append(rec.BlockDeviceMappings, ec2api.InstanceBlockDeviceMapping{
		DeviceName: new(device),
		Ebs:        &ec2api.EbsInstanceBlockDevice{AttachTime: new(at), DeleteOnTermination: new(dot), Status: new("attached"), VolumeId: v.VolumeId},
	})
	return v, nil
}
