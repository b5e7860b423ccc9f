package dns53

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/minicloud/minicloud/internal/dnszone"
)

func first(t *testing.T, r *dns.Msg) string {
	t.Helper()
	v := values(r.Answer)
	if len(v) != 1 {
		t.Fatalf("want one record: %v", r)
	}
	return v[0]
}

func TestWeighted(t *testing.T) {
	src := testSource()
	s := startServer(t, Config{Source: src})
	const n = 4000
	count := map[string]int{}
	for range n {
		count[first(t, query(t, s, "udp", "w.example.com.", dns.TypeA, 0))]++
	}
	// 3:1, weight 0 never; binomial sd ≈ 27, so ±200 is over 7 sd.
	if a := count["192.0.2.10"]; a < 2800 || a > 3200 || count["192.0.2.12"] != 0 || count["192.0.2.10"]+count["192.0.2.11"] != n {
		t.Fatalf("distribution %v, want ≈ 3000:1000:0", count)
	}
}

func TestWeightedHealth(t *testing.T) {
	src := testSource()
	sets := src.snap.Zones[0].Records
	for i := range sets {
		if sets[i].Name == "w.example.com." {
			sets[i].HealthCheckID = "hc-w-" + sets[i].SetIdentifier
		}
	}
	req := new(dns.Msg).SetQuestion("w.example.com.", dns.TypeA)
	pick := func() map[string]int {
		c := map[string]int{}
		for range 200 {
			r, _ := Answer(src, nil, req, ClientInfo{})
			c[values(r.Answer)[0]]++
		}
		return c
	}
	src.setHealth("hc-w-a", false)
	if c := pick(); c["192.0.2.11"] != 200 {
		t.Errorf("a unhealthy: %v", c)
	}
	src.setHealth("hc-w-b", false)
	if c := pick(); c["192.0.2.12"] != 200 {
		t.Errorf("only weight 0 healthy: %v", c)
	}
	src.setHealth("hc-w-c", false)
	if c := pick(); c["192.0.2.12"] != 0 || c["192.0.2.10"] == 0 || c["192.0.2.11"] == 0 {
		t.Errorf("none healthy (all as healthy, by weight): %v", c)
	}
}

func TestFailover(t *testing.T) {
	src := testSource()
	s := startServer(t, Config{Source: src})
	for _, c := range []struct {
		healthy bool
		want    string
	}{{true, "192.0.2.20"}, {false, "192.0.2.21"}, {true, "192.0.2.20"}} {
		src.setHealth("hc-primary", c.healthy)
		if got := first(t, query(t, s, "udp", "fo.example.com.", dns.TypeA, 0)); got != c.want {
			t.Errorf("primary healthy %v: %s, want %s", c.healthy, got, c.want)
		}
	}
}

func TestMultivalue(t *testing.T) {
	src := testSource()
	s := startServer(t, Config{Source: src})
	unhealthy := []string{"192.0.2.72", "192.0.2.75", "192.0.2.77"}
	seen := map[string]bool{}
	for range 50 {
		r := query(t, s, "udp", "mv.example.com.", dns.TypeA, 0)
		v := values(r.Answer)
		if len(v) != 7 {
			t.Fatalf("%d records, want the 7 healthy: %v", len(v), v)
		}
		for _, a := range v {
			if slices.Contains(unhealthy, a) {
				t.Fatalf("unhealthy %s answered", a)
			}
			seen[a] = true
		}
	}
	// More than 8 healthy: 8 at random.
	src.setHealth("hc-mv2", true)
	src.setHealth("hc-mv5", true)
	for range 50 {
		r := query(t, s, "udp", "mv.example.com.", dns.TypeA, 0)
		for _, a := range values(r.Answer) {
			seen[a] = true
		}
		if len(r.Answer) != 8 {
			t.Fatalf("%d records, want 8", len(r.Answer))
		}
	}
	if len(seen) != 9 {
		t.Errorf("saw %d distinct, want 9", len(seen))
	}
}

