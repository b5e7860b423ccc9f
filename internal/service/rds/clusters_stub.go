package rds

import (
	"context"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
)

// The DB cluster operations until their handlers land.

func errClustersNotYet() error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameterCombination", "minicloud does not run DB clusters yet.")
}

// CreateDBCluster is not yet implemented.
func (s *Service) CreateDBCluster(context.Context, *rdsapi.CreateDBClusterMessage) (*rdsapi.CreateDBClusterResult, error) {
	return nil, errClustersNotYet()
}

// CreateDBClusterParameterGroup is not yet implemented.
func (s *Service) CreateDBClusterParameterGroup(context.Context, *rdsapi.CreateDBClusterParameterGroupMessage) (*rdsapi.CreateDBClusterParameterGroupResult, error) {
	return nil, errClustersNotYet()
}

// DeleteDBCluster is not yet implemented.
func (s *Service) DeleteDBCluster(context.Context, *rdsapi.DeleteDBClusterMessage) (*rdsapi.DeleteDBClusterResult, error) {
	return nil, errClustersNotYet()
}

// DeleteDBClusterParameterGroup is not yet implemented.
func (s *Service) DeleteDBClusterParameterGroup(context.Context, *rdsapi.DeleteDBClusterParameterGroupMessage) (*rdsapi.Empty, error) {
	return nil, errClustersNotYet()
}

// DescribeDBClusterParameterGroups is not yet implemented.
func (s *Service) DescribeDBClusterParameterGroups(context.Context, *rdsapi.DescribeDBClusterParameterGroupsMessage) (*rdsapi.DBClusterParameterGroupsMessage, error) {
	return nil, errClustersNotYet()
}

// DescribeDBClusterParameters is not yet implemented.
func (s *Service) DescribeDBClusterParameters(context.Context, *rdsapi.DescribeDBClusterParametersMessage) (*rdsapi.DBClusterParameterGroupDetails, error) {
	return nil, errClustersNotYet()
}

// DescribeDBClusters is not yet implemented.
func (s *Service) DescribeDBClusters(context.Context, *rdsapi.DescribeDBClustersMessage) (*rdsapi.DBClusterMessage, error) {
	return nil, errClustersNotYet()
}

// DescribeEngineDefaultClusterParameters is not yet implemented.
func (s *Service) DescribeEngineDefaultClusterParameters(context.Context, *rdsapi.DescribeEngineDefaultClusterParametersMessage) (*rdsapi.DescribeEngineDefaultClusterParametersResult, error) {
	return nil, errClustersNotYet()
}

// ModifyDBCluster is not yet implemented.
func (s *Service) ModifyDBCluster(context.Context, *rdsapi.ModifyDBClusterMessage) (*rdsapi.ModifyDBClusterResult, error) {
	return nil, errClustersNotYet()
}

// ModifyDBClusterParameterGroup is not yet implemented.
func (s *Service) ModifyDBClusterParameterGroup(context.Context, *rdsapi.ModifyDBClusterParameterGroupMessage) (*rdsapi.DBClusterParameterGroupNameMessage, error) {
	return nil, errClustersNotYet()
}

// ResetDBClusterParameterGroup is not yet implemented.
func (s *Service) ResetDBClusterParameterGroup(context.Context, *rdsapi.ResetDBClusterParameterGroupMessage) (*rdsapi.DBClusterParameterGroupNameMessage, error) {
	return nil, errClustersNotYet()
}

// StartDBCluster is not yet implemented.
func (s *Service) StartDBCluster(context.Context, *rdsapi.StartDBClusterMessage) (*rdsapi.StartDBClusterResult, error) {
	return nil, errClustersNotYet()
}

// StopDBCluster is not yet implemented.
func (s *Service) StopDBCluster(context.Context, *rdsapi.StopDBClusterMessage) (*rdsapi.StopDBClusterResult, error) {
	return nil, errClustersNotYet()
}
