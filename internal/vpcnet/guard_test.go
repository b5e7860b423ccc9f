package vpcnet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
)

// TestGuardKeepsThePublicRangeOnTheHost checks that traffic to a public IP
// minicloud has not mapped fails on the host at once instead of following
// the default route off the machine, and that Cleanup removes the guard:
// of two processes guarding one range, the last to clean up removes the
// rule they share.
func TestGuardKeepsThePublicRangeOnTheHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("vpcnet tests need root; run them as root")
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	n, err := New(Config{Prefix: "tg" + hex.EncodeToString(b), PublicCIDR: netip.MustParsePrefix("198.19.254.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Cleanup(context.Background()); _ = n.Close() })
	if err := n.GuardPublicRange(context.Background()); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("ip", "route", "show", "198.19.254.0/24").CombinedOutput()
	if !strings.Contains(string(out), "unreachable") {
		t.Fatalf("no unreachable route for the public range: %q", out)
	}
	// The forwarding guard comes with the first gateway link, not before.
	if hasTable(t, n.guardTable().Name) {
		t.Fatalf("host forwarding guard table %s before any internet gateway", n.guardTable().Name)
	}
	if err := n.EnsureVPC(context.Background(), VPC{ID: "vpc-guard", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}}); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureInternetGateway(context.Background(), "vpc-guard"); err != nil {
		t.Fatal(err)
	}
	if !hasTable(t, n.guardTable().Name) {
		t.Fatalf("no host forwarding guard table %s with an internet gateway", n.guardTable().Name)
	}
	// A VPN-like policy rule sends the range to another table first; that
	// table's route (a blackhole, so the test sends nothing anywhere) must
	// not take the range away from the guard.
	for _, args := range [][]string{
		{"route", "add", "blackhole", "198.19.254.0/24", "table", "4242"},
		{"rule", "add", "pref", "32000", "lookup", "4242"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "rule", "del", "pref", "32000", "lookup", "4242").Run()
		_ = exec.Command("ip", "route", "flush", "table", "4242").Run()
	})
	start := time.Now()
	_, err = net.DialTimeout("tcp", "198.19.254.7:80", 2*time.Second)
	if !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("dial an unmapped public IP: %v, want host or network unreachable", err)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Fatalf("the unmapped public IP took %v to fail", time.Since(start))
	}
	// A second process guarding the same range shares the rule: the first
	// to clean up leaves it, and the other's route, in place.
	n2, err := New(Config{Prefix: "tg" + hex.EncodeToString(b) + "b", PublicCIDR: netip.MustParsePrefix("198.19.254.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n2.Cleanup(context.Background()); _ = n2.Close() })
	if n2.guardMetric() == n.guardMetric() {
		t.Fatalf("prefixes %s and %s share guard metric %d", n.names.Prefix, n2.names.Prefix, n.guardMetric())
	}
	if err := n2.GuardPublicRange(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command("ip", "rule", "list").CombinedOutput()
	if !strings.Contains(string(out), "150:\tfrom all to 198.19.254.0/24 lookup main") {
		t.Fatalf("the first Cleanup removed the rule another process's guard needs: %q", out)
	}
	out, _ = exec.Command("ip", "route", "show", "198.19.254.0/24").CombinedOutput()
	if strings.Count(string(out), "unreachable") != 1 || !strings.Contains(string(out), fmt.Sprintf("metric %d", n2.guardMetric())) {
		t.Fatalf("after the first Cleanup, want only the second guard route (metric %d): %q", n2.guardMetric(), out)
	}
	if _, err = net.DialTimeout("tcp", "198.19.254.7:80", 2*time.Second); !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("dial an unmapped public IP with the second guard alone: %v, want host or network unreachable", err)
	}
	if err := n2.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	out, _ = exec.Command("ip", "route", "show", "198.19.254.0/24").CombinedOutput()
	if strings.TrimSpace(string(out)) != "" {
		t.Fatalf("guard route left after Cleanup: %q", out)
	}
	for _, nw := range []*Network{n, n2} {
		if hasTable(t, nw.guardTable().Name) {
			t.Fatalf("forwarding guard table %s left after Cleanup", nw.guardTable().Name)
		}
	}
	out, _ = exec.Command("ip", "rule", "list").CombinedOutput()
	if strings.Contains(string(out), "to 198.19.254.0/24 lookup main") {
		t.Fatalf("guard rule left after Cleanup: %q", out)
	}
}

func hasTable(t *testing.T, name string) bool {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name == name {
			return true
		}
	}
	return false
}
