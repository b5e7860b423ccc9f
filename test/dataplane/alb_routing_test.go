package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// echoUserData serves on port 8080, over HTTP/1.1 keep-alive, any method
// and path: "<instance ID> <method> <path>". /sick makes /health answer
// 503 until /well.
const echoUserData = `#!/bin/sh
cat > /var/tmp/echo.py <<'PY'
import http.server, time, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def instance_id():
    for _ in range(100):
        try:
            t = opener.open(urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}), timeout=2).read().decode()
            return opener.open(urllib.request.Request("http://169.254.169.254/latest/meta-data/instance-id",
                headers={"X-aws-ec2-metadata-token": t}), timeout=2).read().decode()
        except Exception:
            time.sleep(0.1)
ID = instance_id()
sick = False
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self):
        global sick
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        code = 200
        if self.path == "/api/sick":
            sick = True
        elif self.path == "/api/well":
            sick = False
        elif self.path == "/health" and sick:
            code = 503
        b = ("%s %s %s" % (ID, self.command, self.path)).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    do_GET = do_POST = do_DELETE = do_PUT = reply
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("0.0.0.0", 8080), H).serve_forever()
PY
nohup python3 /var/tmp/echo.py >/var/tmp/echo.log 2>&1 &
`

// TestALBRoutingAndFailover: every kind of rule condition routes what
// matches and lets the rest through; a weighted forward splits as
// configured; a target whose health path fails leaves rotation without a
// failed request and comes back; the security groups of the load balancer
// and of the targets are enforced both ways.
func TestALBRoutingAndFailover(t *testing.T) {
	e := newALBEnv(t, "198.19.241.0/24")
	ctx := e.ctx
	v := e.defaultVPC()
	albSG := e.newSG(v.id, "alb", tcpFrom(80, "0.0.0.0/0"))
	webSG := e.newSG(v.id, "web", tcpFromGroup(8080, albSG))
	insts := e.runAll(e.image(), launch{subnet: v.subnets[0], groups: []string{webSG}, userData: echoUserData},
		launch{subnet: v.subnets[1], groups: []string{webSG}, userData: echoUserData})
	i1, i2 := aws.ToString(insts[0].InstanceId), aws.ToString(insts[1].InstanceId)

	group := func(name, path string, ids ...string) string {
		t.Helper()
		tg, err := e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8080), VpcId: aws.String(v.id), HealthCheckPath: aws.String(path),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
			HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		var targets []elbtypes.TargetDescription
		for _, id := range ids {
			targets = append(targets, elbtypes.TargetDescription{Id: aws.String(id)})
		}
		if _, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: targets}); err != nil {
			t.Fatal(err)
		}
		return arn
	}
	tgAPI, tgWeb, tgBoth := group("api", "/", i1), group("web", "/", i2), group("both", "/health", i1, i2)

	lbOut, err := e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("routes"), Subnets: v.subnets[:2],
		SecurityGroups: []string{albSG}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)
	forward := func(tg string) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
	}
	l, err := e.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: forward(tgWeb)})
	if err != nil {
		t.Fatal(err)
	}
	header := func(name, value string) elbtypes.RuleCondition {
		return elbtypes.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{
			HttpHeaderName: aws.String(name), Values: []string{value}}}
	}
	sourceIP := func(cidr string) elbtypes.RuleCondition {
		return elbtypes.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &elbtypes.SourceIpConditionConfig{Values: []string{cidr}}}
	}
	rules := []struct {
		conds   []elbtypes.RuleCondition
		actions []elbtypes.Action
	}{
		{[]elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{{Field: aws.String("host-header"), Values: []string{"api.shop.test"}}}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{header("X-Canary", "yes")}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &elbtypes.HttpRequestMethodConditionConfig{
			Values: []string{"DELETE"}}}}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{{Field: aws.String("query-string"), QueryStringConfig: &elbtypes.QueryStringConditionConfig{
			Values: []elbtypes.QueryStringKeyValuePair{{Key: aws.String("version"), Value: aws.String("2")}}}}}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{sourceIP("10.99.0.0/16")}, forward(tgAPI)},
		{[]elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/src"}}, sourceIP("0.0.0.0/0")},
			[]elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
				StatusCode: aws.String("200"), MessageBody: aws.String("any source")}}}},
		{[]elbtypes.RuleCondition{header("X-Split", "yes")}, []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(tgAPI), Weight: aws.Int32(80)}, {TargetGroupArn: aws.String(tgWeb), Weight: aws.Int32(20)}}}}}},
		{[]elbtypes.RuleCondition{header("X-Pool", "both")}, forward(tgBoth)},
	}
	for i, r := range rules {
		if _, err := e.elb.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: l.Listeners[0].ListenerArn, Priority: aws.Int32(int32(10 * (i + 1))),
			Conditions: r.conds, Actions: r.actions}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	e.waitHealth(tgAPI, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "healthy"}, 90*time.Second)
	e.waitHealth(tgWeb, map[string]elbtypes.TargetHealthStateEnum{i2 + ":8080": "healthy"}, 20*time.Second)
	e.waitHealth(tgBoth, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "healthy", i2 + ":8080": "healthy"}, 20*time.Second)
	_, nodeIPs := askDNS(t, e.dns, aws.ToString(lbOut.LoadBalancers[0].DNSName))
	if len(nodeIPs) != 2 {
		t.Fatalf("the load balancer's name resolves to %v", nodeIPs)
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	t.Cleanup(client.CloseIdleConnections)
	send := func(node, method, target string, header map[string]string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, method, "http://"+node+target, nil)
		if err != nil {
			return 0, "", err
		}
		for k, v := range header {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// instanceOf sends a request and returns the instance that answered.
	instanceOf := func(node, method, target string, header map[string]string) string {
		t.Helper()
		code, body, err := send(node, method, target, header)
		if err != nil || code != 200 {
			t.Fatalf("%s %s %v through %s: %d %q %v", method, target, header, node, code, body, err)
		}
		return strings.Fields(body)[0]
	}
	tests := []struct {
		name           string
		method, target string
		header         map[string]string
		want           string
	}{
		{"path matches", "GET", "/api/users", nil, i1},
		{"path does not match", "GET", "/apiary", nil, i2},
		{"host matches", "GET", "/x", map[string]string{"Host": "API.shop.test"}, i1},
		{"host does not match", "GET", "/x", map[string]string{"Host": "www.shop.test"}, i2},
		{"header matches", "GET", "/x", map[string]string{"X-Canary": "YES"}, i1},
		{"header does not match", "GET", "/x", map[string]string{"X-Canary": "no"}, i2},
		{"method matches", "DELETE", "/x", nil, i1},
		{"method does not match", "POST", "/x", nil, i2},
		{"query matches", "GET", "/x?version=2", nil, i1},
		{"query does not match", "GET", "/x?version=3", nil, i2},
		{"source does not match", "GET", "/y", nil, i2},
	}
	for _, node := range nodeIPs {
		for _, tt := range tests {
			if got := instanceOf(node, tt.method, tt.target, tt.header); got != tt.want {
				t.Errorf("node %s, %s: %s %s %v went to %s, want %s", node, tt.name, tt.method, tt.target, tt.header, got, tt.want)
			}
		}
		if code, body, err := send(node, "GET", "/src", nil); err != nil || code != 200 || body != "any source" {
			t.Errorf("node %s: source-ip 0.0.0.0/0: %d %q %v", node, code, body, err)
		}
	}
	// 80/20 over 1,000 requests.
	split := map[string]int{}
	for i := range 1000 {
		split[instanceOf(nodeIPs[i%2], "GET", "/split", map[string]string{"X-Split": "yes"})]++
	}
	if split[i1] < 740 || split[i1] > 860 || split[i1]+split[i2] != 1000 {
		t.Errorf("weighted 80/20 forward split 1,000 requests %v", split)
	}

	// i1's health path fails: it leaves rotation within interval ×
	// threshold with AWS's reason, and no request fails after that.
	both := map[string]string{"X-Pool": "both"}
	instanceOf(nodeIPs[0], "GET", "/api/sick", nil)
	start := time.Now()
	e.waitHealth(tgBoth, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "unhealthy"}, 20*time.Second)
	if d := time.Since(start); d > 16*time.Second {
		t.Errorf("unhealthy after %v, want within about 2 × 5 s", d)
	}
	if h := e.health(tgBoth)[i1+":8080"]; h.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch ||
		aws.ToString(h.Description) != "Health checks failed with these codes: [503]" {
		t.Errorf("unhealthy target: %s %q", h.Reason, aws.ToString(h.Description))
	}
	for i := range 20 {
		if got := instanceOf(nodeIPs[i%2], "GET", "/pool", both); got != i2 {
			t.Fatalf("request %d after i1 turned unhealthy went to %s", i, got)
		}
	}
	instanceOf(nodeIPs[0], "GET", "/api/well", nil)
	e.waitHealth(tgBoth, map[string]elbtypes.TargetHealthStateEnum{i1 + ":8080": "healthy"}, 20*time.Second)
	seen := map[string]bool{}
	for i := range 8 {
		seen[instanceOf(nodeIPs[i%2], "GET", "/pool", both)] = true
	}
	if !seen[i1] || !seen[i2] {
		t.Errorf("after i1 recovered, traffic went to %v", seen)
	}

	// The load balancer's group admits the host only while it allows it
	// (new connections: security groups are stateful, as on AWS).
	ingress80 := []ec2types.IpPermission{tcpFrom(80, "0.0.0.0/0")}
	if _, err := e.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(albSG), IpPermissions: ingress80}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(5*time.Second, func() error {
		if _, err := fetch("http://" + nodeIPs[0] + "/x"); err == nil {
			return fmt.Errorf("node %s still admits the host", nodeIPs[0])
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(albSG), IpPermissions: ingress80}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(5*time.Second, func() error { _, err := fetch("http://" + nodeIPs[0] + "/x"); return err }); err != nil {
		t.Errorf("node admits the host again: %v", err)
	}
	// A target group whose targets do not admit the load balancer's group
	// is unreachable through it, and reachable once they do.
	ingressALB := []ec2types.IpPermission{tcpFromGroup(8080, albSG)}
	if _, err := e.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(webSG), IpPermissions: ingressALB}); err != nil {
		t.Fatal(err)
	}
	e.waitHealth(tgWeb, map[string]elbtypes.TargetHealthStateEnum{i2 + ":8080": "unhealthy"}, 25*time.Second)
	if h := e.health(tgWeb)[i2+":8080"]; h.Reason != elbtypes.TargetHealthReasonEnumTimeout {
		t.Errorf("a target that drops the load balancer's packets: %s %q", h.Reason, aws.ToString(h.Description))
	}
	if _, err := e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(webSG), IpPermissions: ingressALB}); err != nil {
		t.Fatal(err)
	}
	e.waitHealth(tgWeb, map[string]elbtypes.TargetHealthStateEnum{i2 + ":8080": "healthy"}, 25*time.Second)
	if got := instanceOf(nodeIPs[1], "GET", "/back", nil); got != i2 {
		t.Errorf("after the group admitted the load balancer again, %s answered", got)
	}
}
