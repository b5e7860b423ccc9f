package imds

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var launch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// web is a fully featured instance: public IP, key pair, profile, tags,
// user data, two interfaces.
var web = &InstanceData{
	AccountID:          "123456789012",
	Region:             "us-east-1",
	AvailabilityZone:   "us-east-1a",
	AvailabilityZoneID: "use1-az6",
	InstanceID:         "i-0123456789abcdef0",
	ReservationID:      "r-0123456789abcdef0",
	ImageID:            "ami-0abcdef1234567890",
	InstanceType:       "t3.micro",
	Architecture:       "x86_64",
	Hostname:           "ip-10-0-1-23.ec2.internal",
	PendingTime:        launch,
	KeyName:            "my-key",
	PublicKey:          "ssh-ed25519 AAAAC3Nza my-key",
	UserData:           []byte("#!/bin/sh\necho hi\n"),
	RootDeviceName:     "/dev/xvda",
	EBSDevices:         []string{"/dev/sdf"},
	SecurityGroups:     []string{"web", "default"},
	Interfaces: []Interface{{
		DeviceNumber: 0, InterfaceID: "eni-0aaa", MAC: "0e:11:22:33:44:55", OwnerID: "123456789012",
		SubnetID: "subnet-0aaa", SubnetCIDR: "10.0.1.0/24", VpcID: "vpc-0aaa", VpcCIDRs: []string{"10.0.0.0/16", "100.64.0.0/16"},
		PrivateIPs: []string{"10.0.1.23", "10.0.1.24"}, PublicIP: "203.0.113.25",
		SecurityGroupIDs: []string{"sg-0aaa", "sg-0bbb"}, SecurityGroupNames: []string{"web", "default"},
	}, {
		DeviceNumber: 1, InterfaceID: "eni-0bbb", MAC: "0e:66:77:88:99:aa", OwnerID: "123456789012",
		SubnetID: "subnet-0bbb", SubnetCIDR: "10.0.2.0/24", VpcID: "vpc-0aaa", VpcCIDRs: []string{"10.0.0.0/16"},
		PrivateIPs: []string{"10.0.2.9"}, SecurityGroupIDs: []string{"sg-0aaa"}, SecurityGroupNames: []string{"web"},
	}},
	IamInstanceProfileArn: "arn:aws:iam::123456789012:instance-profile/web-profile",
	IamInstanceProfileID:  "AIPAEXAMPLE1234567890",
	TagsEnabled:           true,
	Tags:                  map[string]string{"Name": "web-1", "env": "prod", "a/b": "unservable"},
}

// bare has no public IP, key, profile, user data or tags, in another
// region.
var bare = &InstanceData{
	AccountID: "123456789012", Region: "eu-west-1", AvailabilityZone: "eu-west-1b",
	InstanceID: "i-0bbbbbbbbbbbbbbbb", ReservationID: "r-0bbb", ImageID: "ami-0bbb", InstanceType: "t3.nano", Architecture: "arm64",
	PendingTime: launch,
	Interfaces:  []Interface{{InterfaceID: "eni-0ccc", MAC: "0e:00:00:00:00:01", SubnetID: "subnet-0ccc", VpcID: "vpc-0ccc", PrivateIPs: []string{"172.31.5.6"}}},
}

var required = &InstanceData{InstanceID: "i-0required", Region: "us-east-1", TokensRequired: true,
	Interfaces: []Interface{{MAC: "0e:00:00:00:00:02", PrivateIPs: []string{"10.0.9.9"}}}}

var disabled = &InstanceData{InstanceID: "i-0disabled", Region: "us-east-1", EndpointDisabled: true}

var byIP = map[netip.Addr]*InstanceData{
	netip.MustParseAddr("10.0.1.23"):  web,
	netip.MustParseAddr("172.31.5.6"): bare,
	netip.MustParseAddr("10.0.9.9"):   required,
	netip.MustParseAddr("10.0.9.10"):  disabled,
	netip.MustParseAddr("127.0.0.1"):  web,
}

func lookup(ip netip.Addr) (*InstanceData, bool) {
	d, ok := byIP[ip]
	return d, ok
}

