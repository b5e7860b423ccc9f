package controller

import (
	"github.com/minicloud/minicloud/internal/service/rds/records"
)

// createRetries is how many times a new replica or cluster member whose
// data could not be copied from its source is tried again before it is
// failed. The copy streams from a running server and is cut when that
// server restarts (a writer applying the settings its first readers need,
// a failover): AWS does not fail a new reader for that, so the copy is
// made again from the source as it is now.
const createRetries = 3

// copiesFromSource reports whether rec's data is made from another
// server's: a read replica's, or an Aurora cluster member's.
func copiesFromSource(rec *records.Instance) bool {
	return deref(rec.ReadReplicaSourceDBInstanceIdentifier) != "" || deref(rec.DBClusterIdentifier) != ""
}

// retryCreation counts a failed creation of key and reports whether it is
// to be tried again.
func (c *Controller) retryCreation(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.createTries == nil {
		c.createTries = map[string]int{}
	}
	c.createTries[key]++
	return c.createTries[key] <= createRetries
}

// createdOrGone forgets key's failed creations.
func (c *Controller) createdOrGone(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.createTries, key)
}
