package sts

import (
	"context"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/state"
)

// TestExpiredSessionsPruned: issuing credentials deletes the sessions that
// expired more than an hour ago (at most once a minute), so an instance's
// hourly role credentials do not pile up in the store; a session still
// valid, or only just expired, is kept and resolves (or is ExpiredToken).
func TestExpiredSessionsPruned(t *testing.T) {
	ctx := context.Background()
	s := New(state.NewMemory(), nil)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	mint := func(name string, d time.Duration) string {
		t.Helper()
		c, err := s.RoleCredentials().RoleCredentials(ctx, iamport.Session{Account: "123456789012",
			Role: iamport.Role{Name: "web", ID: "AROAEXAMPLE", ARN: "arn:aws:iam::123456789012:role/web"}, Name: name, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		return c.AccessKeyID
	}
	known := func(key string) bool {
		t.Helper()
		var found bool
		_ = s.store.View(ctx, func(tx state.Tx) error { _, found, _ = sessions.Get(tx, sessionScope, key); return nil })
		return found
	}
	old := mint("i-old", time.Hour)             // expires 13:00
	recent := mint("i-recent", 2*time.Hour)     // expires 14:00
	now = now.Add(2*time.Hour + 30*time.Minute) // 14:30: old is 90 min past expiry, recent 30 min
	mint("i-new", 6*time.Hour)
	if known(old) {
		t.Errorf("a session 90 minutes past its expiry is still stored")
	}
	if !known(recent) {
		t.Errorf("a session 30 minutes past its expiry was deleted (it must still answer ExpiredToken)")
	}
	if _, _, err := s.Resolve(ctx, recent); err == nil {
		t.Errorf("an expired session resolved without ExpiredToken")
	}
	// The next prune, two hours on, takes recent (now 2.5 h past expiry).
	now = now.Add(2 * time.Hour)
	mint("i-2", time.Hour)
	if known(recent) {
		t.Errorf("a session 2.5 hours past its expiry is still stored after the next prune")
	}
}
