package dataplane_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/minicloud/minicloud/internal/guestlimit"
	"github.com/minicloud/minicloud/internal/instance/imds"
)

// floodPy floods the metadata service from inside an instance, bounded in
// count and time (floodSeconds), the way issue 12's session did: with an
// IMDSv2 token (the AL2023 AMIs require one), eight threads send fast
// requests on kept-alive connections, then floodConns
// connections each send half a request and wait. At floodCheck seconds it
// counts the half-open connections the service still holds open, and at the
// end it prints a report line, "FLOOD {json}", on the console.
const floodPy = `import http.client, json, socket, threading, time
ADDR = ("169.254.169.254", 80)
start = time.time()
print("FLOOD-START", flush=True)
c = http.client.HTTPConnection(*ADDR, timeout=2)
c.request("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
token = c.getresponse().read().decode()
c.close()
counts = {"ok": 0, "throttled": 0, "other": 0, "errors": 0}
lock = threading.Lock()
def hammer():
    c, n = None, 0
    while time.time() - start < FLOOD_SECONDS and n < 20000:
        n += 1
        try:
            if c is None:
                c = http.client.HTTPConnection(*ADDR, timeout=2)
            c.request("GET", "/latest/meta-data/instance-id", headers={"X-aws-ec2-metadata-token": token})
            r = c.getresponse()
            r.read()
            k = {200: "ok", 429: "throttled"}.get(r.status, "other")
        except Exception:
            k, c = "errors", None
            time.sleep(0.01)
        with lock:
            counts[k] += 1
threads = [threading.Thread(target=hammer) for _ in range(8)]
for t in threads:
    t.start()
time.sleep(0.2)
socks, refused = [], 0
for i in range(FLOOD_CONNS):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(ADDR)
        s.send(b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n")
        socks.append(s)
    except OSError:
        refused += 1
        s.close()
time.sleep(max(0, FLOOD_CHECK - (time.time() - start)))
held = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1, socket.MSG_PEEK) != b"":
            held += 1
    except BlockingIOError:
        held += 1
    except OSError:
        pass
    s.close()
for t in threads:
    t.join()
print("FLOOD " + json.dumps(dict(counts, conns=FLOOD_CONNS, refusedAtConnect=refused, held=held)), flush=True)
`

const (
	floodConns   = 5000
	floodSeconds = 6
	floodCheck   = 2.5
)

// floodReport is what floodPy prints.
type floodReport struct {
	OK, Throttled, Other, Errors int
	Conns, RefusedAtConnect      int
	Held                         int
}

func floodUserData() string {
	py := strings.NewReplacer("FLOOD_SECONDS", fmt.Sprint(floodSeconds), "FLOOD_CONNS", fmt.Sprint(floodConns),
		"FLOOD_CHECK", fmt.Sprint(floodCheck)).Replace(floodPy)
	return "#!/bin/sh\ncat > /var/tmp/flood.py <<'EOF'\n" + py + "EOF\npython3 /var/tmp/flood.py\n"
}

