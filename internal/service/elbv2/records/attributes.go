package records

// Attribute is an attribute's key and its default value.
type Attribute struct{ Key, Default string }

// LBAttributes are an Application Load Balancer's attributes with AWS's
// defaults, in the order DescribeLoadBalancerAttributes lists them. A
// record's Attributes hold only what was set.
var LBAttributes = []Attribute{
	{"access_logs.s3.enabled", "false"},
	{"access_logs.s3.bucket", ""},
	{"access_logs.s3.prefix", ""},
	{"idle_timeout.timeout_seconds", "60"},
	{"deletion_protection.enabled", "false"},
	{"routing.http2.enabled", "true"},
	{"routing.http.drop_invalid_header_fields.enabled", "false"},
	{"routing.http.xff_client_port.enabled", "false"},
	{"routing.http.preserve_host_header.enabled", "false"},
	{"routing.http.xff_header_processing.mode", "append"},
	{"load_balancing.cross_zone.enabled", "true"},
	{"routing.http.desync_mitigation_mode", "defensive"},
	{"client_keep_alive.seconds", "3600"},
	{"waf.fail_open.enabled", "false"},
	{"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"},
	{"zonal_shift.config.enabled", "false"},
	{"connection_logs.s3.enabled", "false"},
	{"connection_logs.s3.bucket", ""},
	{"connection_logs.s3.prefix", ""},
	{"health_check_logs.s3.enabled", "false"},
	{"health_check_logs.s3.bucket", ""},
	{"health_check_logs.s3.prefix", ""},
}

// TGAttributes are the attributes of a target group of type instance or
// ip behind an Application Load Balancer, with AWS's defaults.
var TGAttributes = []Attribute{
	{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off"},
	{"target_group_health.dns_failover.minimum_healthy_targets.count", "1"},
	{"stickiness.enabled", "false"},
	{"deregistration_delay.timeout_seconds", "300"},
	{"stickiness.app_cookie.cookie_name", ""},
	{"stickiness.type", "lb_cookie"},
	{"stickiness.lb_cookie.duration_seconds", "86400"},
	{"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off"},
	{"slow_start.duration_seconds", "0"},
	{"stickiness.app_cookie.duration_seconds", "86400"},
	{"load_balancing.cross_zone.enabled", "use_load_balancer_configuration"},
	{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1"},
	{"load_balancing.algorithm.type", "round_robin"},
	{"load_balancing.algorithm.anomaly_mitigation", "off"},
}

// WithDefaults is set with every attribute of defs, defaults filled in.
func WithDefaults(defs []Attribute, set map[string]string) map[string]string {
	out := make(map[string]string, len(defs))
	for _, a := range defs {
		out[a.Key] = a.Default
		if v, ok := set[a.Key]; ok {
			out[a.Key] = v
		}
	}
	return out
}
