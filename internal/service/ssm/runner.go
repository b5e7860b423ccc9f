package ssm

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/state"
)

// The runner runs recorded commands: each invocation's steps in its
// instance (agentport.Executor: /bin/sh -c with the step's commands, as
// root, in its working directory, killed at its execution timeout), at
// most MaxConcurrency invocations at once, no new one once more than
// MaxErrors failed. Every transition is written to the command's record
// before the next step; the record is the only state that outlives the
// runner. Stopping kills what runs and writes nothing more: the next
// start finds those invocations unfinished and records them as failed
// (recoverInterrupted).

type runner struct {
	s      *Service
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	// running are the invocations' cancel functions, by command and
	// instance.
	running map[string]map[string]context.CancelFunc
}

func newRunner(s *Service) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{s: s, ctx: ctx, cancel: cancel, running: map[string]map[string]context.CancelFunc{}}
}

// start runs command id of sc in the background.
func (r *runner) start(sc state.Scope, id string) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.run(sc, id); err != nil && r.ctx.Err() == nil {
			r.s.cfg.Logger.Warn("ssm: command failed to run", "command", id, "err", err)
		}
	}()
}

// stop kills every running invocation and waits for the runs to end.
func (r *runner) stop(ctx context.Context) error {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// update changes command id in one write transaction; nothing is written
// once the runner stops.
func (r *runner) update(sc state.Scope, id string, fn func(c *commandRecord)) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	return r.s.store.Update(context.WithoutCancel(r.ctx), func(tx state.Tx) error {
		c, ok, err := commands.Get(tx, sc, id)
		if err != nil || !ok {
			return err
		}
		fn(&c)
		return commands.Put(tx, sc, id, c)
	})
}

func (c *commandRecord) invocation(instanceID string) *invocation {
	for i := range c.Invocations {
		if c.Invocations[i].InstanceID == instanceID {
			return &c.Invocations[i]
		}
	}
	return nil
}

// run runs a command's invocations and records its outcome.
func (r *runner) run(sc state.Scope, id string) error {
	var c commandRecord
	err := r.s.store.View(r.ctx, func(tx state.Tx) error {
		var err error
		c, _, err = commands.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return err
	}
	n := len(c.Invocations)
	concurrency := limit(c.MaxConcurrency, n, true)
	maxErrors := limit(c.MaxErrors, n, false)
	if err := r.update(sc, id, func(c *commandRecord) {
		if c.Status == cmdPending {
			c.Status, c.StatusDetails = cmdInProgress, cmdInProgress
		}
	}); err != nil {
		return err
	}
	sem := make(chan struct{}, concurrency)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs int
	)
	for _, inv := range c.Invocations {
		sem <- struct{}{}
		mu.Lock()
		over := errs > maxErrors
		mu.Unlock()
		if over || r.ctx.Err() != nil {
			<-sem
			// Past MaxErrors the command is not sent to the others.
			_ = r.update(sc, id, func(c *commandRecord) {
				if x := c.invocation(inv.InstanceID); x != nil && x.Status == cmdPending {
					x.Status, x.StatusDetails = cmdCancelled, cmdCancelled
				}
			})
			continue
		}
		wg.Add(1)
		go func(instanceID string) {
			defer wg.Done()
			defer func() { <-sem }()
			if status := r.invoke(sc, &c, instanceID); status == cmdFailed || status == cmdTimedOut {
				mu.Lock()
				errs++
				mu.Unlock()
			}
		}(inv.InstanceID)
	}
	wg.Wait()
	return r.update(sc, id, func(c *commandRecord) { c.finish(maxErrors) })
}

// finish sets a command's status from its invocations once all are done.
func (c *commandRecord) finish(maxErrors int) {
	_, done, errs, delivery := c.counts()
	if int(done) < len(c.Invocations) {
		return
	}
	cancelled := false
	for _, inv := range c.Invocations {
		cancelled = cancelled || inv.Status == cmdCancelled
	}
	switch {
	case c.Status == cmdCancelling || (cancelled && int(errs) <= maxErrors):
		c.Status, c.StatusDetails = cmdCancelled, cmdCancelled
	case int(errs) > maxErrors && delivery == errs:
		c.Status, c.StatusDetails = cmdTimedOut, "DeliveryTimedOut"
	case int(errs) > maxErrors:
		c.Status, c.StatusDetails = cmdFailed, cmdFailed
	default:
		c.Status, c.StatusDetails = cmdSuccess, cmdSuccess
	}
}

