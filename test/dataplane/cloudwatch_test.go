package dataplane_test

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/server"
)

// metricsInterval is the publishing interval of these tests
// (server.Config.MetricsInterval): five seconds instead of AWS's minute,
// so basic monitoring's period is 25 s.
const metricsInterval = 5 * time.Second

// newMetricsEnv is a minicloud publishing its metrics every
// metricsInterval, on a public range of its own, with a CloudWatch client.
func newMetricsEnv(t *testing.T, publicCIDR string) (*albEnv, *cloudwatch.Client) {
	t.Parallel()
	e, dnsAddr := newEnvDNSWith(t, func(c *server.Config) {
		c.PublicCIDR = netip.MustParsePrefix(publicCIDR)
		c.MetricsInterval = metricsInterval
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + e.srv.Addr())}
	return &albEnv{env: e, dns: dnsAddr, elb: elb.NewFromConfig(cfg)}, cloudwatch.NewFromConfig(cfg)
}

// statistic is the largest value of stat over the last ten minutes of a
// metric, in one-minute periods; ok is false without datapoints.
func statistic(e *env, cw *cloudwatch.Client, ns, name string, stat cwtypes.Statistic, dims ...cwtypes.Dimension) (float64, bool, error) {
	now := time.Now()
	out, err := cw.GetMetricStatistics(e.ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String(ns), MetricName: aws.String(name),
		Dimensions: dims, StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
		Period: aws.Int32(60), Statistics: []cwtypes.Statistic{stat}})
	if err != nil {
		return 0, false, err
	}
	best, ok := 0.0, false
	for _, d := range out.Datapoints {
		var v float64
		switch stat {
		case cwtypes.StatisticMaximum:
			v = aws.ToFloat64(d.Maximum)
		case cwtypes.StatisticSum:
			v = aws.ToFloat64(d.Sum)
		case cwtypes.StatisticAverage:
			v = aws.ToFloat64(d.Average)
		}
		if !ok || v > best {
			best, ok = v, true
		}
	}
	return best, ok, nil
}

