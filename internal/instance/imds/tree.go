package imds

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// versions is what GET / lists: the metadata API versions AWS serves.
var versions = []string{
	"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
	"2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12",
	"2014-02-25", "2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02",
	"2018-03-28", "2018-08-17", "2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03",
	"2021-03-23", "2021-07-15", "2022-09-24", "2024-04-11", "latest",
}

const textPlain = "text/plain"

// node is one metadata path: a value, or a directory of named nodes.
type node struct {
	value    []byte
	ctype    string
	children map[string]*node
	// listing replaces the generated directory listing (public-keys/
	// lists "0=name", not "0/").
	listing string
}

func leaf(s string) *node { return &node{value: []byte(s), ctype: textPlain} }

func dir(children map[string]*node) *node {
	for k, c := range children {
		if c == nil {
			delete(children, k)
		}
	}
	return &node{children: children}
}

// lines is a multi-value leaf: AWS separates values with newlines.
func lines(v []string) *node { return leaf(strings.Join(v, "\n")) }

// optional is a leaf that exists only when s is not empty.
func optional(s string) *node {
	if s == "" {
		return nil
	}
	return leaf(s)
}

func (n *node) list() []byte {
	if n.listing != "" {
		return []byte(n.listing)
	}
	names := make([]string, 0, len(n.children))
	for k, c := range n.children {
		if c.children != nil {
			k += "/"
		}
		names = append(names, k)
	}
	slices.Sort(names)
	return []byte(strings.Join(names, "\n"))
}

