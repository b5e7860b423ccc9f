package rds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/state"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// Placement in the VPC (the data plane on, Config.Net set): a DB instance
// with a DB subnet group gets a requester-managed ENI ("RDSNetworkInterface")
// in the group's subnet of its AvailabilityZone (else its first subnet) with
// its VPC security groups. The ENI is plugged into a namespace named after the ENI itself, where
// the network controller applies its security groups (Sync runs before the
// server starts); postgres runs in that namespace on the ENI's address and
// the instance's Port. The loopback port stays, as a host-side TCP proxy to
// it. Stopping or deleting the instance removes namespace and ENI; starting
// it again makes new ones.

// ENIs creates and deletes the DB instances' network interfaces in EC2.
type ENIs interface {
	CreateENI(ctx context.Context, account, region, subnetID string, groupIDs []string, description string) (PlacedENI, error)
	DeleteENI(ctx context.Context, account, region, id string) error
	// ModifyENIGroups replaces the security groups of an ENI CreateENI made.
	ModifyENIGroups(ctx context.Context, account, region, id string, groupIDs []string) error
}

// PlacedENI is a DB instance's network interface.
type PlacedENI struct {
	ID       string `json:"id"`
	VPCID    string `json:"vpcId"`
	SubnetID string `json:"subnetId"`
	MAC      string `json:"mac,omitempty"`
	IP       string `json:"ip"`
	// PublicIP is the interface's public IP while the instance is
	// publicly accessible (dns.go).
	PublicIP string `json:"publicIp,omitempty"`
}

// eniDescription is the Description of the ENIs, as AWS's.
const eniDescription = "RDSNetworkInterface"

func (s *Service) placing() bool { return s.cfg.Net != nil && s.cfg.ENIs != nil }

// wantsVPC reports whether rec is to be placed in its VPC.
func (s *Service) wantsVPC(rec *instanceRecord) bool {
	return s.placing() && rec.DBSubnetGroup != nil && len(rec.DBSubnetGroup.Subnets) > 0
}

// vpcListen is where a placed server listens.
type vpcListen struct {
	ns   string // namespace path
	ip   netip.Addr
	port int
}

// plug makes sure the instance has its ENI (recorded before use, so that it
// is never leaked), its namespace with the ENI attached and the security
// groups applied.
func (c *controller) plug(ctx context.Context, sc state.Scope, id, status string, rec *instanceRecord) (*vpcListen, error) {
	s := c.s
	if rec.ENI == nil {
		var groups []string
		for _, g := range rec.VpcSecurityGroups {
			groups = append(groups, deref(g.VpcSecurityGroupId))
		}
		subnet := subnetInAZ(rec.DBSubnetGroup, deref(rec.AvailabilityZone))
		eni, err := s.cfg.ENIs.CreateENI(ctx, sc.Account, sc.Region, subnet, groups, eniDescription)
		if err != nil {
			return nil, fmt.Errorf("create the network interface: %w", err)
		}
		if !c.update(sc, id, status, func(r *instanceRecord) bool { r.ENI = &eni; return false }) {
			_ = s.cfg.ENIs.DeleteENI(context.Background(), sc.Account, sc.Region, eni.ID)
			return nil, errors.New("the instance changed while its network interface was made")
		}
		rec.ENI = &eni
	}
	e := rec.ENI
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return nil, fmt.Errorf("network interface %s: %w", e.ID, err)
	}
	mac, _ := net.ParseMAC(e.MAC)
	if s.cfg.Sync != nil { // the VPC's subnets exist
		if err := s.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	ns, err := s.cfg.Net.CreateInstanceNamespace(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Net.AttachENI(ctx, vpcnet.ENI{ID: e.ID, VPCID: e.VPCID, SubnetID: e.SubnetID, MAC: mac, IP: ip}, ns); err != nil {
		return nil, err
	}
	if s.cfg.Sync != nil { // security groups before the server starts
		if err := s.cfg.Sync(ctx); err != nil {
			return nil, err
		}
	}
	port := 5432
	if rec.Endpoint != nil && deref(rec.Endpoint.Port) != 0 {
		port = int(*rec.Endpoint.Port)
	}
	return &vpcListen{ns: ns, ip: ip, port: port}, nil
}

// unplug removes an ENI's namespace and the ENI.
func (c *controller) unplug(sc state.Scope, e *PlacedENI) error {
	if e == nil || !c.s.placing() {
		return nil
	}
	ctx := context.Background()
	if err := c.s.cfg.Net.DeleteInstanceNamespace(ctx, e.ID); err != nil {
		return err
	}
	if err := c.s.cfg.Net.DetachENI(ctx, e.VPCID, e.ID); err != nil {
		return err
	}
	return c.s.cfg.ENIs.DeleteENI(ctx, sc.Account, sc.Region, e.ID)
}

// allowVPCClients lets clients from any address authenticate (security
// groups decide who reaches the server, as on AWS).
func allowVPCClients(dir string) error {
	p := filepath.Join(dir, "data", "pg_hba.conf")
	raw, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	const line = "host all all 0.0.0.0/0 scram-sha-256"
	if strings.Contains(string(raw), line) {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# minicloud: clients in the VPC\n" + line + "\n")
	return errors.Join(err, f.Close())
}

// proxy forwards 127.0.0.1:port on the host to the server in its namespace.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(port int, to *vpcListen) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	px := &proxy{ln: ln, conns: map[net.Conn]struct{}{}}
	target := netip.AddrPortFrom(to.ip, uint16(to.port)).String()
	px.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			px.wg.Go(func() { px.serve(in, to.ns, target) })
		}
	})
	return px, nil
}

func (px *proxy) track(c net.Conn, add bool) bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	if add {
		if px.conns == nil {
			return false
		}
		px.conns[c] = struct{}{}
	} else {
		delete(px.conns, c)
	}
	return true
}

func (px *proxy) serve(in net.Conn, ns, target string) {
	defer in.Close()
	var out net.Conn
	err := vpcnet.InNamespace(ns, func() error {
		var err error
		out, err = net.DialTimeout("tcp", target, 5*time.Second)
		return err
	})
	if err != nil {
		return
	}
	defer out.Close()
	if !px.track(in, true) {
		return
	}
	px.track(out, true)
	defer px.track(in, false)
	defer px.track(out, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// close stops accepting and cuts every connection.
func (px *proxy) close() {
	if px == nil {
		return
	}
	_ = px.ln.Close()
	px.mu.Lock()
	for c := range px.conns {
		_ = c.Close()
	}
	px.conns = nil
	px.mu.Unlock()
	px.wg.Wait()
}
