// Package vpcapi serves minicloud's API where AWS's public service
// endpoints are: on the public service addresses (vpcnet.ServiceAddresses)
// that the regional names resolve to in VPC resolvers
// (awsendpoints), HTTPS on 443 with a certificate of minicloud's CA for
// every service name, and HTTP on 80, with the very handler of the loopback
// listener (the gateway), so every service answers there.
//
// The host holds the addresses on a link of its own (vpcnet
// EnsureServiceAddresses); instances reach it through their VPC's internet
// gateway (source: their public IP) or a NAT gateway (source: its EIP) and
// never otherwise, and the gateway sees that source as the request's
// remote address (aws:SourceIp, CloudTrail's sourceIPAddress).
//
// Serving there is best effort: another minicloud with the same public
// range, or a host service bound to the port on every address, holds the
// port; Start then logs it, Health says why, and the rest of minicloud
// runs. VPC endpoints (package vpce) serve the same handler on their own
// listeners, with certificates of the same CA made by Issue for Names and
// their own names.
package vpcapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/pki"
)

// Addresses puts the service addresses on the host and takes them away:
// vpcnet.Network's EnsureServiceAddresses and RemoveServiceAddresses.
type Addresses interface {
	EnsureServiceAddresses(ctx context.Context) ([]netip.Addr, error)
	RemoveServiceAddresses(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	Addresses Addresses
	// Handler serves every request (the gateway).
	Handler http.Handler
	// CA issues the certificate of Names.
	CA *pki.Authority
	// Regions are those whose names the certificate covers.
	Regions []string
	// HTTPPort and HTTPSPort are 80 and 443 when zero.
	HTTPPort, HTTPSPort uint16
	// ReadHeaderTimeout and IdleTimeout go to http.Server.
	ReadHeaderTimeout, IdleTimeout time.Duration
	Logger                         *slog.Logger
}

// Server serves the API on the service addresses.
type Server struct {
	cfg    Config
	mu     sync.Mutex
	certMu sync.Mutex
	cert   *tls.Certificate // made at the first handshake
	srvs   []*http.Server
	addrs  []netip.Addr
	reason string // why nothing serves, when nothing does
}

// New returns a Server for cfg; nothing happens before Start.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPPort == 0 {
		cfg.HTTPPort = 80
	}
	if cfg.HTTPSPort == 0 {
		cfg.HTTPSPort = 443
	}
	return &Server{cfg: cfg}
}

// Names are the DNS names the certificate covers: every service name of
// regions (awsendpoints), as wildcards.
func Names(regions []string) []string {
	out := []string{"*.amazonaws.com", "*.s3.amazonaws.com"}
	for _, r := range regions {
		out = append(out, "*."+r+".amazonaws.com", "*.s3."+r+".amazonaws.com",
			"*.ecr."+r+".amazonaws.com", "*.dkr.ecr."+r+".amazonaws.com")
	}
	return out
}

// TLSConfig is the TLS configuration of the HTTPS listeners: the
// certificate for Names, issued by the CA at the first handshake (the CA is
// made the first time something needs it, never at start-up), then kept.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: s.certificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

func (s *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	if s.cert != nil {
		return s.cert, nil
	}
	cert, err := Issue(s.cfg.CA, Names(s.cfg.Regions))
	if err != nil {
		return nil, err
	}
	s.cert = cert
	return s.cert, nil
}

// Issue makes a serving certificate of ca for names (its chain included):
// the in-VPC listener's, and interface VPC endpoints' with their own names.
func Issue(ca *pki.Authority, names []string) (*tls.Certificate, error) {
	leaf, err := ca.Issue(pki.LeafRequest{Names: names, Key: pki.ECP256})
	if err != nil {
		return nil, fmt.Errorf("vpcapi: certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(append(append([]byte{}, leaf.CertificatePEM...), leaf.ChainPEM...), leaf.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("vpcapi: certificate: %w", err)
	}
	return &cert, nil
}

// Start puts the addresses on the host and serves them. A failure is
// logged and reported by Health, not returned: the rest of minicloud does
// not depend on it.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.start(ctx); err != nil {
		s.reason = err.Error()
		s.cfg.Logger.Warn("AWS APIs are not served inside the VPCs", "err", err)
		_ = s.stopLocked(ctx)
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	addrs, err := s.cfg.Addresses.EnsureServiceAddresses(ctx)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return errors.New("the public range is smaller than a /24 and keeps no service addresses")
	}
	tlsCfg := s.TLSConfig()
	for _, a := range addrs {
		for _, l := range []struct {
			port uint16
			tls  bool
		}{{s.cfg.HTTPPort, false}, {s.cfg.HTTPSPort, true}} {
			ap := netip.AddrPortFrom(a, l.port)
			ln, err := net.Listen("tcp", ap.String())
			if err != nil {
				return fmt.Errorf("vpcapi: listen on %s: %w", ap, err)
			}
			if l.tls {
				ln = tls.NewListener(ln, tlsCfg)
			}
			s.serveLocked(ln)
		}
	}
	s.addrs, s.reason = addrs, ""
	return nil
}

func (s *Server) serveLocked(ln net.Listener) {
	srv := &http.Server{Handler: s.cfg.Handler, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	s.srvs = append(s.srvs, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Warn("serving the API in the VPCs", "addr", ln.Addr(), "err", err)
		}
	}()
}

// Addrs are the addresses served now.
func (s *Server) Addrs() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.addrs...)
}

// Stop stops serving, waiting up to ctx's deadline for requests in flight,
// and takes the addresses off the host.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(ctx)
}

func (s *Server) stopLocked(ctx context.Context) error {
	var errs []error
	for _, srv := range s.srvs {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err, srv.Close())
		}
	}
	s.srvs, s.addrs = nil, nil
	errs = append(errs, s.cfg.Addresses.RemoveServiceAddresses(ctx))
	return errors.Join(errs...)
}

// Health reports what is served, or why nothing is.
func (s *Server) Health() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.addrs) == 0 {
		return map[string]any{"state": "off", "reason": s.reason}
	}
	var addrs []string
	for _, a := range s.addrs {
		addrs = append(addrs, a.String())
	}
	return map[string]any{"state": "on", "addresses": addrs}
}
