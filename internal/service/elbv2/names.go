package elbv2

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/minicloud/minicloud/internal/state"
)

// Names, IDs and ARNs, as AWS makes them:
//
//	arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<lb id>
//	arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<lb id>/<listener id>
//	arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<name>/<lb id>/<listener id>/<rule id>
//	arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<target group id>
//
// each ID 16 lower-case hex digits, and the DNS name
// <name>-<number>.<region>.elb.amazonaws.com ("internal-" in front for an
// internal load balancer), the number a decimal of up to ten digits as on
// AWS (an ALB's; a Network Load Balancer's name has 16 hex digits and
// another layout).

// ELBDomain is the domain of load balancers' DNS names, fully qualified.
const ELBDomain = "elb.amazonaws.com."

const arnService = "elasticloadbalancing"

// newID is a resource ID: 16 random hex digits.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dnsNumber is the number in a load balancer's DNS name: 9 or 10 decimal
// digits, as AWS's.
func dnsNumber() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return 100000000 + binary.BigEndian.Uint32(b)%(2147483647-100000000)
}

// dnsName is a load balancer's DNS name.
func dnsName(sc state.Scope, name, scheme string, n uint32) string {
	prefix := ""
	if scheme == schemeInternal {
		prefix = "internal-"
	}
	return fmt.Sprintf("%s%s-%d.%s.%s", prefix, name, n, sc.Region, strings.TrimSuffix(ELBDomain, "."))
}

func arnOf(sc state.Scope, resource string) string {
	return state.NewARN(sc, arnService, resource).String()
}

func lbARN(sc state.Scope, name, id string) string {
	return arnOf(sc, "loadbalancer/app/"+name+"/"+id)
}

func listenerARN(sc state.Scope, lbName, lbID, id string) string {
	return arnOf(sc, "listener/app/"+lbName+"/"+lbID+"/"+id)
}

func ruleARN(sc state.Scope, lbName, lbID, listenerID, id string) string {
	return arnOf(sc, "listener-rule/app/"+lbName+"/"+lbID+"/"+listenerID+"/"+id)
}

func tgARN(sc state.Scope, name, id string) string {
	return arnOf(sc, "targetgroup/"+name+"/"+id)
}

// arnKind is what an ARN names.
type arnKind int

const (
	kindLoadBalancer arnKind = iota + 1
	kindListener
	kindRule
	kindTargetGroup
)

// parsedARN is an ELB ARN of the caller's account and region taken apart:
// name is the load balancer's (or target group's) name, key the record's
// table ID.
type parsedARN struct {
	kind arnKind
	name string
	key  string
}

// parseARN takes an ELB ARN apart. ok is false for a string that is not an
// ARN of kind k; mine is false for one of another partition, account or
// region (which names nothing here).
func parseARN(sc state.Scope, arn string, k arnKind) (p parsedARN, mine, ok bool) {
	a, err := state.ParseARN(arn)
	if err != nil || a.Service != arnService {
		return p, false, false
	}
	parts := strings.Split(a.Resource, "/")
	valid := func(n int, typ string) bool {
		if len(parts) != n || parts[0] != typ {
			return false
		}
		for _, s := range parts[1:] {
			if s == "" {
				return false
			}
		}
		return true
	}
	switch k {
	case kindLoadBalancer:
		ok = valid(4, "loadbalancer") && parts[1] == "app"
		if ok {
			p = parsedARN{kind: k, name: parts[2], key: parts[3]}
		}
	case kindListener:
		ok = valid(5, "listener") && parts[1] == "app"
		if ok {
			p = parsedARN{kind: k, name: parts[2], key: parts[3] + "/" + parts[4]}
		}
	case kindRule:
		ok = valid(6, "listener-rule") && parts[1] == "app"
		if ok {
			p = parsedARN{kind: k, name: parts[2], key: parts[3] + "/" + parts[4] + "/" + parts[5]}
		}
	case kindTargetGroup:
		ok = valid(3, "targetgroup")
		if ok {
			p = parsedARN{kind: k, name: parts[1], key: parts[2]}
		}
	}
	mine = ok && a.Account == sc.Account && a.Region == sc.Region && a.Partition == state.PartitionOf(sc.Region)
	return p, mine, ok
}

// canonicalZones are the Route 53 hosted zone IDs of Application (and
// Classic) Load Balancers' DNS names per region, from "Elastic Load
// Balancing endpoints and quotas" (Application Load Balancers column).
var canonicalZones = map[string]string{
	"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2",
	"us-west-1": "Z368ELLRRE2KJ0", "us-west-2": "Z1H1FL5HABSF5",
	"af-south-1": "Z268VQBMOI5EKX", "ap-east-1": "Z3DQVH9N71FHZ0",
	"ap-northeast-1": "Z14GRHDCWA56QT", "ap-northeast-2": "ZWKZPGTI48KDX", "ap-northeast-3": "Z5LXEXXYW11ES",
	"ap-south-1": "ZP97RAFLXTNZK", "ap-south-2": "Z0173938T07WNTVAEPZN",
	"ap-southeast-1": "Z1LMS91P8CMLE5", "ap-southeast-2": "Z1GM3OXH4ZPM65", "ap-southeast-3": "Z08888821HLRG5A9ZRTER",
	"ap-southeast-4": "Z09517862IB2WZLPXG76F", "ap-southeast-5": "Z06010284QMVVW7WO5J", "ap-southeast-7": "Z0390008CMBRTHFGWBCB",
	"ca-central-1": "ZQSVJUPU6J1EY", "ca-west-1": "Z06473681N0SF6OS049SD",
	"cn-north-1": "Z1GDH35T77C1KE", "cn-northwest-1": "ZM7IZAIOVVDZF",
	"eu-central-1": "Z215JYRZR1TBD5", "eu-central-2": "Z06391101F2ZOEP8P5EB3",
	"eu-north-1": "Z23TAZ6LKFMNIO", "eu-south-1": "Z3ULH7SSC9OV64", "eu-south-2": "Z0956581394HF5D5LXGAP",
	"eu-west-1": "Z32O12XQLNTSW2", "eu-west-2": "ZHURV8PSTC4K8", "eu-west-3": "Z3Q77PNBQS71R4",
	"il-central-1": "Z09170902867EHPV2DABU", "me-central-1": "Z08230872XQRWHG2XF6I", "me-south-1": "ZS929ML54UICD",
	"mx-central-1": "Z023552324OKD1BB28BH5", "sa-east-1": "Z2P70J7HTTTPLU",
	"us-gov-east-1": "Z166TLBEWOO7G0", "us-gov-west-1": "Z33AYJ8TM3BH4J",
}

// canonicalZone is the region's hosted zone ID; a region whose ID
// minicloud does not know (ap-east-2, ap-southeast-6) gets us-east-1's.
func canonicalZone(region string) string {
	if z, ok := canonicalZones[region]; ok {
		return z
	}
	return canonicalZones["us-east-1"]
}

// endpointName is a DNS name as the DNS servers key it.
func endpointName(dns string) string { return strings.ToLower(dns) + "." }
