package ec2

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// RunInstances launches instances: it records them pending, with their
// network interfaces, addresses and volumes, and returns the reservation.
// Booting them is the instance runtime's job (runtime.go).
//
// The request is checked on its own first (runCheck); then, in one write
// transaction, the launch is planned against what is stored (key pair,
// image, network, zone, free addresses: runPlanLaunch) and written
// (runLaunch), so that two requests cannot both take what only one fits.
//
// IamInstanceProfile is checked against IAM first (resolveProfile), and
// recorded with an association (iamprofile.go). A LaunchTemplate's data is
// merged into the request before anything else (runFromTemplate,
// launchtemplate.go).
func (s *Service) RunInstances(ctx context.Context, in *ec2api.RunInstancesRequest) (*ec2api.Reservation, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	in, ltTags, err := s.runFromTemplate(ctx, in)
	if err != nil {
		return nil, err
	}
	r, err := runCheck(in)
	if err != nil {
		return nil, err
	}
	r.instTags = append(r.instTags, ltTags...)
	if r.profile, err = s.resolveProfile(ctx, in.IamInstanceProfile); err != nil {
		return nil, err
	}
	var res ec2api.Reservation
	err = s.update(ctx, func(t *rtx) error {
		if err := instancePurge(t); err != nil {
			return err
		}
		// Built here, in a write, so DescribeInstances (read-only) finds
		// it complete in a store written before it existed.
		if _, err := instances.table.EnsureIndex(t.tx, t.scope, instanceByTag); err != nil {
			return err
		}
		if resID, found, err := idempotency.Check(t.tx, t.scope, "RunInstances", r.token, r.hash); err != nil {
			return err
		} else if found {
			res, err = s.runReplay(t, resID)
			return err
		}
		plan, err := s.runPlanLaunch(t, r)
		if err != nil {
			return err
		}
		if res, err = s.runLaunch(t, r, plan); err != nil {
			return err
		}
		return idempotency.Record(t.tx, t.scope, "RunInstances", r.token, r.hash, deref(res.ReservationId))
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// runRequest is a RunInstances request checked on its own, with what the
// request alone decides.
type runRequest struct {
	in                 *ec2api.RunInstancesRequest
	minCount, maxCount int
	imageID            string
	instType           string
	typeInfo           *ec2api.InstanceTypeInfo
	shutdown           string // stop | terminate
	instTags           []ec2api.Tag
	volTags            []ec2api.Tag
	eniTags            []ec2api.Tag
	// token and hash are the idempotency token and the request's hash
	// without it.
	token, hash string
	// profile is the IAM instance profile, as IAM knows it; nil for none.
	profile *ec2api.IamInstanceProfile
}

// runCheck checks a RunInstances request without reading any state, in
// the order EC2 checks it.
func runCheck(in *ec2api.RunInstancesRequest) (*runRequest, error) {
	if in.MinCount == nil {
		return nil, errMissingParam("MinCount")
	}
	if in.MaxCount == nil {
		return nil, errMissingParam("MaxCount")
	}
	minCount, maxCount := *in.MinCount, *in.MaxCount
	if minCount < 1 {
		return nil, errInvalidParam("Value (%d) for parameter minCount is invalid. Expected a positive number.", minCount)
	}
	if maxCount < 1 {
		return nil, errInvalidParam("Value (%d) for parameter maxCount is invalid. Expected a positive number.", maxCount)
	}
	if minCount > maxCount {
		return nil, errInvalidParam("Invalid value '%d' for MinCount. MinCount must be less than or equal to MaxCount.", minCount)
	}
	r := &runRequest{in: in, minCount: int(minCount), maxCount: int(maxCount), imageID: deref(in.ImageId), shutdown: "stop"}
	if r.imageID == "" {
		return nil, errMissingParam("ImageId")
	}
	if in.UserData != nil {
		if err := instanceDecodeUserData(*in.UserData); err != nil {
			return nil, err
		}
	}
	r.instType = orDefault(deref(in.InstanceType), instanceDefaultType)
	var ok bool
	if r.typeInfo, ok = instanceTypeLookup(r.instType); !ok {
		return nil, errInvalidParam("Invalid value '%s' for InstanceType.", r.instType)
	}
	if in.InstanceInitiatedShutdownBehavior != nil {
		r.shutdown = *in.InstanceInitiatedShutdownBehavior
		if err := instanceShutdownBehavior(r.shutdown); err != nil {
			return nil, err
		}
	}
	if err := runCheckInterfaces(in); err != nil {
		return nil, err
	}
	tagTypes := []string{"instance", "volume", "network-interface"}
	var err error
	if r.instTags, err = tagsFor(in.TagSpecifications, "instance", tagTypes...); err != nil {
		return nil, err
	}
	if r.volTags, err = tagsFor(in.TagSpecifications, "volume", tagTypes...); err != nil {
		return nil, err
	}
	if r.eniTags, err = tagsFor(in.TagSpecifications, "network-interface", tagTypes...); err != nil {
		return nil, err
	}
	r.token = deref(in.ClientToken)
	hashed := *in
	hashed.ClientToken, hashed.DryRun = nil, nil
	r.hash = state.HashParams(&hashed)
	return r, nil
}

// runCheckInterfaces checks what RunInstances' NetworkInterfaces exclude.
func runCheckInterfaces(in *ec2api.RunInstancesRequest) error {
	if len(in.NetworkInterfaces) == 0 {
		return nil
	}
	switch {
	case in.SubnetId != nil:
		return errCombination("Network interfaces and an instance-level subnet ID may not be specified on the same request")
	case len(in.SecurityGroupIds) > 0 || len(in.SecurityGroups) > 0:
		return errCombination("Network interfaces and an instance-level security groups may not be specified on the same request")
	case in.PrivateIpAddress != nil:
		return errCombination("Network interfaces and an instance-level private IP address should not be specified on the same request")
	}
	for _, ni := range in.NetworkInterfaces {
		if deref(ni.AssociatePublicIpAddress) && len(in.NetworkInterfaces) > 1 {
			return errCombination("The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.")
		}
		if deref(ni.AssociatePublicIpAddress) && deref(ni.DeviceIndex) != 0 {
			return errCombination("The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.")
		}
	}
	return nil
}

// runReplay answers a retried RunInstances with the reservation the first
// request made.
func (s *Service) runReplay(t *rtx, resID string) (ec2api.Reservation, error) {
	recs, err := instanceReservationOf(t, resID)
	if err != nil {
		return ec2api.Reservation{}, err
	}
	views := make([]ec2api.Instance, 0, len(recs))
	for _, r := range recs {
		views = append(views, s.instanceView(r))
	}
	return instanceReservation(t, resID, views), nil
}

// runPlan is a launch planned against the stored state, inside the
// transaction that writes it.
type runPlan struct {
	key *keyPairRecord // nil without KeyName
	img *imageRecord
	// enis are the interfaces in device order; enis[0] is the primary.
	enis []*instanceLaunchENI
	// autoPublic says whether the primary interface gets a public IP.
	autoPublic bool
	// count is how many instances the subnets' free addresses allow.
	count int
}

// instanceLaunchENI is one interface of a launch: one to create, or an
// existing one to attach.
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

// runPlanLaunch checks a launch against what is stored, in EC2's order:
// key pair, image, architecture, network, zone, free addresses.
func (s *Service) runPlanLaunch(t *rtx, r *runRequest) (*runPlan, error) {
	in := r.in
	p := &runPlan{}
	var err error
	if name := deref(in.KeyName); name != "" {
		if p.key, err = keyPairByName(t, name); err != nil {
			return nil, err
		}
	}
	if p.img, err = imageByID(t, r.imageID); err != nil {
		return nil, err
	}
	if err := placementCheck(t, in.Placement); err != nil {
		return nil, err
	}
	if st := deref(p.img.State); st != "available" {
		return nil, apiErr("InvalidAMIID.Unavailable", "The image id '[%s]' is not available (state %s)", r.imageID, st)
	}
	arch := deref(p.img.Architecture)
	if r.typeInfo.ProcessorInfo != nil && arch != "" && !slices.Contains(r.typeInfo.ProcessorInfo.SupportedArchitectures, arch) {
		typeArch := strings.Join(r.typeInfo.ProcessorInfo.SupportedArchitectures, ", ")
		return nil, errInvalidParam("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.", typeArch, arch)
	}
	if p.enis, p.autoPublic, err = s.instancePlanNetwork(t, in); err != nil {
		return nil, err
	}
	primary := p.enis[0].subnet
	zone := deref(primary.AvailabilityZone)
	if in.Placement != nil && deref(in.Placement.AvailabilityZone) != "" && deref(in.Placement.AvailabilityZone) != zone {
		return nil, errInvalidParam("Invalid value '%s' for availabilityZone. Subnet %s is in availability zone %s.", deref(in.Placement.AvailabilityZone), deref(primary.SubnetId), zone)
	}
	if p.count, err = instanceCapacity(t, p.enis, r.minCount, r.maxCount); err != nil {
		return nil, err
	}
	return p, nil
}

// runLaunch writes a planned launch: its instances, one reservation.
func (s *Service) runLaunch(t *rtx, r *runRequest, p *runPlan) (ec2api.Reservation, error) {
	resID := state.NewID("r")
	launch := t.now.Truncate(time.Second)
	views := make([]ec2api.Instance, 0, p.count)
	for i := range p.count {
		rec, err := s.instanceCreate(t, r, p, instanceLaunch{index: int32(i), resID: resID, at: launch})
		if err != nil {
			return ec2api.Reservation{}, err
		}
		views = append(views, runView(s.instanceView(rec)))
	}
	return instanceReservation(t, resID, views), nil
}

// runView is how RunInstances shows a new instance: it answers before the
// public address is assigned and before monitoring and the metadata
// options are applied.
func runView(v ec2api.Instance) ec2api.Instance {
	v.PublicIpAddress, v.PublicDnsName = nil, new("")
	v.NetworkInterfaces = slices.Clone(v.NetworkInterfaces)
	for j := range v.NetworkInterfaces {
		n := &v.NetworkInterfaces[j]
		n.Association = nil
		n.PrivateIpAddresses = slices.Clone(n.PrivateIpAddresses)
		for k := range n.PrivateIpAddresses {
			n.PrivateIpAddresses[k].Association = nil
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
	return v
}

// instancePlanNetwork resolves RunInstances' subnet, groups and interfaces.
// autoPublic says whether the primary interface gets a public IP.
func (s *Service) instancePlanNetwork(t *rtx, in *ec2api.RunInstancesRequest) ([]*instanceLaunchENI, bool, error) {
	zone, err := instanceLaunchZone(t, in)
	if err != nil {
		return nil, false, err
	}
	if len(in.NetworkInterfaces) == 0 {
		sn, v, err := s.instanceLaunchSubnet(t, deref(in.SubnetId), zone)
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
	// Each interface is checked in full before the next one's index.
	for _, ni := range in.NetworkInterfaces {
		if ni.DeviceIndex == nil {
			return nil, false, errMissingParam("NetworkInterface.DeviceIndex")
		}
		idx := *ni.DeviceIndex
		if seen[idx] {
			return nil, false, errInvalidParam("Each network interface requires a unique device index.")
		}
		seen[idx] = true
		p, err := s.instancePlanENI(t, in, ni, zone)
		if err != nil {
			return nil, false, err
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
	slices.SortFunc(plan, func(a, b *instanceLaunchENI) int { return cmp.Compare(a.deviceIndex, b.deviceIndex) })
	for _, p := range plan[1:] {
		if deref(p.subnet.AvailabilityZone) != deref(plan[0].subnet.AvailabilityZone) {
			return nil, false, errInvalidParam("The network interfaces must all be in the same availability zone.")
		}
	}
	return plan, autoPublic, nil
}

// instanceLaunchZone is the launch's Placement zone, "" when none; it must
// be one of the region's.
func instanceLaunchZone(t *rtx, in *ec2api.RunInstancesRequest) (string, error) {
	if in.Placement == nil {
		return "", nil
	}
	zone := deref(in.Placement.AvailabilityZone)
	if zone != "" {
		if _, ok := subnetZone(regionOrSynthetic(t.scope.Region), zone, ""); !ok {
			return "", errInvalidParam("Invalid availability zone: [%s]", zone)
		}
	}
	return zone, nil
}

// instanceLaunchSubnet is the subnet an interface is launched in: the
// given one, else the default VPC's default subnet (of zone, if given).
func (s *Service) instanceLaunchSubnet(t *rtx, id, zone string) (*subnetRecord, *vpcRecord, error) {
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

// instancePlanENI plans one of RunInstances' NetworkInterfaces: an
// existing interface to attach, or a new one with its subnet, groups and
// addresses.
func (s *Service) instancePlanENI(t *rtx, in *ec2api.RunInstancesRequest, ni ec2api.InstanceNetworkInterfaceSpecification, zone string) (*instanceLaunchENI, error) {
	p := &instanceLaunchENI{deviceIndex: deref(ni.DeviceIndex), description: deref(ni.Description), deleteOnTermination: true}
	if id := deref(ni.NetworkInterfaceId); id != "" {
		e, err := networkInterfaces.get(t, id)
		if err != nil {
			return nil, err
		}
		if e.Attachment != nil {
			return nil, apiErr("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", id)
		}
		if deref(in.MaxCount) > 1 {
			return nil, errInvalidParam("You may specify an existing network interface only when launching one instance.")
		}
		sn, v, err := eniSubnet(t, deref(e.SubnetId))
		if err != nil {
			return nil, err
		}
		p.existing, p.subnet, p.vpc, p.groups = e, sn, v, e.Groups
		p.deleteOnTermination = deref(ni.DeleteOnTermination)
		return p, nil
	}
	sn, v, err := s.instanceLaunchSubnet(t, deref(ni.SubnetId), zone)
	if err != nil {
		return nil, err
	}
	groups, err := instanceResolveGroups(t, v, deref(sn.SubnetId), ni.Groups, nil)
	if err != nil {
		return nil, err
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
	return p, nil
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

// instanceLaunch is one instance of a launch: its launch index, its
// reservation and the launch time.
type instanceLaunch struct {
	index int32
	resID string
	at    time.Time
}

// instanceCreate stores one new pending instance with its interfaces,
// public address and volumes.
func (s *Service) instanceCreate(t *rtx, r *runRequest, p *runPlan, l instanceLaunch) (*instanceRecord, error) {
	rec := instanceNew(t, r, p, l)
	id := deref(rec.InstanceId)
	if err := instanceAttachLaunchENIs(t, id, r, p, l.at); err != nil {
		return nil, err
	}
	if err := s.instanceCreateVolumes(t, rec, p.img, r.in.BlockDeviceMappings, r.volTags); err != nil {
		return nil, err
	}
	if err := instanceCreditsLaunch(t, rec, r.in.CreditSpecification); err != nil {
		return nil, err
	}
	enis, err := instanceENIs(t, id)
	if err != nil {
		return nil, err
	}
	instanceApplyNetwork(t, rec, enis)
	if err := instances.put(t, rec); err != nil {
		return nil, err
	}
	if rec.IamInstanceProfile != nil {
		if _, err := iipCreate(t, id, rec.IamInstanceProfile, l.at); err != nil {
			return nil, err
		}
	}
	ext := &instanceExt{ImageName: deref(p.img.Name), AutoPublicIP: p.autoPublic, DisableAPIStop: deref(r.in.DisableApiStop), Generation: 1}
	if err := instanceExtPut(t, id, ext); err != nil {
		return nil, err
	}
	return rec, nil
}

// instanceNew is the record of a new pending instance, before its
// interfaces and volumes are added.
func instanceNew(t *rtx, r *runRequest, p *runPlan, l instanceLaunch) *instanceRecord {
	in, img := r.in, p.img
	monitoring := "disabled"
	if in.Monitoring != nil && deref(in.Monitoring.Enabled) {
		monitoring = "enabled"
	}
	platformDetails, usage := deref(img.PlatformDetails), deref(img.UsageOperation)
	rec := &instanceRecord{
		Instance: ec2api.Instance{
			AmiLaunchIndex:        new(l.index),
			ImageId:               img.ImageId,
			InstanceId:            new(state.NewID("i")),
			InstanceType:          new(r.instType),
			LaunchTime:            new(l.at),
			Monitoring:            &ec2api.Monitoring{State: new(monitoring)},
			Placement:             instancePlacement(in.Placement, deref(p.enis[0].subnet.AvailabilityZone)),
			Platform:              img.Platform,
			ProductCodes:          []ec2api.ProductCode{},
			State:                 instanceState(statePending),
			StateTransitionReason: new(""),
			StateReason:           &ec2api.StateReason{Code: new("pending"), Message: new("pending")},
			Architecture:          img.Architecture,
			BlockDeviceMappings:   []ec2api.InstanceBlockDeviceMapping{},
			ClientToken:           new(r.token),
			EbsOptimized:          new(deref(in.EbsOptimized)),
			EnaSupport:            new(img.EnaSupport == nil || *img.EnaSupport),
			Hypervisor:            new("xen"),
			VirtualizationType:    new(orDefault(deref(img.VirtualizationType), "hvm")),
			Tags:                  cloneTags(r.instTags),
			CpuOptions:            instanceCPUOptions(r.typeInfo, in.CpuOptions),
			CapacityReservationSpecification: &ec2api.CapacityReservationSpecificationResponse{
				CapacityReservationPreference: new("open"),
			},
			HibernationOptions:       &ec2api.HibernationOptions{Configured: new(false)},
			MetadataOptions:          instanceMetadataOptions(img, in.MetadataOptions),
			EnclaveOptions:           &ec2api.EnclaveOptions{Enabled: new(false)},
			BootMode:                 img.BootMode,
			CurrentInstanceBootMode:  new(instanceBootMode(img, r.typeInfo)),
			PlatformDetails:          new(orDefault(platformDetails, "Linux/UNIX")),
			UsageOperation:           new(orDefault(usage, "RunInstances")),
			UsageOperationUpdateTime: new(l.at),
			PrivateDnsNameOptions: &ec2api.PrivateDnsNameOptionsResponse{
				HostnameType: new("ip-name"), EnableResourceNameDnsARecord: new(false), EnableResourceNameDnsAAAARecord: new(false),
			},
			MaintenanceOptions: &ec2api.InstanceMaintenanceOptions{AutoRecovery: new("default")},
			KernelId:           in.KernelId,
			RamdiskId:          in.RamdiskId,
		},
		ReservationID:         l.resID,
		UserData:              deref(in.UserData),
		DisableAPITermination: deref(in.DisableApiTermination),
		ShutdownBehavior:      r.shutdown,
	}
	if p.key != nil {
		rec.KeyName = p.key.KeyName
	}
	rec.IamInstanceProfile = r.profile
	return rec
}

// instancePlacement is a new instance's placement in zone.
func instancePlacement(req *ec2api.Placement, zone string) *ec2api.Placement {
	out := &ec2api.Placement{AvailabilityZone: new(zone), GroupName: new(""), Tenancy: new("default")}
	if req == nil {
		return out
	}
	if deref(req.Tenancy) != "" {
		out.Tenancy = new(*req.Tenancy)
	}
	if deref(req.GroupName) != "" {
		out.GroupName = req.GroupName
	}
	return out
}

// instanceCPUOptions are the instance type's default cores and threads,
// as the request overrides them.
func instanceCPUOptions(info *ec2api.InstanceTypeInfo, req *ec2api.CpuOptionsRequest) *ec2api.CpuOptions {
	cpu := &ec2api.CpuOptions{}
	if vi := info.VCpuInfo; vi != nil {
		cpu.CoreCount, cpu.ThreadsPerCore = new(deref(vi.DefaultCores)), new(deref(vi.DefaultThreadsPerCore))
		if *cpu.CoreCount == 0 {
			cpu.CoreCount = new(deref(vi.DefaultVCpus))
		}
		if *cpu.ThreadsPerCore == 0 {
			cpu.ThreadsPerCore = new(int32(1))
		}
	}
	if req != nil {
		if req.CoreCount != nil {
			cpu.CoreCount = new(*req.CoreCount)
		}
		if req.ThreadsPerCore != nil {
			cpu.ThreadsPerCore = new(*req.ThreadsPerCore)
		}
	}
	return cpu
}

// instanceBootMode is the boot mode an instance of img on a type runs in:
// the image's if it requires one, UEFI if it prefers it and the type has
// it, always UEFI on arm64, else legacy BIOS.
func instanceBootMode(img *imageRecord, info *ec2api.InstanceTypeInfo) string {
	mode := "legacy-bios"
	switch deref(img.BootMode) {
	case "uefi":
		mode = "uefi"
	case "uefi-preferred":
		if info != nil && slices.Contains(info.SupportedBootModes, "uefi") {
			mode = "uefi"
		}
	}
	if deref(img.Architecture) == "arm64" {
		mode = "uefi"
	}
	return mode
}

// instanceAttachLaunchENIs creates (or takes) a new instance's interfaces
// and attaches them, the primary with its public IP if the launch maps one.
func instanceAttachLaunchENIs(t *rtx, id string, r *runRequest, p *runPlan, at time.Time) error {
	for _, le := range p.enis {
		e := le.existing
		if e == nil {
			var err error
			e, err = eniNew(t, le.subnet, le.groups, le.privateIP, le.secondary, le.secondaryCount, le.description, cloneTags(r.eniTags))
			if err != nil {
				return err
			}
			e.Description = new(le.description)
		}
		eniAttach(t, e, id, le.deviceIndex, le.deleteOnTermination)
		e.Attachment.AttachTime = new(at)
		if le.deviceIndex == 0 && p.autoPublic {
			if err := eniAssignAutoPublicIP(t, e); err != nil {
				return err
			}
		}
		if err := networkInterfaces.put(t, e); err != nil {
			return err
		}
	}
	return nil
}

// instanceCreateVolumes creates a new instance's volumes: the root volume
// (the request's mapping of the root device overriding the image's), then
// the other EBS mappings; tags go on every one.
func (s *Service) instanceCreateVolumes(t *rtx, rec *instanceRecord, img *imageRecord, mappings []ec2api.BlockDeviceMapping, tags []ec2api.Tag) error {
	var rootOverride *ec2api.EbsBlockDevice
	rootName := deref(img.RootDeviceName)
	for _, m := range mappings {
		if deref(m.DeviceName) == rootName && m.Ebs != nil {
			rootOverride = m.Ebs
		}
	}
	root, err := s.newRootVolume(t, rec, img, rootOverride)
	if err != nil {
		return err
	}
	if err := instanceTagVolume(t, root, tags); err != nil {
		return err
	}
	for _, m := range instanceExtraMappings(img, mappings) {
		v, err := instanceExtraVolume(t, rec, m)
		if err != nil {
			return err
		}
		if err := instanceTagVolume(t, v, tags); err != nil {
			return err
		}
	}
	return nil
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
		snapSize, err := volumeSnapshotSize(t, "", spec.snapshotID)
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
	encrypted, key, err := ebsEncryption(t, e.Encrypted, deref(e.KmsKeyId), false, "")
	if err != nil {
		return nil, err
	}
	dot := e.DeleteOnTermination == nil || *e.DeleteOnTermination
	at := deref(rec.LaunchTime)
	v := &volumeRecord{Volume: ec2api.Volume{
		VolumeId:           new(state.NewID("vol")),
		AvailabilityZone:   rec.Placement.AvailabilityZone,
		CreateTime:         new(at),
		Encrypted:          new(encrypted),
		KmsKeyId:           key,
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
