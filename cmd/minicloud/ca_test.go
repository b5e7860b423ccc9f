package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"testing"

	"github.com/minicloud/minicloud/internal/server"
)

// `minicloud ca` prints the same root from a running server and, without
// one, from its state directory; a server of another state directory has
// another root.
func TestCACommand(t *testing.T) {
	dir := t.TempDir()
	srv, err := server.New(server.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close(context.Background())

	ca := func(args ...string) []byte {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"ca"}, args...), &out, &errb); code != 0 {
			t.Fatalf("minicloud ca %v: exit %d: %s", args, code, errb.String())
		}
		block, rest := pem.Decode(out.Bytes())
		if block == nil || len(bytes.TrimSpace(rest)) > 0 {
			t.Fatalf("minicloud ca %v printed %q, not one PEM certificate", args, out.String())
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !c.IsCA || c.CheckSignatureFrom(c) != nil {
			t.Fatalf("minicloud ca %v: not a self-signed CA certificate (%v)", args, err)
		}
		return out.Bytes()
	}
	fromServer := ca("--endpoint", hs.URL)
	if fromDir := ca("--state-dir", dir); !bytes.Equal(fromServer, fromDir) {
		t.Fatal("the state directory's root differs from the server's")
	}
	if other := ca("--state-dir", t.TempDir()); bytes.Equal(other, fromServer) {
		t.Fatal("another state directory has the same root")
	}
	var errb bytes.Buffer
	if code := run([]string{"ca", "--endpoint", "127.0.0.1:1"}, &bytes.Buffer{}, &errb); code != 1 {
		t.Fatalf("no server: exit %d (%s), want 1", code, errb.String())
	}
}
