package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// The instance runtime seam.
//
// The EC2 API handlers never run anything. RunInstances, StartInstances,
// StopInstances, TerminateInstances and RebootInstances record the desired
// state in the store, in the same transaction as everything else the call
// changes, and answer exactly what AWS answers (pending, stopping,
// shutting-down). An instance runtime — a controller of the data plane —
// makes that state real and reports what actually happened back through
// Controller.ReportInstance. The contract, from the runtime's side:
//
//  1. Start(c) is called once, when minicloud starts (server.New), after the
//     store is open. It must return promptly; the runtime works in its own
//     goroutines until Stop. Start is called even for instances that exist
//     from a previous run: the records say what should be running.
//  2. The runtime watches the store: ch, cancel := c.Store().Subscribe("")
//     and keeps the events for which InstanceKey(ev.Key) is ok. Delivery is
//     level-triggered: an event says "re-read this instance", nothing more;
//     Event.Reset and Event.Resync mean "re-list everything" (c.Instances).
//     It should also list everything once right after subscribing.
//  3. For each instance it re-reads the desired state (c.Instance) and
//     converges towards InstanceSpec.State:
//     pending        boot it (from the image, with the user data, ENIs, volumes); report running
//     running        keep it running (boot it again after a host restart); report nothing
//     stopping       shut it down; report stopped
//     stopped        make sure it is not running
//     shutting-down  shut it down and release what it holds; report terminated
//     terminated     make sure nothing of it is left
//     A RebootRequests count above the last one handled means reboot it.
//     Every change of an instance's desired state — state, type, user data,
//     network interfaces, addresses, groups, reboot — rewrites its record,
//     so instance keys are the only ones to watch for instances. Security
//     group rules live under the "sg" kind (ParseKey on that table).
//  4. It reports each state it reaches with c.ReportInstance, quoting the
//     Generation of the spec it acted on. Reports are accepted only along
//     the state machine (see InstanceReport) and only for the current
//     generation, so a late report of an earlier transition (events are
//     level-triggered: one change may be seen twice) is refused with
//     ErrStaleReport; so is one overtaken by the user (say, terminated
//     while booting): re-read and converge again. A report that changes
//     nothing writes nothing, so reporting from the event loop cannot loop.
//  5. Stop is called when minicloud shuts down. A shutdown is not an
//     instance stop: the runtime reports nothing then, the records keep
//     saying running, and the next Start brings those instances back.
//
// With the data plane off, the server gives EC2 the API-only runtime
// (package internal/instance/apionly): it follows this same contract but
// runs nothing, so instances reach running, stopped and terminated as on
// AWS, and its console output and health entry say that nothing runs.
//
// With no runtime at all, or one whose Available says no, instances are
// recorded and stay pending with StateReason minicloud.NoRuntime (see
// noRuntimeMessage), /_minicloud/health says why, and the transitions that
// need no data plane (stopping→stopped, shutting-down→terminated) complete
// at once, since nothing runs that would have to be stopped.

// Runtime is what the EC2 control plane needs from an instance runtime. The
// handlers never call it while serving a request; they only record desired
// state, which the runtime watches.
type Runtime interface {
	// Name identifies the runtime in /_minicloud/health ("netns",
	// "api-only", "test").
	Name() string
	// Available reports whether instances can run on this host; reason
	// says why not (missing privileges, kernel features, …). It must be
	// cheap: health checks and Describe calls ask it.
	Available() (ok bool, reason string)
	// Start hands the runtime its Controller; the runtime reconciles in its
	// own goroutines until Stop. It must return promptly.
	Start(c Controller) error
	// Stop ends reconciling, within ctx's deadline. It reports nothing.
	Stop(ctx context.Context) error
}

// RuntimeHealthReporter is implemented by a Runtime with more to say in
// /_minicloud/health's "instances" entry than its name and availability:
// the API-only runtime says that nothing runs, and why.
type RuntimeHealthReporter interface {
	Health() map[string]any
}

