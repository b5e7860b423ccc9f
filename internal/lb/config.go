package lb

import (
	"time"
)

// Config is one load balancer as a node serves it: its attributes,
// listeners and the target groups its rules reach. A Config is a snapshot:
// the controller builds a new one for every change and hands it to
// (*Node).Update; the node never modifies it.
//
// Durations are time.Duration rather than AWS's whole seconds so that tests
// can run health checks every few milliseconds; the controller converts.
// Zero values mean AWS's defaults where AWS has one that zero cannot mean
// (IdleTimeout, health check interval…); where zero is a valid AWS value
// (deregistration delay, slow start) it means zero.
type Config struct {
	// LoadBalancer is the load balancer's ARN; it names the node in logs.
	LoadBalancer string

	// IdleTimeout is idle_timeout.timeout_seconds (default 60 s): a client
	// connection without traffic for this long is closed, and a target
	// that does not answer a request within it yields 504.
	IdleTimeout time.Duration
	// HTTP2Disabled is routing.http2.enabled=false: HTTPS listeners then
	// offer only http/1.1 in ALPN.
	HTTP2Disabled bool
	// DropInvalidHeaderFields is
	// routing.http.drop_invalid_header_fields.enabled: request headers
	// whose name is not [-A-Za-z0-9]+ are removed before forwarding.
	DropInvalidHeaderFields bool
	// XFFMode is routing.http.xff_header_processing.mode: XFFAppend
	// (default, also for ""), XFFPreserve or XFFRemove.
	XFFMode string
	// XFFClientPort is routing.http.xff_client_port.enabled: append
	// "ip:port" instead of the IP.
	XFFClientPort bool

	Listeners    []Listener
	TargetGroups []TargetGroup
}

// X-Forwarded-For modes (routing.http.xff_header_processing.mode).
const (
	XFFAppend   = "append"
	XFFPreserve = "preserve"
	XFFRemove   = "remove"
)

// Listener protocols and target group protocols.
const (
	HTTP  = "HTTP"
	HTTPS = "HTTPS"
)

// Listener is one port of the load balancer.
type Listener struct {
	Port     int
	Protocol string // HTTP or HTTPS
	// Certificates are ACM certificate ARNs for HTTPS; the first is the
	// default certificate, the others are chosen by SNI (ALB's certificate
	// list).
	Certificates []string
	// TLS is an HTTPS listener's security policy (ELBv2's SslPolicy, as
	// the controller resolves it); nil: TLS 1.2 and 1.3 with Go's ciphers.
	TLS *TLSPolicy
	// Rules are evaluated in ascending Priority; the first that matches
	// decides. DefaultActions apply when none does.
	Rules          []Rule
	DefaultActions []Action
}

// TLSPolicy is the part of a security policy a handshake enforces: the
// protocol versions (crypto/tls's VersionTLS1x) and the cipher suites of
// TLS 1.2 and older in order of preference (TLS 1.3's are Go's own).
type TLSPolicy struct {
	MinVersion, MaxVersion uint16
	CipherSuites           []uint16
}

// Rule is a listener rule: all Conditions must match (AND); within one
// condition any value may (OR).
type Rule struct {
	Priority   int
	Conditions []Condition
	Actions    []Action
}

// Condition fields (RuleCondition.Field).
const (
	FieldHostHeader    = "host-header"
	FieldPathPattern   = "path-pattern"
	FieldHTTPHeader    = "http-header"
	FieldRequestMethod = "http-request-method"
	FieldQueryString   = "query-string"
	FieldSourceIP      = "source-ip"
)

// Condition is one rule condition.
type Condition struct {
	Field string
	// Values are the patterns of host-header, path-pattern, http-header
	// (with HeaderName), http-request-method and source-ip (CIDRs).
	Values []string
	// HeaderName is http-header's header name (case-insensitive).
	HeaderName string
	// QueryString are query-string's key/value pairs; either side may be
	// empty, meaning "any".
	QueryString []KeyValue
}

// KeyValue is one query-string condition value.
type KeyValue struct {
	Key, Value string
}

