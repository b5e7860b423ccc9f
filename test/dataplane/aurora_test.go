package dataplane_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/jackc/pgx/v5"

	"github.com/minicloud/minicloud/internal/server"
)

// auroraFailoverTarget bounds how long after its writer goes a client
// writing through the cluster endpoint's name may fail: the failover must
// really move the writer and the name follow within seconds. The issue's
// 3 s target is a performance figure, measured side by side in bench/
// (-scenarios aurora); this bound only has to hold on a loaded CI machine
// (it saw 3.3 and 4.3 s there with every suite running at once).
const auroraFailoverTarget = 10 * time.Second

// auroraClientUserData serves, on port 8080 of an instance, a small
// PostgreSQL client (Python, the wire protocol: the image has no psql)
// against the cluster's database app, as the master user, resolving names
// with the VPC's resolver and connecting to the addresses in the order it
// answers, as libpq does:
//
//	/sql?host=H&q=Q        Q's rows, or "fail ERROR:  <SQLSTATE>: <message>"
//	/spread?host=H&n=N&q=Q Q on N new connections, one output a line
//	/loop/start?host=H     inserts 1, 2, … into ledger, one new connection
//	                       each, until /loop/stop, which answers
//	                       [[id, start, end, ok], …] (Unix seconds)
//
// and the image's MySQL client (mariadb, of the host's mariadb-client) and
// the resolver:
//
//	/mysql?host=H&q=Q      Q's rows (tab-separated), or "fail <stderr>"
//	/resolve?host=H        H's IPv4 addresses, sorted, one a line
const auroraClientUserData = `#!/bin/sh
cat > /var/tmp/pgclient.py <<'EOF'
import base64, hashlib, hmac, http.server, json, os, socket, struct, subprocess, threading, time, urllib.parse
USER, PASS, DB = b"master", b"secret-password-1", b"app"
def recv(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("connection closed")
        b += c
    return b
def read(s):
    t = recv(s, 1)
    return t, recv(s, struct.unpack("!I", recv(s, 4))[0] - 4)
def msg(t, body):
    return t + struct.pack("!I", len(body) + 4) + body
def pgerr(body):
    f = {p[:1]: p[1:].decode() for p in body.split(b"\0") if p}
    return "fail ERROR:  %s: %s" % (f.get(b"C"), f.get(b"M"))
# psql(host, q): q by PostgreSQL's simple query protocol on a new
# connection to host:5432 (SCRAM-SHA-256), as (ok, rows "|"-joined or
# "fail …"). The image has no psql: the host's postgresql-client-15 is
# not the postgresql-client package the image takes.
def psql(host, q):
    try:
        s = socket.create_connection((host, 5432), timeout=1)
    except Exception as e:
        return False, "fail connect: %r" % e
    try:
        s.settimeout(5)
        body = struct.pack("!I", 196608) + b"user\0" + USER + b"\0database\0" + DB + b"\0\0"
        s.sendall(struct.pack("!I", len(body) + 4) + body)
        first = "n=,r=" + base64.b64encode(os.urandom(18)).decode()
        while True:
            t, b = read(s)
            if t == b"E":
                return False, pgerr(b)
            if t == b"Z":
                break
            if t != b"R":
                continue
            code = struct.unpack("!I", b[:4])[0]
            if code == 10:
                init = ("n,," + first).encode()
                s.sendall(msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(init)) + init))
            elif code == 11:
                sfirst = b[4:].decode()
                a = dict(kv.split("=", 1) for kv in sfirst.split(","))
                salted = hashlib.pbkdf2_hmac("sha256", PASS, base64.b64decode(a["s"]), int(a["i"]))
                ck = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
                final = "c=biws,r=" + a["r"]
                sig = hmac.new(hashlib.sha256(ck).digest(), ",".join([first, sfirst, final]).encode(), hashlib.sha256).digest()
                s.sendall(msg(b"p", (final + ",p=" + base64.b64encode(bytes(x ^ y for x, y in zip(ck, sig))).decode()).encode()))
            elif code not in (0, 12):
                return False, "fail authentication %d" % code
        s.sendall(msg(b"Q", q.encode() + b"\0"))
        rows, failure = [], None
        while True:
            t, b = read(s)
            if t == b"D":
                off, vals = 2, []
                for _ in range(struct.unpack("!H", b[:2])[0]):
                    n = struct.unpack("!i", b[off:off + 4])[0]
                    off += 4
                    vals.append(b[off:off + max(n, 0)].decode())
                    off += max(n, 0)
                rows.append("|".join(vals))
            elif t == b"E":
                failure = pgerr(b)
            elif t == b"Z":
                break
        s.sendall(msg(b"X", b""))
        return (False, failure) if failure else (True, "\n".join(rows))
    except Exception as e:
        return False, "fail %r" % e
    finally:
        s.close()
loop = {}
def run_loop(host, stop, log):
    i = 1
    while not stop.is_set():
        t0 = time.time()
        ok, _ = psql(host, "INSERT INTO ledger VALUES (%d)" % i)
        log.append([i, t0, time.time(), ok])
        i += 1
        time.sleep(0.05)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            b = self.answer()
        except Exception as e:
            b = "fail " + repr(e)
        b = b.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def answer(self):
        u = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        if u.path == "/sql":
            b = psql(q["host"], q["q"])[1]
        elif u.path == "/spread":
            b = "\n".join(psql(q["host"], q["q"])[1] for _ in range(int(q["n"])))
        elif u.path == "/mysql":
            r = subprocess.run(["mariadb", "-h", q["host"], "-u", USER.decode(), "-p" + PASS.decode(), "-D", DB.decode(),
                                "--connect-timeout=2", "-N", "-B", "-e", q["q"]], capture_output=True, text=True, timeout=20)
            b = r.stdout if r.returncode == 0 else "fail " + r.stderr
        elif u.path == "/resolve":
            b = "\n".join(sorted({a[4][0] for a in socket.getaddrinfo(q["host"], 0, socket.AF_INET, socket.SOCK_STREAM)}))
        elif u.path == "/loop/start":
            if "stop" in loop:  # a loop a failed drill left running
                loop["stop"].set()
                loop["thread"].join()
            loop["stop"], loop["log"] = threading.Event(), []
            loop["thread"] = threading.Thread(target=run_loop, args=(q["host"], loop["stop"], loop["log"]), daemon=True)
            loop["thread"].start()
            b = "started"
        elif u.path == "/loop/stop":
            loop["stop"].set()
            loop["thread"].join()
            b = json.dumps(loop["log"])
        else:
            b = "fail unknown path"
        return b
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
EOF
nohup python3 /var/tmp/pgclient.py >/var/tmp/pgclient.log 2>&1 &
`