func TestLatencyAndGeo(t *testing.T) {
	src := testSource()
	// The hooks run on the server's goroutines: atomics, as the race
	// detector does not see the ordering the sockets give.
	var loc atomic.Pointer[dnszone.GeoLocation]
	var region atomic.Value
	region.Store("")
	s := startServer(t, Config{Source: src,
		ClientRegion:   func(netip.Addr) string { return region.Load().(string) },
		ClientLocation: func(a netip.Addr) *dnszone.GeoLocation { return loc.Load() },
	})
	for _, c := range []struct {
		region string
		want   string
	}{{"us-east-1", "192.0.2.41"}, {"eu-west-1", "192.0.2.42"}, {"ap-south-1", "192.0.2.42"}, {"", "192.0.2.42"}} {
		region.Store(c.region)
		for range 3 {
			if got := first(t, query(t, s, "udp", "lat.example.com.", dns.TypeA, 0)); got != c.want {
				t.Errorf("latency from %q: %s, want %s", c.region, got, c.want)
			}
		}
	}
	for _, c := range []struct {
		loc  *dnszone.GeoLocation
		name string
		want []string
	}{
		{&dnszone.GeoLocation{ContinentCode: "NA", CountryCode: "US", SubdivisionCode: "CA"}, "geo", []string{"192.0.2.54"}},
		{&dnszone.GeoLocation{ContinentCode: "NA", CountryCode: "US", SubdivisionCode: "WA"}, "geo", []string{"192.0.2.51"}},
		{&dnszone.GeoLocation{ContinentCode: "EU", CountryCode: "DE"}, "geo", []string{"192.0.2.52"}},
		{&dnszone.GeoLocation{ContinentCode: "EU", CountryCode: "FR"}, "geo", []string{"192.0.2.53"}},
		{nil, "geo", []string{"192.0.2.51"}},
		{&dnszone.GeoLocation{ContinentCode: "EU", CountryCode: "DE"}, "geode", []string{"192.0.2.55"}},
		{&dnszone.GeoLocation{ContinentCode: "EU", CountryCode: "FR"}, "geode", nil}, // NODATA
	} {
		loc.Store(c.loc)
		r := query(t, s, "udp", c.name+".example.com.", dns.TypeA, 0)
		if r.Rcode != dns.RcodeSuccess || !slices.Equal(values(r.Answer), c.want) {
			t.Errorf("geo %+v %s: %v, want %v", c.loc, c.name, values(r.Answer), c.want)
		}
		if c.want == nil && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA) {
			t.Errorf("geo NODATA without SOA: %v", r)
		}
	}
}

func TestAliasEvaluateTargetHealth(t *testing.T) {
	src := testSource()
	s := startServer(t, Config{Source: src})
	// Primary is an alias to dead.example.com with EvaluateTargetHealth.
	r := query(t, s, "udp", "alias-fo.example.com.", dns.TypeA, 0)
	if got := first(t, r); got != "192.0.2.62" || r.Answer[0].Header().Ttl != 120 || r.Answer[0].Header().Name != "alias-fo.example.com." {
		t.Fatalf("healthy target: %v", r)
	}
	src.setHealth("hc-dead", false)
	if got := first(t, query(t, s, "udp", "alias-fo.example.com.", dns.TypeA, 0)); got != "192.0.2.61" {
		t.Fatalf("unhealthy target: %s, want the secondary", got)
	}
	// External targets: Resolve's health.
	r2 := &resolver{src: src, idx: indexFor(src.Snapshot())}
	z := r2.zoneFor("alias-lb.example.com.")
	set := z.names["alias-lb.example.com."].sets[dns.TypeA][0]
	set.rs.Alias.EvaluateTargetHealth = true
	if !r2.healthy(z, set, 0) {
		t.Errorf("external target healthy")
	}
	src.setHealth("target:my-lb-1.us-east-1.elb.amazonaws.com.", false)
	if r2.healthy(z, set, 0) {
		t.Errorf("external target unhealthy")
	}
}
