package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestEBSSharing runs testdata/ebs-sharing.sh with each AWS CLI against an
// API-only minicloud: a snapshot and an image shared between two accounts
// (chosen by access key) are usable by the peer only while shared, copies
// across regions complete, and encryption by default is per account.
func TestEBSSharing(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := append(awsEnv(t), "AWS="+cli.path, "ENDPOINT="+s.URL)
			r := runFor(t, 5*time.Minute, env, "bash", "testdata/ebs-sharing.sh")
			if r.code != 0 {
				t.Fatalf("ebs-sharing.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"modification: completed gp3\t4", "snapshot permissions: 222222222222", "peer restorable: 111111111111",
				"snapshot shared and unshared", "launch permissions: 222222222222", "image shared and unshared",
				"encrypted by default: vol-", "alias/aws/ebs", "peer by default: False", "ebs sharing cycle complete",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
