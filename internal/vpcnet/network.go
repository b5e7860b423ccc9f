package vpcnet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Errors returned (wrapped) by Network's methods.
var (
	ErrVPCNotFound       = errors.New("vpcnet: VPC not found")
	ErrSubnetNotFound    = errors.New("vpcnet: subnet not found")
	ErrNoInternetGateway = errors.New("vpcnet: VPC has no internet gateway")
	ErrConflict          = errors.New("vpcnet: conflict")
	ErrInvalid           = errors.New("vpcnet: invalid argument")
)

// DefaultPublicCIDR is where public IPs come from unless configured: the
// benchmarking range, which is never routed on the internet.
var DefaultPublicCIDR = netip.MustParsePrefix("198.18.0.0/15")

// MTUs: AWS gives ENIs jumbo frames inside a VPC and 1500 through an internet
// gateway; vpcnet does the same.
const (
	ENIMTU     = 9001
	GatewayMTU = 1500
)

// Config configures a Network.
type Config struct {
	// Prefix starts every name vpcnet creates; a short hash of the state
	// directory, 1-8 characters [a-z0-9] starting with a letter.
	Prefix string
	// PublicCIDR holds every public IP (EIPs, auto-assigned, NAT gateways).
	PublicCIDR netip.Prefix
	Logger     *slog.Logger
}

// VPC is the data-plane view of a VPC.
type VPC struct {
	ID    string
	CIDRs []netip.Prefix // IPv4 CIDR blocks; IPv6 ones are ignored
}

// Subnet is the data-plane view of a subnet.
type Subnet struct {
	VPCID string
	ID    string
	CIDR  netip.Prefix
}

// TargetKind is what a route sends traffic to.
type TargetKind int

// Route targets. Targets vpcnet does not implement (peering, transit gateway,
// ENI…) should be passed as TargetBlackhole.
const (
	TargetLocal           TargetKind = iota // the VPC's local route; always present, ignored
	TargetInternetGateway                   // the VPC's internet gateway
	TargetNATGateway                        // NATGatewayID
	TargetBlackhole                         // drop
	TargetGatewayEndpoint                   // EndpointID, a gateway VPC endpoint (EnsureGatewayEndpoint)
)

// Route is one IPv4 route of a subnet's route table.
type Route struct {
	Destination  netip.Prefix
	Target       TargetKind
	NATGatewayID string
	EndpointID   string // with TargetGatewayEndpoint
}

// NATGateway is a public NAT gateway: it source-NATs the traffic of subnets
// whose routes target it to PublicIP. It needs the VPC's internet gateway.
type NATGateway struct {
	ID       string
	VPCID    string
	PublicIP netip.Addr
}

// ENI is a network interface to attach to an instance namespace.
type ENI struct {
	ID          string
	VPCID       string
	SubnetID    string
	MAC         net.HardwareAddr // nil: the kernel picks one
	IP          netip.Addr
	DeviceIndex int // eth<DeviceIndex> in the instance; 0 gets the default route
}

// Network drives the VPC data plane. Its methods are idempotent and safe for
// concurrent use (they are serialised).
type Network struct {
	names  Names
	public netip.Prefix
	log    *slog.Logger

	mu   sync.Mutex
	host *netlink.Handle
	vpcs map[string]*vpcState

	guardMu        sync.Mutex
	forwardGuarded bool

	legacyOnce sync.Once // dropLegacy
}

// vpcState is what the kernel cannot tell vpcnet back: route tables'
// gateway targets by ID (kept to re-resolve them when gateways come and go).
// Mappings and NAT gateways are recovered from the NAT table (its maps and
// its rules' user data) when a process meets a VPC for the first time.
type vpcState struct {
	loaded   bool
	mappings map[netip.Addr]netip.Addr // public → private
	nats     map[string]netip.Addr     // NAT gateway ID → public IP
	routes   map[string][]Route        // subnet ID → desired routes (nil: unknown)
	natSrc   map[string][]natRoute     // subnet ID → SNAT-by-NAT-gateway rules
	// natDirty is set while the kernel's NAT table may differ from the
	// state above: the last syncNAT failed after the state was changed.
	// Calls that skip an unchanged table write it anyway while it is set,
	// else a retry would find nothing changed and never write it.
	natDirty bool
	// natApplied are the mappings in the kernel's maps as this process
	// last wrote them, natRules what the table's rules were built from;
	// nil natApplied: the table is to be rebuilt before element updates.
	natApplied map[netip.Addr]netip.Addr
	natRules   string
}

