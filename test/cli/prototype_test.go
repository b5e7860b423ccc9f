package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestPrototypeNetwork runs testdata/prototype-network.sh, the network of the
// prototype reference architecture built and torn down with each AWS CLI: the
// teardown must first meet AWS's DependencyViolations, then succeed.
func TestPrototypeNetwork(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			// The data plane has its own tests (test/dataplane); here the
			// script checks the API's rules, so it runs without one.
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := append(awsEnv(t), "AWS="+cli.path, "ENDPOINT="+s.URL)
			// About 60 CLI calls: bounded as a whole, generously for a loaded
			// 2-core machine.
			r := runFor(t, 5*time.Minute, env, "bash", "testdata/prototype-network.sh")
			if r.code != 0 {
				t.Fatalf("prototype-network.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"refused as expected: DependencyViolation", "refused as expected: InvalidSubnet.Conflict",
				"refused as expected: InvalidPermission.Duplicate", "refused as expected: InvalidIPAddress.InUse",
				"instance public IP 198.1", "torn down",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if n := strings.Count(r.stdout, "refused as expected: DependencyViolation"); n != 4 {
				t.Errorf("%d DependencyViolations reported, want 4:\n%s", n, r.stdout)
			}
		})
	}
}
