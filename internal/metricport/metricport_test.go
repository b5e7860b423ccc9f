package metricport

import (
	"context"
	"log/slog"
	"maps"
	"sync/atomic"
	"testing"
	"time"
)

func TestDeltas(t *testing.T) {
	var d Deltas[string]
	steps := []struct {
		key  string
		v    float64
		want float64
	}{
		{"a", 10, 10}, // from zero
		{"a", 15, 5},
		{"b", 3, 3},
		{"a", 15, 0},
		{"a", 4, 4}, // went back: its source restarted
		{"b", 7, 4},
	}
	for i, s := range steps {
		if got := d.Delta(s.key, s.v); got != s.want {
			t.Errorf("step %d: Delta(%s, %v) = %v, want %v", i, s.key, s.v, got, s.want)
		}
	}
	d.Forget(func(k string) bool { return k == "b" })
	if got := d.Delta("a", 100); got != 100 {
		t.Errorf("a forgotten key: %v, want from zero", got)
	}
	if got := d.Delta("b", 8); got != 1 {
		t.Errorf("a kept key: %v, want 1", got)
	}
}

func TestLoop(t *testing.T) {
	var l Loop
	l.Stop() // a stopped loop stops
	var n atomic.Int32
	l.Start(time.Millisecond, func(context.Context, time.Time) { n.Add(1) })
	l.Start(time.Hour, func(context.Context, time.Time) { t.Error("a second Start replaced the loop") })
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	l.Stop()
	after := n.Load()
	time.Sleep(10 * time.Millisecond)
	if after < 3 || n.Load() != after {
		t.Errorf("%d readings, then %d after Stop", after, n.Load())
	}
	if got := Interval(0); got != time.Minute {
		t.Errorf("Interval(0) = %s", got)
	}
}

type recordingPublisher struct{ calls map[string]int }

func (p *recordingPublisher) Publish(_ context.Context, account, region string, data []Datum) error {
	p.calls[account+"/"+region] += len(data)
	return nil
}

// One Publish per account and region, with every datum of that scope;
// an empty batch publishes nothing.
func TestBatches(t *testing.T) {
	b := Batches{}
	d := Datum{Namespace: "AWS/EC2", Name: "CPUUtilization"}
	b.Add("111", "us-east-1", d, d)
	b.Add("111", "us-east-1", d)
	b.Add("111", "eu-west-1", d)
	b.Add("222", "us-east-1")
	p := &recordingPublisher{calls: map[string]int{}}
	b.Publish(context.Background(), p, slog.New(slog.DiscardHandler), "test metrics")
	if want := map[string]int{"111/us-east-1": 3, "111/eu-west-1": 1}; !maps.Equal(p.calls, want) {
		t.Errorf("published %v, want %v", p.calls, want)
	}
}
