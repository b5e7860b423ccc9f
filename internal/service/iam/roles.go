package iam

import (
	"context"
	"fmt"

	"github.com/minicloud/minicloud/internal/api/iamapi"
	"github.com/minicloud/minicloud/internal/iampolicy"
	"github.com/minicloud/minicloud/internal/state"
)

// Role session limits (MaxSessionDuration, seconds).
const (
	defaultMaxSession = 3600
	maxMaxSession     = 43200
)

func (r *roleRec) wire(full bool) *iamapi.Role {
	out := &iamapi.Role{Path: new(r.Path), RoleName: new(r.Name), RoleId: new(r.ID), Arn: new(r.ARN), CreateDate: new(r.Created),
		AssumeRolePolicyDocument: encodeDoc(r.Trust), MaxSessionDuration: new(r.MaxSession)}
	if r.Description != "" {
		out.Description = new(r.Description)
	}
	if full {
		out.PermissionsBoundary = wireBoundary(r.Boundary)
		if len(r.Tags) > 0 {
			out.Tags = wireTags(r.Tags)
		}
		// Roles are not used by minicloud's callers yet: AWS answers an
		// empty RoleLastUsed for a role never used.
		out.RoleLastUsed = &iamapi.RoleLastUsed{}
	}
	return out
}

func checkTrust(doc string) error {
	if err := validateDoc(doc, iampolicy.Trust); err != nil {
		return err
	}
	if docSize(doc) > trustPolicyQuota {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", trustPolicyQuota)
	}
	return nil
}

