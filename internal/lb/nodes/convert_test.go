package nodes

import (
	"crypto/tls"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/lb"
	"github.com/minicloud/minicloud/internal/service/elbv2/controller"
)

// TestConvert: a View's attributes, listeners, rules and target groups
// become the node's typed configuration.
func TestConvert(t *testing.T) {
	ip := netip.MustParseAddr("10.0.1.10")
	view := controller.View{ARN: "arn:lb", Attributes: map[string]string{
		"idle_timeout.timeout_seconds": "120", "routing.http2.enabled": "false",
		"routing.http.drop_invalid_header_fields.enabled": "true", "routing.http.xff_header_processing.mode": "preserve",
		"routing.http.xff_client_port.enabled": "true"},
		Listeners: []controller.Listener{{ARN: "arn:l443", Port: 443, Protocol: "HTTPS", SSLPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
			Certificates: []string{"arn:cert"}, Rules: []controller.Rule{
				{Priority: 5, Conditions: []controller.Condition{{Field: "query-string", QueryStrings: []controller.KeyValue{{Key: "v", Value: "2"}}},
					{Field: "http-header", HeaderName: "X-A", Values: []string{"b*"}}},
					Actions: []controller.Action{{Type: "redirect", Order: 1, Redirect: &controller.Redirect{Protocol: "HTTPS", Port: "443",
						Host: "#{host}", Path: "/#{path}", Query: "#{query}", StatusCode: 302}}}},
				{IsDefault: true, Actions: []controller.Action{{Type: "forward", Order: 1, Forward: &controller.Forward{
					TargetGroups: []controller.WeightedTargetGroup{{ARN: "arn:tg", Weight: 3}}, Stickiness: time.Minute}}}},
			}}},
		TargetGroups: []controller.TargetGroup{{ARN: "arn:tg", Protocol: "HTTP", Port: 80,
			Attributes: map[string]string{"deregistration_delay.timeout_seconds": "0", "load_balancing.algorithm.type": "least_outstanding_requests",
				"slow_start.duration_seconds": "30", "stickiness.enabled": "true", "stickiness.type": "app_cookie",
				"stickiness.app_cookie.cookie_name": "SESSION", "stickiness.app_cookie.duration_seconds": "600"},
			HealthCheck: controller.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "8081", Path: "/h", Interval: 10 * time.Second,
				Timeout: 3 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 4, Matcher: "200-299"},
			Targets: []controller.Target{
				{ID: "i-1", Port: 80, AvailabilityZone: "us-east-1a", IP: ip, State: controller.Serving},
				{ID: "i-2", Port: 80, AvailabilityZone: "us-east-1b", State: controller.Invalid},
				{ID: "i-3", Port: 80, State: controller.Draining, DrainingUntil: time.Now().Add(time.Minute)},
			}}}}
	got, err := Convert(view)
	if err != nil {
		t.Fatal(err)
	}
	want := lb.Config{LoadBalancer: "arn:lb", IdleTimeout: 120 * time.Second, HTTP2Disabled: true, DropInvalidHeaderFields: true,
		XFFMode: lb.XFFPreserve, XFFClientPort: true,
		Listeners: []lb.Listener{{Port: 443, Protocol: "HTTPS", Certificates: []string{"arn:cert"},
			TLS: &lb.TLSPolicy{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13},
			Rules: []lb.Rule{{Priority: 5, Conditions: []lb.Condition{
				{Field: "query-string", QueryString: []lb.KeyValue{{Key: "v", Value: "2"}}},
				{Field: "http-header", HeaderName: "X-A", Values: []string{"b*"}}},
				Actions: []lb.Action{{Type: "redirect", Order: 1, Redirect: &lb.Redirect{Protocol: "HTTPS", Port: "443", Host: "#{host}",
					Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_302"}}}}},
			DefaultActions: []lb.Action{{Type: "forward", Order: 1, TargetGroups: []lb.WeightedTargetGroup{{ARN: "arn:tg", Weight: 3}},
				GroupStickiness: time.Minute}}}},
		TargetGroups: []lb.TargetGroup{{ARN: "arn:tg", Protocol: "HTTP", Port: 80,
			Targets: []lb.Target{{ID: "i-1", Address: "10.0.1.10", Port: 80, AZ: "us-east-1a"}, {ID: "i-2", Port: 80, AZ: "us-east-1b", Stopped: true}},
			HealthCheck: lb.HealthCheck{Protocol: "HTTP", Port: 8081, Path: "/h", Interval: 10 * time.Second, Timeout: 3 * time.Second,
				HealthyThreshold: 3, UnhealthyThreshold: 4, Matcher: "200-299"},
			Algorithm: lb.LeastOutstandingRequests, SlowStart: 30 * time.Second, DeregistrationDelay: 0,
			Stickiness: lb.Stickiness{Type: lb.StickyAppCookie, Duration: 10 * time.Minute, AppCookieName: "SESSION"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Convert:\n got %+v\nwant %+v", got, want)
	}

	// Defaults: the API's default policy, traffic-port, the default delay.
	view.Listeners[0].SSLPolicy = ""
	view.TargetGroups[0].HealthCheck.Port = "traffic-port"
	delete(view.TargetGroups[0].Attributes, "deregistration_delay.timeout_seconds")
	got, err = Convert(view)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Listeners[0].TLS; p == nil || p.MinVersion != tls.VersionTLS10 || len(p.CipherSuites) == 0 {
		t.Errorf("ELBSecurityPolicy-2016-08: %+v", p)
	}
	if g := got.TargetGroups[0]; g.HealthCheck.Port != 0 || g.DeregistrationDelay != lb.DefaultDeregistrationDelay {
		t.Errorf("defaults: health check port %d, deregistration delay %v", g.HealthCheck.Port, g.DeregistrationDelay)
	}
	view.Listeners[0].SSLPolicy = "ELBSecurityPolicy-Nope"
	if _, err := Convert(view); err == nil {
		t.Error("an unknown security policy converted")
	}
}
