package controller

import (
	"slices"
	"time"

	"github.com/minicloud/minicloud/internal/metricport"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// An Aurora cluster's AWS/RDS metrics, made from its members' readings as
// AWS publishes them:
//
//   - AuroraReplicaLag (Milliseconds), per reader (DBInstanceIdentifier):
//     its last lag measured (metrics.go);
//   - AuroraReplicaLagMaximum and AuroraReplicaLagMinimum (Milliseconds),
//     the largest and smallest of the readers' lags, on the writer: under
//     its DBInstanceIdentifier and under DBClusterIdentifier;
//   - CPUUtilization and DatabaseConnections of every member also under
//     DBClusterIdentifier with Role (WRITER or READER), and under
//     DBClusterIdentifier alone (CloudWatch's statistics over the members'
//     datapoints are the cluster's).

// readMember adds member id's place in its cluster to reading r: its
// cluster and role, and on the writer its readers' last lags.
func (c *Controller) readMember(sc state.Scope, id string, rec *records.Instance, r *instanceReading) {
	var cl records.Cluster
	var found bool
	err := c.store.View(c.ctx, func(tx state.Tx) error {
		var err error
		cl, found, err = records.Clusters.Get(tx, sc, deref(rec.DBClusterIdentifier))
		return err
	})
	if err != nil || !found || cl.Member(id) == nil {
		return
	}
	r.Cluster, r.Role = deref(cl.DBClusterIdentifier), "READER"
	if cl.Writer() != id {
		return
	}
	// A writer that was a reader before a failover may have a lag
	// measured then: a writer has none.
	r.Role, r.Lag = "WRITER", nil
	for _, mid := range memberIDs(&cl) {
		if mid == id {
			continue
		}
		if s, ok := c.LastLag(records.Instances.Key(sc, mid)); ok && s.Err == "" {
			r.ReaderLags = append(r.ReaderLags, s.Lag)
		}
	}
}

// clusterData is member reading r's datapoints under its cluster's
// dimensions (none for an instance of no cluster), vals its own values.
func clusterData(r instanceReading, vals []metricport.Datum, at time.Time) []metricport.Datum {
	if r.Cluster == "" {
		return nil
	}
	cluster := metricport.Dim{Name: "DBClusterIdentifier", Value: r.Cluster}
	var out []metricport.Datum
	for _, d := range vals {
		if d.Name != "CPUUtilization" && d.Name != "DatabaseConnections" {
			continue
		}
		for _, dims := range [][]metricport.Dim{{cluster, {Name: "Role", Value: r.Role}}, {cluster}} {
			d.Dims = dims
			out = append(out, d)
		}
	}
	if len(r.ReaderLags) == 0 {
		return out
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for name, v := range map[string]float64{
		"AuroraReplicaLagMaximum": ms(slices.Max(r.ReaderLags)),
		"AuroraReplicaLagMinimum": ms(slices.Min(r.ReaderLags)),
	} {
		for _, dims := range [][]metricport.Dim{{{Name: "DBInstanceIdentifier", Value: r.ID}}, {cluster}} {
			out = append(out, metricport.Datum{Namespace: "AWS/RDS", Name: name, Unit: "Milliseconds", Time: at, Value: v, Dims: dims})
		}
	}
	return out
}
