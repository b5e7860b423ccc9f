package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minicloud/minicloud/internal/oidc"
	"github.com/minicloud/minicloud/internal/server"
)

// `minicloud oidc token` mints, through a running server or from its
// state directory without one, tokens that the server's issuer key
// verifies, with the subject, audiences and claims asked for; bad
// arguments are refused.
func TestOIDCTokenCommand(t *testing.T) {
	dir := t.TempDir()
	srv, err := server.New(server.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close(context.Background())
	keys, _, err := oidc.NewIssuer(server.OIDCDir(dir)).KeysOf(oidc.IssuerURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range [][]string{{"--endpoint", hs.URL}, {"--state-dir", dir}} {
		var out, errb bytes.Buffer
		args := append([]string{"oidc", "token", "--sub", "system:serviceaccount:default:app", "--aud", "sts.amazonaws.com", "--aud", "other",
			"--claim", "amr=authenticated", "--ttl", "10m"}, where...)
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", where, code, errb.String())
		}
		tok, err := oidc.Parse(strings.TrimSpace(out.String()))
		if err != nil {
			t.Fatalf("%v: %v", where, err)
		}
		if err := tok.VerifySignature(keys); err != nil {
			t.Errorf("%v: the state directory's key does not verify it: %v", where, err)
		}
		if tok.Subject != "system:serviceaccount:default:app" || strings.Join(tok.Audience, ",") != "sts.amazonaws.com,other" ||
			strings.Join(tok.AMR, ",") != "authenticated" || tok.Expires.Sub(tok.IssuedAt).Minutes() != 10 {
			t.Errorf("%v: claims %+v", where, tok)
		}
	}
	for _, args := range [][]string{{"oidc"}, {"oidc", "token"}, {"oidc", "token", "--sub", "s", "--claim", "exp=1", "--state-dir", dir}} {
		if code := run(args, &bytes.Buffer{}, &bytes.Buffer{}); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
}