func checkRoleSettings(description *string, maxSession *int32) error {
	if len(deref(description)) > 1000 {
		return validationError("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	if maxSession != nil {
		if *maxSession < defaultMaxSession {
			return validationError("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", *maxSession, defaultMaxSession)
		}
		if *maxSession > maxMaxSession {
			return validationError("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to %d", *maxSession, maxMaxSession)
		}
	}
	return nil
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, in *iamapi.CreateRoleRequest) (*iamapi.CreateRoleResponse, error) {
	// The name is checked first (create checks it again), as AWS checks a
	// request's members before its documents.
	if err := checkName("roleName", *in.RoleName, 64); err != nil {
		return nil, err
	}
	if err := checkRoleSettings(in.Description, in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := checkTrust(*in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	h, err := s.create(ctx, roleKind, "AROA", *in.RoleName, 64, in.Path, in.PermissionsBoundary, in.Tags, func(p principal) holder {
		r := &roleRec{principal: p, Trust: *in.AssumeRolePolicyDocument, Description: deref(in.Description), MaxSession: defaultMaxSession}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		return r
	})
	if err != nil {
		return nil, err
	}
	out := h.(*roleRec).wire(true)
	out.RoleLastUsed = nil // CreateRole's answer has none
	return &iamapi.CreateRoleResponse{Role: out}, nil
}

// GetRole describes a role.
func (s *Service) GetRole(ctx context.Context, in *iamapi.GetRoleRequest) (*iamapi.GetRoleResponse, error) {
	h, err := s.read(ctx, roleKind, *in.RoleName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRoleResponse{Role: h.(*roleRec).wire(true)}, nil
}

func (s *Service) mutateRole(ctx context.Context, name string, fn func(r *roleRec) error) error {
	return s.mutate(ctx, roleKind, name, func(_ state.Tx, _ state.Scope, h holder) error {
		if err := protect(h); err != nil {
			return err
		}
		return fn(h.(*roleRec))
	})
}

// UpdateRole changes a role's description or maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *iamapi.UpdateRoleRequest) (*iamapi.UpdateRoleResponse, error) {
	if err := checkRoleSettings(in.Description, in.MaxSessionDuration); err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleResponse{}, s.mutateRole(ctx, *in.RoleName, func(r *roleRec) error {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		return nil
	})
}

// UpdateRoleDescription changes a role's description.
func (s *Service) UpdateRoleDescription(ctx context.Context, in *iamapi.UpdateRoleDescriptionRequest) (*iamapi.UpdateRoleDescriptionResponse, error) {
	if err := checkRoleSettings(in.Description, nil); err != nil {
		return nil, err
	}
	var out *iamapi.Role
	err := s.mutateRole(ctx, *in.RoleName, func(r *roleRec) error {
		r.Description = *in.Description
		out = r.wire(true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleDescriptionResponse{Role: out}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *iamapi.UpdateAssumeRolePolicyRequest) (*iamapi.Empty, error) {
	if err := checkTrust(*in.PolicyDocument); err != nil {
		return nil, err
	}
	return nil, s.mutateRole(ctx, *in.RoleName, func(r *roleRec) error {
		r.Trust = *in.PolicyDocument
		return nil
	})
}

// DeleteRole deletes a role that is in no instance profile and has no
// policies; service-linked roles go through DeleteServiceLinkedRole.
func (s *Service) DeleteRole(ctx context.Context, in *iamapi.DeleteRoleRequest) (*iamapi.Empty, error) {
	return nil, s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := roleKind.get(tx, sc, *in.RoleName)
		if err != nil {
			return err
		}
		if err := protect(h); err != nil {
			return err
		}
		r := h.(*roleRec)
		ps, err := profilesOf(tx, sc, key(r.Name))
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		if err := r.policiesConflict(); err != nil {
			return err
		}
		return roles.Delete(tx, sc, key(r.Name))
	})
}

// ListRoles lists the account's roles under a path prefix.
func (s *Service) ListRoles(ctx context.Context, in *iamapi.ListRolesRequest) (*iamapi.ListRolesResponse, error) {
	all, err := listUnder(ctx, s, roles, in.PathPrefix, func(r roleRec) string { return r.Path })
	if err != nil {
		return nil, err
	}
	pg, trunc, marker, err := page(all, in.MaxItems, in.Marker, func(r roleRec) string { return key(r.Name) })
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListRolesResponse{Roles: []iamapi.Role{}, IsTruncated: trunc, Marker: marker}
	for i := range pg {
		out.Roles = append(out.Roles, *pg[i].wire(false))
	}
	return out, nil
}

// TagRole adds or replaces a role's tags.
func (s *Service) TagRole(ctx context.Context, in *iamapi.TagRoleRequest) (*iamapi.Empty, error) {
	return nil, s.tag(ctx, roleKind, *in.RoleName, in.Tags)
}

// UntagRole removes a role's tags.
func (s *Service) UntagRole(ctx context.Context, in *iamapi.UntagRoleRequest) (*iamapi.Empty, error) {
	return nil, s.untagKeys(ctx, roleKind, *in.RoleName, in.TagKeys)
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *iamapi.ListRoleTagsRequest) (*iamapi.ListRoleTagsResponse, error) {
	t, tr, m, err := s.listTags(ctx, roleKind, *in.RoleName, in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRoleTagsResponse{Tags: t, IsTruncated: tr, Marker: m}, nil
}

// Service-linked roles: the ones AWS creates for the services minicloud
// has, with their real names, paths, descriptions and policies.
type linkedRole struct {
	name, description, policy string
	suffix                    bool // CustomSuffix allowed
}

var linkedRoles = map[string]linkedRole{
	"elasticloadbalancing.amazonaws.com": {name: "AWSServiceRoleForElasticLoadBalancing", description: "Allows ELB to call AWS services on your behalf.",
		policy: "arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy"},
	"rds.amazonaws.com": {name: "AWSServiceRoleForRDS", description: "Allows Amazon RDS to manage AWS resources on your behalf",
		policy: "arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy"},
	"autoscaling.amazonaws.com": {name: "AWSServiceRoleForAutoScaling", suffix: true,
		description: "Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling",
		policy:      "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"},
	"ecs.amazonaws.com": {name: "AWSServiceRoleForECS", description: "Role to enable Amazon ECS to manage your cluster.",
		policy: "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"},
}

// linkedTrust is the trust policy AWS gives a service's linked role.
func linkedTrust(svc string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":[%q]},"Action":["sts:AssumeRole"]}]}`, svc)
}

// deletions records DeleteServiceLinkedRole's tasks: deletion is
// immediate here, so every task has succeeded.
var deletions = state.Table[struct{}]{Service: "iam", Kind: "slr-deletion"}

// CreateServiceLinkedRole creates a service's service-linked role.
func (s *Service) CreateServiceLinkedRole(ctx context.Context, in *iamapi.CreateServiceLinkedRoleRequest) (*iamapi.CreateServiceLinkedRoleResponse, error) {
	svc := *in.AWSServiceName
	lr, ok := linkedRoles[svc]
	if !ok {
		return nil, invalidInput("Service %s does not support service-linked roles in minicloud (it has: autoscaling, ecs, elasticloadbalancing, rds).", svc)
	}
	name := lr.name
	if in.CustomSuffix != nil {
		if !lr.suffix {
			return nil, invalidInput("Custom suffix is not allowed for %s", svc)
		}
		name += "_" + *in.CustomSuffix
	}
	description := lr.description
	if in.Description != nil {
		description = *in.Description
	}
	trust := linkedTrust(svc)
	path := "/aws-service-role/" + svc + "/"
	var r roleRec
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		if err := absent(tx, sc, roles, name, func() error {
			return invalidInput("Service role name %s has been taken in this account, please try a different suffix.", name)
		}); err != nil {
			return err
		}
		r = roleRec{principal: principal{Name: name, Path: path, ID: state.NewUniqueID("AROA"), ARN: iamARN(ctx, "role", path, name),
			Created: s.stamp(), Attached: []string{lr.policy}}, Trust: trust, Description: description, MaxSession: defaultMaxSession, Service: svc}
		return roles.Put(tx, sc, key(name), r)
	})
	if err != nil {
		return nil, err
	}
	out := r.wire(true)
	out.RoleLastUsed = nil
	return &iamapi.CreateServiceLinkedRoleResponse{Role: out}, nil
}

// DeleteServiceLinkedRole deletes a service-linked role and answers the
// deletion task's id. minicloud does not check that the service still
// uses the role (AWS's task fails then).
func (s *Service) DeleteServiceLinkedRole(ctx context.Context, in *iamapi.DeleteServiceLinkedRoleRequest) (*iamapi.DeleteServiceLinkedRoleResponse, error) {
	var task string
	err := s.update(ctx, func(tx state.Tx, sc state.Scope) error {
		h, err := roleKind.get(tx, sc, *in.RoleName)
		if err != nil {
			return err
		}
		r := h.(*roleRec)
		if r.Service == "" {
			return invalidInput("Role %s is not a service-linked role.", r.Name)
		}
		task = fmt.Sprintf("task/aws-service-role/%s/%s/%s", r.Service, r.Name, state.NewRequestID())
		if err := deletions.Put(tx, sc, key(task), struct{}{}); err != nil {
			return err
		}
		return roles.Delete(tx, sc, key(r.Name))
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteServiceLinkedRoleResponse{DeletionTaskId: new(task)}, nil
}

// GetServiceLinkedRoleDeletionStatus answers a deletion task's status.
func (s *Service) GetServiceLinkedRoleDeletionStatus(ctx context.Context, in *iamapi.GetServiceLinkedRoleDeletionStatusRequest) (*iamapi.GetServiceLinkedRoleDeletionStatusResponse, error) {
	var found bool
	err := s.view(ctx, func(tx state.Tx, sc state.Scope) error {
		var err error
		_, found, err = deletions.Get(tx, sc, key(*in.DeletionTaskId))
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchEntity("Deletion task %s cannot be found.", *in.DeletionTaskId)
	}
	return &iamapi.GetServiceLinkedRoleDeletionStatusResponse{Status: new("SUCCEEDED")}, nil
}
