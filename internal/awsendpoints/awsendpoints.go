// Package awsendpoints publishes the DNS names of AWS's public service
// endpoints (sts.us-east-1.amazonaws.com, ec2.…, s3.… and its bucket
// hosts…) as a dnszone.EndpointSource, so that the VPC resolvers
// (vpcdns) and the host's DNS server (dns53, --dns-listen, standing for
// AWS's public DNS) answer them with the public service addresses
// minicloud serves its API on (vpcnet.ServiceAddress). An instance's SDK
// then reaches minicloud with no endpoint configured, through its VPC's
// internet or NAT gateway exactly when it would reach AWS.
//
// Each region's names are a set of its own, authoritative for
// "<region>.amazonaws.com." (every other name under it is NXDOMAIN, as
// AWS's are never forwarded from here); the global names (sts, iam,
// route53, cloudfront, s3 of amazonaws.com) are one set each. No set covers
// the public EC2 names (compute-1.amazonaws.com, <region>.compute…) or
// another service's domain (rds.amazonaws.com, elb.amazonaws.com): those
// stay with their owners.
//
// The package owns the list of names only; it does not serve them.
package awsendpoints

import (
	"net/netip"

	"github.com/minicloud/minicloud/internal/dnszone"
)

// Regional are the host labels of the regional endpoints answered in every
// region: "<label>.<region>.amazonaws.com". It holds every service minicloud
// serves and the ones the seed's architectures call from instances (Session
// Manager's, ECR's, ECS's…), answered so that a client reaches the gateway
// and gets its NotImplemented rather than a name error.
var Regional = []string{
	"acm", "apigateway", "application-autoscaling", "autoscaling", "cloudformation", "cloudtrail",
	"dynamodb", "ec2", "ec2messages", "ecs", "api.ecr", "elasticache", "elasticloadbalancing",
	"events", "kms", "lambda", "logs", "monitoring", "rds", "route53", "s3", "secretsmanager", "sns",
	"sqs", "ssm", "ssmmessages", "sts",
}

// Global are the names of the global endpoints, fully qualified.
var Global = []string{
	"sts.amazonaws.com.", "iam.amazonaws.com.", "route53.amazonaws.com.",
	"cloudfront.amazonaws.com.", "s3.amazonaws.com.",
}

// Wildcarded are the labels whose every child is answered too: S3's
// virtual-hosted buckets and ECR's registries (<account>.dkr.ecr.<region>…).
var Wildcarded = []string{"s3", "dkr.ecr"}

// Address gives the public address a service's names resolve to, by the
// name's first label after any bucket ("s3", "dynamodb", "sts"…).
type Address func(service string) netip.Addr

// Source is the immutable EndpointSource of every name, for regions.
type Source struct {
	sets []*dnszone.EndpointSet
}

// New builds the names of regions, answering addr's addresses. A service
// whose address is invalid is left out.
func New(regions []string, addr Address) *Source {
	s := &Source{}
	for _, r := range regions {
		domain := r + ".amazonaws.com."
		var eps []dnszone.Endpoint
		wild := map[string]dnszone.Endpoint{}
		for _, label := range Regional {
			if e, ok := endpoint(label+"."+domain, r, addr(firstLabel(label))); ok {
				eps = append(eps, e)
			}
		}
		for _, label := range Wildcarded {
			if e, ok := endpoint(label+"."+domain, r, addr(firstLabel(label))); ok {
				wild[e.Name] = e
			}
		}
		set := dnszone.NewEndpointSet(domain, eps)
		set.Wildcards = wild
		for n := range wild {
			if _, ok := set.Names[n]; !ok {
				// dkr.ecr.<region>… has children but no address itself.
				set.Parents[n] = true
			}
		}
		s.sets = append(s.sets, set)
	}
	for _, name := range Global {
		label := firstLabel(name)
		e, ok := endpoint(name, "us-east-1", addr(label))
		if !ok {
			continue
		}
		set := dnszone.NewEndpointSet(name, nil)
		set.Names[name] = e
		if label == "s3" {
			set.Wildcards = map[string]dnszone.Endpoint{name: e}
		}
		s.sets = append(s.sets, set)
	}
	return s
}

// Sources are the source's sets, each a source of its own, to append to
// the DNS servers' dnszone.EndpointSources.
func (s *Source) Sources() dnszone.EndpointSources {
	out := make(dnszone.EndpointSources, 0, len(s.sets))
	for _, set := range s.sets {
		out = append(out, fixed{set})
	}
	return out
}

type fixed struct{ set *dnszone.EndpointSet }

func (f fixed) Endpoints() *dnszone.EndpointSet { return f.set }

func endpoint(name, region string, a netip.Addr) (dnszone.Endpoint, bool) {
	if !a.IsValid() {
		return dnszone.Endpoint{}, false
	}
	// PublicInVPC: AWS's public names have one answer everywhere.
	return dnszone.Endpoint{Name: name, Region: region, PublicIPs: []netip.Addr{a}, PublicInVPC: true, TTL: 60}, true
}

func firstLabel(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}
