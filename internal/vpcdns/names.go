package vpcdns

import (
	"net/netip"
	"strconv"
	"strings"
)

// usEast1 is the region whose EC2 DNS names predate the regional scheme.
const usEast1 = "us-east-1"

// PrivateZone is the domain of the private DNS hostnames of a region, without
// the trailing dot: "ec2.internal" in us-east-1, else
// "<region>.compute.internal".
func PrivateZone(region string) string {
	if region == usEast1 {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// PublicZone is the domain of the public DNS hostnames of a region, without
// the trailing dot: "compute-1.amazonaws.com" in us-east-1, else
// "<region>.compute.amazonaws.com".
func PublicZone(region string) string {
	if region == usEast1 {
		return "compute-1.amazonaws.com"
	}
	return region + ".compute.amazonaws.com"
}

// PrivateName is the IP-based private DNS hostname of an IPv4 address, as
// DescribeInstances reports it (no trailing dot): ip-10-0-1-23.ec2.internal
// in us-east-1, ip-10-0-1-23.<region>.compute.internal elsewhere. It is ""
// for anything but an IPv4 address.
func PrivateName(region string, ip netip.Addr) string {
	if !ip.Unmap().Is4() {
		return ""
	}
	return "ip-" + dashed(ip.Unmap()) + "." + PrivateZone(region)
}

// PublicName is the public DNS hostname of a public IPv4 address (no
// trailing dot): ec2-198-18-0-5.compute-1.amazonaws.com in us-east-1,
// ec2-198-18-0-5.<region>.compute.amazonaws.com elsewhere; "" for anything
// but an IPv4 address.
func PublicName(region string, ip netip.Addr) string {
	if !ip.Unmap().Is4() {
		return ""
	}
	return "ec2-" + dashed(ip.Unmap()) + "." + PublicZone(region)
}

// ParsePrivateName returns the address a private DNS hostname of the region
// encodes. The name is matched case-insensitively, with or without a
// trailing dot; octets must be canonical decimals (no sign, no leading
// zero), as AWS writes them.
func ParsePrivateName(region, name string) (netip.Addr, bool) {
	return parseName(name, "ip-", PrivateZone(region))
}

// ParsePublicName returns the address a public DNS hostname of the region
// encodes (see ParsePrivateName).
func ParsePublicName(region, name string) (netip.Addr, bool) {
	return parseName(name, "ec2-", PublicZone(region))
}

func parseName(name, prefix, zone string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	host, ok := strings.CutSuffix(name, "."+zone)
	if !ok {
		return netip.Addr{}, false
	}
	host, ok = strings.CutPrefix(host, prefix)
	if !ok {
		return netip.Addr{}, false
	}
	return parseDashed(host)
}

// dashed writes an IPv4 address with dashes: 10-0-1-23.
func dashed(ip netip.Addr) string {
	return strings.ReplaceAll(ip.String(), ".", "-")
}

// parseDashed parses exactly four canonical decimal octets joined by dashes.
func parseDashed(s string) (netip.Addr, bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		n, ok := octet(p)
		if !ok {
			return netip.Addr{}, false
		}
		b[i] = n
	}
	return netip.AddrFrom4(b), true
}

// octet parses a canonical decimal octet.
func octet(s string) (byte, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 255 {
		return 0, false
	}
	return byte(n), true
}

// reverseName is the in-addr.arpa name of the first bits/8 octets of an IPv4
// address, with a trailing dot: reverseName(10.0.1.23, 32) is
// "23.1.0.10.in-addr.arpa.", reverseName(10.0.0.0, 16) "0.10.in-addr.arpa.".
func reverseName(ip netip.Addr, bits int) string {
	b := ip.As4()
	var sb strings.Builder
	for i := bits/8 - 1; i >= 0; i-- {
		sb.WriteString(strconv.Itoa(int(b[i])))
		sb.WriteByte('.')
	}
	sb.WriteString("in-addr.arpa.")
	return sb.String()
}

// parseReverse parses an in-addr.arpa name (lower case, with trailing dot)
// into the prefix it names: "23.1.0.10.in-addr.arpa." is 10.0.1.23/32,
// "1.0.10.in-addr.arpa." 10.0.1.0/24. ok is false for anything else,
// including "in-addr.arpa." itself and classless (RFC 2317) names.
func parseReverse(name string) (netip.Prefix, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok || rest == "" {
		return netip.Prefix{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) > 4 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, l := range labels {
		n, ok := octet(l)
		if !ok {
			return netip.Prefix{}, false
		}
		b[len(labels)-1-i] = n
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(labels)), true
}