// TestInstanceCPUUtilization: an instance under detailed monitoring that
// burns CPU shows CPUUtilization near what its vCPU gives it in AWS/EC2,
// and an idle one under basic monitoring near 0, both read through
// GetMetricStatistics; network counters and status checks are there too.
// Alone on the host the burner reads 99–100%. In the suite it shares the
// two cores with every other package's servers, and on cgroup v1 the
// instance's group weighs no more than one busy host process, so it gets
// less (seen: 48% at a load of 10): the test wants at least 40%, where an
// idle instance stays under 1%.
func TestInstanceCPUUtilization(t *testing.T) {
	e, cw := newMetricsEnv(t, "198.19.244.0/24")
	v := e.defaultVPC()
	img := e.image()
	// Two burners on a one-vCPU instance: its cgroup holds it to one CPU.
	burn := "#!/bin/sh\nfor i in 1 2; do (while :; do :; done) & done\n"
	var ids []string
	for _, l := range []struct {
		userData string
		detailed bool
	}{{burn, true}, {"#!/bin/sh\ntrue\n", false}} {
		run, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: img, InstanceType: types.InstanceTypeT2Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]),
			Monitoring: &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(l.detailed)},
			UserData:   aws.String(base64.StdEncoding.EncodeToString([]byte(l.userData)))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(run.Instances[0].InstanceId))
	}
	for _, id := range ids {
		e.waitState(id, types.InstanceStateNameRunning)
	}
	dim := func(id string) cwtypes.Dimension {
		return cwtypes.Dimension{Name: aws.String("InstanceId"), Value: aws.String(id)}
	}
	started := time.Now()
	if err := eventually(2*time.Minute, func() error {
		cpu, ok, err := statistic(e.env, cw, "AWS/EC2", "CPUUtilization", cwtypes.StatisticMaximum, dim(ids[0]))
		if err != nil || !ok || cpu < 40 || cpu > 100 {
			return fmt.Errorf("burning instance's CPUUtilization %v (datapoints %v, %v), want 40–100", cpu, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("CPUUtilization over 40%% after %s", time.Since(started).Round(time.Second))
	if err := eventually(time.Minute, func() error {
		cpu, ok, err := statistic(e.env, cw, "AWS/EC2", "CPUUtilization", cwtypes.StatisticMaximum, dim(ids[1]))
		if err != nil || !ok || cpu > 10 {
			return fmt.Errorf("idle instance's CPUUtilization %v (datapoints %v, %v), want near 0", cpu, ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"NetworkIn", "NetworkOut", "NetworkPacketsIn", "NetworkPacketsOut", "StatusCheckFailed"} {
		if _, ok, err := statistic(e.env, cw, "AWS/EC2", name, cwtypes.StatisticSum, dim(ids[0])); err != nil || !ok {
			t.Errorf("%s: no datapoints (%v)", name, err)
		}
	}
	// A client may not publish in AWS/ namespaces; minicloud's own
	// metrics are listed like any.
	out, err := cw.ListMetrics(e.ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization")})
	if err != nil || len(out.Metrics) != 2 {
		t.Errorf("ListMetrics AWS/EC2 CPUUtilization: %d metrics (%v), want the two instances'", len(out.Metrics), err)
	}
}

// TestLoadBalancerRequestCount: requests through an ALB show in
// AWS/ApplicationELB as RequestCount (per load balancer and per target
// group), with the target group's healthy hosts and the target response
// time.
func TestLoadBalancerRequestCount(t *testing.T) {
	e, cw := newMetricsEnv(t, "198.19.245.0/24")
	ctx := e.ctx
	v := e.defaultVPC()
	albSG := e.newSG(v.id, "alb", tcpFrom(80, "0.0.0.0/0"))
	webSG := e.newSG(v.id, "web", tcpFromGroup(8080, albSG))
	insts := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{webSG}, userData: probeUserData(8080)})
	tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String(v.id), HealthCheckPath: aws.String("/id"),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: insts[0].InstanceId}}}); err != nil {
		t.Fatal(err)
	}
	lbOut, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("front"), Subnets: v.subnets[:2],
		SecurityGroups: []string{albSG}, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)
	if _, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}}); err != nil {
		t.Fatal(err)
	}
	e.waitHealth(tgARN, map[string]elbtypes.TargetHealthStateEnum{aws.ToString(insts[0].InstanceId) + ":8080": "healthy"}, 60*time.Second)
	_, nodeIPs := askDNS(t, e.dns, aws.ToString(lbOut.LoadBalancers[0].DNSName))
	if len(nodeIPs) == 0 {
		t.Fatal("the load balancer's name resolves to no node")
	}
	const requests = 20
	for i := range requests {
		if _, err := fetch("http://" + nodeIPs[i%len(nodeIPs)] + "/id"); err != nil {
			t.Fatal(err)
		}
	}
	lbDim := cwtypes.Dimension{Name: aws.String("LoadBalancer"), Value: aws.String(lbARN[strings.Index(lbARN, ":loadbalancer/")+len(":loadbalancer/"):])}
	tgDim := cwtypes.Dimension{Name: aws.String("TargetGroup"), Value: aws.String(tgARN[strings.Index(tgARN, ":targetgroup/")+1:])}
	if err := eventually(time.Minute, func() error {
		for _, dims := range [][]cwtypes.Dimension{{lbDim}, {lbDim, tgDim}} {
			n, _, err := statistic(e.env, cw, "AWS/ApplicationELB", "RequestCount", cwtypes.StatisticSum, dims...)
			if err != nil || n < requests {
				return fmt.Errorf("RequestCount %v by %d dimensions (%v), want at least %d", n, len(dims), err, requests)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := statistic(e.env, cw, "AWS/ApplicationELB", "HealthyHostCount", cwtypes.StatisticMaximum, lbDim, tgDim); err != nil || !ok || n != 1 {
		t.Errorf("HealthyHostCount %v (%v, %v), want 1", n, ok, err)
	}
	if rt, ok, err := statistic(e.env, cw, "AWS/ApplicationELB", "TargetResponseTime", cwtypes.StatisticAverage, lbDim); err != nil || !ok || rt <= 0 || rt > 2 {
		t.Errorf("TargetResponseTime %v s (%v, %v), want a fraction of a second", rt, ok, err)
	}
	if n, ok, err := statistic(e.env, cw, "AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", cwtypes.StatisticSum, lbDim); err != nil || !ok || n < requests {
		t.Errorf("HTTPCode_Target_2XX_Count %v (%v, %v), want at least %d", n, ok, err, requests)
	}
}

// TestAlarmStopsInstance: an alarm on a real instance's CPUUtilization
// goes to ALARM while the instance burns CPU, and its EC2 stop action
// (arn:aws:automate:us-east-1:ec2:stop) stops the instance, with the
// transition and the action in the alarm's history. The threshold is 30%,
// not 80%: the instance's cgroup gets its vCPU only while the host's two
// cores are not taken by the tests beside it (a burner was seen held at
// 35–55% with the load at 11), and an idle instance stays under 1%.
func TestAlarmStopsInstance(t *testing.T) {
	e, cw := newMetricsEnv(t, "198.19.246.0/24")
	burn := "#!/bin/sh\nfor i in 1 2; do (while :; do :; done) & done\n"
	id := runBurner(t, e, burn)
	_, err := cw.PutMetricAlarm(e.ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("cpu-high"),
		Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(30), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		AlarmActions: []string{"arn:aws:automate:us-east-1:ec2:stop"}})
	if err != nil {
		t.Fatal(err)
	}
	// The first whole minute of burning decides: up to two minutes.
	alarm := waitAlarm(t, e, cw, "cpu-high", cwtypes.StateValueAlarm, time.Now(), 3*time.Minute)
	if r := aws.ToString(alarm.StateReason); !strings.HasPrefix(r, "Threshold Crossed: 1 datapoint [") || !strings.HasSuffix(r, "was greater than the threshold (30.0).") {
		t.Errorf("reason %q", r)
	}
	e.waitState(id, types.InstanceStateNameStopped)
	h, err := cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu-high"),
		HistoryItemType: cwtypes.HistoryItemTypeAction})
	if err != nil || len(h.AlarmHistoryItems) != 1 || aws.ToString(h.AlarmHistoryItems[0].HistorySummary) != "Successfully executed action arn:aws:automate:us-east-1:ec2:stop" {
		t.Errorf("action history %+v, %v", h, err)
	}
}

