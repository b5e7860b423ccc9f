// Package ec2 implements the EC2 and VPC control plane: a record (desired
// state) for every resource, AWS's validation, defaults and errors, and the
// instance state machine. It owns the "ec2" part of the state store; data
// planes read that state through DesiredNetwork, the runtime seam
// (runtime.go) and the VPC endpoint seam (vpcendpoint_runtime.go:
// DesiredEndpoint(s), ReportEndpointAvailable), never this package's
// internals.
//
// Launch templates (launchtemplate.go) are records with all their versions;
// RunInstances merges a template's data into its request before anything
// else, so an instance launched from one is checked and run as any other.
// Instance options (instance_options.go: metadata options, monitoring,
// credits) are recorded where the runtime reads them (InstanceSpec).
// Placement groups (placementgroup.go) are names RunInstances checks.
//
// A mutating handler checks its request alone first, reading no state;
// then, in one write transaction (Service.update), it reads and plans
// against what is stored and writes, so every check that depends on stored
// state is made where the write is. AWS's error codes, messages and order
// of checks are kept. Long switches over names are tables
// (instanceAttributes, instanceFilters).
//
// Resources one account shares with others (snapshots' createVolumePermission,
// images' launchPermission) stay in the owner's scope; a region-wide index
// (share.go) lets the other accounts' lookups and Describe calls reach them,
// and only them. EBS encryption by default and its KMS key are per account
// and region (ebs_encryption.go); volume modifications and snapshot and image
// copies settle by the clock like the other transitional states.
package ec2

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/state"
)

// Service is the EC2 implementation.
type Service struct {
	store state.Store
	now   func() time.Time
	// runtime runs instances; nil when none (runtime.go).
	runtime Runtime
	// publicPool is where public IPs come from (ipam.go).
	publicPool netip.Prefix
	// profiles checks the instance profiles requests name (iamprofile.go);
	// nil records them unchecked.
	profiles iamport.Profiles
	// endpointRuntime: an endpoint controller serves interface endpoints
	// and reports them available (vpcendpoint_runtime.go).
	endpointRuntime bool
}

// New returns the EC2 service over store, configured by opts (runtime.go).
func New(store state.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, publicPool: DefaultPublicPool}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handlers returns the operations for the gateway.
func (s *Service) Handlers() map[string]api.Handler { return ec2api.Handlers(s) }

// Info describes the service to the gateway.
func (s *Service) Info() *api.ServiceInfo { return ec2api.Info }

// dryRun answers as EC2 does when DryRun is set and the caller is allowed,
// which in minicloud it always is: HTTP 412 DryRunOperation.
func dryRun(flag *bool) error {
	if flag != nil && *flag {
		return api.Errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// ctxRegion is the region the request was signed for.
func ctxRegion(ctx context.Context) string { return api.Request(ctx).Region }