// auroraClient is the client instance of auroraClientUserData.
type auroraClient struct {
	t  *testing.T
	ip string // public
}

// get asks the client; the answer may take up to d. A client that does
// not answer (not yet started) is "fail <error>", as psql's errors are.
func (c auroraClient) get(d time.Duration, path string, q url.Values) string {
	hc := *httpClient
	hc.Timeout = d
	resp, err := hc.Get("http://" + c.ip + ":8080" + path + "?" + q.Encode())
	if err != nil {
		return "fail " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "fail " + err.Error()
	}
	return strings.TrimSpace(string(b))
}

// sql runs q once on host from inside the VPC.
func (c auroraClient) sql(host, q string) string {
	c.t.Helper()
	return c.get(10*time.Second, "/sql", url.Values{"host": {host}, "q": {q}})
}

// TestAuroraInVPC: the drills with the Go SDK and a PostgreSQL
// client on an instance in the VPC, by the endpoint names its resolver answers. A
// cluster of a writer and two readers in three zones; the instance writes
// through the cluster endpoint and reads the row back through the reader
// endpoint, where a write fails with SQLSTATE 25006; 100 new connections
// to the reader endpoint spread over both readers; FailoverDBCluster and
// killing the writer's server each move the writer while the instance
// writes through the cluster endpoint in a loop: it succeeds again within
// auroraFailoverTarget, no acknowledged write is lost, and the old writer
// rejoins as a reader.
func TestAuroraInVPC(t *testing.T) {
	t.Parallel()
	e, _ := newEnvDNSWith(t, func(c *server.Config) { c.PublicCIDR = netip.MustParsePrefix("198.19.238.0/24") })
	ctx := e.ctx
	// The members' three subnets and the client's own (zone d): glibc's
	// getaddrinfo puts an address of the client's own subnet first (RFC
	// 6724's longest matching prefix, which it applies to IPv4 on-link
	// addresses), so a client beside one member would always connect to
	// it whatever order the resolver answers. From a subnet of its own it
	// follows the resolver's order, as a libpq client elsewhere would.
	v := e.newVPC("10.64.0.0/16", "10.64.1.0/24", "10.64.2.0/24", "10.64.3.0/24", "10.64.4.0/24")
	app := e.newSG(v.id, "app", tcpFrom(8080, "0.0.0.0/0"))
	dbSG := e.newSG(v.id, "db", tcpFromGroup(5432, app))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("aurora"),
		DBSubnetGroupDescription: aws.String("three zones"), SubnetIds: v.subnets[:3]}); err != nil {
		t.Fatal(err)
	}
	cl := e.createCluster("orders", "aurora-postgresql", dbSG, 3)
	writerName, readerName := aws.ToString(cl.Endpoint), aws.ToString(cl.ReaderEndpoint)
	ids := []string{"orders-1", "orders-2", "orders-3"}
	// An aurora-mysql cluster beside it, built meanwhile (see auroraMySQL).
	mysqlSG := e.newSG(v.id, "mysql", tcpFromGroup(3306, app))
	shop := e.createCluster("shop", "aurora-mysql", mysqlSG, 2)
	insts := e.runAll(e.image(), launch{subnet: v.subnets[3], groups: []string{app}, userData: auroraClientUserData})
	c := auroraClient{t: t, ip: e.eip(aws.ToString(insts[0].InstanceId))}
	start := time.Now()
	for _, id := range ids {
		e.waitDB(id, "available", 150*time.Second)
	}
	e.waitCluster("orders", "orders-1", 60*time.Second)
	t.Logf("cluster + writer + two readers available in %v (after the instance)", time.Since(start).Round(100*time.Millisecond))

	// Each member's server by the address it serves on (its ENI's), asked
	// through its instance endpoint.
	const whoami = "SELECT host(inet_server_addr())"
	memberOf := map[string]string{}
	for _, id := range ids {
		name, _ := e.dbEndpoint(id)
		var port string
		if err := eventually(30*time.Second, func() error {
			port = c.sql(name, whoami)
			if _, err := netip.ParseAddr(port); err != nil {
				return fmt.Errorf("%s: %s", name, port)
			}
			return nil
		}); err != nil {
			t.Fatalf("the instance reaching member %s: %v", id, err)
		}
		memberOf[port] = id
	}
	if len(memberOf) != 3 {
		t.Fatalf("members by address: %v", memberOf)
	}

	if got := c.sql(writerName, "CREATE TABLE ledger (id int PRIMARY KEY); INSERT INTO ledger VALUES (0); SELECT pg_is_in_recovery()"); got != "f" {
		t.Fatalf("write through the cluster endpoint %s: %q", writerName, got)
	}
	written := time.Now()
	// The row is on every reader within a second (asked by its instance
	// endpoint), and so through the reader endpoint.
	for _, id := range ids[1:] {
		name, _ := e.dbEndpoint(id)
		has := func() error {
			if got := c.sql(name, "SELECT count(*) FROM ledger"); got != "1" {
				return fmt.Errorf("%q", got)
			}
			return nil
		}
		if err := eventually(time.Second-time.Since(written), has); err != nil {
			late := eventually(30*time.Second, has)
			t.Errorf("reader %s lacks the row 1 s after the write (%v); after %v: %v", id, err, time.Since(written).Round(100*time.Millisecond), late)
		}
	}
	if err := eventually(time.Second, func() error {
		if got := c.sql(readerName, "SELECT count(*) FROM ledger"); got != "1" {
			return fmt.Errorf("%q", got)
		}
		return nil
	}); err != nil {
		t.Fatalf("the row through the reader endpoint %s: %v", readerName, err)
	}
	// A statement every server can parse, so that its error is the
	// read-only one whatever the reader has replayed.
	if got := c.sql(readerName, "CREATE TABLE readonly (id int)"); !strings.Contains(got, "ERROR:  25006") {
		t.Fatalf("write through the reader endpoint: %q, want SQLSTATE 25006", got)
	}

	// 100 new connections, each resolving the reader endpoint's name anew.
	spread := map[string]int{}
	out := c.get(60*time.Second, "/spread", url.Values{"host": {readerName}, "n": {"100"}, "q": {whoami}})
	for _, addr := range strings.Split(out, "\n") {
		spread[memberOf[addr]]++
	}
	t.Logf("100 connections to the reader endpoint: %v", spread)
	// A fair share: a rotation gives 50 each; even a coin per connection
	// gives fewer than 35 to one reader once in a thousand runs.
	if spread["orders-2"]+spread["orders-3"] != 100 || spread["orders-2"] < 35 || spread["orders-3"] < 35 {
		t.Errorf("100 connections to the reader endpoint reached %v, want a fair share (≥ 35) on each of orders-2 and orders-3 and nothing else", spread)
	}

	t.Run("custom endpoints", func(t *testing.T) { auroraCustomEndpoints(t, e, c, memberOf) })
	t.Run("aurora-mysql", func(t *testing.T) { auroraMySQL(t, e, c, shop) })

	for _, tc := range []struct {
		name string
		fail func(t *testing.T, writer string)
		want string // the new writer; "" for either reader
	}{
		{"FailoverDBCluster to orders-3", func(t *testing.T, _ string) {
			if _, err := e.rds.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: aws.String("orders"),
				TargetDBInstanceIdentifier: aws.String("orders-3")}); err != nil {
				t.Fatalf("FailoverDBCluster: %v", err)
			}
		}, "orders-3"},
		{"the writer's server killed", func(t *testing.T, writer string) {
			e.killServer(writer)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := e.clusterWriter("orders")
			if got := c.get(5*time.Second, "/loop/start", url.Values{"host": {writerName}}); got != "started" {
				t.Fatalf("the client's write loop: %s", got)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					c.get(30*time.Second, "/loop/stop", nil)
				}
			})
			time.Sleep(time.Second)
			failed := time.Now()
			tc.fail(t, old)
			var now string
			if err := eventually(60*time.Second, func() error {
				if now = e.clusterWriter("orders"); now == old || tc.want != "" && now != tc.want {
					return fmt.Errorf("writer %s", now)
				}
				return nil
			}); err != nil {
				t.Fatalf("the writer did not move from %s: %v", old, err)
			}
			time.Sleep(2 * time.Second) // writes through the new writer
			var log [][4]any
			stopped = true
			if out := c.get(30*time.Second, "/loop/stop", nil); json.Unmarshal([]byte(out), &log) != nil {
				t.Fatalf("the client's write loop: %s", out)
			}
			outage, acked := writeOutage(log, failed)
			t.Logf("%s → %s: %d writes acknowledged; writes through %s failed for %v", old, now, len(acked), writerName, outage.Round(10*time.Millisecond))
			if outage > auroraFailoverTarget {
				t.Errorf("writes through the cluster endpoint failed for %v, want ≤ %v", outage, auroraFailoverTarget)
			}
			// Every acknowledged write is on the new writer.
			var have []int
			for _, f := range strings.Fields(c.sql(writerName, "SELECT id FROM ledger WHERE id > 0")) {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("ledger through %s: %q", writerName, f)
				}
				have = append(have, n)
			}
			for _, id := range acked {
				if !slices.Contains(have, id) {
					t.Errorf("acknowledged write %d lost", id)
				}
			}
			if got := c.sql(writerName, "TRUNCATE ledger"); got != "" {
				t.Fatalf("TRUNCATE through the cluster endpoint: %q", got)
			}
			// The old writer rejoins as a reader.
			e.waitDB(old, "available", 120*time.Second)
			name, _ := e.dbEndpoint(old)
			if err := eventually(30*time.Second, func() error {
				if got := c.sql(name, "SELECT pg_is_in_recovery()"); got != "t" {
					return fmt.Errorf("%q", got)
				}
				return nil
			}); err != nil {
				t.Fatalf("the old writer %s is not a reader: %v", old, err)
			}
		})
	}
}