// Controller is the EC2 control plane as a runtime sees it; *Service
// implements it.
type Controller interface {
	// Store is the state store to Subscribe to.
	Store() state.Store
	// Instance returns the desired state of one instance; found is false
	// when it does not exist (never created, or terminated over an hour
	// ago, when EC2 forgets it).
	Instance(ctx context.Context, account, region, instanceID string) (spec InstanceSpec, found bool, err error)
	// Instances returns every instance of every account and region, for a
	// full resync.
	Instances(ctx context.Context) ([]InstanceSpec, error)
	// ReportInstance records what the runtime observed of an instance.
	ReportInstance(ctx context.Context, account, region, instanceID string, r InstanceReport) error
	// VolumeExists reports whether an EBS volume's record exists, in any
	// account and region (volume IDs are unique): a runtime keeps the data
	// of those only.
	VolumeExists(ctx context.Context, volumeID string) (bool, error)
}

// InstanceReport is what a runtime observed of one instance.
type InstanceReport struct {
	// State is the state the instance reached: "running", "stopped" or
	// "terminated"; "" keeps the state (to report console output,
	// reachability or the launch time alone). Accepted transitions:
	//   pending       → running; → stopped or terminated when the launch failed (set Reason)
	//   running       → stopped when the guest shut itself down (Reason
	//                   Client.InstanceInitiatedShutdown); the control plane
	//                   makes that terminated when the instance's
	//                   InstanceInitiatedShutdownBehavior is terminate
	//   stopping      → stopped
	//   shutting-down → terminated
	// Anything else is ErrStaleReport.
	State string
	// Generation is the InstanceSpec.Generation the runtime acted on;
	// required with State. A different one is ErrStaleReport.
	Generation int64
	// ReasonCode and ReasonMessage are the StateReason of a transition the
	// user did not ask for, in AWS's words: "Server.InternalError" /
	// "Server.InternalError: Internal error on launch",
	// "Client.InstanceInitiatedShutdown" / "Client.InstanceInitiatedShutdown:
	// Instance initiated shutdown". Empty for the requested transitions,
	// which get AWS's usual reasons.
	ReasonCode, ReasonMessage string
	// ConsoleOutput is appended to the instance's console (GetConsoleOutput
	// keeps the last 64 KiB, as AWS does).
	ConsoleOutput string
	// LaunchTime is when the instance actually started; zero keeps the time
	// of the RunInstances/StartInstances call.
	LaunchTime time.Time
	// Reachable is the result of the runtime's reachability check (the
	// guest finished booting and answers); nil keeps the last one.
	// DescribeInstanceStatus shows "initializing" for a running instance
	// until it is true.
	Reachable *bool
}

// InstanceSpec is the desired state of one instance, as a runtime needs it.
type InstanceSpec struct {
	Account, Region string
	InstanceID      string
	ReservationID   string
	// State is the instance state name: pending, running, stopping,
	// stopped, shutting-down or terminated.
	State string
	// Generation counts the instance's state changes; a report quotes it.
	Generation int64
	ImageID    string
	ImageName  string
	// Image is where the instance's root filesystem comes from: the
	// read-only layers under its root volume.
	Image        ImageRoot
	InstanceType string
	Architecture string // x86_64 | arm64
	VCPUs        int32
	MemoryMiB    int64
	// AvailabilityZone is the zone name, e.g. us-east-1a.
	AvailabilityZone string
	// UserData is the decoded user data (RunInstances sends it base64).
	UserData []byte
	KeyName  string
	// PublicKey is the OpenSSH public key of KeyName, when known.
	PublicKey string
	Hostname  string // the private DNS name, ip-10-0-1-23.ec2.internal
	// ShutdownBehavior is what a guest-initiated shutdown does: stop or
	// terminate.
	ShutdownBehavior  string
	NetworkInterfaces []InterfaceSpec // by DeviceIndex
	Volumes           []VolumeSpec    // root first
	// RebootRequests counts RebootInstances calls; reboot when it exceeds
	// the count last handled.
	RebootRequests int
	// Metadata service (IMDS) options.
	MetadataHTTPEndpoint bool   // HttpEndpoint enabled
	MetadataHTTPTokens   string // optional | required
	MetadataHopLimit     int32
	MetadataTags         bool // InstanceMetadataTags enabled
	// IamInstanceProfile and IamInstanceProfileID are the ARN and ID of
	// the instance's IAM instance profile (empty: none); its role is
	// IAM's to say, at the time it is asked.
	IamInstanceProfile   string
	IamInstanceProfileID string
	Tags                 map[string]string
	LaunchTime           time.Time
	// DetailedMonitoring: CloudWatch's AWS/EC2 metrics every minute
	// rather than every five (Monitoring.State enabled).
	DetailedMonitoring bool
}

