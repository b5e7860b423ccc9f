package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/service/ec2"
)

// diagram prints the architecture of an account and region, as a running
// minicloud draws it from live state (GET /_minicloud/diagram), in Mermaid.
func diagram(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", defaultServer(), "")
	account := fs.String("account", defaultAccount(), "")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !ec2.KnownRegion(*region) {
		fmt.Fprintf(stderr, "minicloud diagram: unknown region %q (see aws ec2 describe-regions --all-regions)\n", *region)
		return 2
	}
	u := serverURL(*endpoint) + "/_minicloud/diagram?" + url.Values{"account": {*account}, "region": {*region}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud diagram: %v\n", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "minicloud diagram: %v\n", notRunning(*endpoint, err))
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "minicloud diagram: %s: HTTP %d %s %v\n", u, resp.StatusCode, strings.TrimSpace(string(body)), err)
		return 1
	}
	_, _ = stdout.Write(body)
	return 0
}

// defaultAccount follows minicloud's rule for access keys: a 12-digit key
// is its own account, anything else the default account (--accounts
// mappings live in the server; pass --account for those).
func defaultAccount() string {
	if k := envOr("AWS_ACCESS_KEY_ID", ""); len(k) == 12 && strings.Trim(k, "0123456789") == "" {
		return k
	}
	return "000000000000"
}
