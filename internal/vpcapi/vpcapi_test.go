package vpcapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/minicloud/minicloud/internal/pki"
)

type fakeAddrs struct {
	addrs   []netip.Addr
	err     error
	removed int
}

func (f *fakeAddrs) EnsureServiceAddresses(context.Context) ([]netip.Addr, error) {
	return f.addrs, f.err
}
func (f *fakeAddrs) RemoveServiceAddresses(context.Context) error { f.removed++; return nil }

// freePort is a port free on loopback now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func TestServer(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		addrs     *fakeAddrs
		wantState string
	}{
		{"serves", &fakeAddrs{addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}, "on"},
		{"no addresses", &fakeAddrs{}, "off"},
		{"addresses fail", &fakeAddrs{err: errors.New("boom")}, "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := pki.New("")
			httpPort, httpsPort := freePort(t), freePort(t)
			s := New(Config{Addresses: tc.addrs, CA: ca, Regions: []string{"us-east-1"}, HTTPPort: httpPort, HTTPSPort: httpsPort,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s %v", r.Host, r.TLS != nil) })})
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(ctx)
			if got := s.Health()["state"]; got != tc.wantState {
				t.Fatalf("state %v, want %s (%v)", got, tc.wantState, s.Health())
			}
			if tc.wantState != "on" {
				if tc.addrs.removed == 0 {
					t.Error("a failed start left the addresses")
				}
				return
			}
			root, err := ca.Root()
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AddCert(root)
			c := &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "sts.us-east-1.amazonaws.com"},
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					_, port, _ := net.SplitHostPort(addr)
					return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
				}}}
			for _, u := range []string{
				fmt.Sprintf("https://sts.us-east-1.amazonaws.com:%d/", httpsPort),
				fmt.Sprintf("http://ec2.us-east-1.amazonaws.com:%d/", httpPort),
			} {
				resp, err := c.Get(u)
				if err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(b) == 0 {
					t.Errorf("%s: %d %q", u, resp.StatusCode, b)
				}
			}
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.addrs.removed != 1 {
				t.Errorf("Stop removed the addresses %d times, want 1", tc.addrs.removed)
			}
		})
	}
}