// pathParts are a request path's elements.
func pathParts(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

// resolve answers GET of the path parts for d (iv: what its iam/ tree
// shows, nil when the path is not under it): the body, its content type,
// and whether the path exists.
func resolve(d *InstanceData, iv *iamView, parts []string) ([]byte, string, bool) {
	if len(parts) == 0 {
		return []byte(strings.Join(versions, "\n")), textPlain, true
	}
	if !slices.Contains(versions, parts[0]) {
		return nil, "", false
	}
	n := versionTree(d, iv)
	for _, p := range parts[1:] {
		if n.children == nil {
			return nil, "", false
		}
		c, ok := n.children[p]
		if !ok {
			return nil, "", false
		}
		n = c
	}
	if n.children != nil {
		return n.list(), textPlain, true
	}
	return n.value, n.ctype, true
}

// versionTree is everything under /<version>/.
func versionTree(d *InstanceData, iv *iamView) *node {
	var ud *node
	if len(d.UserData) > 0 {
		ud = &node{value: d.UserData, ctype: "application/octet-stream"}
	}
	// AWS lists this level without trailing slashes.
	listing := "dynamic\nmeta-data"
	if ud != nil {
		listing += "\nuser-data"
	}
	n := dir(map[string]*node{
		"meta-data": metaData(d, iv),
		"user-data": ud,
		"dynamic": dir(map[string]*node{
			"instance-identity": dir(map[string]*node{
				"document": leaf(identityDocument(d)),
			}),
		}),
	})
	n.listing = listing
	return n
}

func metaData(d *InstanceData, iv *iamView) *node {
	var primary Interface
	if len(d.Interfaces) > 0 {
		primary = d.Interfaces[0]
	}
	localIP := first(primary.PrivateIPs)
	hostname := d.Hostname
	if hostname == "" {
		hostname = privateDNS(localIP, d.Region)
	}
	return dir(map[string]*node{
		"ami-id":               leaf(d.ImageID),
		"ami-launch-index":     leaf(strconv.Itoa(d.AMILaunchIndex)),
		"ami-manifest-path":    leaf("(unknown)"),
		"block-device-mapping": blockDevices(d),
		"hostname":             leaf(hostname),
		"iam":                  iam(d, iv),
		"instance-action":      leaf("none"),
		"instance-id":          leaf(d.InstanceID),
		"instance-life-cycle":  leaf("on-demand"),
		"instance-type":        leaf(d.InstanceType),
		"local-hostname":       leaf(hostname),
		"local-ipv4":           optional(localIP),
		"mac":                  optional(primary.MAC),
		"network":              network(d),
		"placement": dir(map[string]*node{
			"availability-zone":    leaf(d.AvailabilityZone),
			"availability-zone-id": optional(d.AvailabilityZoneID),
			"region":               leaf(d.Region),
		}),
		"profile":         leaf("default-hvm"),
		"public-hostname": optional(publicDNS(primary.PublicIP, d.Region)),
		"public-ipv4":     optional(primary.PublicIP),
		"public-keys":     publicKeys(d),
		"reservation-id":  leaf(d.ReservationID),
		"security-groups": lines(d.SecurityGroups),
		"services": dir(map[string]*node{
			"domain":    leaf("amazonaws.com"),
			"partition": leaf("aws"),
		}),
		"system": leaf("nitro"),
		"tags":   tags(d),
	})
}

func blockDevices(d *InstanceData) *node {
	if d.RootDeviceName == "" {
		return nil
	}
	m := map[string]*node{"ami": leaf(d.RootDeviceName), "root": leaf(d.RootDeviceName)}
	for i, dev := range d.EBSDevices {
		m["ebs"+strconv.Itoa(i+1)] = leaf(strings.TrimPrefix(dev, "/dev/"))
	}
	return dir(m)
}

// iam is iam/ of an instance with a profile: info, and
// security-credentials/ listing the profile's role when it holds one (iv
// says; a profile without a role, or a server without WithRoles, has no
// security-credentials/ at all, which is 404), with the role's
// credentials when the request asked for them.
func iam(d *InstanceData, iv *iamView) *node {
	if d.IamInstanceProfileArn == "" {
		return nil
	}
	if iv == nil {
		iv = &iamView{}
	}
	updated := iv.lastUpdated
	if updated.IsZero() {
		updated = d.PendingTime
	}
	var creds *node
	if iv.role != "" {
		role := leaf("")
		if c := iv.creds; c != nil {
			role = leaf(awsJSON([]kv{
				{"Code", "Success"},
				{"LastUpdated", c.Issued.UTC().Format(time.RFC3339)},
				{"Type", "AWS-HMAC"},
				{"AccessKeyId", c.AccessKeyID},
				{"SecretAccessKey", c.SecretAccessKey},
				{"Token", c.SessionToken},
				{"Expiration", c.Expiration.UTC().Format(time.RFC3339)},
			}))
		}
		// The role's leaf is built only when asked for (minting costs a
		// write); listing the directory needs just its name.
		creds = dir(map[string]*node{iv.role: role})
	}
	return dir(map[string]*node{
		"info": leaf(awsJSON([]kv{
			{"Code", "Success"},
			{"LastUpdated", updated.UTC().Format(time.RFC3339)},
			{"InstanceProfileArn", d.IamInstanceProfileArn},
			{"InstanceProfileId", d.IamInstanceProfileID},
		})),
		"security-credentials": creds,
	})
}

func publicKeys(d *InstanceData) *node {
	if d.KeyName == "" || d.PublicKey == "" {
		return nil
	}
	n := dir(map[string]*node{
		"0": dir(map[string]*node{"openssh-key": leaf(strings.TrimRight(d.PublicKey, "\n") + "\n")}),
	})
	n.listing = "0=" + d.KeyName
	return n
}

func tags(d *InstanceData) *node {
	if !d.TagsEnabled {
		return nil
	}
	m := map[string]*node{}
	for k, v := range d.Tags {
		// AWS does not serve tag keys that cannot be a path element.
		if k == "" || k == "." || k == ".." || strings.ContainsAny(k, "/ ") {
			continue
		}
		m[k] = leaf(v)
	}
	return dir(map[string]*node{"instance": dir(m)})
}

func network(d *InstanceData) *node {
	if len(d.Interfaces) == 0 {
		return nil
	}
	macs := map[string]*node{}
	for _, ifc := range d.Interfaces {
		if ifc.MAC == "" {
			continue
		}
		local := first(ifc.PrivateIPs)
		m := map[string]*node{
			"device-number":          leaf(strconv.Itoa(ifc.DeviceNumber)),
			"interface-id":           leaf(ifc.InterfaceID),
			"local-hostname":         optional(privateDNS(local, d.Region)),
			"local-ipv4s":            lines(ifc.PrivateIPs),
			"mac":                    leaf(ifc.MAC),
			"owner-id":               optional(ifc.OwnerID),
			"security-group-ids":     lines(ifc.SecurityGroupIDs),
			"security-groups":        lines(ifc.SecurityGroupNames),
			"subnet-id":              leaf(ifc.SubnetID),
			"subnet-ipv4-cidr-block": optional(ifc.SubnetCIDR),
			"vpc-id":                 leaf(ifc.VpcID),
			"vpc-ipv4-cidr-block":    optional(first(ifc.VpcCIDRs)),
		}
		if len(ifc.VpcCIDRs) > 0 {
			m["vpc-ipv4-cidr-blocks"] = lines(ifc.VpcCIDRs)
		}
		if ifc.PublicIP != "" {
			m["public-ipv4s"] = leaf(ifc.PublicIP)
			m["public-hostname"] = leaf(publicDNS(ifc.PublicIP, d.Region))
			m["ipv4-associations"] = dir(map[string]*node{ifc.PublicIP: leaf(local)})
		}
		macs[ifc.MAC] = dir(m)
	}
	return dir(map[string]*node{"interfaces": dir(map[string]*node{"macs": dir(macs)})})
}

// identityDocument is dynamic/instance-identity/document, in AWS's field
// order and formatting.
func identityDocument(d *InstanceData) string {
	var ip string
	if len(d.Interfaces) > 0 {
		ip = first(d.Interfaces[0].PrivateIPs)
	}
	return awsJSON([]kv{
		{"accountId", d.AccountID},
		{"architecture", d.Architecture},
		{"availabilityZone", d.AvailabilityZone},
		{"billingProducts", nil},
		{"devpayProductCodes", nil},
		{"marketplaceProductCodes", nil},
		{"imageId", d.ImageID},
		{"instanceId", d.InstanceID},
		{"instanceType", d.InstanceType},
		{"kernelId", nil},
		{"pendingTime", d.PendingTime.UTC().Format(time.RFC3339)},
		{"privateIp", ip},
		{"ramdiskId", nil},
		{"region", d.Region},
		{"version", "2017-09-30"},
	})
}

type kv struct {
	k string
	v any
}

// awsJSON formats an object the way IMDS does: two-space indent and
// "key" : value, in the given order.
func awsJSON(fields []kv) string {
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		k, _ := json.Marshal(f.k)
		v, _ := json.Marshal(f.v)
		b.WriteString("  " + string(k) + " : " + string(v))
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return b.String()
}

// privateDNS is EC2's private DNS name of an IPv4 address:
// ip-10-0-1-23.ec2.internal in us-east-1, else
// ip-10-0-1-23.<region>.compute.internal.
func privateDNS(ip, region string) string {
	if !isIPv4(ip) {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// publicDNS is EC2's public DNS name of a public IPv4 address.
func publicDNS(ip, region string) string {
	if !isIPv4(ip) {
		return ""
	}
	host := "ec2-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return host + "." + region + ".compute.amazonaws.com"
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
