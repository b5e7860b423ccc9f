package runtime

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/iamport"
	"github.com/minicloud/minicloud/internal/instance/imds"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/vpcnet"
)

// IMDSAddr is where instances reach the metadata service. The runtime adds
// it to the loopback of each VPC's router namespace and listens there on
// port 80; instances reach it through their default route (the router).
var IMDSAddr = netip.MustParseAddr("169.254.169.254")

// imdsHub runs one metadata listener per VPC that has running instances.
// Private IPs are unique within a VPC, so each VPC's handler finds the
// caller by source address among that VPC's instances.
type imdsHub struct {
	r    *Runtime
	mu   sync.Mutex
	vpcs map[string]*imdsVPC
	// stats counts for every VPC's listener, those closed too.
	stats imds.Stats
	// profiles and issuer let the listeners serve role credentials
	// (Runtime.SetRoles).
	profiles iamport.Profiles
	issuer   iamport.CredentialIssuer
}

// SetRoles lets the metadata service hand instances their profile's role
// credentials: profiles is IAM's, issuer STS's. Call it before Start; the
// listeners opened after it serve them.
func (r *Runtime) SetRoles(profiles iamport.Profiles, issuer iamport.CredentialIssuer) {
	r.imds.mu.Lock()
	defer r.imds.mu.Unlock()
	r.imds.profiles, r.imds.issuer = profiles, issuer
}

type imdsVPC struct {
	srv   *imds.Server
	byIP  map[netip.Addr]*imds.InstanceData
	owner map[string][]netip.Addr // instance ID → its addresses
}

func newIMDSHub(r *Runtime) *imdsHub { return &imdsHub{r: r, vpcs: map[string]*imdsVPC{}} }

func (r *Runtime) routerPath(vpcID string) string {
	return vpcnet.NamespacePath(r.cfg.Net.Names().RouterNamespace(vpcID))
}

// set (re)registers the instance's metadata under its private addresses,
// opening the VPC's listener if needed.
func (h *imdsHub) set(spec *ec2.InstanceSpec, cidrs []netip.Prefix) error {
	d := instanceData(spec, cidrs)
	byVPC := map[string][]netip.Addr{}
	for _, ni := range spec.NetworkInterfaces {
		for _, s := range ni.PrivateIPs {
			if a, err := netip.ParseAddr(s); err == nil {
				byVPC[ni.VpcID] = append(byVPC[ni.VpcID], a)
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(spec.InstanceID, byVPC)
	var errs []error
	for vpcID, addrs := range byVPC {
		v := h.vpcs[vpcID]
		if v == nil {
			var err error
			if v, err = h.open(vpcID); err != nil {
				errs = append(errs, err)
				continue
			}
			h.vpcs[vpcID] = v
		}
		for _, a := range v.owner[spec.InstanceID] {
			delete(v.byIP, a)
		}
		for _, a := range addrs {
			v.byIP[a] = d
		}
		v.owner[spec.InstanceID] = addrs
	}
	return errors.Join(errs...)
}

// remove forgets the instance; keep lists VPCs it stays in.
func (h *imdsHub) remove(instanceID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(instanceID, nil)
}

func (h *imdsHub) removeLocked(instanceID string, keep map[string][]netip.Addr) {
	for vpcID, v := range h.vpcs {
		if _, ok := keep[vpcID]; ok {
			continue
		}
		addrs, ok := v.owner[instanceID]
		if !ok {
			continue
		}
		for _, a := range addrs {
			delete(v.byIP, a)
		}
		delete(v.owner, instanceID)
		v.srv.Forget(instanceID)
		if len(v.owner) == 0 {
			h.close(vpcID, v)
		}
	}
}

// status is the metadata service's limits and what they refused, for
// /_minicloud/health.
func (h *imdsHub) status() map[string]any {
	h.mu.Lock()
	conns := 0
	for _, v := range h.vpcs {
		conns += v.srv.Conns()
	}
	h.mu.Unlock()
	l := imds.DefaultLimits
	return map[string]any{
		"connsPerInstance": l.ConnsPerInstance, "connsPerVpc": l.Conns,
		"requestsPerSecond": l.RequestsPerSecond, "burst": l.Burst,
		"conns": conns, "refusedConns": h.stats.RefusedConns.Load(), "throttled": h.stats.Throttled.Load(),
	}
}

func (h *imdsHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for vpcID, v := range h.vpcs {
		h.close(vpcID, v)
	}
}

func (h *imdsHub) close(vpcID string, v *imdsVPC) {
	_ = v.srv.Close()
	delete(h.vpcs, vpcID)
	// The address goes too (best effort: the router may be gone already).
	_ = vpcnet.InNamespace(h.r.routerPath(vpcID), func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.AddrDel(lo, &netlink.Addr{IPNet: &net.IPNet{IP: IMDSAddr.AsSlice(), Mask: net.CIDRMask(32, 32)}})
	})
}

// open adds 169.254.169.254/32 to the router's loopback and listens on
// it: the socket is created inside the router namespace and stays there.
func (h *imdsHub) open(vpcID string) (*imdsVPC, error) {
	var ln net.Listener
	err := vpcnet.InNamespace(h.r.routerPath(vpcID), func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: IMDSAddr.AsSlice(), Mask: net.CIDRMask(32, 32)}}
		if err := netlink.AddrReplace(lo, addr); err != nil {
			return fmt.Errorf("add %s to the router's loopback: %w", IMDSAddr, err)
		}
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(IMDSAddr, 80).String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("metadata service in VPC %s: %w", vpcID, err)
	}
	v := &imdsVPC{byIP: map[netip.Addr]*imds.InstanceData{}, owner: map[string][]netip.Addr{}}
	opts := []imds.Option{imds.WithStats(&h.stats), imds.WithLogger(h.r.log)}
	if h.profiles != nil && h.issuer != nil {
		opts = append(opts, imds.WithRoles(h.profiles, h.issuer))
	}
	v.srv = imds.New(func(ip netip.Addr) (*imds.InstanceData, bool) {
		h.mu.Lock()
		defer h.mu.Unlock()
		d, ok := v.byIP[ip]
		return d, ok
	}, opts...)
	go func() {
		if err := v.srv.Serve(ln); err != nil {
			h.r.log.Warn("metadata service stopped", "vpc", vpcID, "err", err)
		}
	}()
	h.r.log.Info("metadata service listening", "vpc", vpcID, "addr", ln.Addr().String())
	return v, nil
}

