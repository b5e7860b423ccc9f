package controller

import (
	"context"
	"net/netip"
	"time"
)

// Dataplane runs load balancers' nodes. Nil means API-only: lifecycles
// complete with nothing running, and DescribeTargetHealth says that no
// health checks run.
type Dataplane interface {
	// Apply makes lb's nodes run its current configuration. It is
	// idempotent and called again on every change of lb (and once per
	// load balancer after every start of minicloud), so it may replace
	// what runs wholesale or diff it; an error is retried with backoff.
	Apply(ctx context.Context, lb View) error
	// Remove stops nodes of the load balancer arn: those of subnets it no
	// longer uses, before their interfaces are deleted, or all of them once
	// it is deleted. nodes are as recorded, so that a data plane that
	// restarted since it ran them can still take them down; a node it does
	// not run is not an error.
	Remove(ctx context.Context, account, region, arn string, nodes []Node) error
	// TargetHealth is the health checks' view of a target group's
	// targets, by target ID and port; a target it has not checked yet is
	// missing (DescribeTargetHealth then says initial). It must be cheap:
	// DescribeTargetHealth and the DNS names' health call it.
	TargetHealth(account, region, targetGroupARN string) map[TargetKey]Health
}

// TargetKey names a registration: a target ID (instance ID or IP address)
// and its port.
type TargetKey struct {
	ID   string
	Port int32
}

// Health is a target's health as DescribeTargetHealth shows it: State
// initial, healthy or unhealthy, and for other than healthy AWS's Reason
// code (Elb.InitialHealthChecking, Target.ResponseCodeMismatch,
// Target.Timeout, Target.FailedHealthChecks…) and Description ("Health
// checks failed with these codes: [503]", "Request timed out"…).
type Health struct {
	State, Reason, Description string
}

// View is everything a load balancer's nodes need, resolved from the
// records: a plain value the data plane converts to its own configuration.
// Two Views of an unchanged load balancer are equal (reflect.DeepEqual):
// the controller applies a View only when it differs from the last one
// applied.
type View struct {
	Account, Region string
	ARN, Name       string
	// DNSName is the load balancer's DNS name, as Describe shows it.
	DNSName string
	// Scheme is internet-facing or internal; IPAddressType ipv4.
	Scheme, IPAddressType string
	VPCID                 string
	SecurityGroups        []string
	// Attributes are the load balancer's attributes with every key AWS
	// shows (defaults filled in): idle_timeout.timeout_seconds,
	// routing.http2.enabled, routing.http.xff_header_processing.mode…
	Attributes map[string]string
	// Nodes are one per enabled subnet, in the order of the subnets.
	Nodes []Node
	// Listeners are ordered by port.
	Listeners []Listener
	// TargetGroups are every target group an action of a listener or rule
	// forwards to, ordered by ARN.
	TargetGroups []TargetGroup
}

// Node is a load balancer node: its network interface in one subnet.
type Node struct {
	VPCID, SubnetID, AvailabilityZone string
	ENIID, MAC                        string
	PrivateIP                         netip.Addr
	// PublicIP is its public IP, internet-facing only (else invalid).
	PublicIP netip.Addr
}

// Listener is a listener with its rules.
type Listener struct {
	ARN      string
	Port     int32
	Protocol string // HTTP or HTTPS
	// SSLPolicy names the HTTPS listener's security policy
	// (sslpolicy.Lookup gives its protocols and ciphers); "" for HTTP.
	SSLPolicy string
	// Certificates are the HTTPS listener's ACM certificate ARNs, the
	// default certificate first (certport gives their chains and keys).
	Certificates []string
	ALPNPolicy   []string
	// Rules are in priority order, the default rule last.
	Rules []Rule
}

