package cloudwatch

import (
	"context"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/state"
)

// TestPruneHistory: items older than two weeks are deleted, in every
// scope; newer ones stay.
func TestPruneHistory(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s, err := New(Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx := context.Background()
	scopes := []state.Scope{{Account: "000000000000", Region: "us-east-1"}, {Account: "111111111111", Region: "eu-west-1"}}
	ages := []time.Duration{15 * 24 * time.Hour, 14*24*time.Hour + time.Second, 14*24*time.Hour - time.Second, time.Hour}
	err = s.state.Update(ctx, func(tx state.Tx) error {
		for _, sc := range scopes {
			for _, age := range ages {
				if err := addHistory(tx, sc, historyRecord{Name: "a", Type: "StateUpdate", Time: now.Add(-age)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.pruneHistory(ctx, now)
	if err != nil || n != 4 {
		t.Fatalf("pruned %d, %v; want 4", n, err)
	}
	for _, sc := range scopes {
		var left []time.Duration
		err := s.state.View(ctx, func(tx state.Tx) error {
			return history.ForEach(tx, sc, func(_ string, h historyRecord) error {
				left = append(left, now.Sub(h.Time))
				return nil
			})
		})
		if err != nil || len(left) != 2 || left[0] != ages[2] || left[1] != ages[3] {
			t.Errorf("%v: left %v, %v", sc, left, err)
		}
	}
	if n, err := s.pruneHistory(ctx, now); n != 0 || err != nil {
		t.Errorf("second prune: %d, %v", n, err)
	}
}
