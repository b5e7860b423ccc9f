package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/oidc"
	"github.com/minicloud/minicloud/internal/server"
)

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// oidcCommand runs `minicloud oidc token`: it mints an ID token of
// minicloud's OIDC issuer, through the running server (whose key signs
// it) or, with --state-dir, with the key of that state directory.
func oidcCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "token" {
		fmt.Fprintln(stderr, "usage: minicloud oidc token --sub SUBJECT [--aud AUDIENCE]... [--ttl DURATION] [--claim KEY=VALUE]... [--endpoint URL | --state-dir DIR]")
		return 2
	}
	fs := flag.NewFlagSet("oidc token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "")
	ttl := fs.Duration("ttl", time.Hour, "")
	endpoint := fs.String("endpoint", defaultServer(), "")
	stateDir := fs.String("state-dir", "", "")
	var aud, claims stringList
	fs.Var(&aud, "aud", "")
	fs.Var(&claims, "claim", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *sub == "" || *ttl <= 0 {
		fmt.Fprintln(stderr, "minicloud oidc token: --sub is required, and --ttl must be positive")
		return 2
	}
	var (
		tok string
		err error
	)
	if *stateDir != "" {
		c := oidc.Claims{Subject: *sub, Audience: aud, TTL: *ttl}
		for _, kv := range claims {
			if err = c.AddClaim(kv); err != nil {
				break
			}
		}
		if err == nil {
			tok, err = oidc.NewIssuer(server.OIDCDir(*stateDir)).Mint(c)
			tok += "\n"
		}
	} else {
		q := url.Values{"sub": {*sub}, "aud": aud, "claim": claims, "ttl": {strconv.Itoa(int(ttl.Seconds()))}}
		var b []byte
		b, err = callServer(context.Background(), "POST", *endpoint, oidc.TokenPath+"?"+q.Encode())
		tok = string(b)
	}
	if err != nil {
		fmt.Fprintf(stderr, "minicloud oidc token: %v\n", err)
		return 1
	}
	_, _ = io.WriteString(stdout, tok)
	return 0
}