// auroraCustomEndpoints: two custom endpoints of cluster orders, "one"
// (READER over orders-2) and "most" (ANY: every member but orders-2). From
// the instance, each name resolves through the VPC resolver to its
// members' addresses only, and 20 new connections to it land on each of
// them and nowhere else. memberOf maps each member's address to its id.
func auroraCustomEndpoints(t *testing.T, e *env, c auroraClient, memberOf map[string]string) {
	for _, tc := range []struct {
		id      string
		in      rds.CreateDBClusterEndpointInput
		members []string
	}{
		{"one", rds.CreateDBClusterEndpointInput{EndpointType: aws.String("READER"), StaticMembers: []string{"orders-2"}}, []string{"orders-2"}},
		{"most", rds.CreateDBClusterEndpointInput{EndpointType: aws.String("ANY"), ExcludedMembers: []string{"orders-2"}}, []string{"orders-1", "orders-3"}},
	} {
		in := tc.in
		in.DBClusterIdentifier, in.DBClusterEndpointIdentifier = aws.String("orders"), aws.String(tc.id)
		out, err := e.rds.CreateDBClusterEndpoint(e.ctx, &in)
		if err != nil {
			t.Fatalf("CreateDBClusterEndpoint %s: %v", tc.id, err)
		}
		name := aws.ToString(out.Endpoint)
		if err := eventually(60*time.Second, func() error {
			d, err := e.rds.DescribeDBClusterEndpoints(e.ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String(tc.id)})
			if err != nil {
				return err
			}
			if st := aws.ToString(d.DBClusterEndpoints[0].Status); st != "available" {
				return fmt.Errorf("status %s", st)
			}
			return nil
		}); err != nil {
			t.Fatalf("custom endpoint %s: %v", tc.id, err)
		}
		var want []string
		for addr, id := range memberOf {
			if slices.Contains(tc.members, id) {
				want = append(want, addr)
			}
		}
		slices.Sort(want)
		// The resolver may answer the former members for its TTL (1 s).
		var got string
		if err := eventually(5*time.Second, func() error {
			if got = c.get(10*time.Second, "/resolve", url.Values{"host": {name}}); got != strings.Join(want, "\n") {
				return fmt.Errorf("%q", got)
			}
			return nil
		}); err != nil {
			t.Errorf("%s resolves in the VPC to %v, want %v (%v's addresses)", name, strings.Fields(got), want, tc.members)
		}
		reached := map[string]int{}
		for _, addr := range strings.Split(c.get(60*time.Second, "/spread", url.Values{"host": {name}, "n": {"20"}, "q": {"SELECT host(inet_server_addr())"}}), "\n") {
			reached[memberOf[addr]]++
		}
		t.Logf("20 connections to custom endpoint %s: %v", tc.id, reached)
		for id, n := range reached {
			if !slices.Contains(tc.members, id) {
				t.Errorf("%d of 20 connections to custom endpoint %s reached %q, not one of its members %v", n, tc.id, id, tc.members)
			}
		}
		for _, id := range tc.members {
			if reached[id] == 0 {
				t.Errorf("no connection to custom endpoint %s reached its member %s: %v", tc.id, id, reached)
			}
		}
	}
}

