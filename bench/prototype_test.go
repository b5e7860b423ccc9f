//go:build bench

package main

import (
	"slices"
	"testing"
)

func TestScriptEnv(t *testing.T) {
	env := []string{"PATH=/usr/bin", "AWS_ENDPOINT_URL=http://elsewhere:4566", "AWS_PROFILE=prod",
		"MINICLOUD_LISTEN=127.0.0.1:9999", "MINICLOUD_STATE_DIR=/var/lib/x", "HOME=/root", "XAWS_=kept"}
	got := scriptEnv(env)
	if want := []string{"PATH=/usr/bin", "HOME=/root", "XAWS_=kept"}; !slices.Equal(got, want) {
		t.Errorf("scriptEnv = %q, want %q", got, want)
	}
	if len(env) != 7 || env[1] != "AWS_ENDPOINT_URL=http://elsewhere:4566" {
		t.Errorf("scriptEnv changed its argument: %q", env)
	}
}
