package rds

import (
	"context"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/state"
)

// Backtrack rewinds an Aurora MySQL cluster's shared storage in place.
// minicloud's aurora-mysql members are MariaDB servers, which cannot rewind
// their data in place, so no minicloud cluster backtracks: BacktrackWindow
// (CreateDBCluster) and the backtrack operations get the answer AWS gives
// for an engine or engine version without Backtrack — for aurora-mysql,
// AWS's InvalidParameterCombination for an Aurora MySQL version that does
// not support it; for aurora-postgresql, the InvalidParameterValue AWS gives
// an engine without Backtrack. RestoreDBClusterToPointInTime (a new
// cluster) is the way back to an earlier time.

// errNoBacktrack is the answer for engine eng at version to a backtrack.
func errNoBacktrack(eng, version string) error {
	if eng == "aurora-mysql" {
		return errCombination("Aurora MySQL Engine Version %s with mode: PROVISIONED does not support Backtrack. (minicloud runs Aurora MySQL on MariaDB, which cannot rewind a DB cluster in place: use RestoreDBClusterToPointInTime.)", version)
	}
	return errInvalidParam("Backtrack is not enabled for the %s engine.", eng)
}

// clusterNoBacktrack is errNoBacktrack for cluster raw, or
// DBClusterNotFoundFault.
func (s *Service) clusterNoBacktrack(ctx context.Context, raw string) error {
	return s.store.View(ctx, func(tx state.Tx) error {
		c, err := getCluster(tx, scopeOf(ctx), raw)
		if err != nil {
			return err
		}
		return errNoBacktrack(deref(c.Engine), deref(c.EngineVersion))
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
