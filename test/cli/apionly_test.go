package cli_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIOnlyLifecycles runs testdata/api-only.sh with each AWS CLI against
// a minicloud whose data plane is off: the CLI's waiters for instances,
// volumes and snapshots return (issue 22's "aws ec2 wait instance-running"),
// and health names the API-only runtime and why it runs.
func TestAPIOnlyLifecycles(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := append(awsEnv(t), "AWS="+cli.path, "ENDPOINT="+s.URL)
			// A waiter polls at once, then every 15 s: a volume (1 s) or a
			// snapshot (2 s) may cost one such pause each.
			r := runFor(t, 5*time.Minute, env, "bash", "testdata/api-only.sh")
			if r.code != 0 {
				t.Fatalf("api-only.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"instance running: running", "status checks: ok\tok", "console: API-only notice",
				"snapshot completed: completed\t100%", "rebooted: running", "instance stopped: stopped",
				"instance running again: running", "instance terminated: terminated", "api-only life cycles complete",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			resp, err := http.Get(s.URL + "/_minicloud/health")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var h struct {
				Instances struct{ Runtime, Reason string } `json:"instances"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.Instances.Runtime != "api-only" ||
				!strings.Contains(h.Instances.Reason, "--data-plane=off") {
				t.Errorf("health instances %+v %v", h.Instances, err)
			}
		})
	}
}