// Action types.
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// Action is a rule's action. A rule may list several (authenticate-* then
// a terminal one); the node runs the first terminal action in Order.
type Action struct {
	Type  string
	Order int

	// Forward: the target groups and their weights (0–999). A single
	// group's weight is irrelevant. GroupStickiness > 0 keeps a client on
	// the group it was sent to (AWSALBTG cookie) for that long.
	TargetGroups    []WeightedTargetGroup
	GroupStickiness time.Duration

	Redirect      *Redirect
	FixedResponse *FixedResponse
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string
	Weight int
}

// Redirect is a redirect action. Empty components keep the request's
// (AWS's defaults: #{protocol}, #{host}, #{port}, /#{path}, #{query}).
type Redirect struct {
	Protocol, Host, Port, Path, Query string
	// StatusCode is HTTP_301 or HTTP_302.
	StatusCode string
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode  string // "200", "404"…
	ContentType string
	MessageBody string
}

// Target selection algorithms (load_balancing.algorithm.type).
const (
	RoundRobin               = "round_robin"
	LeastOutstandingRequests = "least_outstanding_requests"
	WeightedRandom           = "weighted_random"
)

// Stickiness types (stickiness.type).
const (
	StickyLBCookie  = "lb_cookie"
	StickyAppCookie = "app_cookie"
)

// DefaultDeregistrationDelay is deregistration_delay.timeout_seconds'
// default; the controller passes it when the attribute is unset.
const DefaultDeregistrationDelay = 300 * time.Second

// TargetGroup is a target group with its targets and attributes.
type TargetGroup struct {
	ARN      string
	Protocol string // HTTP or HTTPS: how the node speaks to targets
	Port     int    // the traffic port of targets registered without one
	Targets  []Target

	HealthCheck HealthCheck

	// Algorithm is load_balancing.algorithm.type (default round_robin).
	Algorithm string
	// SlowStart is slow_start.duration_seconds: a target that turns
	// healthy gets a share that grows linearly from almost nothing to its
	// full share over this long.
	SlowStart time.Duration
	// DeregistrationDelay is how long a deregistered target drains.
	DeregistrationDelay time.Duration
	// Stickiness is off when Type is "".
	Stickiness Stickiness
}

// Stickiness is a target group's stickiness.* attributes.
type Stickiness struct {
	Type     string // lb_cookie or app_cookie
	Duration time.Duration
	// AppCookieName is stickiness.app_cookie.cookie_name.
	AppCookieName string
}

// Target is one registered target.
type Target struct {
	// ID is the instance ID or IP address as registered; with Port it
	// identifies the target (AWS allows one instance on several ports).
	ID string
	// Address is the IP the node dials (an instance's private IP).
	Address string
	// Port is the traffic port; 0 means the group's.
	Port int
	// AZ is the target's Availability Zone (informational: ALBs balance
	// across zones).
	AZ string
	// Stopped marks an instance that is stopped or terminated: it gets no
	// traffic and no checks and shows unused/Target.InvalidState.
	Stopped bool
}

// HealthCheck is a target group's health check settings.
type HealthCheck struct {
	// Disabled turns checks off: targets show unavailable and all get
	// traffic.
	Disabled bool
	Protocol string // HTTP or HTTPS (default: the group's)
	// Port is the port checked; 0 means traffic-port.
	Port int
	Path string // default "/"
	// Interval (default 30 s), Timeout (default 5 s).
	Interval, Timeout time.Duration
	// HealthyThreshold (default 5) consecutive successes make a target
	// healthy, UnhealthyThreshold (default 2) failures unhealthy.
	HealthyThreshold, UnhealthyThreshold int
	// Matcher is the HTTP codes that count as success: "200", "200,202",
	// "200-299" (default "200").
	Matcher string
}

func (c Config) idleTimeout() time.Duration {
	if c.IdleTimeout <= 0 {
		return 60 * time.Second
	}
	return c.IdleTimeout
}

func (h HealthCheck) withDefaults(groupProtocol string) HealthCheck {
	if h.Protocol == "" {
		h.Protocol = groupProtocol
	}
	if h.Protocol == "" {
		h.Protocol = HTTP
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Interval <= 0 {
		h.Interval = 30 * time.Second
	}
	if h.Timeout <= 0 {
		h.Timeout = 5 * time.Second
	}
	if h.HealthyThreshold <= 0 {
		h.HealthyThreshold = 5
	}
	if h.UnhealthyThreshold <= 0 {
		h.UnhealthyThreshold = 2
	}
	if h.Matcher == "" {
		h.Matcher = "200"
	}
	return h
}