// invoke runs a command's steps on one instance and records each; it
// returns the invocation's final status.
func (r *runner) invoke(sc state.Scope, c *commandRecord, instanceID string) string {
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	r.mu.Lock()
	if r.running[c.ID] == nil {
		r.running[c.ID] = map[string]context.CancelFunc{}
	}
	r.running[c.ID][instanceID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running[c.ID], instanceID)
		if len(r.running[c.ID]) == 0 {
			delete(r.running, c.ID)
		}
		r.mu.Unlock()
	}()
	if err := r.deliver(ctx, sc, c, instanceID); err != nil {
		if r.ctx.Err() != nil {
			return "" // minicloud stops: the next start records it
		}
		status, details := cmdTimedOut, "DeliveryTimedOut"
		if ctx.Err() != nil {
			status, details = cmdCancelled, cmdCancelled
		}
		_ = r.update(sc, c.ID, func(c *commandRecord) {
			if inv := c.invocation(instanceID); !terminal(inv.Status) {
				inv.Status, inv.StatusDetails, inv.End = status, details, r.s.now()
			}
		})
		return status
	}
	start := r.s.now()
	skip := false
	_ = r.update(sc, c.ID, func(c *commandRecord) {
		inv := c.invocation(instanceID)
		if inv.Status != cmdPending && inv.Status != "Delayed" {
			skip = true // cancelled before it started
			return
		}
		inv.Status, inv.StatusDetails, inv.Start = cmdInProgress, cmdInProgress, start
		for _, st := range c.Steps {
			inv.Plugins = append(inv.Plugins, pluginResult{Name: st.Name, Status: cmdPending, StatusDetails: cmdPending, ResponseCode: -1})
		}
	})
	if skip {
		return cmdCancelled
	}
	final := cmdSuccess
	for i, st := range c.Steps {
		res := r.step(ctx, agentport.Target{Account: sc.Account, Region: sc.Region, InstanceID: instanceID}, st)
		if ctx.Err() != nil && r.ctx.Err() != nil {
			return "" // minicloud stops: the next start records it
		}
		switch {
		case res.Status == cmdCancelled:
			final = cmdCancelled
		case res.Status == cmdTimedOut && final != cmdCancelled:
			final = cmdTimedOut
		case res.Status == cmdFailed && final == cmdSuccess:
			final = cmdFailed
		}
		_ = r.update(sc, c.ID, func(c *commandRecord) {
			inv := c.invocation(instanceID)
			inv.Plugins[i] = res
		})
	}
	details := final
	if final == cmdTimedOut {
		details = "ExecutionTimedOut"
	}
	_ = r.update(sc, c.ID, func(c *commandRecord) {
		inv := c.invocation(instanceID)
		inv.Status, inv.StatusDetails, inv.End = final, details, r.s.now()
	})
	return final
}

// deliveryRetry is how often an invocation whose instance is not
// connected is tried again.
const deliveryRetry = 5 * time.Second

// deliver waits until the invocation's instance is connected (its agent
// would fetch the command), until the command's TimeoutSeconds after it
// was sent: an error then. Meanwhile the invocation is Delayed, as AWS
// shows a command its target has not picked up.
func (r *runner) deliver(ctx context.Context, sc state.Scope, c *commandRecord, instanceID string) error {
	deadline := c.Requested.Add(time.Duration(c.TimeoutSeconds) * time.Second)
	for {
		if r.s.TargetConnected(ctx, sc.Account, sc.Region, instanceID) == nil {
			return nil
		}
		if !r.s.now().Before(deadline) {
			return errors.New("delivery timed out")
		}
		_ = r.update(sc, c.ID, func(c *commandRecord) {
			if inv := c.invocation(instanceID); inv.Status == cmdPending {
				inv.Status, inv.StatusDetails = "Delayed", "Delayed"
			}
		})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(deliveryRetry):
		}
	}
}

