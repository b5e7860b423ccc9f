package rds

import (
	"context"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/state"
)

// Backtrack rewinds an Aurora MySQL cluster's shared storage in place.
// minicloud's aurora-mysql members are MariaDB servers, which cannot rewind
// their data in place, so no minicloud cluster backtracks: BacktrackWindow
// (CreateDBCluster) and the backtrack operations get the answer AWS gives
// for an engine or engine version without Backtrack, which each cluster
// engine states (engine.ClusterDefaults.NoBacktrack).
// RestoreDBClusterToPointInTime (a new cluster) is the way back to an
// earlier time.

// errNoBacktrack is eng's answer to a backtrack.
func errNoBacktrack(eng engine.Clusters) error {
	nb := eng.Cluster().NoBacktrack
	return api.Errorf(http.StatusBadRequest, nb.Code, "%s", nb.Message)
}

// clusterNoBacktrack is errNoBacktrack for cluster raw, or
// DBClusterNotFoundFault.
func (s *Service) clusterNoBacktrack(ctx context.Context, raw string) error {
	return s.store.View(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, scopeOf(ctx), raw)
		if err != nil {
			return err
		}
		eng, ok := s.engines.Get(deref(c.Engine)).(engine.Clusters)
		if !ok {
			return errInvalidParam("minicloud does not run the engine %s.", deref(c.Engine))
		}
		return errNoBacktrack(eng)
	})
}

// BacktrackDBCluster is refused: no minicloud DB cluster backtracks.
func (s *Service) BacktrackDBCluster(ctx context.Context, in *rdsapi.BacktrackDBClusterMessage) (*rdsapi.DBClusterBacktrack, error) {
	return nil, s.clusterNoBacktrack(ctx, deref(in.DBClusterIdentifier))
}

// DescribeDBClusterBacktracks is refused as BacktrackDBCluster is: a
// cluster without Backtrack has no backtracks to list (AWS answers so too).
func (s *Service) DescribeDBClusterBacktracks(ctx context.Context, in *rdsapi.DescribeDBClusterBacktracksMessage) (*rdsapi.DBClusterBacktrackMessage, error) {
	return nil, s.clusterNoBacktrack(ctx, deref(in.DBClusterIdentifier))
}
