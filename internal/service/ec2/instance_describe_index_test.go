package ec2

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ec2api"
	"github.com/minicloud/minicloud/internal/state"
)

// TestDescribeInstancesTagIndex checks DescribeInstances' tag filters
// against the instances' tags as they were last written, through the tag
// index and through the scan a store without the index gets, on both
// store backends.
func TestDescribeInstancesTagIndex(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) state.Store
	}{
		{"memory", func(*testing.T) state.Store { return state.NewMemory() }},
		{"bolt", func(t *testing.T) state.Store {
			st, err := state.OpenBolt(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			defer st.Close()
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			s := New(st)
			s.now = func() time.Time { return now }
			scope := state.Scope{Account: "123456789012", Region: "us-east-1"}
			ctx := api.WithRequest(context.Background(), &api.RequestInfo{Account: scope.Account, Region: scope.Region})
			image := benchImage(t, s, ctx)
			launch := func(n int32, tags ...string) []string {
				t.Helper()
				in := &ec2api.RunInstancesRequest{ImageId: new(image), InstanceType: new("t3.micro"), MinCount: new(n), MaxCount: new(n)}
				if len(tags) > 0 {
					spec := ec2api.TagSpecification{ResourceType: new("instance")}
					for i := 0; i < len(tags); i += 2 {
						spec.Tags = append(spec.Tags, ec2api.Tag{Key: new(tags[i]), Value: new(tags[i+1])})
					}
					in.TagSpecifications = []ec2api.TagSpecification{spec}
				}
				res, err := s.RunInstances(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, i := range res.Instances {
					ids = append(ids, deref(i.InstanceId))
				}
				now = now.Add(time.Second) // launches in order
				return ids
			}
			a := launch(2, "Team", "a")
			b := launch(3, "Team", "b", "Env", "prod")
			odd := launch(1, "Team", "x\xffy")
			launch(1)
			env := launch(1, "Env", "a")
			must := func(_ any, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Retagged, untagged, and terminated long enough ago to be
			// forgotten: the index follows every write.
			must(s.CreateTags(ctx, &ec2api.CreateTagsRequest{Resources: []string{a[1]}, Tags: []ec2api.Tag{{Key: new("Team"), Value: new("b")}}}))
			must(s.DeleteTags(ctx, &ec2api.DeleteTagsRequest{Resources: []string{b[0]}, Tags: []ec2api.Tag{{Key: new("Team")}}}))
			must(s.TerminateInstances(ctx, &ec2api.TerminateInstancesRequest{InstanceIds: []string{b[1]}}))
			now = now.Add(2 * instanceTerminatedTTL)

			f := func(name string, values ...string) ec2api.Filter {
				return ec2api.Filter{Name: new(name), Values: values}
			}
			tests := []struct {
				name    string
				filters []ec2api.Filter
				want    []string
			}{
				{"one value", []ec2api.Filter{f("tag:Team", "a")}, a[:1]},
				{"retagged and untagged", []ec2api.Filter{f("tag:Team", "b")}, []string{a[1], b[2]}},
				{"two values", []ec2api.Filter{f("tag:Team", "b", "a")}, []string{a[0], a[1], b[2]}},
				{"a value twice", []ec2api.Filter{f("tag:Team", "a", "a")}, a[:1]},
				{"no value", []ec2api.Filter{f("tag:Team")}, nil},
				{"wildcard", []ec2api.Filter{f("tag:Team", "?")}, []string{a[0], a[1], b[2]}},
				{"escaped", []ec2api.Filter{f("tag:Team", `\a`)}, a[:1]},
				{"invalid UTF-8", []ec2api.Filter{f("tag:Team", "x\xffy")}, odd},
				{"its replacement", []ec2api.Filter{f("tag:Team", "x\uFFFDy")}, odd},
				{"another key, the same value", []ec2api.Filter{f("tag:Env", "a")}, env},
				{"key prefix", []ec2api.Filter{f("tag:Tea", "a")}, nil},
				{"no such tag", []ec2api.Filter{f("tag:Nope", "a")}, nil},
				{"and another filter", []ec2api.Filter{f("tag:Team", "b"), f("tag:Env", "prod")}, b[2:]},
				{"and the state", []ec2api.Filter{f("instance-state-name", "pending"), f("tag:Team", "a")}, a[:1]},
				{"and a state it is not in", []ec2api.Filter{f("tag:Team", "a"), f("instance-state-name", "running")}, nil},
			}
			describe := func(t *testing.T, filters []ec2api.Filter) []string {
				t.Helper()
				out, err := s.DescribeInstances(ctx, &ec2api.DescribeInstancesRequest{Filters: filters})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range out.Reservations {
					for _, i := range r.Instances {
						got = append(got, deref(i.InstanceId))
					}
				}
				return got
			}
			// Instances of one reservation are listed in ID order, which is
			// random: the sets are compared here, the order against the
			// scan's below.
			indexed := make([][]string, len(tests))
			for i, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					indexed[i] = describe(t, tc.filters)
					if got := slices.Sorted(slices.Values(indexed[i])); !slices.Equal(got, slices.Sorted(slices.Values(tc.want))) {
						t.Errorf("indexed: %v, want %v", got, tc.want)
					}
				})
			}
			// A store written before the index existed: no marker, no
			// entries; a read-only Describe scans instead.
			if err := st.Update(context.Background(), func(tx state.Tx) error {
				marker := state.Key(scope.Account, scope.Region, instances.table.Service, instances.table.Kind+"~"+instanceByTag)
				var keys []string
				if err := tx.Scan(marker, func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
					return err
				}
				if len(keys) < 2 {
					t.Errorf("tag index keys %v: not built", keys)
				}
				for _, k := range keys {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for i, tc := range tests {
				t.Run("unindexed/"+tc.name, func(t *testing.T) {
					if got := describe(t, tc.filters); !slices.Equal(got, indexed[i]) {
						t.Errorf("scanned: %v, indexed %v", got, indexed[i])
					}
				})
			}
		})
	}
}

// TestInstanceMatchesAsMatchWithTags checks the handler's matcher against
// state.MatchWithTags over every filter's values: each value of an
// instance matches, as a pattern and exactly, and a value it lacks does not.
func TestInstanceMatchesAsMatchWithTags(t *testing.T) {
	rec, v := filterTestInstance()
	rec.Tags = []ec2api.Tag{{Key: new("Name"), Value: new("web")}, {Key: new("env"), Value: new("")}}
	v.Tags = rec.Tags
	s := New(state.NewMemory())
	vals := instanceFilterValues("123456789012", rec, v)
	var cases [][]state.Filter
	for _, name := range append(instanceFilterNames, "tag:Name", "tag:env", "tag:none", "tag-key", "tag-value") {
		for _, val := range append(vals[name], "web", "", "*", "no-such-value", "ru*ng") {
			cases = append(cases, []state.Filter{{Name: name, Values: []string{val}}})
		}
		cases = append(cases, []state.Filter{{Name: name}}, []state.Filter{{Name: name, Values: []string{"x"}}, {Name: "tag:Name", Values: []string{"web"}}})
	}
	matched := 0
	for _, fs := range cases {
		want, err := state.MatchWithTags(fs, fromAPITags(rec.Tags), func(name string) ([]string, bool) { x, ok := vals[name]; return x, ok })
		if err != nil {
			t.Fatal(err)
		}
		if got := s.instanceMatches(fs, "123456789012", rec); got != want {
			t.Errorf("%+v: %v, MatchWithTags %v", fs, got, want)
		}
		if want {
			matched++
		}
	}
	if matched < len(instanceFilterNames) {
		t.Errorf("only %d of %d cases match: the instance lacks values", matched, len(cases))
	}
}
