package cloudtrail

import (
	"context"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/cloudtrailapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Trails deliver events to an S3 bucket, which minicloud does not have
// yet: CreateTrail answers as AWS does for a bucket that does not exist,
// and the trail listings answer the truth — no trails. Trails come with
// S3.

// CreateTrail refuses every bucket: none exists.
func (s *Service) CreateTrail(_ context.Context, in *cloudtrailapi.CreateTrailRequest) (*cloudtrailapi.CreateTrailResponse, error) {
	return nil, clientError("S3BucketDoesNotExistException", "S3 bucket %s does not exist!", deref(in.S3BucketName))
}

// DescribeTrails lists no trails.
func (s *Service) DescribeTrails(context.Context, *cloudtrailapi.DescribeTrailsRequest) (*cloudtrailapi.DescribeTrailsResponse, error) {
	return &cloudtrailapi.DescribeTrailsResponse{TrailList: []cloudtrailapi.Trail{}}, nil
}

// ListTrails lists no trails.
func (s *Service) ListTrails(context.Context, *cloudtrailapi.ListTrailsRequest) (*cloudtrailapi.ListTrailsResponse, error) {
	return &cloudtrailapi.ListTrailsResponse{Trails: []cloudtrailapi.TrailInfo{}}, nil
}

// GetTrailStatus knows no trail.
func (s *Service) GetTrailStatus(ctx context.Context, in *cloudtrailapi.GetTrailStatusRequest) (*cloudtrailapi.GetTrailStatusResponse, error) {
	info := api.Request(ctx)
	name := deref(in.Name)
	arn := name
	if len(name) < 4 || name[:4] != "arn:" {
		arn = "arn:" + state.PartitionOf(info.Region) + ":cloudtrail:" + info.Region + ":" + info.Account + ":trail/" + name
	}
	return nil, clientError("TrailNotFoundException", "Unknown trail: %s for the user: %s", arn, info.Account)
}