// TestAlarmBackToOK: the drill, its second half. An alarm without
// actions on a real instance's CPUUtilization goes to ALARM while the
// instance burns CPU and back to OK once the burner stops by itself (user
// data bounds it with timeout), both within bounded time: the minute the
// burner runs in is over 10% at its maximum (a 5 s datapoint), the first
// whole minute after it stops is idle. One loop for 20 s and 10%, not
// 80%: the tests beside it burn CPU on the same cores (TestAlarmStopsInstance,
// TestInstanceCPUUtilization want 30% and 40%), and on a loaded machine a
// burner was seen held at 17–61%; an idle instance stays far under 10%
// (seen: 0.13–0.15%).
func TestAlarmBackToOK(t *testing.T) {
	e, cw := newMetricsEnv(t, "198.19.237.0/24")
	const burnFor = 20 * time.Second
	burn := fmt.Sprintf("#!/bin/sh\ntimeout %d sh -c 'while :; do :; done' &\n", int(burnFor.Seconds()))
	id := runBurner(t, e, burn)
	_, err := cw.PutMetricAlarm(e.ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("cpu-burst"),
		Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(id)}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(10), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	// The minute the burner runs in ends at most a minute after it stops,
	// and is evaluated within an interval.
	waitAlarm(t, e, cw, "cpu-burst", cwtypes.StateValueAlarm, started, burnFor+2*time.Minute)
	// Then the first whole idle minute: at most two minutes after the
	// burner's end, with a minute's room for a loaded machine (seen: 2m15s
	// to 2m30s after the alarm's creation).
	ok := waitAlarm(t, e, cw, "cpu-burst", cwtypes.StateValueOk, started, burnFor+4*time.Minute)
	if r := aws.ToString(ok.StateReason); !strings.HasPrefix(r, "Threshold Crossed: 1 datapoint [") || !strings.HasSuffix(r, "was not greater than the threshold (10.0).") {
		t.Errorf("OK reason %q", r)
	}
	h, err := cw.DescribeAlarmHistory(e.ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu-burst"),
		HistoryItemType: cwtypes.HistoryItemTypeStateUpdate, ScanBy: cwtypes.ScanByTimestampAscending})
	var moves []string
	for _, it := range h.AlarmHistoryItems {
		moves = append(moves, aws.ToString(it.HistorySummary))
	}
	if err != nil || len(moves) < 2 || moves[len(moves)-2] != "Alarm updated from INSUFFICIENT_DATA to ALARM" && moves[len(moves)-2] != "Alarm updated from OK to ALARM" ||
		moves[len(moves)-1] != "Alarm updated from ALARM to OK" {
		t.Errorf("state history %q, %v", moves, err)
	}
}

// waitAlarm waits up to within for the alarm to be in state want, and
// logs how long after started it took.
func waitAlarm(t *testing.T, e *albEnv, cw *cloudwatch.Client, name string, want cwtypes.StateValue, started time.Time, within time.Duration) cwtypes.MetricAlarm {
	t.Helper()
	var alarm cwtypes.MetricAlarm
	if err := eventually(within, func() error {
		out, err := cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil || len(out.MetricAlarms) != 1 {
			return fmt.Errorf("DescribeAlarms: %v", err)
		}
		alarm = out.MetricAlarms[0]
		if alarm.StateValue != want {
			return fmt.Errorf("alarm %s, want %s: %s", alarm.StateValue, want, aws.ToString(alarm.StateReason))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s after %s: %s", name, want, time.Since(started).Round(time.Second), aws.ToString(alarm.StateReason))
	return alarm
}

// runBurner runs a t2.micro under detailed monitoring in the default VPC
// with userData (a CPU burner) and waits for it to be running.
func runBurner(t *testing.T, e *albEnv, userData string) string {
	t.Helper()
	v := e.defaultVPC()
	run, err := e.ec2.RunInstances(e.ctx, &ec2.RunInstancesInput{ImageId: e.image(), InstanceType: types.InstanceTypeT2Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]),
		Monitoring: &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)},
		UserData:   aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	e.waitState(id, types.InstanceStateNameRunning)
	return id
}
