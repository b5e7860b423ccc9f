package controller

import (
	"context"
	"time"

	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The controller's work queue is internal/reconcile's, keyed by the store
// keys of instance, snapshot and DB cluster records (a cluster's change
// reconciles its members too, a custom endpoint's its cluster): each key is reconciled by one
// goroutine at a time (a slow server start holds up no other instance), a
// key changed while it was being reconciled is reconciled again, and a pass
// that asks to be retried runs again after 5 s. A parameter group's change
// re-lists every key: the instances of the group apply it.

// retryAfter is when a pass that could not finish runs again.
const retryAfter = 5 * time.Second

// newQueue returns the controller's queue, to be started.
func (c *Controller) newQueue() *reconcile.Controller[string] {
	own := func(o reconcile.Object) []string { return []string{o.StoreKey()} }
	rec := reconcile.Func[string](func(_ context.Context, key string) (reconcile.Result, error) {
		if c.reconcile(key) {
			return reconcile.Requeue(retryAfter), nil
		}
		return reconcile.Result{}, nil
	})
	return reconcile.New("rds", rec, reconcile.Options[string]{
		Logger: c.log,
		Store:  c.store,
		Sources: []reconcile.Source[string]{
			reconcile.Map(records.Instances.Service, records.Instances.Kind, own),
			reconcile.Map(records.Snapshots.Service, records.Snapshots.Kind, own),
			reconcile.Map(records.ClusterSnapshots.Service, records.ClusterSnapshots.Kind, own),
			reconcile.Map(records.ClusterVolumes.Service, records.ClusterVolumes.Kind, own),
			reconcile.Map(records.Clusters.Service, records.Clusters.Kind, func(o reconcile.Object) []string { return c.clusterKeys(o.Scope, o.ID) }),
			reconcile.Map(records.ClusterEndpoints.Service, records.ClusterEndpoints.Kind, c.endpointClusterKey),
			reconcile.All[string](records.ParamGroups.Service, records.ParamGroups.Kind),
		},
		List: c.listKeys,
	})
}

// endpointClusterKey maps an event on a custom endpoint's record to its
// cluster's key, whose pass keeps the endpoint's relay; a deleted
// endpoint's cluster record changes too, so none is needed for it.
func (c *Controller) endpointClusterKey(o reconcile.Object) []string {
	var keys []string
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		ep, found, err := records.ClusterEndpoints.Get(tx, o.Scope, o.ID)
		if err != nil || !found {
			return err
		}
		keys = append(keys, records.Clusters.Key(o.Scope, ep.Cluster))
		return nil
	})
	return keys
}

// listKeys lists every instance and snapshot record and every running
// server (whose record may be gone).
func (c *Controller) listKeys(ctx context.Context) ([]string, error) {
	var keys []string
	err := c.store.View(ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if _, _, ok := records.Instances.ParseKey(key); ok || isSnapshotKey(key) || isClusterKey(key) || isClusterSnapshotKey(key) || isVolumeKey(key) {
				keys = append(keys, key)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	return keys, nil
}

// enqueue asks for a pass over key.
func (c *Controller) enqueue(key string) { c.q.Enqueue(key) }
