package dataplane_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// greetingUserData serves GET / on port 8080 with the server version of the
// MySQL-protocol greeting that host:port sends on connect ("fail …" if none).
func greetingUserData(host string, port int) string {
	py := fmt.Sprintf(`import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            s = socket.create_connection((%q, %d), timeout=2)
            s.settimeout(2)
            pkt = s.recv(1024)
            s.close()
            b = pkt[5:pkt.index(0, 5)]
        except Exception as e:
            b = ("fail " + repr(e)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
`, host, port)
	return "#!/bin/sh\nnohup python3 -c '" + py + "' >/var/tmp/greeting.log 2>&1 &\n"
}

// TestRDSMariaDBInVPC places a MariaDB instance in its VPC: mariadbd listens
// on its network interface's private address, where an instance of the VPC
// gets its greeting; deleting it removes interface and namespace.
func TestRDSMariaDBInVPC(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/mariadbd"); err != nil {
		t.Fatal("no MariaDB server: scripts/deps.sh installs mariadb-server")
	}
	e := newEnv(t)
	ctx := e.ctx
	v := e.newVPC("10.61.0.0/16", "10.61.1.0/24", "10.61.2.0/24")
	web := e.newSG(v.id, "web", tcpFrom(8080, "0.0.0.0/0"))
	db := e.newSG(v.id, "db", tcpFromGroup(3306, web))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("mdbs"),
		DBSubnetGroupDescription: aws.String("mdbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("maria1"),
		Engine: aws.String("mariadb"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("mdbs"), VpcSecurityGroupIds: []string{db}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("maria1", "available", 60*time.Second)
	out, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("maria1")})
	if err != nil {
		t.Fatal(err)
	}
	version := aws.ToString(out.DBInstances[0].EngineVersion)
	// Its first automated backup (mariadb-backup over the socket of the
	// server in its VPC namespace) is taken before it is available.
	snaps, err := e.rds.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("maria1"), SnapshotType: aws.String("automated")})
	if err != nil || len(snaps.DBSnapshots) != 1 || aws.ToString(snaps.DBSnapshots[0].Status) != "available" {
		t.Fatalf("automated backups of maria1: %+v, %v", snaps, err)
	}
	enis := e.dbENIs(v.id)
	if len(enis) != 1 {
		t.Fatalf("%d RDS network interfaces, want 1", len(enis))
	}
	dbIP := aws.ToString(enis[0].PrivateIpAddress)

	insts := e.runAll(e.image(), launch{subnet: v.subnets[1], groups: []string{web}, userData: greetingUserData(dbIP, 3306)})
	webIP := e.eip(aws.ToString(insts[0].InstanceId))
	if err := eventually(30*time.Second, func() error {
		got, err := fetch("http://" + webIP + ":8080/")
		// MariaDB prefixes "5.5.5-" for clients of old MySQL versions.
		if err == nil && !strings.HasPrefix(got, "5.5.5-"+version+"-MariaDB") {
			err = errors.New(got)
		}
		return err
	}); err != nil {
		t.Fatalf("greeting of %s:3306 from the VPC: %v (want MariaDB %s)", dbIP, err, version)
	}

	if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("maria1"),
		SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(60*time.Second, func() error {
		_, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("maria1")})
		if err == nil {
			return errors.New("maria1 still exists")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.dbENIs(v.id)); n != 0 {
		t.Fatalf("%d RDS network interfaces after delete", n)
	}
	if ns := eniNamespaces(aws.ToString(enis[0].NetworkInterfaceId)); len(ns) != 0 {
		t.Fatalf("namespaces left after delete: %v", ns)
	}
}
