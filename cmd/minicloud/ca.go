package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/minicloud/minicloud/internal/pki"
	"github.com/minicloud/minicloud/internal/server"
)

// ca prints the root certificate of minicloud's certificate authority, the
// one that signs the certificates ACM issues, for a client to trust: the
// running server's (--endpoint, the default), or, with --state-dir, the CA
// of that state directory, read without a server (and made there if it
// does not exist yet, as the server would on first need).
func ca(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	stateDir := fs.String("state-dir", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var (
		b   []byte
		err error
	)
	if *stateDir != "" {
		b, err = pki.New(server.CADir(*stateDir)).RootPEM()
	} else {
		b, err = getFromServer(context.Background(), *endpoint, server.CAPath)
	}
	if err != nil {
		fmt.Fprintf(stderr, "minicloud ca: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(b)
	return 0
}