// fakeClock is an injectable clock for token expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newServer() (*Server, *fakeClock) {
	c := &fakeClock{t: launch.Add(time.Hour)}
	return New(lookup, WithClock(c.now), WithRoles(webProfiles(), &fakeIssuer{now: c.now})), c
}

type req struct {
	method, path, from string
	headers            map[string]string
}

func do(s *Server, r req) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.from == "" {
		r.from = "10.0.1.23:40000"
	}
	hr := httptest.NewRequest(r.method, "http://169.254.169.254"+r.path, nil)
	hr.RemoteAddr = r.from
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, hr)
	return w
}

func TestPaths(t *testing.T) {
	s, _ := newServer()
	const webFrom, bareFrom = "10.0.1.23:40000", "172.31.5.6:40000"
	cases := []struct {
		from, path string
		status     int
		body       string
		ctype      string
	}{
		{webFrom, "/", 200, strings.Join(versions, "\n"), "text/plain"},
		{webFrom, "/latest", 200, "dynamic\nmeta-data\nuser-data", "text/plain"},
		{webFrom, "/latest/", 200, "dynamic\nmeta-data\nuser-data", "text/plain"},
		{bareFrom, "/latest/", 200, "dynamic\nmeta-data", "text/plain"},
		{webFrom, "/latest/meta-data/", 200, "ami-id\nami-launch-index\nami-manifest-path\nblock-device-mapping/\nhostname\niam/\ninstance-action\ninstance-id\n" +
			"instance-life-cycle\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\nprofile\npublic-hostname\npublic-ipv4\npublic-keys/\n" +
			"reservation-id\nsecurity-groups\nservices/\nsystem\ntags/", "text/plain"},
		{bareFrom, "/latest/meta-data/", 200, "ami-id\nami-launch-index\nami-manifest-path\nhostname\ninstance-action\ninstance-id\n" +
			"instance-life-cycle\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\nprofile\n" +
			"reservation-id\nsecurity-groups\nservices/\nsystem", "text/plain"},
		{webFrom, "/latest/meta-data", 200, "", "text/plain"}, // listing without the slash (body checked above)
		{webFrom, "/latest/meta-data/instance-id", 200, "i-0123456789abcdef0", "text/plain"},
		{webFrom, "/latest/meta-data/instance-type", 200, "t3.micro", "text/plain"},
		{webFrom, "/latest/meta-data/ami-id", 200, "ami-0abcdef1234567890", "text/plain"},
		{webFrom, "/latest/meta-data/ami-launch-index", 200, "0", "text/plain"},
		{webFrom, "/latest/meta-data/local-ipv4", 200, "10.0.1.23", "text/plain"},
		{webFrom, "/latest/meta-data/local-hostname", 200, "ip-10-0-1-23.ec2.internal", "text/plain"},
		{webFrom, "/latest/meta-data/hostname", 200, "ip-10-0-1-23.ec2.internal", "text/plain"},
		{bareFrom, "/latest/meta-data/hostname", 200, "ip-172-31-5-6.eu-west-1.compute.internal", "text/plain"},
		{webFrom, "/latest/meta-data/public-ipv4", 200, "203.0.113.25", "text/plain"},
		{bareFrom, "/latest/meta-data/public-ipv4", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/public-hostname", 200, "ec2-203-0-113-25.compute-1.amazonaws.com", "text/plain"},
		{bareFrom, "/latest/meta-data/public-hostname", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/mac", 200, "0e:11:22:33:44:55", "text/plain"},
		{webFrom, "/latest/meta-data/placement/", 200, "availability-zone\navailability-zone-id\nregion", "text/plain"},
		{webFrom, "/latest/meta-data/placement/availability-zone", 200, "us-east-1a", "text/plain"},
		{webFrom, "/latest/meta-data/placement/availability-zone-id", 200, "use1-az6", "text/plain"},
		{webFrom, "/latest/meta-data/placement/region", 200, "us-east-1", "text/plain"},
		{webFrom, "/latest/meta-data/security-groups", 200, "web\ndefault", "text/plain"},
		{webFrom, "/latest/meta-data/reservation-id", 200, "r-0123456789abcdef0", "text/plain"},
		{webFrom, "/latest/meta-data/services/domain", 200, "amazonaws.com", "text/plain"},
		{webFrom, "/latest/meta-data/services/partition", 200, "aws", "text/plain"},
		{webFrom, "/latest/meta-data/block-device-mapping/", 200, "ami\nebs1\nroot", "text/plain"},
		{webFrom, "/latest/meta-data/block-device-mapping/root", 200, "/dev/xvda", "text/plain"},
		{webFrom, "/latest/meta-data/block-device-mapping/ebs1", 200, "sdf", "text/plain"},
		{webFrom, "/latest/meta-data/public-keys/", 200, "0=my-key", "text/plain"},
		{webFrom, "/latest/meta-data/public-keys/0/openssh-key", 200, "ssh-ed25519 AAAAC3Nza my-key\n", "text/plain"},
		{bareFrom, "/latest/meta-data/public-keys/", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/", 200, "0e:11:22:33:44:55/\n0e:66:77:88:99:aa/", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/", 200, "device-number\ninterface-id\nipv4-associations/\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\n" +
			"public-hostname\npublic-ipv4s\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/device-number", 200, "0", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:66:77:88:99:aa/device-number", 200, "1", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/interface-id", 200, "eni-0aaa", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/local-ipv4s", 200, "10.0.1.23\n10.0.1.24", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/subnet-id", 200, "subnet-0aaa", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/subnet-ipv4-cidr-block", 200, "10.0.1.0/24", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/vpc-id", 200, "vpc-0aaa", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/vpc-ipv4-cidr-block", 200, "10.0.0.0/16", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/vpc-ipv4-cidr-blocks", 200, "10.0.0.0/16\n100.64.0.0/16", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/security-group-ids", 200, "sg-0aaa\nsg-0bbb", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/public-ipv4s", 200, "203.0.113.25", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/ipv4-associations/203.0.113.25", 200, "10.0.1.23", "text/plain"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:66:77:88:99:aa/public-ipv4s", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/network/interfaces/macs/0e:00:00:00:00:00/", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/iam/", 200, "info\nsecurity-credentials/", "text/plain"},
		{webFrom, "/latest/meta-data/iam/info", 200, "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2024-05-01T12:00:00Z\",\n" +
			"  \"InstanceProfileArn\" : \"arn:aws:iam::123456789012:instance-profile/web-profile\",\n  \"InstanceProfileId\" : \"AIPAEXAMPLE1234567890\"\n}", "text/plain"},
		{webFrom, "/latest/meta-data/iam/security-credentials/", 200, "web-role", "text/plain"},
		{webFrom, "/latest/meta-data/iam/security-credentials/web-role", 200, "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2024-05-01T13:00:00Z\",\n" +
			"  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAFAKE1\",\n  \"SecretAccessKey\" : \"secret-1\",\n  \"Token\" : \"token-1\",\n" +
			"  \"Expiration\" : \"2024-05-01T19:00:00Z\"\n}", "text/plain"},
		{webFrom, "/latest/meta-data/iam/security-credentials/other-role", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/iam/security-credentials/web-role/x", 404, "", "text/html"},
		{bareFrom, "/latest/meta-data/iam/", 404, "", "text/html"},
		{bareFrom, "/latest/meta-data/iam/info", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/tags/instance/", 200, "Name\nenv", "text/plain"},
		{webFrom, "/latest/meta-data/tags/instance/Name", 200, "web-1", "text/plain"},
		{bareFrom, "/latest/meta-data/tags/instance/", 404, "", "text/html"},
		{webFrom, "/latest/user-data", 200, "#!/bin/sh\necho hi\n", "application/octet-stream"},
		{bareFrom, "/latest/user-data", 404, "", "text/html"},
		{webFrom, "/latest/dynamic/", 200, "instance-identity/", "text/plain"},
		{webFrom, "/latest/dynamic/instance-identity/", 200, "document", "text/plain"},
		{bareFrom, "/latest/dynamic/instance-identity/document", 200, `{
  "accountId" : "123456789012",
  "architecture" : "arm64",
  "availabilityZone" : "eu-west-1b",
  "billingProducts" : null,
  "devpayProductCodes" : null,
  "marketplaceProductCodes" : null,
  "imageId" : "ami-0bbb",
  "instanceId" : "i-0bbbbbbbbbbbbbbbb",
  "instanceType" : "t3.nano",
  "kernelId" : null,
  "pendingTime" : "2024-05-01T12:00:00Z",
  "privateIp" : "172.31.5.6",
  "ramdiskId" : null,
  "region" : "eu-west-1",
  "version" : "2017-09-30"
}`, "text/plain"},
		{webFrom, "/2021-07-15/meta-data/instance-id", 200, "i-0123456789abcdef0", "text/plain"},
		{webFrom, "/1999-01-01/meta-data/instance-id", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/no-such-thing", 404, "", "text/html"},
		{webFrom, "/latest/meta-data/instance-id/extra", 404, "", "text/html"},
		// A v4-mapped IPv6 source is the same instance.
		{"[::ffff:10.0.1.23]:40000", "/latest/meta-data/instance-id", 200, "i-0123456789abcdef0", "text/plain"},
	}
	for _, tc := range cases {
		t.Run(tc.from+tc.path, func(t *testing.T) {
			w := do(s, req{path: tc.path, from: tc.from})
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q", w.Code, tc.status, w.Body.String())
			}
			if got := w.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := w.Header().Get("Server"); got != "EC2ws" {
				t.Errorf("Server %q", got)
			}
			switch {
			case tc.status == 404:
				if !strings.Contains(w.Body.String(), "<title>404 - Not Found</title>") {
					t.Errorf("404 body %q", w.Body.String())
				}
			case tc.body != "":
				if got := w.Body.String(); got != tc.body {
					t.Errorf("body:\n%s\nwant:\n%s", got, tc.body)
				}
			}
		})
	}
}

func putToken(s *Server, from, ttl string, extra map[string]string) *httptest.ResponseRecorder {
	h := map[string]string{}
	if ttl != "" {
		h[hdrTokenTTL] = ttl
	}
	for k, v := range extra {
		h[k] = v
	}
	return do(s, req{method: http.MethodPut, path: "/latest/api/token", from: from, headers: h})
}

func TestTokenRequests(t *testing.T) {
	s, _ := newServer()
	cases := []struct {
		name   string
		ttl    string
		extra  map[string]string
		status int
	}{
		{"ok", "21600", nil, 200},
		{"minimum", "1", nil, 200},
		{"missing ttl", "", nil, 400},
		{"zero", "0", nil, 400},
		{"too long", "21601", nil, 400},
		{"negative", "-5", nil, 400},
		{"not a number", "six hours", nil, 400},
		{"forwarded", "60", map[string]string{"X-Forwarded-For": "10.0.1.99"}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := putToken(s, "10.0.1.23:1", tc.ttl, tc.extra)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status != 200 {
				if w.Header().Get("Content-Type") != "text/html" {
					t.Errorf("error Content-Type %q", w.Header().Get("Content-Type"))
				}
				return
			}
			if w.Header().Get(hdrTokenTTL) != tc.ttl || w.Body.Len() == 0 || w.Header().Get("Content-Type") != "text/plain" {
				t.Errorf("token response: %v %q", w.Header(), w.Body.String())
			}
		})
	}
}

func TestTokenFlow(t *testing.T) {
	s, clock := newServer()
	w := putToken(s, "10.0.1.23:1", "60", nil)
	tok := w.Body.String()
	get := func(from, token string) *httptest.ResponseRecorder {
		h := map[string]string{}
		if token != "" {
			h[hdrToken] = token
		}
		return do(s, req{path: "/latest/meta-data/instance-id", from: from, headers: h})
	}

	if w := get("10.0.1.23:2", tok); w.Code != 200 || w.Body.String() != "i-0123456789abcdef0" || w.Header().Get(hdrTokenTTL) != "60" {
		t.Fatalf("GET with token: %d %q ttl %q", w.Code, w.Body.String(), w.Header().Get(hdrTokenTTL))
	}
	clock.add(59*time.Second + 500*time.Millisecond)
	if w := get("10.0.1.23:2", tok); w.Code != 200 || w.Header().Get(hdrTokenTTL) != "1" {
		t.Fatalf("GET before expiry: %d ttl %q", w.Code, w.Header().Get(hdrTokenTTL))
	}
	// Another instance cannot use this instance's token.
	if w := get("172.31.5.6:2", tok); w.Code != 401 {
		t.Errorf("token used by another instance: %d", w.Code)
	}
	// Garbage and tampered tokens are 401 even though tokens are optional.
	if w := get("10.0.1.23:2", "not-a-token"); w.Code != 401 || !strings.Contains(w.Body.String(), "401 - Unauthorized") {
		t.Errorf("invalid token: %d %q", w.Code, w.Body.String())
	}
	tampered := []byte(tok)
	tampered[5] ^= 1
	if tampered[5] == '+' || tampered[5] == '/' {
		tampered[5] = 'A'
	}
	if w := get("10.0.1.23:2", string(tampered)); w.Code != 401 {
		t.Errorf("tampered token: %d", w.Code)
	}
	clock.add(500 * time.Millisecond)
	if w := get("10.0.1.23:2", tok); w.Code != 401 {
		t.Errorf("expired token: %d", w.Code)
	}
	// Without a token, tokens being optional, IMDSv1 works.
	if w := get("10.0.1.23:2", ""); w.Code != 200 {
		t.Errorf("v1 GET: %d", w.Code)
	}
}

func TestTokensRequired(t *testing.T) {
	s, _ := newServer()
	const from = "10.0.9.9:1"
	if w := do(s, req{path: "/latest/meta-data/instance-id", from: from}); w.Code != 401 {
		t.Errorf("v1 GET with tokens required: %d", w.Code)
	}
	if w := do(s, req{path: "/", from: from}); w.Code != 401 {
		t.Errorf("v1 GET / with tokens required: %d", w.Code)
	}
	tok := putToken(s, from, "300", nil).Body.String()
	w := do(s, req{path: "/latest/meta-data/instance-id", from: from, headers: map[string]string{hdrToken: tok}})
	if w.Code != 200 || w.Body.String() != "i-0required" {
		t.Errorf("v2 GET: %d %q", w.Code, w.Body.String())
	}
}

func TestRefused(t *testing.T) {
	s, _ := newServer()
	cases := []struct {
		name string
		r    req
		want int
	}{
		{"endpoint disabled GET", req{path: "/latest/meta-data/", from: "10.0.9.10:1"}, 403},
		{"endpoint disabled PUT", req{method: http.MethodPut, path: "/latest/api/token", from: "10.0.9.10:1", headers: map[string]string{hdrTokenTTL: "60"}}, 403},
		{"unknown source", req{path: "/latest/meta-data/", from: "192.0.2.1:1"}, 403},
		{"unparsable source", req{path: "/latest/meta-data/", from: "somewhere"}, 403},
		{"GET token path", req{path: "/latest/api/token"}, 405},
		{"POST metadata", req{method: http.MethodPost, path: "/latest/meta-data/"}, 405},
		{"PUT metadata", req{method: http.MethodPut, path: "/latest/meta-data/instance-id", headers: map[string]string{hdrTokenTTL: "60"}}, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := do(s, tc.r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d", w.Code, tc.want)
			}
			if w.Header().Get("Content-Type") != "text/html" {
				t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

// Over a real listener, concurrently (run with -race): the token flow a
// client like the AWS SDKs performs.
func TestOverHTTP(t *testing.T) {
	s, _ := newServer()
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			pr, _ := http.NewRequest(http.MethodPut, srv.URL+"/latest/api/token", nil)
			pr.Header.Set(hdrTokenTTL, "21600")
			resp, err := http.DefaultClient.Do(pr)
			if err != nil {
				t.Error(err)
				return
			}
			tok, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			gr, _ := http.NewRequest(http.MethodGet, srv.URL+"/latest/meta-data/placement/region", nil)
			gr.Header.Set(hdrToken, string(tok))
			resp, err = http.DefaultClient.Do(gr)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "us-east-1" {
				t.Errorf("GET: %d %q", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
}