// natRoute is traffic from a subnet to a destination leaving through a NAT
// gateway.
type natRoute struct {
	subnetID string
	source   netip.Prefix
	dest     netip.Prefix
	natID    string
	public   netip.Addr
}

// New returns a Network. It creates nothing until asked.
func New(cfg Config) (*Network, error) {
	if err := validPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if !cfg.PublicCIDR.IsValid() {
		cfg.PublicCIDR = DefaultPublicCIDR
	}
	if !cfg.PublicCIDR.Addr().Is4() {
		return nil, fmt.Errorf("%w: public CIDR %s must be IPv4", ErrInvalid, cfg.PublicCIDR)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Network{
		names:  Names{Prefix: cfg.Prefix},
		public: cfg.PublicCIDR.Masked(),
		log:    cfg.Logger.With("component", "vpcnet"),
		vpcs:   map[string]*vpcState{},
	}, nil
}

// Names returns the naming scheme of this Network's kernel objects.
func (n *Network) Names() Names { return n.names }

// Close releases the Network's handles. It leaves the data plane in place.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.host != nil {
		n.host.Close()
		n.host = nil
	}
	return nil
}

// Available reports whether this host can run the data plane, and if not, why.
func (n *Network) Available() (bool, string) {
	if os.Geteuid() != 0 {
		caps, err := effectiveCaps()
		if err != nil {
			return false, "cannot read capabilities: " + err.Error()
		}
		const capNetAdmin, capSysAdmin = 12, 21
		if caps&(1<<capNetAdmin) == 0 || caps&(1<<capSysAdmin) == 0 {
			return false, "needs root or CAP_NET_ADMIN and CAP_SYS_ADMIN"
		}
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return false, "kernel without network namespaces: " + err.Error()
	}
	if err := os.MkdirAll(NamespaceDir, 0o755); err != nil {
		return false, "cannot create " + NamespaceDir + ": " + err.Error()
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return false, "netlink: " + err.Error()
	}
	defer h.Close()
	if _, err := RetryDump(h.LinkList); err != nil {
		return false, "netlink: " + err.Error()
	}
	return true, ""
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff in /proc/self/status")
}

// hostHandle returns the netlink handle for the host (caller's) namespace.
func (n *Network) hostHandle() (*netlink.Handle, error) {
	if n.host == nil {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil, fmt.Errorf("vpcnet: netlink: %w", err)
		}
		n.host = h
	}
	return n.host, nil
}

// router runs fn with a handle in the VPC's router namespace.
func (n *Network) router(vpcID string, fn func(h *netlink.Handle, ns netns.NsHandle) error) error {
	if err := validID("VPC", vpcID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	path := namedPath(n.names.RouterNamespace(vpcID))
	if !isNamespace(path) {
		return fmt.Errorf("%w: %s", ErrVPCNotFound, vpcID)
	}
	return withNS(path, fn)
}

// state returns the VPC's in-memory state, recovering it from the router
// namespace's NAT table the first time.
func (n *Network) state(vpcID string, ns netns.NsHandle) *vpcState {
	vs := n.vpcs[vpcID]
	if vs == nil {
		vs = &vpcState{
			mappings: map[netip.Addr]netip.Addr{},
			nats:     map[string]netip.Addr{},
			routes:   map[string][]Route{},
			natSrc:   map[string][]natRoute{},
		}
		n.vpcs[vpcID] = vs
	}
	if !vs.loaded {
		if err := n.loadNAT(ns, vs); err != nil {
			n.log.Warn("recover NAT state", "vpc", vpcID, "err", err)
		}
		vs.loaded = true
	}
	return vs
}

func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func addrToIPNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func ipToAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// nthAddr returns the n-th address of prefix p (n=0 is the base).
func nthAddr(p netip.Prefix, n uint32) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
