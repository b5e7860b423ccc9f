package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseAccounts(t *testing.T) {
	for _, tc := range []struct {
		in                string
		accounts, secrets string // k=v,… sorted; "" none
		err               bool
	}{
		{"", "", "", false},
		{"AKID1=111111111111", "AKID1=111111111111", "", false},
		{"AKID1=111111111111:s3cr/t+x, AKID2=222222222222", "AKID1=111111111111,AKID2=222222222222", "AKID1=s3cr/t+x", false},
		{"AKID1=111111111111:a:b", "AKID1=111111111111", "AKID1=a:b", false},
		{"AKID1=111111111111:", "", "", true},
		{"AKID1=1111", "", "", true},
		{"=111111111111", "", "", true},
		{"AKID1", "", "", true},
	} {
		acct, sec, err := parseAccounts(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parseAccounts(%q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if tc.err {
			continue
		}
		if got := joinMap(acct); got != tc.accounts {
			t.Errorf("parseAccounts(%q) accounts %q, want %q", tc.in, got, tc.accounts)
		}
		if got := joinMap(sec); got != tc.secrets {
			t.Errorf("parseAccounts(%q) secrets %q, want %q", tc.in, got, tc.secrets)
		}
	}
}

func joinMap(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// TestVerifySignaturesNeedsSecrets: verification without any secret could
// only refuse everything, so serve refuses to start.
func TestVerifySignaturesNeedsSecrets(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--ephemeral", "--verify-signatures", "--accounts", "AKID1=111111111111"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "ACCESS_KEY=ACCOUNT_ID:SECRET") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestIAMFlag: --iam takes enforce or off; enforce verifies signatures,
// so it needs a key with a secret too.
func TestIAMFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--iam", "maybe"}, `--iam: "maybe" is not enforce or off`},
		{[]string{"--iam", "enforce", "--accounts", "AKID1=111111111111"}, "--iam enforce verifies signatures"},
		{[]string{"--iam", "enforce", "--verify-signatures=false", "--accounts", "AKID1=111111111111:s"}, "--iam enforce verifies signatures"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"serve", "--ephemeral"}, tc.args...), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
