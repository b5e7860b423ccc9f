package vpcnet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// maxIfName is the longest Linux interface name (IFNAMSIZ-1).
const maxIfName = 15

var idRE = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Names computes every name vpcnet gives to kernel objects for one minicloud
// instance. The firewall package uses it to find the devices to match on; see
// the package documentation for which namespace each one lives in.
//
// Interface names are limited to 15 bytes, so they are built as
// "<prefix>-<kind><hash>" where hash is a hex SHA-256 prefix of the resource
// ID, as long as fits. The full resource ID is stored as the link's alias
// (IFLA_IFALIAS), which vpcnet checks to detect a hash collision.
type Names struct {
	Prefix string
}

// Device kinds, the letter after "<prefix>-" in an interface name.
const (
	kindBridge  = 'b' // subnet bridge, router namespace
	kindENIPort = 'e' // ENI veth end enslaved to the bridge, router namespace
	kindUplink  = 'u' // IGW veth end, router namespace
	kindGateway = 'g' // IGW veth end, host namespace
	kindService = 's' // dummy link of the service addresses, host namespace
	kindVPCE    = 'v' // gateway endpoint veth end, router namespace
)

func (n Names) link(kind byte, id string) string {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	return n.Prefix + "-" + string(kind) + h[:maxIfName-len(n.Prefix)-2]
}

// RouterNamespace is the named network namespace (NamespacePath) of a
// VPC's router.
func (n Names) RouterNamespace(vpcID string) string { return n.Prefix + "-r-" + vpcID }

// InstanceNamespace is the named network namespace of an instance.
func (n Names) InstanceNamespace(instanceID string) string { return n.Prefix + "-i-" + instanceID }

// Bridge is the subnet's bridge in the router namespace.
func (n Names) Bridge(subnetID string) string { return n.link(kindBridge, subnetID) }

// ENIPort is the router-namespace end of an ENI's veth pair, a port of its
// subnet's bridge. Traffic leaving the instance through the ENI enters the
// router namespace here.
func (n Names) ENIPort(eniID string) string { return n.link(kindENIPort, eniID) }

// InstanceDevice is the instance-namespace end of an ENI: eth<deviceIndex>.
func (n Names) InstanceDevice(deviceIndex int) string { return "eth" + strconv.Itoa(deviceIndex) }

// Uplink is the router-namespace end of a VPC's internet-gateway veth pair.
func (n Names) Uplink(vpcID string) string { return n.link(kindUplink, vpcID) }

// Gateway is the host-namespace end of a VPC's internet-gateway veth pair.
func (n Names) Gateway(vpcID string) string { return n.link(kindGateway, vpcID) }

// Endpoint is the router-namespace end of a gateway VPC endpoint's veth
// pair; the other end is eth0 in the endpoint's namespace
// (InstanceNamespace of its ID).
func (n Names) Endpoint(endpointID string) string { return n.link(kindVPCE, endpointID) }

// NATTable is the nftables table (family ip) holding the NAT rules, one per
// router namespace.
func (n Names) NATTable() string { return n.Prefix + "-nat" }

// owns reports whether a namespace or link name was made by this prefix.
func (n Names) owns(name string) bool { return strings.HasPrefix(name, n.Prefix+"-") }

// validPrefix checks p against ^[a-z][a-z0-9]{0,7}$, byte by byte: it runs
// at every start, where compiling the regexp cost 30 KiB of heap.
func validPrefix(p string) error {
	ok := len(p) >= 1 && len(p) <= 8 && 'a' <= p[0] && p[0] <= 'z'
	for i := 1; ok && i < len(p); i++ {
		ok = 'a' <= p[i] && p[i] <= 'z' || '0' <= p[i] && p[i] <= '9'
	}
	if !ok {
		return fmt.Errorf("vpcnet: prefix %q must be 1-8 characters [a-z0-9] starting with a letter", p)
	}
	return nil
}

func validID(kind, id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("vpcnet: invalid %s ID %q", kind, id)
	}
	return nil
}
