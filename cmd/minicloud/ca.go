package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

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
		b, err = fetchCA(context.Background(), *endpoint)
	}
	if err != nil {
		fmt.Fprintf(stderr, "minicloud ca: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(b)
	return 0
}

// fetchCA reads the root certificate from a running minicloud at addr
// (host:port or a URL).
func fetchCA(ctx context.Context, addr string) ([]byte, error) {
	base := serverURL(addr)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+server.CAPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("is minicloud running at %s? %w", addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", base, server.CAPath, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s%s: %s: %s", base, server.CAPath, resp.Status, b)
	}
	return b, nil
}