// instanceData is the metadata service's view of spec.
func instanceData(spec *ec2.InstanceSpec, cidrs []netip.Prefix) *imds.InstanceData {
	d := &imds.InstanceData{
		AccountID: spec.Account, Region: spec.Region, AvailabilityZone: spec.AvailabilityZone,
		InstanceID: spec.InstanceID, ReservationID: spec.ReservationID, ImageID: spec.ImageID,
		InstanceType: spec.InstanceType, Architecture: spec.Architecture, Hostname: spec.Hostname,
		PendingTime: spec.LaunchTime, KeyName: spec.KeyName, PublicKey: spec.PublicKey,
		UserData: spec.UserData, IamInstanceProfileArn: spec.IamInstanceProfile, IamInstanceProfileID: spec.IamInstanceProfileID,
		EndpointDisabled: !spec.MetadataHTTPEndpoint, TokensRequired: spec.MetadataHTTPTokens == "required",
		TagsEnabled: spec.MetadataTags, Tags: spec.Tags,
	}
	for _, v := range spec.Volumes {
		if v.Root {
			d.RootDeviceName = v.DeviceName
		} else {
			d.EBSDevices = append(d.EBSDevices, v.DeviceName)
		}
	}
	var vpcCIDRs []string
	for _, c := range cidrs {
		vpcCIDRs = append(vpcCIDRs, c.String())
	}
	nis := slices.Clone(spec.NetworkInterfaces)
	slices.SortFunc(nis, func(a, b ec2.InterfaceSpec) int { return int(a.DeviceIndex - b.DeviceIndex) })
	for _, ni := range nis {
		d.Interfaces = append(d.Interfaces, imds.Interface{
			DeviceNumber: int(ni.DeviceIndex), InterfaceID: ni.NetworkInterfaceID, MAC: ni.MacAddress,
			OwnerID: spec.Account, SubnetID: ni.SubnetID, SubnetCIDR: ni.SubnetCIDR, VpcID: ni.VpcID,
			VpcCIDRs: vpcCIDRs, PrivateIPs: ni.PrivateIPs, PublicIP: ni.PublicIP,
			SecurityGroupIDs: ni.SecurityGroupIDs,
		})
	}
	return d
}

// vpcCIDRs reads the VPC's IPv4 CIDR blocks back from its router (vpcnet
// keeps them as "unreachable" routes of the main table).
func (r *Runtime) vpcCIDRs(vpcID string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := vpcnet.InNamespace(r.routerPath(vpcID), func() error {
		rs, err := vpcnet.RetryDump(func() ([]netlink.Route, error) {
			return netlink.RouteListFiltered(netlink.FAMILY_V4,
				&netlink.Route{Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNREACHABLE}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_TYPE)
		})
		if err != nil {
			return err
		}
		for _, rt := range rs {
			if rt.Dst == nil {
				continue
			}
			a, ok := netip.AddrFromSlice(rt.Dst.IP)
			ones, _ := rt.Dst.Mask.Size()
			if ok {
				out = append(out, netip.PrefixFrom(a.Unmap(), ones))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out, err
}
