package dataplane_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/minicloud/minicloud/internal/vpcnet"
)

// tcpCheckUserData serves GET / on port 8080, answering "ok" when a TCP
// connection to target (host:port) opens within 600 ms, else "fail …".
func tcpCheckUserData(host string, port int) string {
	py := fmt.Sprintf(`import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            socket.create_connection((%q, %d), timeout=0.6).close()
            b = b"ok"
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
	return "#!/bin/sh\nnohup python3 -c '" + py + "' >/var/tmp/tcp.log 2>&1 &\n"
}

// dbENIs lists the RDS network interfaces of a VPC.
func (e *env) dbENIs(vpcID string) []types.NetworkInterface {
	e.t.Helper()
	out, err := e.ec2.DescribeNetworkInterfaces(e.ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("description"), Values: []string{"RDSNetworkInterface"}},
		{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.NetworkInterfaces
}

func (e *env) waitDB(id, want string, d time.Duration) {
	e.t.Helper()
	err := eventually(d, func() error {
		out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			return err
		}
		if got := aws.ToString(out.DBInstances[0].DBInstanceStatus); got != want {
			return fmt.Errorf("DB instance %s is %s, want %s", id, got, want)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// eniNamespaces lists the namespaces named after an ENI.
func eniNamespaces(eniID string) []string {
	ents, _ := os.ReadDir(vpcnet.NamespaceDir)
	var out []string
	for _, en := range ents {
		if strings.HasSuffix(en.Name(), "-i-"+eniID) {
			out = append(out, en.Name())
		}
	}
	return out
}

// TestRDSInVPC places a DB instance in its DB subnet group's VPC behind its
// security group: an instance in the allowed group connects to the
// database's private address, one in another group cannot; stopping and
// deleting the database remove its network interface and namespace.
func TestRDSInVPC(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	v := e.newVPC("10.60.0.0/16", "10.60.1.0/24", "10.60.2.0/24")
	web := e.newSG(v.id, "web", tcpFrom(8080, "0.0.0.0/0"))
	other := e.newSG(v.id, "other", tcpFrom(8080, "0.0.0.0/0"))
	db := e.newSG(v.id, "db", tcpFromGroup(5432, web))
	if _, err := e.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: v.subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("db1"),
		Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{db}}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db1", "available", 60*time.Second)
	enis := e.dbENIs(v.id)
	if len(enis) != 1 {
		t.Fatalf("%d RDS network interfaces, want 1", len(enis))
	}
	eni := enis[0]
	if !aws.ToBool(eni.RequesterManaged) || !slices.Contains(v.subnets, aws.ToString(eni.SubnetId)) || len(eni.Groups) != 1 ||
		aws.ToString(eni.Groups[0].GroupId) != db || eni.Status != types.NetworkInterfaceStatusInUse {
		t.Fatalf("RDS network interface: requester-managed %v, subnet %s, groups %v, status %s",
			aws.ToBool(eni.RequesterManaged), aws.ToString(eni.SubnetId), eni.Groups, eni.Status)
	}
	dbIP := aws.ToString(eni.PrivateIpAddress)
	if ns := eniNamespaces(aws.ToString(eni.NetworkInterfaceId)); len(ns) != 1 {
		t.Fatalf("namespaces of %s: %v", aws.ToString(eni.NetworkInterfaceId), ns)
	}

	insts := e.runAll(e.image(),
		launch{subnet: v.subnets[1], groups: []string{web}, userData: tcpCheckUserData(dbIP, 5432)},
		launch{subnet: v.subnets[1], groups: []string{other}, userData: tcpCheckUserData(dbIP, 5432)})
	webIP, otherIP := e.eip(aws.ToString(insts[0].InstanceId)), e.eip(aws.ToString(insts[1].InstanceId))
	if err := eventually(30*time.Second, func() error {
		got, err := fetch("http://" + webIP + ":8080/")
		if err == nil && got != "ok" {
			err = errors.New(got)
		}
		return err
	}); err != nil {
		t.Fatalf("web instance to the database %s:5432: %v", dbIP, err)
	}
	if err := eventually(30*time.Second, func() error {
		got, err := fetch("http://" + otherIP + ":8080/")
		if err == nil && !strings.HasPrefix(got, "fail") {
			err = fmt.Errorf("answered %q", got)
		}
		return err
	}); err != nil {
		t.Fatalf("the other instance reaches the database: %v", err)
	}

	// Stop removes the interface; start makes a new one.
	if _, err := e.rds.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String("db1")}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db1", "stopped", 60*time.Second)
	if n := len(e.dbENIs(v.id)); n != 0 {
		t.Fatalf("%d RDS network interfaces after stop", n)
	}
	if ns := eniNamespaces(aws.ToString(eni.NetworkInterfaceId)); len(ns) != 0 {
		t.Fatalf("namespaces left after stop: %v", ns)
	}
	if _, err := e.rds.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: aws.String("db1")}); err != nil {
		t.Fatal(err)
	}
	e.waitDB("db1", "available", 60*time.Second)
	enis = e.dbENIs(v.id)
	if len(enis) != 1 {
		t.Fatalf("%d RDS network interfaces after start, want 1", len(enis))
	}

	if _, err := e.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("db1"),
		SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(60*time.Second, func() error {
		_, err := e.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("db1")})
		if err == nil {
			return errors.New("db1 still exists")
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