// step runs one step in an instance.
func (r *runner) step(ctx context.Context, t agentport.Target, st cmdStep) pluginResult {
	res := pluginResult{Name: st.Name, ResponseCode: -1, Start: r.s.now()}
	finish := func(status, details string) pluginResult {
		res.Status, res.StatusDetails, res.End = status, details, r.s.now()
		return res
	}
	if r.s.cfg.Agent == nil {
		res.Stderr = "the instance runs nowhere: minicloud's data plane is off"
		return finish(cmdFailed, "Undeliverable")
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(st.Timeout)*time.Second)
	defer cancel()
	p, err := r.s.cfg.Agent.Exec(runCtx, t, agentport.Spec{Argv: []string{"/bin/sh", "-c", strings.Join(st.Commands, "\n")},
		Env: r.s.cfg.AgentEnv, Dir: st.Dir, User: agentport.Root})
	if err != nil {
		res.Stderr = err.Error()
		if errors.Is(err, agentport.ErrNotRunning) {
			return finish(cmdFailed, "Undeliverable")
		}
		return finish(cmdFailed, cmdFailed)
	}
	defer p.Close()
	_ = p.Stdin().Close()
	var out, errOut capped
	out.max, errOut.max = maxStdout, maxStderr
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(&out, p.Stdout()) }()
	go func() { defer wg.Done(); _, _ = io.Copy(&errOut, p.Stderr()) }()
	// The streams are read to their end before Wait, which may release
	// them.
	wg.Wait()
	code, werr := p.Wait()
	res.Stdout, res.Stderr = out.String(), errOut.String()
	switch {
	case ctx.Err() != nil:
		return finish(cmdCancelled, cmdCancelled)
	case runCtx.Err() != nil:
		return finish(cmdTimedOut, "ExecutionTimedOut")
	case werr != nil:
		res.Stderr += werr.Error()
		return finish(cmdFailed, cmdFailed)
	}
	res.ResponseCode = int32(code)
	if code != 0 {
		return finish(cmdFailed, cmdFailed)
	}
	return finish(cmdSuccess, cmdSuccess)
}

// capped keeps the first max characters written to it and drops the
// rest, so that a chatty process never blocks on its pipe.
type capped struct {
	max int
	n   int // characters kept
	b   strings.Builder
}

func (c *capped) Write(p []byte) (int, error) {
	if c.n < c.max {
		s := string(p)
		for _, r := range s {
			if c.n >= c.max {
				break
			}
			c.b.WriteRune(r)
			c.n++
		}
	}
	return len(p), nil
}

func (c *capped) String() string { return c.b.String() }

// cancelInvocations cancels a command's running invocations on the given
// instances (all when none).
func (r *runner) cancelInvocations(id string, instances []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for inst, cancel := range r.running[id] {
		if len(instances) == 0 || slices.Contains(instances, inst) {
			cancel()
		}
	}
}

// recoverInterrupted records the invocations a stop or crash interrupted
// as failed, and their commands' outcomes.
func (r *runner) recoverInterrupted(ctx context.Context) error {
	now := r.s.now()
	return r.s.store.Update(ctx, func(tx state.Tx) error {
		type found struct {
			sc state.Scope
			id string
		}
		var todo []found
		err := tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := commands.ParseKey(key); ok {
				todo = append(todo, found{sc, id})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, f := range todo {
			c, ok, err := commands.Get(tx, f.sc, f.id)
			if err != nil || !ok || terminal(c.Status) {
				continue
			}
			for i := range c.Invocations {
				inv := &c.Invocations[i]
				if terminal(inv.Status) {
					continue
				}
				inv.Status, inv.StatusDetails, inv.End = cmdFailed, cmdFailed, now
				for j := range inv.Plugins {
					p := &inv.Plugins[j]
					if !terminal(p.Status) {
						p.Status, p.StatusDetails, p.End = cmdFailed, cmdFailed, now
						if utf8.RuneCountInString(p.Stderr) < maxStderr-60 {
							p.Stderr += "\nminicloud stopped while the command ran."
						}
					}
				}
			}
			c.finish(limit(c.MaxErrors, len(c.Invocations), false))
			if err := commands.Put(tx, f.sc, f.id, c); err != nil {
				return err
			}
		}
		return nil
	})
}