// Kinds of ImageRoot.
const (
	// ImageRootHost: the host's / read-only (the built-in AMIs, and
	// registered images with no local root filesystem).
	ImageRootHost = "host"
	// ImageRootDir: Path is a root filesystem directory (RegisterImage
	// with a local directory as ImageLocation, minicloud's extension).
	ImageRootDir = "dir"
	// ImageRootTar: Path is a root filesystem tarball (.tar, .tar.gz,
	// .tgz; RegisterImage's extension).
	ImageRootTar = "tar"
	// ImageRootSnapshot: CreateImage from an instance: the source
	// instance's root volume (SourceInstanceID, SourceVolumeID) over the
	// source's own image (Base).
	ImageRootSnapshot = "snapshot"
)

// ImageRoot is the source of an image's root filesystem. Kind is empty when
// the image is no longer known (deregistered, or the source instance of a
// CreateImage image forgotten): the runtime then uses what it kept of the
// image from an earlier boot.
type ImageRoot struct {
	Kind    string
	ImageID string
	// Path is the directory or tarball (dir, tar).
	Path string
	// SnapshotID is the image's root snapshot (snapshot).
	SnapshotID string
	// SourceInstanceID and SourceVolumeID are the instance CreateImage
	// imaged and its root volume then (snapshot).
	SourceInstanceID string
	SourceVolumeID   string
	// Base is the source instance's own image root (snapshot).
	Base *ImageRoot
}

// imageRootDepth bounds the CreateImage chains followed (an image of an
// instance of an image of an instance …).
const imageRootDepth = 16

// imageRootOf finds where image id's root filesystem comes from.
func imageRootOf(t *rtx, id string, depth int) (ImageRoot, error) {
	root := ImageRoot{ImageID: id}
	if id == "" {
		root.Kind = ImageRootHost
		return root, nil
	}
	if _, ok := amiBuiltinImage(t.scope.Region, id); ok {
		root.Kind = ImageRootHost
		return root, nil
	}
	img, ok, err := images.find(t, id)
	if err != nil {
		return root, err
	}
	if !ok {
		// An image another account shared: its root is the owner's.
		owner, shared, err := shareOwner(t, sharedImages, id)
		if err != nil || !shared || depth >= imageRootDepth {
			return root, err
		}
		return imageRootOf(owner, id, depth+1)
	}
	loc := deref(img.ImageLocation)
	switch {
	case img.SourceImageID != "":
		// A copy (CopyImage) boots from its source's root filesystem.
		if depth >= imageRootDepth {
			return root, nil
		}
		src := *t
		src.scope.Region = img.SourceRegion
		sr, err := imageRootOf(&src, img.SourceImageID, depth+1)
		sr.ImageID = id
		return sr, err
	case img.SourceInstanceId != nil:
		if depth >= imageRootDepth {
			return root, nil
		}
		root.Kind, root.SnapshotID, root.SourceInstanceID = ImageRootSnapshot, img.RootSnapshotID, *img.SourceInstanceId
		src, ok, err := instances.find(t, root.SourceInstanceID)
		if err != nil {
			return root, err
		}
		base := ImageRoot{}
		if ok {
			for _, m := range src.BlockDeviceMappings {
				if m.Ebs != nil && deref(m.DeviceName) == deref(src.RootDeviceName) {
					root.SourceVolumeID = deref(m.Ebs.VolumeId)
				}
			}
			if base, err = imageRootOf(t, deref(src.ImageId), depth+1); err != nil {
				return root, err
			}
		}
		root.Base = &base
	case strings.HasPrefix(loc, "/"):
		root.Kind, root.Path = ImageRootDir, loc
		for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst"} {
			if strings.HasSuffix(loc, ext) {
				if fi, err := os.Stat(loc); err != nil || !fi.IsDir() {
					root.Kind = ImageRootTar
				}
			}
		}
	default:
		root.Kind = ImageRootHost
	}
	return root, nil
}