// auroraMySQL: the aurora-mysql cluster shop (a writer and a reader) by its
// endpoint names from the instance, with the MySQL client of the
// instance's image: a write through the cluster endpoint is read through
// the reader endpoint within a second, where a write fails with MySQL's
// ERROR 1290 (read-only).
func auroraMySQL(t *testing.T, e *env, c auroraClient, cl *types.DBCluster) {
	for _, id := range []string{"shop-1", "shop-2"} {
		e.waitDB(id, "available", 150*time.Second)
	}
	e.waitCluster("shop", "shop-1", 60*time.Second)
	writerName, readerName := aws.ToString(cl.Endpoint), aws.ToString(cl.ReaderEndpoint)
	mysql := func(host, q string) string {
		return c.get(30*time.Second, "/mysql", url.Values{"host": {host}, "q": {q}})
	}
	var got string
	// The instance's first mariadb starts cold (and the names' first
	// answers may still be cached as absent).
	if err := eventually(30*time.Second, func() error {
		if got = mysql(writerName, "SELECT @@read_only"); got != "0" {
			return fmt.Errorf("%q", got)
		}
		return nil
	}); err != nil {
		t.Fatalf("the cluster endpoint %s from the instance: %v", writerName, err)
	}
	if got := mysql(writerName, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1); SELECT count(*) FROM orders"); got != "1" {
		t.Fatalf("write through the cluster endpoint %s: %q", writerName, got)
	}
	if err := eventually(time.Second, func() error {
		if got = mysql(readerName, "SELECT count(*) FROM orders"); got != "1" {
			return fmt.Errorf("%q", got)
		}
		return nil
	}); err != nil {
		t.Errorf("the row through the reader endpoint %s within 1 s: %v", readerName, err)
	}
	if got := mysql(readerName, "INSERT INTO orders VALUES (2)"); !strings.Contains(got, "ERROR 1290") {
		t.Errorf("write through the reader endpoint %s: %q, want ERROR 1290 (read-only)", readerName, got)
	}
}

