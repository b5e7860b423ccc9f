package gateway_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestDiagramEndpoint draws what the API created, per account, from live
// state.
func TestDiagramEndpoint(t *testing.T) {
	base := newServer(t)
	status, _, body := do(t, base, rawReq{path: "/", header: map[string]string{"Authorization": scopeEC2, "Content-Type": form},
		body: "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.7.0.0/16"})
	if status != 200 {
		t.Fatalf("CreateVpc: %d %s", status, body)
	}
	vpc := regexp.MustCompile(`<vpcId>(vpc-[0-9a-f]+)</vpcId>`).FindStringSubmatch(body)
	if vpc == nil {
		t.Fatalf("no VPC ID in %s", body)
	}
	status, h, body := do(t, base, rawReq{method: "GET", path: "/_minicloud/diagram"})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.HasPrefix(body, "graph TD\n") ||
		!strings.Contains(body, `["VPC `+vpc[1]+` 10.7.0.0/16"]`) {
		t.Fatalf("GET /_minicloud/diagram: %d %s\n%s", status, h.Get("Content-Type"), body)
	}
	// Another account has nothing of it.
	status, _, body = do(t, base, rawReq{method: "GET", path: "/_minicloud/diagram?account=111111111111&region=us-east-1"})
	if status != 200 || strings.Contains(body, vpc[1]) {
		t.Fatalf("another account's diagram: %d\n%s", status, body)
	}
	status, _, body = do(t, base, rawReq{method: "GET", path: "/_minicloud/diagram?account=me"})
	if status != 400 || !strings.Contains(body, "12 digits") {
		t.Fatalf("bad account: %d %s", status, body)
	}
}
