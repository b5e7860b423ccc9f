package sts

import (
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/state"
)

// pruneEvery is how often issuing credentials also deletes the expired
// sessions: an expired key is refused anyway (ExpiredToken), and without
// pruning every instance profile would add a stored session an hour for
// ever.
const pruneEvery = time.Minute

// pruner remembers when expired sessions were last deleted.
type pruner struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether a prune is due at now, and if so takes it.
func (p *pruner) due(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.last) < pruneEvery {
		return false
	}
	p.last = now
	return true
}

// pruneExpired deletes, within tx, the sessions that expired before now
// (kept a grace of an hour, so that a request signed just before expiry
// still meets ExpiredToken rather than an unknown key).
func pruneExpired(tx state.Tx, now time.Time) error {
	all, err := sessions.List(tx, sessionScope)
	if err != nil {
		return err
	}
	for _, s := range all {
		if !s.Expiration.IsZero() && now.Sub(s.Expiration) > time.Hour {
			if err := sessions.Delete(tx, sessionScope, s.AccessKeyID); err != nil {
				return err
			}
		}
	}
	return nil
}
