// Package reconcile is the one reconcile loop every minicloud controller
// runs on, in the Kubernetes controller style: API handlers record desired
// state in the store, and a controller moves the real world (namespaces,
// processes, servers, firewall rules) towards it, one key at a time.
//
// # The model
//
// A controller is told which key may have changed, never what changed: its
// Reconciler re-reads the desired state of that key and converges, so
// events may be coalesced, lost (a Resync re-lists) or repeated without
// harm. Keys are any comparable type; Key (account, region and ID) is the
// usual one, and a controller with one whole-world pass uses a single
// constant key.
//
// What a controller watches is a list of Sources: each names a service and
// kind of the store's keys (<account>/<region>/<service>/<kind>/<id>) and
// maps an event of such a key to the keys it concerns — the object's own
// Key (Objects), keys of the controller's own choosing (Map: an EC2 volume
// deletion enqueues that volume's data for garbage collection), or every
// key (All: an RDS parameter group change concerns every instance). A
// Reset or Resync event (the store was wiped, or this subscriber fell
// behind and lost events) re-lists: Options.List returns every key the
// controller must look at, and each is reconciled. List also runs at Start
// and every Options.Resync, which repairs drift nobody reported.
//
// # The queue
//
// Each key is in the queue at most once, and never reconciled by two
// goroutines at once. An event for a key that is being reconciled marks it
// dirty: it runs once more after the current reconcile, however many
// events came meanwhile. Enqueue waits Options.Debounce first (a burst of
// events costs one reconcile; later events do not extend the wait, so
// latency stays bounded); Sync and List do not wait.
//
// A reconcile returns a Result and an error:
//
//   - nil error and a zero Result: done until the next event;
//   - nil error and RequeueAfter: reconcile again after that long (a
//     process to watch, a launch to retry on the reconciler's own
//     schedule), unless an event brings it forward;
//   - an error: logged with the key and retried after a per-key exponential
//     backoff (Options.MinBackoff doubling up to MaxBackoff), which a
//     success resets.
//
// Options.Workers bounds how many keys reconcile at once; zero means one
// goroutine per busy key, so that a slow key (an instance booting, a
// database initializing) never holds up the others.
//
// # Waiting, stopping, health
//
// Sync(ctx, key) waits for a reconcile of key that starts after the call
// (at once, without debounce or backoff) and returns its error: a caller
// that needs the world converged before it goes on (security groups on an
// ENI before a process starts behind it) uses it.
//
// Start subscribes and returns at once; Stop cancels the context every
// reconcile gets, waits for the reconciles in flight and then
// Options.OnStop (a controller's own shutdown: stop what it runs, without
// reporting), within the caller's deadline. Nothing of a stopped controller
// keeps running: its tests check that no goroutine leaks.
//
// Status gives the counters /_minicloud/health shows: reconciles, failures,
// the last error and its key, keys failing, queued and in flight.
package reconcile
