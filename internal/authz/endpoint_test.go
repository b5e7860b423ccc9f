package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/server"
)

// throughEndpoint serves minicloud as an interface VPC endpoint's listener
// does: every request carries the endpoint (its ID, VPC and policy).
func throughEndpoint(t *testing.T, policy *string) (direct, viaVPCE string) {
	t.Helper()
	srv, err := server.New(server.Config{Ephemeral: true, Version: "test", IAMEnforce: true,
		Accounts: map[string]string{rootKey: account}, Secrets: map[string]string{rootKey: rootSecret}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	vs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := &api.VPCEndpoint{ID: "vpce-0123456789abcdef0", VPCID: "vpc-0123456789abcdef0", Policy: *policy}
		srv.Handler().ServeHTTP(w, r.WithContext(api.WithVPCEndpoint(r.Context(), ep)))
	}))
	t.Cleanup(func() {
		vs.Close()
		hs.Close()
		_ = srv.Close(context.Background())
	})
	return hs.URL, vs.URL
}

// TestEndpointPolicy: a request through a VPC endpoint needs the
// endpoint's policy to allow it, the root user's included, and sees
// aws:SourceVpce and aws:SourceVpc.
func TestEndpointPolicy(t *testing.T) {
	ctx := context.Background()
	policy := `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	direct, via := throughEndpoint(t, &policy)
	admin := iam.NewFromConfig(cfgFor(direct, rootKey, rootSecret, ""))
	onlyVPCE := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0","aws:SourceVpc":"vpc-0123456789abcdef0"}}}]}`
	bob := user(t, direct, admin, "bob", onlyVPCE, "")
	call := func(base string, cfg aws.Config) error {
		cfg.BaseEndpoint = aws.String(base)
		_, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		return err
	}
	rootCfg := cfgFor(direct, rootKey, rootSecret, "")
	narrow := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:DescribeVpcs","Resource":"*"}]}`
	denyBob := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},` +
		`{"Sid":"NoBob","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + account + `:user/bob"},"Action":"*","Resource":"*"}]}`
	cases := []struct {
		name, policy, base string
		cfg                aws.Config
		want               string // "" allowed, else in the error
	}{
		{"bob direct: no aws:SourceVpce", policy, direct, bob, "UnauthorizedOperation"},
		{"bob through the endpoint", policy, via, bob, ""},
		{"root through the endpoint", policy, via, rootCfg, ""},
		{"root, endpoint allows another action", narrow, via, rootCfg, "because no VPC endpoint policy allows the ec2:DescribeRegions action"},
		{"bob, endpoint allows another action", narrow, via, bob, "because no VPC endpoint policy allows"},
		{"bob, endpoint denies him", denyBob, via, bob, "with an explicit deny in a VPC endpoint policy"},
		{"root, endpoint denies bob only", denyBob, via, rootCfg, ""},
		{"root direct, narrow endpoint elsewhere", narrow, direct, rootCfg, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			policy = c.policy
			err := call(c.base, c.cfg)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
