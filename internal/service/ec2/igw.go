package ec2

import (
	"context"

	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// igwNew returns a new, detached internet gateway (not yet stored).
func igwNew(t *rtx, tags []ec2api.Tag) *igwRecord {
	if tags == nil {
		tags = []ec2api.Tag{}
	}
	return &igwRecord{InternetGateway: ec2api.InternetGateway{
		InternetGatewayId: new(state.NewID("igw")),
		OwnerId:           new(t.scope.Account),
		Attachments:       []ec2api.InternetGatewayAttachment{},
		Tags:              tags,
	}}
}

// igwAttachedVPC returns the VPC an internet gateway is attached to, or "".
func igwAttachedVPC(g *igwRecord) string {
	for _, a := range g.Attachments {
		return deref(a.VpcId)
	}
	return ""
}

// igwOfVPC returns the internet gateway attached to vpcID, or nil.
func igwOfVPC(t *rtx, vpcID string) (*igwRecord, error) {
	var found *igwRecord
	err := internetGateways.table.ForEach(t.tx, t.scope, func(_ string, g igwRecord) error {
		if found == nil && igwAttachedVPC(&g) == vpcID {
			found = &g
		}
		return nil
	})
	return found, err
}

// CreateInternetGateway creates a detached internet gateway.
func (s *Service) CreateInternetGateway(ctx context.Context, in *ec2api.CreateInternetGatewayRequest) (*ec2api.CreateInternetGatewayResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "internet-gateway", "internet-gateway")
	if err != nil {
		return nil, err
	}
	var g *igwRecord
	err = s.update(ctx, func(t *rtx) error {
		if _, err := s.ensureDefaultVPC(t); err != nil {
			return err
		}
		g = igwNew(t, tags)
		return internetGateways.put(t, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateInternetGatewayResult{InternetGateway: &g.InternetGateway}, nil
}

// AttachInternetGateway attaches a gateway to a VPC; each has at most one.
func (s *Service) AttachInternetGateway(ctx context.Context, in *ec2api.AttachInternetGatewayRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id, vpcID := deref(in.InternetGatewayId), deref(in.VpcId)
	if id == "" {
		return nil, errMissingParam("InternetGatewayId")
	}
	if vpcID == "" {
		return nil, errMissingParam("VpcId")
	}
	err := s.update(ctx, func(t *rtx) error {
		g, err := internetGateways.get(t, id)
		if err != nil {
			return err
		}
		if _, err := vpcs.get(t, vpcID); err != nil {
			return err
		}
		if cur := igwAttachedVPC(g); cur != "" {
			return apiErr("Resource.AlreadyAssociated", "resource %s is already attached to network %s", id, cur)
		}
		other, err := igwOfVPC(t, vpcID)
		if err != nil {
			return err
		}
		if other != nil {
			return apiErr("Resource.AlreadyAssociated", "Network %s already has an internet gateway attached", vpcID)
		}
		g.Attachments = []ec2api.InternetGatewayAttachment{{State: new("available"), VpcId: new(vpcID)}}
		return internetGateways.put(t, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DetachInternetGateway detaches a gateway from its VPC, unless instances
// or NAT gateways of the VPC still hold public addresses through it.
func (s *Service) DetachInternetGateway(ctx context.Context, in *ec2api.DetachInternetGatewayRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id, vpcID := deref(in.InternetGatewayId), deref(in.VpcId)
	if id == "" {
		return nil, errMissingParam("InternetGatewayId")
	}
	if vpcID == "" {
		return nil, errMissingParam("VpcId")
	}
	err := s.update(ctx, func(t *rtx) error {
		g, err := internetGateways.get(t, id)
		if err != nil {
			return err
		}
		if !vpcs.validID(vpcID) {
			return vpcs.malformedErr(vpcID)
		}
		if igwAttachedVPC(g) != vpcID {
			return apiErr("Gateway.NotAttached", "resource %s is not attached to network %s", id, vpcID)
		}
		mapped := false
		if err := networkInterfaces.table.ForEach(t.tx, t.scope, func(_ string, e networkInterfaceRecord) error {
			if deref(e.VpcId) != vpcID {
				return nil
			}
			if e.Association != nil && deref(e.Association.PublicIp) != "" {
				mapped = true
			}
			for _, pa := range e.PrivateIpAddresses {
				if pa.Association != nil && deref(pa.Association.PublicIp) != "" {
					mapped = true
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if mapped {
			return errDependency("Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", vpcID)
		}
		g.Attachments = []ec2api.InternetGatewayAttachment{}
		return internetGateways.put(t, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DeleteInternetGateway deletes a detached gateway.
func (s *Service) DeleteInternetGateway(ctx context.Context, in *ec2api.DeleteInternetGatewayRequest) (*ec2api.Empty, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	id := deref(in.InternetGatewayId)
	if id == "" {
		return nil, errMissingParam("InternetGatewayId")
	}
	err := s.update(ctx, func(t *rtx) error {
		g, err := internetGateways.get(t, id)
		if err != nil {
			return err
		}
		if igwAttachedVPC(g) != "" {
			return errDependency("The internetGateway '%s' has dependencies and cannot be deleted.", id)
		}
		return internetGateways.del(t, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.Empty{}, nil
}

// DescribeInternetGateways lists internet gateways.
func (s *Service) DescribeInternetGateways(ctx context.Context, in *ec2api.DescribeInternetGatewaysRequest) (*ec2api.DescribeInternetGatewaysResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := toFilters(in.Filters)
	if err := state.CheckFilterNames(fs, "attachment.state", "attachment.vpc-id", "internet-gateway-id", "owner-id"); err != nil {
		return nil, err
	}
	var recs []*igwRecord
	if err := s.ensureDefaultVPCExists(ctx); err != nil {
		return nil, err
	}
	err := s.view(ctx, func(t *rtx) error {
		var err error
		recs, err = internetGateways.describe(t, in.InternetGatewayIds, in.Filters, func(g *igwRecord) map[string][]string {
			var st, vs []string
			for _, a := range g.Attachments {
				st = append(st, deref(a.State))
				vs = append(vs, deref(a.VpcId))
			}
			return map[string][]string{"attachment.state": st, "attachment.vpc-id": vs,
				"internet-gateway-id": ptrValues(g.InternetGatewayId), "owner-id": ptrValues(g.OwnerId)}
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.MaxResults, in.NextToken, func(g *igwRecord) string { return deref(g.InternetGatewayId) }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInternetGatewaysResult{InternetGateways: []ec2api.InternetGateway{}, NextToken: next}
	for _, g := range pg {
		out.InternetGateways = append(out.InternetGateways, g.InternetGateway)
	}
	return out, nil
}
