package route53_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/minicloud/minicloud/internal/server"
)

// TestDelegationSurvivesRestart: the registrar's choice among public zones
// of one name is durable state, as the zones are.
func TestDelegationSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	var ids []string
	for _, ref := range []string{"r1", "r2"} {
		out, err := e.r53.CreateHostedZone(e.ctx, &route53.CreateHostedZoneInput{Name: aws.String("twice.example"), CallerReference: aws.String(ref)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, (*out.HostedZone.Id)[len("/hostedzone/"):])
	}
	if d := e.srv.Route53().Delegations(); len(d) != 1 || d[0].Answering != ids[0] || d[0].Chosen {
		t.Fatalf("before delegating: %+v, want %s (the oldest) answering", d, ids[0])
	}
	if _, err := e.srv.Route53().Delegate(e.ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	if d := srv.Route53().Delegations(); len(d) != 1 || d[0].Answering != ids[1] || !d[0].Chosen || len(d[0].Shadowed) != 1 || d[0].Shadowed[0] != ids[0] {
		t.Fatalf("after a restart: %+v, want %s chosen", d, ids[1])
	}
}
