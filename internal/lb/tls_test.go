package lb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// selfSigned makes a certificate for names, its own CA.
func selfSigned(t *testing.T, names ...string) (*tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

func TestHTTPSListener(t *testing.T) {
	def, defLeaf := selfSigned(t, "www.example.com")
	api, apiLeaf := selfSigned(t, "api.example.com")
	certs := map[string]*tls.Certificate{"arn:cert/default": def, "arn:cert/api": api}
	var lookups atomic.Int32
	opts := Options{Certificate: func(ctx context.Context, arn string) (*tls.Certificate, error) {
		lookups.Add(1)
		if c := certs[arn]; c != nil {
			return c, nil
		}
		return nil, errors.New("no such certificate")
	}}
	b := newBackend(t, "b", nil)
	cfg := func(h2Off bool) Config {
		return Config{HTTP2Disabled: h2Off, TargetGroups: []TargetGroup{groupOf("tg", b)},
			Listeners: []Listener{{Port: 443, Protocol: HTTPS, Certificates: []string{"arn:cert/default", "arn:cert/api"}, DefaultActions: forwardTo("tg")}}}
	}
	n := testNode(t, opts, cfg(false))
	addr := n.Addr(443).String()
	pool := x509.NewCertPool()
	pool.AddCert(defLeaf)
	pool.AddCert(apiLeaf)
	client := func(serverName string) *http.Client {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: serverName},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	do := func(c *http.Client, host string) *http.Response {
		t.Helper()
		resp, err := c.Get("https://" + host + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "b" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
		return resp
	}

	tests := []struct{ host, wantCert string }{
		{"www.example.com", "www.example.com"},
		{"api.example.com", "api.example.com"},
	}
	for _, tt := range tests {
		resp := do(client(tt.host), tt.host)
		if resp.Proto != "HTTP/2.0" {
			t.Errorf("%s: protocol %s, want HTTP/2.0 (ALPN h2)", tt.host, resp.Proto)
		}
		if got := resp.TLS.PeerCertificates[0].Subject.CommonName; got != tt.wantCert {
			t.Errorf("SNI %s: certificate %s", tt.host, got)
		}
	}
	// An unknown name gets the default certificate (and so fails
	// verification for that name).
	if _, err := client("other.example.com").Get("https://other.example.com/"); err == nil {
		t.Error("unknown SNI name verified")
	}
	h := b.lastHeader()
	if h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Port") != "443" {
		t.Errorf("forwarded headers %v", h)
	}
	if lookups.Load() == 0 {
		t.Error("certificates not looked up per handshake")
	}

	// routing.http2.enabled=false: HTTP/1.1 only.
	if err := n.Update(context.Background(), cfg(true)); err != nil {
		t.Fatal(err)
	}
	if resp := do(client("www.example.com"), "www.example.com"); resp.Proto != "HTTP/1.1" {
		t.Errorf("with HTTP/2 disabled: %s", resp.Proto)
	}
}

func TestWebSocket(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
	b := newBackend(t, "ws", echo)
	n := testNode(t, Options{}, Config{IdleTimeout: 400 * time.Millisecond, TargetGroups: []TargetGroup{groupOf("tg", b)},
		Listeners: []Listener{{Port: 80, Protocol: HTTP, DefaultActions: forwardTo("tg")}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+n.Addr(80).String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// Traffic keeps the connection open past the idle timeout.
	for i := range 6 {
		msg := fmt.Sprintf("hello %d", i)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "echo: "+msg {
			t.Fatalf("got %q", got)
		}
		time.Sleep(150 * time.Millisecond)
	}
	// Silence closes it.
	start := time.Now()
	if _, _, err := c.Read(ctx); err == nil {
		t.Fatal("read a message nobody sent")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("idle WebSocket closed after %v, idle timeout 400ms", el)
	}
}

// TestTLSPolicy: an HTTPS listener accepts only its security policy's
// protocol versions and, below TLS 1.3, its ciphers.
func TestTLSPolicy(t *testing.T) {
	cert, leaf := selfSigned(t, "www.example.com")
	opts := Options{Certificate: func(context.Context, string) (*tls.Certificate, error) { return cert, nil }}
	b := newBackend(t, "b", nil)
	cfg := func(p *TLSPolicy) Config {
		return Config{TargetGroups: []TargetGroup{groupOf("tg", b)},
			Listeners: []Listener{{Port: 443, Protocol: HTTPS, Certificates: []string{"arn:cert"}, TLS: p, DefaultActions: forwardTo("tg")}}}
	}
	n := testNode(t, opts, cfg(nil))
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	handshake := func(minV, maxV uint16, suites ...uint16) (uint16, error) {
		c, err := tls.Dial("tcp", n.Addr(443).String(), &tls.Config{RootCAs: pool, ServerName: "www.example.com",
			MinVersion: minV, MaxVersion: maxV, CipherSuites: suites})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.ConnectionState().Version, nil
	}
	const (
		gcm = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		cbc = tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
	)
	tests := []struct {
		name       string
		policy     *TLSPolicy
		minV, maxV uint16
		suites     []uint16
		ok         bool
	}{
		{"no policy, TLS 1.3", nil, tls.VersionTLS13, tls.VersionTLS13, nil, true},
		{"no policy, TLS 1.1", nil, tls.VersionTLS11, tls.VersionTLS11, nil, false},
		{"TLS 1.3 only refuses 1.2", &TLSPolicy{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}, tls.VersionTLS12, tls.VersionTLS12, nil, false},
		{"TLS 1.3 only, 1.3", &TLSPolicy{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}, tls.VersionTLS13, tls.VersionTLS13, nil, true},
		{"1.2 policy, its cipher", &TLSPolicy{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{gcm}}, tls.VersionTLS12, tls.VersionTLS12, []uint16{gcm}, true},
		{"1.2 policy, another cipher", &TLSPolicy{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{gcm}}, tls.VersionTLS12, tls.VersionTLS12, []uint16{cbc}, false},
		{"1.2 policy refuses 1.3", &TLSPolicy{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{gcm}}, tls.VersionTLS13, tls.VersionTLS13, nil, false},
	}
	for _, tt := range tests {
		if err := n.Update(context.Background(), cfg(tt.policy)); err != nil {
			t.Fatal(err)
		}
		v, err := handshake(tt.minV, tt.maxV, tt.suites...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: handshake version %x, err %v; want success %v", tt.name, v, err, tt.ok)
		}
	}
}
