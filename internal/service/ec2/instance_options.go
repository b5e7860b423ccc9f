package ec2

import (
	"context"
	"strings"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// Instance options clients read and set as a matter of course: metadata
// options, CPU credits, detailed monitoring. The metadata options and the
// monitoring state are in the instance record, which the runtime reads
// (InstanceSpec.Metadata*, DetailedMonitoring): the metadata service and
// CloudWatch's AWS/EC2 metrics follow them. A burstable instance's credit
// option is kept in its own table, since the Instance shape has no place
// for it.

// instanceCredits holds the credit option set at launch or by
// ModifyInstanceCreditSpecification; an instance without an entry has its
// family's default.
var instanceCredits = state.Table[string]{Service: "ec2", Kind: "instance-credits"}

// instanceCreditDefault is a burstable family's default credit option:
// standard for T2, unlimited for T3, T3a and T4g; "" for a type that is not
// burstable.
func instanceCreditDefault(instType string) string {
	info, ok := instanceTypeLookup(instType)
	if !ok || !deref(info.BurstablePerformanceSupported) {
		return ""
	}
	if strings.HasPrefix(instType, "t2.") {
		return "standard"
	}
	return "unlimited"
}

func checkCpuCredits(v string) error {
	if v != "standard" && v != "unlimited" {
		return errInvalidParam("Value (%s) for parameter cpuCredits is invalid. Valid values are: standard, unlimited.", v)
	}
	return nil
}

// instanceCreditsLaunch records RunInstances' CreditSpecification for a
// burstable instance.
func instanceCreditsLaunch(t *rtx, rec *instanceRecord, spec *ec2api.CreditSpecificationRequest) error {
	if spec == nil || deref(spec.CpuCredits) == "" || instanceCreditDefault(deref(rec.InstanceType)) == "" {
		return nil
	}
	return instanceCredits.Put(t.tx, t.scope, deref(rec.InstanceId), *spec.CpuCredits)
}

func instanceCreditsOf(t *rtx, rec *instanceRecord) (string, error) {
	v, ok, err := instanceCredits.Get(t.tx, t.scope, deref(rec.InstanceId))
	if err != nil || ok {
		return v, err
	}
	return instanceCreditDefault(deref(rec.InstanceType)), nil
}

// ModifyInstanceMetadataOptions changes an instance's metadata service
// options; the runtime applies them to the running instance.
func (s *Service) ModifyInstanceMetadataOptions(ctx context.Context, in *ec2api.ModifyInstanceMetadataOptionsRequest) (*ec2api.ModifyInstanceMetadataOptionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	enum := []struct {
		name string
		v    *string
		ok   []string
	}{
		{"HttpTokens", in.HttpTokens, []string{"optional", "required"}},
		{"HttpEndpoint", in.HttpEndpoint, []string{"enabled", "disabled"}},
		{"HttpProtocolIpv6", in.HttpProtocolIpv6, []string{"enabled", "disabled"}},
		{"InstanceMetadataTags", in.InstanceMetadataTags, []string{"enabled", "disabled"}},
	}
	for _, e := range enum {
		if e.v != nil && !strings.Contains(" "+strings.Join(e.ok, " ")+" ", " "+*e.v+" ") {
			return nil, errInvalidParam("Value (%s) for parameter %s is invalid. Valid values are: %s.", *e.v, e.name, strings.Join(e.ok, ", "))
		}
	}
	if h := in.HttpPutResponseHopLimit; h != nil && (*h < 1 || *h > 64) {
		return nil, errInvalidParam("Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values are between 1 and 64.", *h)
	}
	var out ec2api.ModifyInstanceMetadataOptionsResult
	err := s.update(ctx, func(t *rtx) error {
		rec, err := instanceGet(t, deref(in.InstanceId))
		if err != nil {
			return err
		}
		if st := instanceStateName(rec); st == stateTerminated || st == stateShuttingDown {
			return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", deref(rec.InstanceId))
		}
		md := rec.MetadataOptions
		if md == nil {
			md = &ec2api.InstanceMetadataOptionsResponse{}
			rec.MetadataOptions = md
		}
		for _, set := range []struct {
			dst **string
			v   *string
		}{{&md.HttpTokens, in.HttpTokens}, {&md.HttpEndpoint, in.HttpEndpoint}, {&md.HttpProtocolIpv6, in.HttpProtocolIpv6}, {&md.InstanceMetadataTags, in.InstanceMetadataTags}} {
			if set.v != nil {
				*set.dst = new(*set.v)
			}
		}
		if in.HttpPutResponseHopLimit != nil {
			md.HttpPutResponseHopLimit = new(*in.HttpPutResponseHopLimit)
		}
		// A running instance takes the change at once; EC2 answers
		// pending and Describe shows applied once it has.
		answer := *md
		answer.State = new("pending")
		md.State = new("applied")
		out = ec2api.ModifyInstanceMetadataOptionsResult{InstanceId: rec.InstanceId, InstanceMetadataOptions: &answer}
		return instances.put(t, rec)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DescribeInstanceCreditSpecifications lists the credit option of
// burstable instances.
func (s *Service) DescribeInstanceCreditSpecifications(ctx context.Context, in *ec2api.DescribeInstanceCreditSpecificationsRequest) (*ec2api.DescribeInstanceCreditSpecificationsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "instance-id"); err != nil {
		return nil, err
	}
	if in.MaxResults != nil && len(in.InstanceIds) > 0 {
		return nil, errCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	var specs []*ec2api.InstanceCreditSpecification
	err := s.view(ctx, func(t *rtx) error {
		var recs []*instanceRecord
		if len(in.InstanceIds) > 0 {
			var err error
			if recs, err = instanceGetAll(t, in.InstanceIds); err != nil {
				return err
			}
		} else if err := instanceEach(t, func(r *instanceRecord) error {
			if instanceStateName(r) != stateTerminated {
				recs = append(recs, r)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, r := range recs {
			credits, err := instanceCreditsOf(t, r)
			if err != nil {
				return err
			}
			if credits == "" {
				continue
			}
			ok, err := state.Match(fs, func(name string) ([]string, bool) { return one(deref(r.InstanceId)), name == "instance-id" })
			if err != nil {
				return err
			}
			if ok {
				specs = append(specs, &ec2api.InstanceCreditSpecification{InstanceId: r.InstanceId, CpuCredits: new(credits)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(specs, in.MaxResults, in.NextToken, func(c *ec2api.InstanceCreditSpecification) string { return deref(c.InstanceId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceCreditSpecificationsResult{InstanceCreditSpecifications: []ec2api.InstanceCreditSpecification{}, NextToken: next}
	for _, c := range pg {
		out.InstanceCreditSpecifications = append(out.InstanceCreditSpecifications, *c)
	}
	return out, nil
}

// ModifyInstanceCreditSpecification sets the credit option of burstable
// instances, each on its own: an instance that cannot take it is reported,
// not failed.
func (s *Service) ModifyInstanceCreditSpecification(ctx context.Context, in *ec2api.ModifyInstanceCreditSpecificationRequest) (*ec2api.ModifyInstanceCreditSpecificationResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if len(in.InstanceCreditSpecifications) == 0 {
		return nil, errMissingParam("InstanceCreditSpecifications")
	}
	for _, c := range in.InstanceCreditSpecifications {
		if err := checkCpuCredits(deref(c.CpuCredits)); err != nil {
			return nil, err
		}
	}
	out := &ec2api.ModifyInstanceCreditSpecificationResult{
		SuccessfulInstanceCreditSpecifications:   []ec2api.SuccessfulInstanceCreditSpecificationItem{},
		UnsuccessfulInstanceCreditSpecifications: []ec2api.UnsuccessfulInstanceCreditSpecificationItem{},
	}
	err := s.update(ctx, func(t *rtx) error {
		for _, c := range in.InstanceCreditSpecifications {
			id := deref(c.InstanceId)
			fail := func(code, msg string) {
				out.UnsuccessfulInstanceCreditSpecifications = append(out.UnsuccessfulInstanceCreditSpecifications, ec2api.UnsuccessfulInstanceCreditSpecificationItem{
					InstanceId: new(id), Error: &ec2api.UnsuccessfulInstanceCreditSpecificationItemError{Code: new(code), Message: new(msg)},
				})
			}
			if !instances.validID(id) {
				fail("InvalidInstanceID.Malformed", "Invalid id: \""+id+"\"")
				continue
			}
			rec, ok, err := instanceFind(t, id)
			if err != nil {
				return err
			}
			switch {
			case !ok:
				fail("InvalidInstanceID.NotFound", "The instance ID '"+id+"' does not exist")
			case instanceStateName(rec) == stateTerminated || instanceStateName(rec) == stateShuttingDown:
				fail("IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be modified.")
			case instanceCreditDefault(deref(rec.InstanceType)) == "":
				fail("InstanceCreditSpecification.NotSupported", "The instance '"+id+"' does not support credit specifications: its instance type is not a burstable performance instance type.")
			default:
				if err := instanceCredits.Put(t.tx, t.scope, id, *c.CpuCredits); err != nil {
					return err
				}
				out.SuccessfulInstanceCreditSpecifications = append(out.SuccessfulInstanceCreditSpecifications, ec2api.SuccessfulInstanceCreditSpecificationItem{InstanceId: new(id)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MonitorInstances turns detailed monitoring on: the runtime publishes the
// instances' AWS/EC2 metrics every minute instead of every five.
func (s *Service) MonitorInstances(ctx context.Context, in *ec2api.MonitorInstancesRequest) (*ec2api.MonitorInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	list, err := s.setMonitoring(ctx, in.InstanceIds, "enabled", "pending")
	if err != nil {
		return nil, err
	}
	return &ec2api.MonitorInstancesResult{InstanceMonitorings: list}, nil
}

// UnmonitorInstances turns detailed monitoring off.
func (s *Service) UnmonitorInstances(ctx context.Context, in *ec2api.UnmonitorInstancesRequest) (*ec2api.UnmonitorInstancesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	list, err := s.setMonitoring(ctx, in.InstanceIds, "disabled", "disabling")
	if err != nil {
		return nil, err
	}
	return &ec2api.UnmonitorInstancesResult{InstanceMonitorings: list}, nil
}

// setMonitoring records the monitoring state of instances; the answer
// shows the transition EC2 reports (pending, disabling), Describe the
// state reached.
func (s *Service) setMonitoring(ctx context.Context, ids []string, state, answer string) ([]ec2api.InstanceMonitoring, error) {
	out := []ec2api.InstanceMonitoring{}
	err := s.update(ctx, func(t *rtx) error {
		recs, err := instanceGetAll(t, ids)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if st := instanceStateName(rec); st == stateTerminated || st == stateShuttingDown {
				return apiErr("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified.", deref(rec.InstanceId))
			}
		}
		for _, rec := range recs {
			rec.Monitoring = &ec2api.Monitoring{State: new(state)}
			if err := instances.put(t, rec); err != nil {
				return err
			}
			out = append(out, ec2api.InstanceMonitoring{InstanceId: rec.InstanceId, Monitoring: &ec2api.Monitoring{State: new(answer)}})
		}
		return nil
	})
	return out, err
}
