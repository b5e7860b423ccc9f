package cli_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

var dnsRE = regexp.MustCompile(`DNS for Route 53 zones on (127\.0\.0\.1:[0-9]+)`)

// TestRoute53WithDig builds a zone and records with each AWS CLI and asks
// minicloud's DNS server with dig, as a user would.
func TestRoute53WithDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Fatal("dig is missing: install Debian's bind9-dnsutils (scripts/deps.sh does)")
	}
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "127.0.0.1:0")
			var addr string
			for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := dnsRE.FindStringSubmatch(s.stdout.String()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				t.Fatalf("minicloud printed no DNS address:\n%s", s.stdout)
			}
			host, port, _ := strings.Cut(addr, ":")
			env := awsEnv(t)
			zone := decode[struct{ HostedZone struct{ Id string } }](t, cli.aws(t, s, env, "route53", "create-hosted-zone", "--name", "cli.test", "--caller-reference", "ref-"+cli.name))
			r := cli.aws(t, s, env, "route53", "change-resource-record-sets", "--hosted-zone-id", zone.HostedZone.Id, "--change-batch",
				`{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"www.cli.test","Type":"A","TTL":60,"ResourceRecords":[{"Value":"198.18.2.3"}]}},`+
					`{"Action":"CREATE","ResourceRecordSet":{"Name":"cli.test","Type":"MX","TTL":60,"ResourceRecords":[{"Value":"10 mail.cli.test"}]}}]}`)
			if r.code != 0 {
				t.Fatalf("change-resource-record-sets: %s", r)
			}
			// The same CREATE again fails the whole batch, as AWS does.
			r = cli.aws(t, s, env, "route53", "change-resource-record-sets", "--hosted-zone-id", zone.HostedZone.Id, "--change-batch",
				`{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"www.cli.test","Type":"A","TTL":60,"ResourceRecords":[{"Value":"198.18.2.3"}]}}]}`)
			if r.code == 0 || !strings.Contains(r.stderr, "InvalidChangeBatch") {
				t.Fatalf("duplicate CREATE: %s", r)
			}
			for _, tc := range []struct{ args, want string }{
				{"www.cli.test A", "198.18.2.3"},
				{"cli.test MX", "10 mail.cli.test."},
				{"cli.test SOA", "awsdns-hostmaster.amazon.com."},
			} {
				out := run(t, cleanEnv(), dig, append([]string{"@" + host, "-p", port, "+short", "+time=1", "+tries=1"}, strings.Fields(tc.args)...)...)
				if out.code != 0 || !strings.Contains(out.stdout, tc.want) {
					t.Errorf("dig %s: %s (want %q)", tc.args, out, tc.want)
				}
			}
			out := run(t, cleanEnv(), dig, "@"+host, "-p", port, "+time=1", "+tries=1", "nope.cli.test", "A")
			if !strings.Contains(out.stdout, "status: NXDOMAIN") {
				t.Errorf("dig nope.cli.test: %s", out)
			}
		})
	}
}