// InterfaceSpec is one network interface attached to an instance.
type InterfaceSpec struct {
	NetworkInterfaceID string
	DeviceIndex        int32
	MacAddress         string
	SubnetID, VpcID    string
	SubnetCIDR         string
	// PrivateIPs lists the interface's private IPv4 addresses, primary first.
	PrivateIPs []string
	// PublicIP is the auto-assigned public IP or the associated Elastic IP
	// of the primary private address ("" when none).
	PublicIP         string
	SecurityGroupIDs []string
	SourceDestCheck  bool
}

// VolumeSpec is one EBS volume attached to an instance.
type VolumeSpec struct {
	VolumeID string
	// DeviceName is the attachment's device, /dev/sdf or xvdf; the netns
	// runtime mounts a data volume at /mnt/ebs/<name without /dev/>.
	DeviceName string
	SizeGiB    int32
	SnapshotID string
	Root       bool
	// DeleteOnTermination: the volume goes with the instance; otherwise its
	// data survives the instance's termination (the volume becomes
	// available).
	DeleteOnTermination bool
	// AttachState is the attachment's status: attaching, attached…
	AttachState string
}

// Errors of ReportInstance.
var (
	// ErrStaleReport: the reported state does not follow from the recorded
	// one; the desired state changed meanwhile. Re-read and converge.
	ErrStaleReport = errors.New("ec2: report does not follow the instance's recorded state")
	// ErrUnknownInstance: no such instance (or EC2 forgot it).
	ErrUnknownInstance = errors.New("ec2: no such instance")
)

// Option configures a Service.
type Option func(*Service)

// WithRuntime makes r the instance runtime; nil means none.
func WithRuntime(r Runtime) Option { return func(s *Service) { s.runtime = r } }

// WithPublicPool sets the range public IPs come from (DefaultPublicPool
// otherwise); it must match the data plane's.
func WithPublicPool(p netip.Prefix) Option {
	return func(s *Service) {
		if p.IsValid() {
			s.publicPool = p.Masked()
		}
	}
}

// InstanceKey reports whether a store key (Event.Key) is an instance's
// record and, if so, whose.
func InstanceKey(key string) (account, region, instanceID string, ok bool) {
	sc, id, ok := instances.table.ParseKey(key)
	return sc.Account, sc.Region, id, ok
}

// VolumeKey reports whether a store key (Event.Key) is an EBS volume's
// record and, if so, the volume's ID.
func VolumeKey(key string) (volumeID string, ok bool) {
	_, id, ok := volumes.table.ParseKey(key)
	return id, ok
}

// VolumeExists implements Controller.
func (s *Service) VolumeExists(ctx context.Context, volumeID string) (bool, error) {
	found := false
	err := s.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if id, ok := VolumeKey(key); ok && id == volumeID {
				found = true
				return state.ErrStop
			}
			return nil
		})
	})
	return found, err
}

// Store is the state store, for a runtime to Subscribe to.
func (s *Service) Store() state.Store { return s.store }

// StartRuntime starts the configured runtime, if any: the server's
// "instance runtime" part, after the network controller.
func (s *Service) StartRuntime() error {
	if s.runtime == nil {
		return nil
	}
	return s.runtime.Start(s)
}

// StopRuntime stops the runtime, if any.
func (s *Service) StopRuntime(ctx context.Context) error {
	if s.runtime == nil {
		return nil
	}
	return s.runtime.Stop(ctx)
}

// RuntimeHealth is the "instances" entry of /_minicloud/health.
func (s *Service) RuntimeHealth() map[string]any {
	if s.runtime == nil {
		return map[string]any{"runtime": "none", "available": false, "reason": noRuntimeMessage}
	}
	ok, reason := s.runtime.Available()
	out := map[string]any{"runtime": s.runtime.Name(), "available": ok}
	if hr, is := s.runtime.(RuntimeHealthReporter); is {
		maps.Copy(out, hr.Health())
	}
	if !ok {
		out["reason"] = reason
	}
	return out
}

