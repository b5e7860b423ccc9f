package records

import (
	"slices"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/state"
)

// The tables of the records.
var (
	LoadBalancers = state.Table[LoadBalancer]{Service: "elbv2", Kind: "loadbalancer"}
	Listeners     = state.Table[Listener]{Service: "elbv2", Kind: "listener"}
	Rules         = state.Table[Rule]{Service: "elbv2", Kind: "rule"}
	TargetGroups  = state.Table[TargetGroup]{Service: "elbv2", Kind: "targetgroup"}
	Retired       = state.Table[RetiredLB]{Service: "elbv2", Kind: "retired"}
)

// LoadBalancer is a load balancer: the API shape Describe returns (State
// and AvailabilityZones included) plus what AWS keeps but does not show.
type LoadBalancer struct {
	elbv2api.LoadBalancer
	// ID is the 16 hex digits that end its ARN.
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       []elbv2api.Tag    `json:"tags,omitempty"`
	// Nodes are its nodes' network interfaces (the controller's).
	Nodes []Node `json:"nodes,omitempty"`
	// Error is why the controller could not make it active, while it
	// cannot (the controller's).
	Error string `json:"error,omitempty"`
}

// Node is a load balancer's node in one subnet: the requester-managed
// network interface it runs on.
type Node struct {
	VPCID            string `json:"vpcId"`
	SubnetID         string `json:"subnetId"`
	AvailabilityZone string `json:"availabilityZone"`
	ENIID            string `json:"eniId"`
	MAC              string `json:"mac,omitempty"`
	PrivateIP        string `json:"privateIp"`
	// PublicIP is its Amazon-owned public IP, internet-facing only.
	PublicIP string `json:"publicIp,omitempty"`
	// SecurityGroups are the groups its interface was given last.
	SecurityGroups []string `json:"securityGroups,omitempty"`
}

// Subnets are the load balancer's enabled subnets, in the order of its
// AvailabilityZones.
func (lb *LoadBalancer) Subnets() []string {
	var out []string
	for _, az := range lb.AvailabilityZones {
		out = append(out, value(az.SubnetId))
	}
	return out
}

// InternetFacing reports whether the load balancer's scheme is
// internet-facing.
func (lb *LoadBalancer) InternetFacing() bool { return value(lb.Scheme) == "internet-facing" }

// Listener is a listener; its default rule has no record of its own.
type Listener struct {
	elbv2api.Listener
	// DefaultRuleID is the ID of its default rule's ARN.
	DefaultRuleID string `json:"defaultRuleId"`
	// Certificates beyond the default one (AddListenerCertificates).
	ExtraCertificates []string       `json:"extraCertificates,omitempty"`
	Tags              []elbv2api.Tag `json:"tags,omitempty"`
	// DefaultRuleTags are the tags of its default rule.
	DefaultRuleTags []elbv2api.Tag `json:"defaultRuleTags,omitempty"`
}

// CertificateARNs are the listener's default certificate and the others,
// each once.
func (l *Listener) CertificateARNs() []string {
	var out []string
	for _, c := range l.Certificates {
		out = append(out, value(c.CertificateArn))
	}
	for _, c := range l.ExtraCertificates {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Rule is a listener's rule other than its default rule.
type Rule struct {
	elbv2api.Rule
	Tags []elbv2api.Tag `json:"tags,omitempty"`
}

// TargetGroup is a target group with its registered targets.
type TargetGroup struct {
	elbv2api.TargetGroup
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       []elbv2api.Tag    `json:"tags,omitempty"`
	Targets    []Target          `json:"targets,omitempty"`
}

// Target is a registration of a target (an instance ID or an IP address)
// on a port.
type Target struct {
	ID   string `json:"id"`
	Port int32  `json:"port"`
	// AvailabilityZone is what RegisterTargets gave ("" for none).
	AvailabilityZone string    `json:"availabilityZone,omitempty"`
	RegisteredAt     time.Time `json:"registeredAt"`
	// DrainingUntil is set by DeregisterTargets: the registration drains
	// until then, and the controller removes it after.
	DrainingUntil *time.Time `json:"drainingUntil,omitempty"`
}

// RetiredLB is a deleted load balancer whose nodes the controller still
// has to take down (stored under the load balancer's ID).
type RetiredLB struct {
	ARN   string `json:"arn"`
	Nodes []Node `json:"nodes,omitempty"`
	// Certificates are the ACM certificates its listeners used, which it
	// no longer uses.
	Certificates []string `json:"certificates,omitempty"`
}

// ListenerKey is a listener's ID in its table.
func ListenerKey(lbID, listenerID string) string { return lbID + "/" + listenerID }

// RuleKey is a rule's ID in its table.
func RuleKey(lbID, listenerID, ruleID string) string { return lbID + "/" + listenerID + "/" + ruleID }

// LoadBalancerOf is the load balancer ID a listener's or rule's table ID
// begins with.
func LoadBalancerOf(id string) string {
	lb, _, _ := strings.Cut(id, "/")
	return lb
}

// ListenersOf are the listeners of load balancer lbID, ordered by ID.
func ListenersOf(tx state.Tx, sc state.Scope, lbID string) ([]Listener, error) {
	return under(tx, sc, Listeners, lbID+"/")
}

// RulesOf are the rules of listener listenerKey (ListenerKey), ordered by
// ID.
func RulesOf(tx state.Tx, sc state.Scope, listenerKey string) ([]Rule, error) {
	return under(tx, sc, Rules, listenerKey+"/")
}

// under are the records of table t whose IDs begin with prefix.
func under[T any](tx state.Tx, sc state.Scope, t state.Table[T], prefix string) ([]T, error) {
	var out []T
	err := t.ForEach(tx, sc, func(id string, v T) error {
		if strings.HasPrefix(id, prefix) {
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

func value[T any](p *T) T {
	if p == nil {
		var z T
		return z
	}
	return *p
}
