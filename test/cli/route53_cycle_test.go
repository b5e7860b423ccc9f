package cli_test

import (
	"strings"
	"testing"
	"time"
)

// TestRoute53Cycle runs testdata/route53-cycle.sh with each AWS CLI: a
// delegation set, a zone on it, records, TestDNSAnswer, query logging,
// limits and DNSSEC's answer, then everything deleted in order.
func TestRoute53Cycle(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := append(awsEnv(t), "AWS="+cli.path, "ENDPOINT="+s.URL)
			r := runFor(t, 2*time.Minute, env, "bash", "testdata/route53-cycle.sh")
			if r.code != 0 {
				t.Fatalf("route53-cycle.sh with CLI %s failed:\n%s", cli.name, r)
			}
			for _, want := range []string{
				"zones of the set: 1", "answer: NOERROR\t198.18.7.7", "query logging configs: 1",
				"rrsets: 3\t10000", "dnssec: NOT_SIGNING", "dnssec enable refused", "route53 cycle complete",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
