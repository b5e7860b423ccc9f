package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestLaunchTemplateCycle runs testdata/launch-template.sh with each AWS
// CLI: create → create-version → describe → run-instances from the
// template → modify the default → delete. The data plane is off: what is
// checked is the API, and an instance launched from a template is launched
// as any other.
func TestLaunchTemplateCycle(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := append(awsEnv(t), "AWS="+cli.path, "ENDPOINT="+s.URL)
			r := runFor(t, 2*time.Minute, env, "bash", "testdata/launch-template.sh")
			if r.code != 0 {
				t.Fatalf("launch-template.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"duplicate refused", "version: 2\tt3.small\tami-", "template: 1\t2", "latest: 2",
				"launched: t3.small\tfrom-lt\t2", "default now: 2", "deleted versions: 1", "templates left: 0",
				"launch template cycle complete",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