// runtimeCode is the StateReason code of instances no runtime can run.
const runtimeCode = "minicloud.NoRuntime"

const noRuntimeMessage = "No instance runtime runs on this host, so minicloud records instances but nothing boots them: they stay pending. " +
	"The minicloud instance runtime (the data plane that runs each instance as a network namespace and processes) provides it."

// runtimeAvailable reports whether a runtime will act on instances, and the
// reason when not.
func (s *Service) runtimeAvailable() (bool, string) {
	if s.runtime == nil {
		return false, noRuntimeMessage
	}
	ok, reason := s.runtime.Available()
	if !ok {
		return false, fmt.Sprintf("The instance runtime %q is not available on this host: %s", s.runtime.Name(), reason)
	}
	return true, ""
}

// runtimeUpdate runs fn in a read-write transaction of scope, outside any
// API request.
func (s *Service) runtimeUpdate(ctx context.Context, sc state.Scope, fn func(*rtx) error) error {
	return s.store.Update(ctx, func(tx state.Tx) error {
		return fn(&rtx{ctx: ctx, tx: tx, scope: sc, now: s.now().UTC(), req: &api.RequestInfo{Account: sc.Account, Region: sc.Region}})
	})
}

func (s *Service) runtimeView(ctx context.Context, sc state.Scope, fn func(*rtx) error) error {
	return s.store.View(ctx, func(tx state.Tx) error {
		return fn(&rtx{ctx: ctx, tx: tx, scope: sc, now: s.now().UTC(), req: &api.RequestInfo{Account: sc.Account, Region: sc.Region}})
	})
}

// ReportInstance records what a runtime observed of an instance: a state it
// reached, console output, the actual launch time, reachability. See
// InstanceReport for the accepted transitions. Reaching stopped releases
// the auto-assigned public IP; reaching terminated releases the instance's
// network interfaces, addresses and volumes, as TerminateInstances does in
// AWS once the instance is gone.
func (s *Service) ReportInstance(ctx context.Context, account, region, instanceID string, r InstanceReport) error {
	sc := state.Scope{Account: account, Region: region}
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.runtimeUpdate(ctx, sc, func(t *rtx) error {
		rec, ok, err := instanceFind(t, instanceID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s in %s/%s", ErrUnknownInstance, instanceID, account, region)
		}
		ext, err := instanceExtGet(t, instanceID)
		if err != nil {
			return err
		}
		changed, extChanged := false, false
		cur := instanceStateName(rec)
		if r.State != "" && r.State != cur {
			if r.Generation != ext.Generation {
				return fmt.Errorf("%w: %s is at generation %d, the report is for %d", ErrStaleReport, instanceID, ext.Generation, r.Generation)
			}
			if err := s.instanceApplyReport(t, rec, ext, cur, r); err != nil {
				return err
			}
			ext.Generation++
			changed, extChanged = true, true
		}
		if r.ConsoleOutput != "" {
			rec.ConsoleOutput = instanceConsoleAppend(rec.ConsoleOutput, r.ConsoleOutput)
			ext.ConsoleUpdated = t.now
			changed, extChanged = true, true
		}
		if !r.LaunchTime.IsZero() && (rec.LaunchTime == nil || !rec.LaunchTime.Equal(r.LaunchTime)) {
			lt := r.LaunchTime.UTC()
			rec.LaunchTime = &lt
			changed = true
		}
		if r.Reachable != nil && ext.Reachable != *r.Reachable {
			ext.Reachable = *r.Reachable
			extChanged = true
		}
		if extChanged {
			if err := instanceExtPut(t, instanceID, ext); err != nil {
				return err
			}
		}
		if changed {
			return instances.put(t, rec)
		}
		return nil
	})
}

