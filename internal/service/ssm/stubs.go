package ssm

import (
	"context"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
)

// AddTagsToResource is not built yet.
func (s *Service) AddTagsToResource(context.Context, *ssmapi.AddTagsToResourceRequest) (*ssmapi.AddTagsToResourceResult, error) {
	return nil, notYet("AddTagsToResource")
}

// DeleteParameter is not built yet.
func (s *Service) DeleteParameter(context.Context, *ssmapi.DeleteParameterRequest) (*ssmapi.DeleteParameterResult, error) {
	return nil, notYet("DeleteParameter")
}

// DeleteParameters is not built yet.
func (s *Service) DeleteParameters(context.Context, *ssmapi.DeleteParametersRequest) (*ssmapi.DeleteParametersResult, error) {
	return nil, notYet("DeleteParameters")
}

// DescribeParameters is not built yet.
func (s *Service) DescribeParameters(context.Context, *ssmapi.DescribeParametersRequest) (*ssmapi.DescribeParametersResult, error) {
	return nil, notYet("DescribeParameters")
}

// GetParameter is not built yet.
func (s *Service) GetParameter(context.Context, *ssmapi.GetParameterRequest) (*ssmapi.GetParameterResult, error) {
	return nil, notYet("GetParameter")
}

// GetParameterHistory is not built yet.
func (s *Service) GetParameterHistory(context.Context, *ssmapi.GetParameterHistoryRequest) (*ssmapi.GetParameterHistoryResult, error) {
	return nil, notYet("GetParameterHistory")
}

// GetParameters is not built yet.
func (s *Service) GetParameters(context.Context, *ssmapi.GetParametersRequest) (*ssmapi.GetParametersResult, error) {
	return nil, notYet("GetParameters")
}

// GetParametersByPath is not built yet.
func (s *Service) GetParametersByPath(context.Context, *ssmapi.GetParametersByPathRequest) (*ssmapi.GetParametersByPathResult, error) {
	return nil, notYet("GetParametersByPath")
}

// LabelParameterVersion is not built yet.
func (s *Service) LabelParameterVersion(context.Context, *ssmapi.LabelParameterVersionRequest) (*ssmapi.LabelParameterVersionResult, error) {
	return nil, notYet("LabelParameterVersion")
}

// ListTagsForResource is not built yet.
func (s *Service) ListTagsForResource(context.Context, *ssmapi.ListTagsForResourceRequest) (*ssmapi.ListTagsForResourceResult, error) {
	return nil, notYet("ListTagsForResource")
}

// PutParameter is not built yet.
func (s *Service) PutParameter(context.Context, *ssmapi.PutParameterRequest) (*ssmapi.PutParameterResult, error) {
	return nil, notYet("PutParameter")
}

// RemoveTagsFromResource is not built yet.
func (s *Service) RemoveTagsFromResource(context.Context, *ssmapi.RemoveTagsFromResourceRequest) (*ssmapi.RemoveTagsFromResourceResult, error) {
	return nil, notYet("RemoveTagsFromResource")
}

// UnlabelParameterVersion is not built yet.
func (s *Service) UnlabelParameterVersion(context.Context, *ssmapi.UnlabelParameterVersionRequest) (*ssmapi.UnlabelParameterVersionResult, error) {
	return nil, notYet("UnlabelParameterVersion")
}
