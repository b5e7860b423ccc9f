package ec2

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Instance states and their codes, as EC2 numbers them.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

var instanceStateCodes = map[string]int32{
	statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48, stateStopping: 64, stateStopped: 80,
}

// instanceTerminatedTTL is how long EC2 keeps listing a terminated instance.
const instanceTerminatedTTL = time.Hour

// instanceDefaultType is RunInstances' InstanceType when none is given.
const instanceDefaultType = "m1.small"

// instanceUserDataMax is the largest user data EC2 accepts, before base64.
const instanceUserDataMax = 16 * 1024

// instanceConsoleMax is how much console output EC2 keeps: the last 64 KiB.
const instanceConsoleMax = 64 * 1024

func instanceState(name string) *ec2api.InstanceState {
	return &ec2api.InstanceState{Code: new(instanceStateCodes[name]), Name: new(name)}
}

func instanceStateName(rec *instanceRecord) string {
	if rec.State == nil {
		return ""
	}
	return deref(rec.State.Name)
}

func instanceSetState(rec *instanceRecord, name string) { rec.State = instanceState(name) }

// instanceExt is what minicloud keeps of an instance beyond instanceRecord
// (the shared record shape), under its own kind.
type instanceExt struct {
	ImageName string `json:"imageName,omitempty"`
	// AutoPublicIP: the primary interface gets a public IPv4 address while
	// the instance runs (AssociatePublicIpAddress, or the subnet's
	// MapPublicIpOnLaunch) and no Elastic IP is associated.
	AutoPublicIP   bool      `json:"autoPublicIp,omitempty"`
	RebootRequests int       `json:"rebootRequests,omitempty"`
	Reachable      bool      `json:"reachable,omitempty"`
	ConsoleUpdated time.Time `json:"consoleUpdated,omitzero"`
	DisableAPIStop bool      `json:"disableApiStop,omitempty"`
	// Generation counts state changes, so runtime reports of an earlier
	// transition are told apart (InstanceReport.Generation).
	Generation int64 `json:"generation,omitempty"`
}

var instanceExts = state.Table[instanceExt]{Service: "ec2", Kind: "instance-ext"}

func instanceExtGet(t *rtx, id string) (*instanceExt, error) {
	v, _, err := instanceExts.Get(t.tx, t.scope, id)
	return &v, err
}

func instanceExtPut(t *rtx, id string, v *instanceExt) error {
	return instanceExts.Put(t.tx, t.scope, id, *v)
}

// instanceExpired reports whether EC2 has forgotten a terminated instance.
func instanceExpired(t *rtx, rec *instanceRecord) bool {
	return instanceStateName(rec) == stateTerminated && !rec.TerminatedAt.IsZero() && t.now.Sub(rec.TerminatedAt) >= instanceTerminatedTTL
}

// instanceFind returns a visible instance, or found=false.
func instanceFind(t *rtx, id string) (*instanceRecord, bool, error) {
	if !instances.validID(id) {
		return nil, false, nil
	}
	rec, ok, err := instances.find(t, id)
	if err != nil || !ok || instanceExpired(t, rec) {
		return nil, false, err
	}
	return rec, true, nil
}

// instanceGet returns a visible instance or AWS's malformed/not-found error.
func instanceGet(t *rtx, id string) (*instanceRecord, error) {
	if id == "" {
		return nil, errMissingParam("instanceId")
	}
	if !instances.validID(id) {
		return nil, instances.malformedErr(id)
	}
	rec, ok, err := instanceFind(t, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, instances.notFoundErr(id)
	}
	return rec, nil
}

// instanceGetAll resolves a list of instance IDs, all of which must exist.
func instanceGetAll(t *rtx, ids []string) ([]*instanceRecord, error) {
	if len(ids) == 0 {
		return nil, errMissingParam("instanceId")
	}
	var (
		out     []*instanceRecord
		missing []string
		seen    = map[string]bool{}
	)
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if !instances.validID(id) {
			return nil, instances.malformedErr(id)
		}
		rec, ok, err := instanceFind(t, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, rec)
	}
	if len(missing) > 0 {
		return nil, instances.notFoundErr(missing...)
	}
	return out, nil
}