// instanceApplyReport moves rec from cur to the reported state.
func (s *Service) instanceApplyReport(t *rtx, rec *instanceRecord, ext *instanceExt, cur string, r InstanceReport) error {
	reason := func(code, msg string) *ec2api.StateReason {
		if r.ReasonCode != "" {
			code, msg = r.ReasonCode, r.ReasonMessage
		}
		if code == "" {
			return nil
		}
		return &ec2api.StateReason{Code: new(code), Message: new(msg)}
	}
	stale := func() error {
		return fmt.Errorf("%w: %s is %s, reported %s", ErrStaleReport, deref(rec.InstanceId), cur, r.State)
	}
	switch {
	case cur == statePending && r.State == stateRunning:
		instanceSetState(rec, stateRunning)
		rec.StateReason = nil
		rec.StateTransitionReason = new("")
		if rec.MetadataOptions != nil {
			rec.MetadataOptions.State = new("applied")
		}
		return nil
	case cur == statePending && r.State == stateStopped:
		ext.Reachable = false
		rec.StateReason = reason("Server.InternalError", "Server.InternalError: Internal error on launch")
		return instanceFinishStop(t, rec, ext)
	case cur == statePending && r.State == stateTerminated:
		ext.Reachable = false
		rec.StateReason = reason("Server.InternalError", "Server.InternalError: Internal error on launch")
		return s.instanceFinishTerminate(t, rec)
	case cur == stateRunning && (r.State == stateStopped || r.State == stateTerminated):
		ext.Reachable = false
		rec.StateReason = reason("Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown")
		rec.StateTransitionReason = new("")
		if r.State == stateTerminated || rec.ShutdownBehavior == "terminate" {
			return s.instanceFinishTerminate(t, rec)
		}
		return instanceFinishStop(t, rec, ext)
	case cur == stateStopping && r.State == stateStopped:
		ext.Reachable = false
		if r.ReasonCode != "" {
			rec.StateReason = reason("", "")
		}
		return instanceFinishStop(t, rec, ext)
	case cur == stateShuttingDown && r.State == stateTerminated:
		ext.Reachable = false
		if r.ReasonCode != "" {
			rec.StateReason = reason("", "")
		}
		return s.instanceFinishTerminate(t, rec)
	}
	return stale()
}

// Instance returns the desired state of one instance (Controller).
func (s *Service) Instance(ctx context.Context, account, region, instanceID string) (InstanceSpec, bool, error) {
	sc := state.Scope{Account: account, Region: region}
	if err := sc.Validate(); err != nil {
		return InstanceSpec{}, false, err
	}
	var (
		spec  InstanceSpec
		found bool
	)
	err := s.runtimeView(ctx, sc, func(t *rtx) error {
		rec, ok, err := instanceFind(t, instanceID)
		if err != nil || !ok {
			return err
		}
		found = true
		spec, err = instanceSpecOf(t, rec)
		return err
	})
	return spec, found, err
}

// Instances returns the desired state of every instance (Controller).
func (s *Service) Instances(ctx context.Context) ([]InstanceSpec, error) {
	var out []InstanceSpec
	err := s.store.View(ctx, func(tx state.Tx) error {
		scopes, err := tableScopes(tx, instances.table)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			t := s.scopeTx(ctx, tx, sc)
			recs, err := instances.all(t)
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if instanceExpired(t, rec) {
					continue
				}
				spec, err := instanceSpecOf(t, rec)
				if err != nil {
					return err
				}
				out = append(out, spec)
			}
		}
		return nil
	})
	return out, err
}

