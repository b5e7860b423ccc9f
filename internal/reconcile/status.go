package reconcile

import (
	"fmt"
	"time"
)

// Status is a controller's health, as /_minicloud/health shows it.
type Status struct {
	Name    string
	Running bool
	// Passes counts finished reconciles, Failures those that failed.
	Passes, Failures int
	// LastPass is when the last reconcile finished.
	LastPass time.Time
	// LastError is the most recent failure, of LastErrorKey at
	// LastErrorAt; it may have been retried with success since: Failing
	// says whether a key fails now.
	LastError    error
	LastErrorKey any
	LastErrorAt  time.Time
	// Failing counts keys whose last reconcile failed; Queued keys waiting
	// for a reconcile to start (due, waiting for their time, or to run
	// again after the one in flight); InFlight keys reconciling now.
	Failing, Queued, InFlight int
}

// Status returns the controller's counters.
func (c *Controller[K]) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{
		Name: c.name, Running: c.started && !c.stopping,
		Passes: c.stats.passes, Failures: c.stats.failures, LastPass: c.stats.lastPass,
		LastError: c.stats.lastErr, LastErrorKey: c.stats.lastErrKey, LastErrorAt: c.stats.lastErrAt,
		InFlight: c.inFlight,
	}
	for _, it := range c.items {
		if it.failures > 0 {
			st.Failing++
		}
		if it.wanted {
			st.Queued++
		}
	}
	return st
}

// Map is the status as JSON-friendly fields for /_minicloud/health: times
// in RFC 3339, and the last error (as text, with its key and time) only
// while a key fails, as health tells what is wrong now.
func (s Status) Map() map[string]any {
	out := map[string]any{
		"running": s.Running, "passes": s.Passes, "failures": s.Failures,
		"failing": s.Failing, "queued": s.Queued, "inFlight": s.InFlight,
	}
	if !s.LastPass.IsZero() {
		out["lastReconcile"] = s.LastPass.UTC().Format(time.RFC3339Nano)
	}
	if s.LastError != nil && s.Failing > 0 {
		out["lastError"] = s.LastError.Error()
		out["lastErrorKey"] = fmt.Sprint(s.LastErrorKey)
		out["lastErrorAt"] = s.LastErrorAt.UTC().Format(time.RFC3339Nano)
	}
	return out
}
