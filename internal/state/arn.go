package state

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidARN is wrapped by ParseARN errors. Services turn it into their
// own validation error because the code differs per service.
var ErrInvalidARN = errors.New("state: invalid ARN")

// ARN is an Amazon Resource Name,
// arn:partition:service:region:account:resource. Region and Account are
// empty for global resources (e.g. S3 buckets, IAM has no region).
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s into its components. The resource part may itself
// contain ':' and '/'.
func ParseARN(s string) (ARN, error) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return ARN{}, fmt.Errorf("%w: %q is not arn:partition:service:region:account:resource", ErrInvalidARN, s)
	}
	a := ARN{Partition: p[1], Service: p[2], Region: p[3], Account: p[4], Resource: p[5]}
	switch {
	case a.Partition == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty partition", ErrInvalidARN, s)
	case a.Service == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty service", ErrInvalidARN, s)
	case a.Resource == "":
		return ARN{}, fmt.Errorf("%w: %q has an empty resource", ErrInvalidARN, s)
	}
	return a, nil
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// PartitionOf returns the partition a region belongs to, so ARNs minted in
// China or GovCloud regions look like the real ones.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// NewARN builds an ARN for a resource in scope s. For a global scope the
// region component is left empty, as AWS does for IAM and friends.
func NewARN(s Scope, service, resource string) ARN {
	region := s.Region
	if s.IsGlobal() {
		region = ""
	}
	return ARN{Partition: PartitionOf(region), Service: service, Region: region, Account: s.Account, Resource: resource}
}
