package rds_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// TestEndpointNames: endpoint names share one hash per account and region
// (as on AWS), and are published to DNS as long as the instance exists;
// without the data plane an instance has no VPC address, so its name has
// none.
func TestEndpointNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	create := func(region, id string) {
		t.Helper()
		out, err := e.rds.CreateDBInstance(e.ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id),
			Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"), AllocatedStorage: aws.Int32(20),
			MasterUsername: aws.String("master"), MasterUserPassword: aws.String("secret-password")},
			func(o *rds.Options) { o.Region = region })
		if err != nil {
			t.Fatal(err)
		}
		// Create hides the endpoint until the instance is created; the
		// stored name is what Describe shows later.
		if out.DBInstance.Endpoint != nil {
			t.Fatalf("endpoint shown while creating: %v", aws.ToString(out.DBInstance.Endpoint.Address))
		}
	}
	names := map[string]string{}
	for _, c := range []struct{ region, id string }{{"us-east-1", "one"}, {"us-east-1", "two"}, {"eu-west-1", "one"}} {
		create(c.region, c.id)
		var name string
		deadline := time.Now().Add(60 * time.Second)
		for name == "" && time.Now().Before(deadline) {
			out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(c.id)},
				func(o *rds.Options) { o.Region = c.region })
			if err != nil {
				t.Fatal(err)
			}
			if ep := out.DBInstances[0].Endpoint; ep != nil {
				name = aws.ToString(ep.Address)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if name == "" {
			t.Fatalf("%s/%s: no endpoint", c.region, c.id)
		}
		names[c.region+"/"+c.id] = name
	}
	hash := func(n string) string { return strings.Split(n, ".")[1] }
	for key, n := range names {
		region := strings.Split(key, "/")[0]
		id := strings.Split(key, "/")[1]
		if want := fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", id, hash(n), region); n != want || len(hash(n)) != 12 {
			t.Errorf("%s: endpoint %s, want <id>.<12 chars>.<region>.rds.amazonaws.com", key, n)
		}
	}
	if hash(names["us-east-1/one"]) != hash(names["us-east-1/two"]) || hash(names["us-east-1/one"]) == hash(names["eu-west-1/one"]) {
		t.Fatalf("hashes %v: want one per account and region", names)
	}

	src := e.srv.RDS().EndpointSource()
	name := names["us-east-1/two"] + "."
	ep, ok := src.Endpoints().Names[name]
	if !ok || len(ep.PrivateIPs) > 0 || len(ep.PublicIPs) > 0 || ep.Account != "000000000000" || ep.Region != "us-east-1" {
		t.Fatalf("published %s: %+v %v; want it without addresses (no data plane)", name, ep, ok)
	}
	if _, err := e.rds.DeleteDBInstance(e.ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("two"), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "two", "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := src.Endpoints().Names[name]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still published 5 s after the instance was deleted", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
