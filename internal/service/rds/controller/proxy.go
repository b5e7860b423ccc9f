package controller

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
	"github.com/minicloud/minicloud/internal/workload"
)

// The loopback port: 127.0.0.1:<loopback port> on the host relays to a
// server placed in its VPC's namespace (workload.Forward), so that every
// DB instance is reachable from this host (rds.Service.Loopback, minicloud
// databases). The port comes from the workload runtime's allocator, held by
// the instance's record key.

// server is a running instance's server with what the controller put
// around it: the relay from its loopback port and its network interface,
// when placed.
type server struct {
	*engine.Server
	relay *workload.Relay
	eni   *records.PlacedENI
	// replica: the server was started as a read replica (a cluster's
	// reader, until promoteMember makes it the writer).
	replica bool
	// source is the instance a replica's server was started to follow:
	// it inherits that source's socket directory and cannot be pointed at
	// another while it runs (runningServer restarts it when the record's
	// source differs, as after a cluster failover). "" for a primary.
	source string
}

// startServer starts eng's server on dir for clients on 127.0.0.1:port,
// inside vpc's namespace behind a relay when vpc is set.
func startServer(eng engine.Engine, dir string, port int, vpc *engine.Listen, settings []string, extra []*os.File) (*server, error) {
	sp, err := eng.Start(dir, port, vpc, settings, extra...)
	if err != nil {
		return nil, err
	}
	p := &server{Server: sp}
	if vpc != nil {
		if p.relay, err = workload.Forward(port, vpc.NS, netip.AddrPortFrom(vpc.IP, uint16(vpc.Port))); err != nil {
			sp.Stop()
			return nil, fmt.Errorf("loopback port: %w", err)
		}
	}
	return p, nil
}

func (p *server) running() bool { return p.Server.Running() }

// stop closes the relay and shuts the server down; a nil server is none.
func (p *server) stop() {
	if p == nil {
		return
	}
	p.relay.Close()
	p.Server.Stop()
}