// Rule is a listener rule.
type Rule struct {
	ARN string
	// Priority is 1-50000; 0 for the default rule.
	Priority  int
	IsDefault bool
	// Conditions all have to match (the default rule has none).
	Conditions []Condition
	// Actions are in their Order; the last one is forward, redirect or
	// fixed-response.
	Actions []Action
}

// Condition is one condition of a rule, whichever form the request used:
// Field host-header, path-pattern, http-request-method and source-ip use
// Values; http-header uses HeaderName and Values; query-string uses
// QueryStrings. A condition matches when one of its values does (AWS's
// OR within a condition); host, path and header values may hold the
// wildcards * and ?.
type Condition struct {
	Field        string
	HeaderName   string
	Values       []string
	QueryStrings []KeyValue
}

// KeyValue is a query-string condition's pair; an empty Key matches any
// key.
type KeyValue struct{ Key, Value string }

// Action is one action of a rule.
type Action struct {
	// Type is forward, redirect or fixed-response.
	Type  string
	Order int32
	// Forward, for a forward action: the target groups with their weights
	// (a TargetGroupArn given alone is one group of weight 1).
	Forward *Forward
	// Redirect and FixedResponse are as the API has them, defaults filled
	// in (redirect's #{protocol}, #{host}, #{port}, #{path}, #{query}).
	Redirect      *Redirect
	FixedResponse *FixedResponse
}

// Forward is a forward action's target groups.
type Forward struct {
	TargetGroups []WeightedTargetGroup
	// Stickiness is the group stickiness of a weighted forward, zero when
	// off.
	Stickiness time.Duration
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string
	Weight int32
}

// Redirect is a redirect action; its fields may hold AWS's placeholders.
type Redirect struct {
	Protocol, Port, Host, Path, Query string
	// StatusCode is 301 or 302.
	StatusCode int
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode  int
	ContentType string
	Body        string
}

// TargetGroup is a target group with its targets.
type TargetGroup struct {
	ARN, Name string
	// Protocol is HTTP or HTTPS (to the targets); ProtocolVersion HTTP1,
	// HTTP2 or GRPC as recorded.
	Protocol, ProtocolVersion string
	Port                      int32
	TargetType                string // instance or ip
	VPCID                     string
	HealthCheck               HealthCheck
	// Attributes are the target group's attributes with every key AWS
	// shows (defaults filled in): deregistration_delay.timeout_seconds,
	// stickiness.*, load_balancing.algorithm.type, slow_start…
	Attributes map[string]string
	// Targets are ordered by ID and port.
	Targets []Target
}

// HealthCheck is a target group's health check.
type HealthCheck struct {
	Enabled  bool
	Protocol string // HTTP or HTTPS
	// Port is "traffic-port" (each target's own port) or a port number.
	Port               string
	Path               string
	Interval, Timeout  time.Duration
	HealthyThreshold   int32
	UnhealthyThreshold int32
	// Matcher is the success codes: "200", "200,202", "200-299".
	Matcher string
}

// Target is a registered target, resolved.
type Target struct {
	// ID is an instance ID or an IP address; Port the port traffic goes
	// to (the registration's, else the group's).
	ID   string
	Port int32
	// AvailabilityZone is the target's zone (an instance's; an ip
	// target's subnet's, or what it was registered with; "all" for an IP
	// outside the VPC registered so).
	AvailabilityZone string
	// IP is the address to send to: an instance's primary private IP, an
	// ip target's address.
	IP    netip.Addr
	State TargetState
	// DrainingUntil is when a draining registration ends.
	DrainingUntil time.Time
}

// TargetState is what the data plane does with a target.
type TargetState string

// The states of a target.
const (
	// Serving: route new requests to it (once its health checks pass).
	Serving TargetState = "serving"
	// Draining: deregistered; no new requests, those in flight finish
	// until DrainingUntil.
	Draining TargetState = "draining"
	// Invalid: the instance is not running (stopped, stopping…) or has no
	// address; no traffic and no health checks.
	Invalid TargetState = "invalid"
)