// createCluster creates DB cluster id of engine in subnet group aurora
// behind security group sg with n members id-1 … id-n in zones a, b, …
// (the first the writer) and deletes them at the test's end.
func (e *env) createCluster(id, engine, sg string, n int) *types.DBCluster {
	e.t.Helper()
	out, err := e.rds.CreateDBCluster(e.ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String(id),
		Engine: aws.String(engine), MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password-1"),
		DatabaseName: aws.String("app"), DBSubnetGroupName: aws.String("aurora"), VpcSecurityGroupIds: []string{sg}})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("%s-%d", id, i+1))
		if _, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(ids[i]),
			DBClusterIdentifier: aws.String(id), Engine: aws.String(engine),
			DBInstanceClass: aws.String("db.r6g.large"), AvailabilityZone: aws.String("us-east-1" + string(rune('a'+i)))}); err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Cleanup(func() { e.deleteCluster(id, ids) })
	return out.DBCluster
}

// writeOutage reads the client's write loop (id, start, end, ok per
// attempt): how long writes failed after failed (from the start of the
// first failed attempt to the end of the next successful one), and which
// ids were acknowledged.
func writeOutage(log [][4]any, failed time.Time) (time.Duration, []int) {
	var acked []int
	var firstFail, recovered float64
	from := float64(failed.UnixNano()) / 1e9
	for _, l := range log {
		id, t0, t1, ok := int(l[0].(float64)), l[1].(float64), l[2].(float64), l[3].(bool)
		switch {
		case ok:
			acked = append(acked, id)
			if firstFail != 0 && recovered == 0 {
				recovered = t1
			}
		case firstFail == 0 && t1 >= from:
			firstFail = t0
		}
	}
	switch {
	case firstFail == 0:
		return 0, acked
	case recovered == 0:
		return time.Hour, acked
	}
	return time.Duration((recovered - firstFail) * float64(time.Second)), acked
}

