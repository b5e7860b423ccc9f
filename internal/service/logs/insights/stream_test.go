package insights

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestStreamingMatchesCollectAll: the streamed stats, limit, sort+limit
// and plain fields answer exactly what collecting every record then
// sorting answers (a dedup on a field no event has keeps every record
// and forces that path), ties in time and in value included.
func TestStreamingMatchesCollectAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	nums := []string{"1", "1.0", "2", "3", "10"}
	var evs []Event
	for i := range 3000 {
		evs = append(evs, Event{
			Time:    base.Add(time.Duration(rng.IntN(400)) * time.Second),
			Message: fmt.Sprintf(`{"a": %s, "b": %d, "k": "k%d", "i": %d}`, nums[rng.IntN(len(nums))], rng.IntN(100), rng.IntN(4), i),
			Stream:  fmt.Sprint("s", rng.IntN(3)),
			Ptr:     fmt.Sprint("p", i),
		})
	}
	for _, tt := range []struct{ prefix, blocking string }{
		{"fields a, b, i", ""},
		{"fields a, i", "| limit 7"},
		{"fields a, i", "| limit 7 | sort b asc"},
		{"filter b > 20", "| sort a desc | limit 9"},
		{"fields a, b, i", "| sort a asc, b desc"},
		{"fields a, b, i", "| sort a desc | limit 5 | fields i"},
		{"filter ispresent(a)", "| stats count(*) as n, min(a) as lo, max(a) as hi, sortsFirst(a) as f, sortsLast(a) as l, sum(b) as s, earliest(i) as e, latest(i) as z, count_distinct(a) as d by k"},
		{"fields a", "| stats max(a) as m, pct(b, 50) as p by bin(1m) | sort m desc | limit 3"},
		{"fields a", "| stats min(a) as m by a"},
	} {
		streamed := run(t, tt.prefix+" "+tt.blocking, evs)
		collected := run(t, tt.prefix+" | dedup nosuchfield "+tt.blocking, evs)
		if streamed != collected {
			t.Errorf("%s %s:\nstreamed  %.300s\ncollected %.300s", tt.prefix, tt.blocking, streamed, collected)
		}
	}
}

func run(t *testing.T, query string, evs []Event) string {
	t.Helper()
	q, err := Parse(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	res, err := q.Run(context.Background(), seq(evs))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(res.Matched, res.Rows)
}

// TestPlanBounds: what a query keeps while it reads — a stats its
// groups, a limit or a sort its answer's rows, a fields with no limit
// AWS's 10,000-row cap; only a dedup or a sort that another command
// follows keeps every record.
func TestPlanBounds(t *testing.T) {
	for query, want := range map[string]plan{
		"fields a":                              {k: defaultLimit},
		"fields a | limit 20":                   {k: 20, consumed: 1, limited: true},
		"filter a > 1 | sort a | limit 3":       {k: 3, consumed: 2, limited: true},
		"sort a":                                {k: defaultLimit, consumed: 1},
		"stats count(*) by a | sort a":          {stats: true},
		"sort a | dedup b":                      {},
		"dedup b | limit 2":                     {},
		"fields a | limit 5 | sort a | limit 1": {k: 5, consumed: 1, limited: true},
	} {
		q, err := Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		stream := len(q.cmds)
		for i, c := range q.cmds {
			switch c.(type) {
			case statsCmd, sortCmd, limitCmd, dedupCmd:
				stream = min(stream, i)
			}
		}
		got := planOf(q.cmds[stream:])
		got.sort = nil
		if got != want {
			t.Errorf("%s: plan %+v, want %+v", query, got, want)
		}
	}
}
