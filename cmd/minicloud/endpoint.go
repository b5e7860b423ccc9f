package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// defaultListen is where `minicloud serve` listens unless told otherwise.
const defaultListen = "127.0.0.1:4566"

// defaultServer is where the client commands (diagram, databases) find the
// running minicloud: $MINICLOUD_LISTEN, as the server itself reads it, else
// its default. AWS_ENDPOINT_URL is not followed: it may name a host that is
// not this machine's minicloud, and these commands read its internals.
func defaultServer() string { return envOr("MINICLOUD_LISTEN", defaultListen) }

// serverURL is the base URL (no trailing slash) of the minicloud at
// endpoint: a URL, or an address as --listen takes it. An address that
// listens on every interface (":4566", "0.0.0.0:4566", "[::]:4566") is
// reached on loopback.
func serverURL(endpoint string) string {
	if strings.Contains(endpoint, "://") {
		return strings.TrimRight(endpoint, "/")
	}
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return "http://" + strings.TrimRight(endpoint, "/")
	}
	switch a, err := netip.ParseAddr(host); {
	case host == "":
		host = "127.0.0.1"
	case err == nil && a.IsUnspecified() && a.Is4():
		host = "127.0.0.1"
	case err == nil && a.IsUnspecified():
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// reachHint tells a person how to reach a name of their public hosted zones
// from this machine through minicloud's DNS at dnsAddr (host:port, IPv6
// hosts in brackets): with `minicloud resolve`, which finds that address
// itself, or dig told the port.
func reachHint(dnsAddr string) string {
	host, port, err := net.SplitHostPort(dnsAddr)
	if err != nil {
		host, port = dnsAddr, "53"
	}
	dig := "dig +short @" + host + " -p " + port
	if port == "53" {
		dig = "dig +short @" + host
	}
	return "Reach a name of your public hosted zones from this machine (e.g. app.example.test):\n" +
		"  curl --resolve app.example.test:80:$(minicloud resolve app.example.test) http://app.example.test/\n" +
		"  (or: " + dig + " app.example.test)\n"
}

// guardHint is what serve prints so that no copied AWS CLI command reaches
// the real AWS (awsCLI says why AWS_ENDPOINT_URL is not enough).
const guardHint = "AWS CLI: minicloud aws … always passes --endpoint-url (AWS_ENDPOINT_URL is ignored by AWS CLI v2 before 2.13\n" +
	"  and by v1 for rds, sqs and emr: such commands go to the real AWS); minicloud profile prints a ~/.aws/config profile\n"

// getFromServer reads path from the running minicloud at addr (host:port
// or a URL): the body of its 200 answer.
func getFromServer(ctx context.Context, addr, path string) ([]byte, error) {
	return callServer(ctx, http.MethodGet, addr, path)
}

// callServer sends a bodiless request to the running minicloud at addr:
// the body of its 200 answer.
func callServer(ctx context.Context, method, addr, path string) ([]byte, error) {
	base := serverURL(addr)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, notRunning(addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("%s%s: %s %s", base, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", base, path, err)
	}
	return b, nil
}