// instanceSpecOf builds the runtime's view of rec.
func instanceSpecOf(t *rtx, rec *instanceRecord) (InstanceSpec, error) {
	ext, err := instanceExtGet(t, deref(rec.InstanceId))
	if err != nil {
		return InstanceSpec{}, err
	}
	spec := InstanceSpec{
		Account:          t.scope.Account,
		Region:           t.scope.Region,
		InstanceID:       deref(rec.InstanceId),
		ReservationID:    rec.ReservationID,
		State:            instanceStateName(rec),
		ImageID:          deref(rec.ImageId),
		ImageName:        ext.ImageName,
		InstanceType:     deref(rec.InstanceType),
		Architecture:     deref(rec.Architecture),
		KeyName:          deref(rec.KeyName),
		Hostname:         deref(rec.PrivateDnsName),
		ShutdownBehavior: rec.ShutdownBehavior,
		RebootRequests:   ext.RebootRequests,
		Generation:       ext.Generation,
		Tags:             map[string]string{},
	}
	if spec.Image, err = imageRootOf(t, spec.ImageID, 0); err != nil {
		return InstanceSpec{}, err
	}
	if rec.Placement != nil {
		spec.AvailabilityZone = deref(rec.Placement.AvailabilityZone)
	}
	if rec.LaunchTime != nil {
		spec.LaunchTime = *rec.LaunchTime
	}
	if rec.UserData != "" {
		spec.UserData, _ = base64.StdEncoding.DecodeString(rec.UserData)
	}
	if info, ok := instanceTypeLookup(spec.InstanceType); ok {
		if info.VCpuInfo != nil {
			spec.VCPUs = deref(info.VCpuInfo.DefaultVCpus)
		}
		if info.MemoryInfo != nil {
			spec.MemoryMiB = deref(info.MemoryInfo.SizeInMiB)
		}
	}
	if spec.KeyName != "" {
		spec.PublicKey = instanceKeyMaterial(t, spec.KeyName)
	}
	if m := rec.MetadataOptions; m != nil {
		spec.MetadataHTTPEndpoint = deref(m.HttpEndpoint) != "disabled"
		spec.MetadataHTTPTokens = deref(m.HttpTokens)
		spec.MetadataHopLimit = deref(m.HttpPutResponseHopLimit)
		spec.MetadataTags = deref(m.InstanceMetadataTags) == "enabled"
	}
	if rec.IamInstanceProfile != nil {
		spec.IamInstanceProfile = deref(rec.IamInstanceProfile.Arn)
		spec.IamInstanceProfileID = deref(rec.IamInstanceProfile.Id)
	}
	spec.DetailedMonitoring = rec.Monitoring != nil && deref(rec.Monitoring.State) == "enabled"
	for _, tag := range rec.Tags {
		spec.Tags[deref(tag.Key)] = deref(tag.Value)
	}
	enis, err := instanceENIs(t, spec.InstanceID)
	if err != nil {
		return InstanceSpec{}, err
	}
	for _, e := range enis {
		is := InterfaceSpec{
			NetworkInterfaceID: deref(e.NetworkInterfaceId),
			MacAddress:         deref(e.MacAddress),
			SubnetID:           deref(e.SubnetId),
			VpcID:              deref(e.VpcId),
			SourceDestCheck:    deref(e.SourceDestCheck),
		}
		if e.Attachment != nil {
			is.DeviceIndex = deref(e.Attachment.DeviceIndex)
		}
		if sn, ok, err := subnets.find(t, is.SubnetID); err != nil {
			return InstanceSpec{}, err
		} else if ok {
			is.SubnetCIDR = deref(sn.CidrBlock)
		}
		for _, pa := range e.PrivateIpAddresses {
			is.PrivateIPs = append(is.PrivateIPs, deref(pa.PrivateIpAddress))
		}
		if e.Association != nil {
			is.PublicIP = deref(e.Association.PublicIp)
		}
		for _, g := range e.Groups {
			is.SecurityGroupIDs = append(is.SecurityGroupIDs, deref(g.GroupId))
		}
		spec.NetworkInterfaces = append(spec.NetworkInterfaces, is)
	}
	for _, m := range rec.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		vs := VolumeSpec{VolumeID: deref(m.Ebs.VolumeId), DeviceName: deref(m.DeviceName), Root: deref(m.DeviceName) == deref(rec.RootDeviceName),
			DeleteOnTermination: deref(m.Ebs.DeleteOnTermination), AttachState: deref(m.Ebs.Status)}
		if v, ok, err := volumes.find(t, vs.VolumeID); err != nil {
			return InstanceSpec{}, err
		} else if ok {
			vs.SizeGiB = deref(v.Size)
			vs.SnapshotID = deref(v.SnapshotId)
			volumeSettle(v, t.now)
			for _, a := range v.Attachments {
				if deref(a.InstanceId) == spec.InstanceID {
					vs.AttachState = deref(a.State)
				}
			}
		}
		if vs.Root {
			spec.Volumes = append([]VolumeSpec{vs}, spec.Volumes...)
		} else {
			spec.Volumes = append(spec.Volumes, vs)
		}
	}
	return spec, nil
}
