package lb

import (
	"sync/atomic"
	"time"
)

// metric is one counter, named as CloudWatch's AWS/ApplicationELB namespace
// names it (metricNames), so that publishing them is a 1:1 mapping.
type metric int

const (
	mRequestCount metric = iota
	mELB3XX
	mELB4XX
	mELB5XX
	mELB500
	mELB502
	mELB503
	mELB504
	mTarget2XX
	mTarget3XX
	mTarget4XX
	mTarget5XX
	mActiveConnections
	mNewConnections
	mProcessedBytes
	mRejectedConnections
	mFixedResponses
	mRedirects
	mClientTLSErrors
	mTargetConnectionErrors
	mRuleEvaluations
	numMetrics
)

var metricNames = [numMetrics]string{
	mRequestCount:           "RequestCount",
	mELB3XX:                 "HTTPCode_ELB_3XX_Count",
	mELB4XX:                 "HTTPCode_ELB_4XX_Count",
	mELB5XX:                 "HTTPCode_ELB_5XX_Count",
	mELB500:                 "HTTPCode_ELB_500_Count",
	mELB502:                 "HTTPCode_ELB_502_Count",
	mELB503:                 "HTTPCode_ELB_503_Count",
	mELB504:                 "HTTPCode_ELB_504_Count",
	mTarget2XX:              "HTTPCode_Target_2XX_Count",
	mTarget3XX:              "HTTPCode_Target_3XX_Count",
	mTarget4XX:              "HTTPCode_Target_4XX_Count",
	mTarget5XX:              "HTTPCode_Target_5XX_Count",
	mActiveConnections:      "ActiveConnectionCount",
	mNewConnections:         "NewConnectionCount",
	mProcessedBytes:         "ProcessedBytes",
	mRejectedConnections:    "RejectedConnectionCount",
	mFixedResponses:         "HTTP_Fixed_Response_Count",
	mRedirects:              "HTTP_Redirect_Count",
	mClientTLSErrors:        "ClientTLSNegotiationErrorCount",
	mTargetConnectionErrors: "TargetConnectionErrorCount",
	mRuleEvaluations:        "RuleEvaluations",
}

// Metric names the node adds at snapshot time from target health.
const (
	MetricHealthyHostCount   = "HealthyHostCount"
	MetricUnHealthyHostCount = "UnHealthyHostCount"
	MetricTargetResponseTime = "TargetResponseTime"
)

// counterSet is the live counters of a load balancer, target group or
// target; every field is updated atomically on the request path.
type counterSet struct {
	v       [numMetrics]atomic.Int64
	rtSum   atomic.Int64 // nanoseconds
	rtCount atomic.Int64
}

func (c *counterSet) add(m metric, n int64) { c.v[m].Add(n) }

func (c *counterSet) responseTime(d time.Duration) {
	c.rtSum.Add(int64(d))
	c.rtCount.Add(1)
}

// targetCode counts a target's answer by class.
func (c *counterSet) targetCode(code int) {
	switch code / 100 {
	case 2:
		c.add(mTarget2XX, 1)
	case 3:
		c.add(mTarget3XX, 1)
	case 4:
		c.add(mTarget4XX, 1)
	case 5:
		c.add(mTarget5XX, 1)
	}
}

// elbCode counts an answer the load balancer generated: by class, and the
// codes CloudWatch counts one by one.
func (c *counterSet) elbCode(code int) {
	switch code / 100 {
	case 3:
		c.add(mELB3XX, 1)
	case 4:
		c.add(mELB4XX, 1)
	case 5:
		c.add(mELB5XX, 1)
	}
	switch code {
	case 500:
		c.add(mELB500, 1)
	case 502:
		c.add(mELB502, 1)
	case 503:
		c.add(mELB503, 1)
	case 504:
		c.add(mELB504, 1)
	}
}

func (c *counterSet) snapshot() Stats {
	s := Stats{Counts: make(map[string]int64, numMetrics)}
	for m := range numMetrics {
		if v := c.v[m].Load(); v != 0 {
			s.Counts[metricNames[m]] = v
		}
	}
	s.TargetResponseTime = Timing{Sum: time.Duration(c.rtSum.Load()), Count: c.rtCount.Load()}
	return s
}

// Counters is a snapshot of a node's counters, ready for CloudWatch. Counts
// are cumulative since the node (or the target group, or the target) came
// into being; a publisher takes differences between snapshots. Gauges
// (ActiveConnectionCount, HealthyHostCount, UnHealthyHostCount) are the
// current value.
type Counters struct {
	LoadBalancer Stats
	// TargetGroups is keyed by target group ARN.
	TargetGroups map[string]Stats
	// Targets is keyed by target group ARN, then target.
	Targets map[string]map[TargetKey]Stats
}

// Stats is one resource's counters.
type Stats struct {
	// Counts maps a CloudWatch metric name (RequestCount,
	// HTTPCode_ELB_5XX_Count…) to its value; zero counters are left out.
	Counts map[string]int64
	// TargetResponseTime is the sum and number of target response times
	// (CloudWatch's TargetResponseTime is their average).
	TargetResponseTime Timing
}

// Timing is a sum of durations and how many there were.
type Timing struct {
	Sum   time.Duration
	Count int64
}

// TargetKey identifies a target in its group, as ELBv2 does: ID and port.
type TargetKey struct {
	ID   string
	Port int
}