// console is the instance's console output so far.
func (e *env) console(id string) string {
	out, err := e.ec2.GetConsoleOutput(e.ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	return string(b)
}

// health is /_minicloud/health, decoded.
func (e *env) health() map[string]any {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/_minicloud/health", nil))
	var h map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil {
		e.t.Fatalf("health: %v: %s", err, w.Body.String())
	}
	return h
}

// dig walks nested maps of a decoded JSON document.
func dig(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// openFDs is how many descriptors this process (minicloud) holds.
func openFDs(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// One instance floods the metadata service with thousands of half-open
// connections and fast requests: the API keeps answering in normal time,
// another instance's metadata requests keep being answered, minicloud's
// descriptors stay bounded, and the flooder meets AWS's 429 and resets.
func TestMetadataFloodDoesNotStarveTheAPI(t *testing.T) {
	e := newEnv(t)
	v := e.defaultVPC()
	web := e.newSG(v.id, "web", tcpFrom(80, "0.0.0.0/0"))
	image := e.image()
	neighbour := e.runAll(image, launch{subnet: v.subnets[0], groups: []string{web}, userData: probeUserData(80)})[0]
	nID, nPub := aws.ToString(neighbour.InstanceId), aws.ToString(neighbour.PublicIpAddress)
	if err := waitServing(nPub, nID); err != nil {
		t.Fatal(err)
	}
	describe := func() error {
		_, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{nID}})
		return err
	}
	// The neighbour's probe server asks its metadata service (IMDSv2: a
	// token PUT, then a GET) for each /id.
	neighbourIMDS := func() error {
		got, err := fetch("http://" + nPub + "/id")
		if err == nil && got != nID {
			err = fmt.Errorf("neighbour's IMDS answered %q", got)
		}
		return err
	}
	var base []time.Duration
	for range 20 {
		d, err := timed(describe)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, d)
	}
	baseFDs := openFDs(t)

	flooder := e.runAll(image, launch{subnet: v.subnets[0], groups: []string{web}, userData: floodUserData()})[0]
	fID := aws.ToString(flooder.InstanceId)
	if err := eventually(10*time.Second, func() error {
		if !strings.Contains(e.console(fID), "FLOOD-START") {
			return fmt.Errorf("the flood has not started; console:\n%s", e.console(fID))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// While it floods: the API, the neighbour's metadata, our descriptors.
	var during, neighbourTimes []time.Duration
	maxFDs, maxBudget := 0, 0
	var report string
	deadline := time.Now().Add(floodSeconds*time.Second + 10*time.Second)
	for report == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no flood report within %v; console:\n%s", floodSeconds*time.Second+10*time.Second, e.console(fID))
		}
		d, err := timed(describe)
		if err != nil {
			t.Fatalf("DescribeInstances during the flood: %v", err)
		}
		during = append(during, d)
		d, err = timed(neighbourIMDS)
		if err != nil {
			t.Fatalf("the neighbour's metadata service during the flood: %v", err)
		}
		neighbourTimes = append(neighbourTimes, d)
		maxFDs = max(maxFDs, openFDs(t))
		maxBudget = max(maxBudget, guestlimit.Process().Stats().InUse)
		for line := range strings.Lines(e.console(fID)) {
			if rest, ok := strings.CutPrefix(line, "FLOOD {"); ok {
				report = "{" + strings.TrimSpace(rest)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var r floodReport
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		t.Fatalf("flood report %q: %v", report, err)
	}
	t.Logf("flood: %+v; DescribeInstances median %v before, %v during (max %v, %d calls); neighbour's /id median %v (max %v); descriptors %d before, at most %d during; guest budget at most %d in use",
		r, median(base), median(during), slices.Max(during), len(during), median(neighbourTimes), slices.Max(neighbourTimes), baseFDs, maxFDs, maxBudget)

	// The API kept its normal time: no call near a timeout, the median
	// within a small multiple of the baseline (the flooder's own CPU, on
	// a shared machine, is all that may slow it).
	if m, b := median(during), median(base); m > 5*b+50*time.Millisecond || slices.Max(during) > time.Second {
		t.Errorf("DescribeInstances during the flood: median %v (max %v), before %v", m, slices.Max(during), b)
	}
	if m := median(neighbourTimes); m > 500*time.Millisecond {
		t.Errorf("the neighbour's metadata requests took %v (median) during the flood", m)
	}
	// The flood reached the service and was bounded by it.
	limits := imds.DefaultLimits
	if r.Held > limits.ConnsPerInstance {
		t.Errorf("the service held %d of the flooder's half-open connections, more than its %d", r.Held, limits.ConnsPerInstance)
	}
	if r.OK == 0 || r.Throttled == 0 {
		t.Errorf("the flooder's fast requests: %d answered, %d throttled (429); want both", r.OK, r.Throttled)
	}
	if maxFDs > baseFDs+2*limits.ConnsPerInstance+64 {
		t.Errorf("minicloud's descriptors grew from %d to %d during the flood", baseFDs, maxFDs)
	}
	if maxBudget > 2*limits.ConnsPerInstance {
		t.Errorf("guests held %d descriptors of the budget", maxBudget)
	}
	h := e.health()
	refused, _ := dig(h, "dataPlane", "instanceRuntime", "metadataService", "refusedConns").(float64)
	throttled, _ := dig(h, "dataPlane", "instanceRuntime", "metadataService", "throttled").(float64)
	if refused < floodConns/2 || throttled < float64(r.Throttled) {
		t.Errorf("health counts %v refused connections and %v throttled requests, want most of %d and %d", refused, throttled, floodConns, r.Throttled)
	}
	if lim, _ := dig(h, "dataPlane", "guestBudget", "limit").(float64); lim <= 0 {
		t.Errorf("health shows no guest budget: %v", dig(h, "dataPlane", "guestBudget"))
	}
	if _, ok := dig(h, "dataPlane", "network", "resolverLimits", "throttled").(float64); !ok {
		t.Errorf("health shows no resolver limits: %v", dig(h, "dataPlane", "network"))
	}
}