// waitCluster waits until the cluster is available with writer as its
// writer.
func (e *env) waitCluster(id, writer string, d time.Duration) {
	e.t.Helper()
	if err := eventually(d, func() error {
		out, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
		if err != nil {
			return err
		}
		c := out.DBClusters[0]
		if w := clusterWriter(c); aws.ToString(c.Status) != "available" || w != writer {
			return fmt.Errorf("status %s, writer %q", aws.ToString(c.Status), w)
		}
		return nil
	}); err != nil {
		e.t.Fatalf("cluster %s: %v", id, err)
	}
}

// clusterWriter is the cluster's writer now.
func (e *env) clusterWriter(id string) string {
	e.t.Helper()
	out, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	return clusterWriter(out.DBClusters[0])
}

func clusterWriter(c types.DBCluster) string {
	for _, m := range c.DBClusterMembers {
		if aws.ToBool(m.IsClusterWriter) {
			return aws.ToString(m.DBInstanceIdentifier)
		}
	}
	return ""
}

// killServer kills a DB instance's server (its postmaster, the parent of
// the backend that serves a connection through its loopback address) with
// SIGKILL, as a crash would.
func (e *env) killServer(id string) {
	e.t.Helper()
	addr, err := e.srv.RDS().Loopback(e.ctx, "000000000000", "us-east-1", id)
	if err != nil || addr == "" {
		e.t.Fatalf("loopback of %s: %q %v", id, addr, err)
	}
	conn, err := pgx.Connect(e.ctx, fmt.Sprintf("postgres://master:secret-password-1@%s/app?sslmode=disable&connect_timeout=5", addr))
	if err != nil {
		e.t.Fatal(err)
	}
	var backend int
	err = conn.QueryRow(e.ctx, "SELECT pg_backend_pid()").Scan(&backend)
	_ = conn.Close(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
	if err != nil {
		e.t.Fatal(err)
	}
	// pid (comm) state ppid …; comm may hold spaces, so split after ')'.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	postmaster, err := strconv.Atoi(f[1])
	if err != nil {
		e.t.Fatalf("/proc/%d/stat: %q", backend, stat)
	}
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", postmaster)); !strings.Contains(string(cmd), "postgres") {
		e.t.Fatalf("the parent %d of backend %d is %q, not a postmaster", postmaster, backend, cmd)
	}
	if err := syscall.Kill(postmaster, syscall.SIGKILL); err != nil {
		e.t.Fatal(err)
	}
}

// deleteCluster deletes the members, then the cluster, and waits until
// they are gone.
func (e *env) deleteCluster(id string, members []string) {
	for _, m := range members {
		if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(m), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
			e.t.Errorf("delete %s: %v", m, err)
		}
	}
	for _, m := range members {
		e.waitDBGone(m)
	}
	if _, err := e.rds.DeleteDBCluster(e.ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		e.t.Errorf("delete cluster %s: %v", id, err)
	}
	if err := eventually(60*time.Second, func() error {
		if _, err := e.rds.DescribeDBClusters(e.ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)}); err == nil {
			return fmt.Errorf("cluster %s still exists", id)
		}
		return nil
	}); err != nil {
		e.t.Error(err)
	}
}