// instancePurge deletes the records of instances EC2 has forgotten. It
// reads the index of terminated instances by TerminatedAt, oldest first, and
// stops at the first that is still listed, so a launch does not pay for every
// instance of the region.
func instancePurge(t *rtx) error {
	var expired []string
	err := instances.table.ScanIndex(t.tx, t.scope, instanceByTerminated, "", func(v, id string) error {
		at, ok := terminatedAtKey(v)
		if !ok {
			return nil
		}
		if t.now.Sub(at) < instanceTerminatedTTL {
			return state.ErrStop
		}
		expired = append(expired, id)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range expired {
		if err := instances.del(t, id); err != nil {
			return err
		}
		if err := instanceExts.Delete(t.tx, t.scope, id); err != nil {
			return err
		}
		if err := instanceCredits.Delete(t.tx, t.scope, id); err != nil {
			return err
		}
	}
	return nil
}

// instanceUserTime is the "User initiated (2024-05-01 12:34:56 GMT)" of
// StateTransitionReason.
func instanceUserTime(now time.Time) string {
	return "User initiated (" + now.UTC().Format("2006-01-02 15:04:05") + " GMT)"
}

func userShutdownReason() *ec2api.StateReason {
	return &ec2api.StateReason{Code: new("Client.UserInitiatedShutdown"), Message: new("Client.UserInitiatedShutdown: User initiated shutdown")}
}

// instanceConsoleAppend appends to a console, keeping the last 64 KiB.
func instanceConsoleAppend(console, more string) string {
	console += more
	if len(console) > instanceConsoleMax {
		console = console[len(console)-instanceConsoleMax:]
	}
	return console
}

// instanceDNSSuffix returns the private and public DNS suffixes of region:
// ec2.internal / compute-1.amazonaws.com in us-east-1, else
// <region>.compute.internal / <region>.compute.amazonaws.com.
func instanceDNSSuffix(region string) (private, public string) {
	if region == "us-east-1" {
		return "ec2.internal", "compute-1.amazonaws.com"
	}
	return region + ".compute.internal", region + ".compute.amazonaws.com"
}

// instancePrivateDNS is ip-10-0-1-23.ec2.internal for 10.0.1.23.
func instancePrivateDNS(region, ip string) string {
	if ip == "" {
		return ""
	}
	p, _ := instanceDNSSuffix(region)
	return "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + p
}

// instancePublicDNS is ec2-198-18-0-5.compute-1.amazonaws.com for
// 198.18.0.5, or "" when the VPC does not enable DNS hostnames.
func instancePublicDNS(t *rtx, vpcID, ip string) string {
	if ip == "" {
		return ""
	}
	v, ok, err := vpcs.find(t, vpcID)
	if err != nil || !ok || !v.EnableDNSHostnames {
		return ""
	}
	_, p := instanceDNSSuffix(t.scope.Region)
	return "ec2-" + strings.ReplaceAll(ip, ".", "-") + "." + p
}

// instanceView is the Instance shape Describe returns for rec: the record,
// with the honest StateReason of a pending instance no runtime will start.
func (s *Service) instanceView(rec *instanceRecord) ec2api.Instance {
	out := rec.Instance
	if instanceStateName(rec) == statePending {
		if ok, reason := s.runtimeAvailable(); !ok {
			out.StateReason = &ec2api.StateReason{Code: new(runtimeCode), Message: new(reason)}
		}
	}
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	return out
}

// instanceReservation groups instance views into one reservation.
func instanceReservation(t *rtx, resID string, insts []ec2api.Instance) ec2api.Reservation {
	return ec2api.Reservation{
		ReservationId: new(resID),
		OwnerId:       new(t.scope.Account),
		Groups:        []ec2api.GroupIdentifier{},
		Instances:     insts,
	}
}

// instanceDecodeUserData checks RunInstances/ModifyInstanceAttribute user
// data: base64 of at most 16 KiB.
func instanceDecodeUserData(b64 string) error {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return apiErr("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
	}
	if len(raw) > instanceUserDataMax {
		return errInvalidParam("User data is limited to %d bytes", instanceUserDataMax)
	}
	return nil
}

// instanceShutdownBehavior validates InstanceInitiatedShutdownBehavior.
func instanceShutdownBehavior(v string) error {
	if v != "stop" && v != "terminate" {
		return errInvalidParam("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are 'stop' and 'terminate'.", v)
	}
	return nil
}

// instanceResolveGroups returns the security groups an interface in vpc
// (subnet subnetID) gets: the given IDs, the given names (default VPC
// only), or the VPC's default group.
func instanceResolveGroups(t *rtx, vpc *vpcRecord, subnetID string, ids, names []string) ([]ec2api.GroupIdentifier, error) {
	vpcID := deref(vpc.VpcId)
	var out []ec2api.GroupIdentifier
	seen := map[string]bool{}
	add := func(g *securityGroupRecord) {
		if !seen[deref(g.GroupId)] {
			seen[deref(g.GroupId)] = true
			out = append(out, ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
		}
	}
	for _, id := range ids {
		g, err := securityGroups.get(t, id)
		if err != nil {
			return nil, err
		}
		if deref(g.VpcId) != vpcID {
			return nil, apiErr("InvalidParameter", "Security group %s and subnet %s belong to different networks.", id, subnetID)
		}
		add(g)
	}
	if len(names) > 0 && !deref(vpc.IsDefault) {
		return nil, errCombination("The parameter groupName cannot be used with the parameter subnet")
	}
	for _, name := range names {
		g, err := sgByName(t, vpcID, name)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, vpcID)
		}
		add(g)
	}
	if len(ids) == 0 && len(names) == 0 {
		g, err := sgByName(t, vpcID, sgDefaultName)
		if err != nil {
			return nil, err
		}
		if g != nil {
			add(g)
		}
	}
	if out == nil {
		out = []ec2api.GroupIdentifier{}
	}
	return out, nil
}

// instanceReservationOf returns the visible instances of a reservation.
func instanceReservationOf(t *rtx, resID string) ([]*instanceRecord, error) {
	recs, err := instances.all(t)
	if err != nil {
		return nil, err
	}
	var out []*instanceRecord
	for _, rec := range recs {
		if rec.ReservationID == resID && !instanceExpired(t, rec) {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b *instanceRecord) int { return int(deref(a.AmiLaunchIndex) - deref(b.AmiLaunchIndex)) })
	return out, nil
}

// instanceEach calls fn for each visible instance of the scope.
func instanceEach(t *rtx, fn func(*instanceRecord) error) error {
	return instances.table.ForEach(t.tx, t.scope, func(_ string, rec instanceRecord) error {
		if instanceExpired(t, &rec) {
			return nil
		}
		return fn(&rec)
	})
}
