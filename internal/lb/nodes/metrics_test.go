package nodes

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/lb"
	"github.com/minicloud/minicloud/internal/metricport"
)

type fixedCounters struct{ c lb.Counters }

func (f *fixedCounters) Counters() lb.Counters { return f.c }

const (
	testLB = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/50dc6c495c0c9188"
	testTG = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/fleet/73e2d6bc24d8a067"
)

// counters is a node's cumulative counters: requests, 2XX answers, target
// response time (count and total), healthy and unhealthy targets; as lb's,
// a reading leaves zero counters out.
func counters(req, ok, rtN int64, rt time.Duration, healthy, unhealthy int64) lb.Counters {
	nonZero := func(m map[string]int64) map[string]int64 {
		for k, v := range m {
			if v == 0 && k != "HealthyHostCount" && k != "UnHealthyHostCount" {
				delete(m, k)
			}
		}
		return m
	}
	st := lb.Stats{Counts: nonZero(map[string]int64{"RequestCount": req, "HTTPCode_Target_2XX_Count": ok}), TargetResponseTime: lb.Timing{Sum: rt, Count: rtN}}
	tg := lb.Stats{Counts: nonZero(map[string]int64{"RequestCount": req, "HealthyHostCount": healthy, "UnHealthyHostCount": unhealthy}), TargetResponseTime: lb.Timing{Sum: rt, Count: rtN}}
	return lb.Counters{LoadBalancer: st, TargetGroups: map[string]lb.Stats{testTG: tg}}
}

// TestALBData checks the AWS/ApplicationELB datapoints made of two nodes'
// counters over three readings: differences of the summed totals, per
// load balancer, per zone and per target group, with AWS's dimensions.
func TestALBData(t *testing.T) {
	a := &fixedCounters{counters(10, 9, 10, 1*time.Second, 2, 0)}
	b := &fixedCounters{counters(0, 0, 0, 0, 2, 0)} // no request yet
	nodes := []nodeCounters{{"eni-a", "us-east-1a", a}, {"eni-b", "us-east-1b", b}}
	var deltas metricport.Deltas[string]
	read := func() map[string]float64 {
		out := map[string]float64{}
		for _, d := range albData(&deltas, map[string]bool{}, testLB, time.Unix(0, 0), nodes) {
			var dims []string
			for _, dm := range d.Dims {
				dims = append(dims, dm.Name+"="+dm.Value)
			}
			sort.Strings(dims)
			out[fmt.Sprintf("%s %s %s", d.Name, strings.Join(dims, ","), d.Unit)] = d.Value
		}
		return out
	}
	const (
		lbd = "LoadBalancer=app/web/50dc6c495c0c9188"
		tgd = "TargetGroup=targetgroup/fleet/73e2d6bc24d8a067"
	)
	tests := []struct {
		name    string
		a, b    lb.Counters
		want    map[string]float64
		missing []string
	}{
		{"first reading: counts since the nodes started", a.c, b.c, map[string]float64{
			"RequestCount " + lbd + " Count":                             10,
			"RequestCount AvailabilityZone=us-east-1a," + lbd + " Count": 10,
			"TargetResponseTime " + lbd + " Seconds":                     0.1,
			"HealthyHostCount " + lbd + "," + tgd + " Count":             2,
			"UnHealthyHostCount " + lbd + "," + tgd + " Count":           0,
		}, []string{"RequestCount AvailabilityZone=us-east-1b," + lbd + " Count"}},
		{"requests on both nodes, the first ones on b", counters(30, 28, 30, 5*time.Second, 2, 0), counters(15, 15, 15, 1500*time.Millisecond, 1, 1), map[string]float64{
			"RequestCount " + lbd + " Count":                                          35,
			"RequestCount AvailabilityZone=us-east-1a," + lbd + " Count":              20,
			"RequestCount AvailabilityZone=us-east-1b," + lbd + " Count":              15,
			"HTTPCode_Target_2XX_Count " + lbd + " Count":                             34,
			"TargetResponseTime " + lbd + " Seconds":                                  5.5 / 35,
			"RequestCount " + lbd + "," + tgd + " Count":                              35,
			"HealthyHostCount " + lbd + "," + tgd + " Count":                          2,
			"UnHealthyHostCount " + lbd + "," + tgd + " Count":                        1,
			"RequestCountPerTarget " + lbd + "," + tgd + " Count":                     17.5,
			"RequestCountPerTarget " + tgd + " Count":                                 17.5,
			"TargetResponseTime AvailabilityZone=us-east-1b," + lbd + " Seconds":      0.1,
			"TargetResponseTime " + lbd + "," + tgd + " Seconds":                      5.5 / 35,
			"HTTPCode_Target_2XX_Count AvailabilityZone=us-east-1a," + lbd + " Count": 19,
		}, nil},
		{"no requests: no counts", counters(30, 28, 30, 5*time.Second, 2, 0), counters(15, 15, 15, 1500*time.Millisecond, 2, 0), map[string]float64{
			"HealthyHostCount " + lbd + "," + tgd + " Count": 2,
		}, []string{"RequestCount " + lbd + " Count", "TargetResponseTime " + lbd + " Seconds", "RequestCountPerTarget " + tgd + " Count"}},
		{"a node restarted: its count starts again", counters(31, 29, 31, 5*time.Second, 2, 0), counters(3, 3, 3, 300*time.Millisecond, 2, 0), map[string]float64{
			"RequestCount " + lbd + " Count": 4,
		}, nil},
	}
	for _, tc := range tests {
		a.c, b.c = tc.a, tc.b
		got := read()
		for k, v := range tc.want {
			if g, ok := got[k]; !ok || (g-v) > 1e-9 || (v-g) > 1e-9 {
				t.Errorf("%s: %s = %v (present %v), want %v", tc.name, k, g, ok, v)
			}
		}
		for _, k := range tc.missing {
			if _, ok := got[k]; ok {
				t.Errorf("%s: %s published, want none", tc.name, k)
			}
		}
	}
}
