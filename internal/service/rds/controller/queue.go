package controller

import (
	"time"

	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/state"
)

// The controller's work queue: which keys to reconcile, one goroutine per
// key at a time, a key changed while it was being reconciled reconciled
// again, a failed pass retried after 5 s. It follows the store (every
// instance and snapshot key, and every instance for a parameter group's).
// The shared reconcile package (internal/reconcile) is to replace this
// file.

// queue is the work queue's state.
type queue struct {
	busy  map[string]bool // being reconciled
	dirty map[string]bool // changed meanwhile: reconcile again
	unsub func()
	done  chan struct{}
}

// watch follows the store's events.
func (c *Controller) watch() {
	ch, unsub := c.store.Subscribe("")
	c.q.unsub, c.q.done = unsub, make(chan struct{})
	go func() {
		defer close(c.q.done)
		for ev := range ch {
			switch {
			case ev.Reset || ev.Resync:
				c.enqueueAll()
			default:
				if _, _, ok := records.Instances.ParseKey(ev.Key); ok || isSnapshotKey(ev.Key) {
					c.enqueue(ev.Key)
				} else if _, _, ok := records.ParamGroups.ParseKey(ev.Key); ok {
					c.enqueueAll() // the instances of the group apply it
				}
			}
		}
	}()
}

// unwatch stops following the store.
func (c *Controller) unwatch() {
	c.q.unsub()
	<-c.q.done
}

// enqueueAll schedules every instance record and every running server.
func (c *Controller) enqueueAll() {
	var keys []string
	_ = c.store.View(c.ctx, func(tx state.Tx) error {
		return tx.Scan("", func(key string, _ []byte) error {
			if _, _, ok := records.Instances.ParseKey(key); ok || isSnapshotKey(key) {
				keys = append(keys, key)
			}
			return nil
		})
	})
	c.mu.Lock()
	for k := range c.servers {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	for _, k := range keys {
		c.enqueue(k)
	}
}

func (c *Controller) enqueue(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	if c.q.busy == nil {
		c.q.busy, c.q.dirty = map[string]bool{}, map[string]bool{}
	}
	if c.q.busy[key] {
		c.q.dirty[key] = true
		return
	}
	c.q.busy[key] = true
	c.wg.Go(func() {
		for {
			retry := c.reconcile(key)
			c.mu.Lock()
			if c.q.dirty[key] && c.ctx.Err() == nil {
				delete(c.q.dirty, key)
				c.mu.Unlock()
				continue
			}
			delete(c.q.busy, key)
			c.mu.Unlock()
			if retry && c.ctx.Err() == nil {
				time.AfterFunc(5*time.Second, func() { c.enqueue(key) })
			}
			return
		}
	})
}
