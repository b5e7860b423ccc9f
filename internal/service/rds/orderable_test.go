package rds_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

func TestOrderableDBInstanceOptions(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	version := aws.ToString(ev.DBEngineVersions[0].EngineVersion)

	count := func(in *rds.DescribeOrderableDBInstanceOptionsInput) (int, map[string]bool) {
		t.Helper()
		n, seen := 0, map[string]bool{}
		for p := rds.NewDescribeOrderableDBInstanceOptionsPaginator(e.rds, in); p.HasMorePages(); {
			page, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.OrderableDBInstanceOptions {
				if aws.ToString(o.Engine) != "postgres" || aws.ToString(o.EngineVersion) != version {
					t.Fatalf("option for %s %s", aws.ToString(o.Engine), aws.ToString(o.EngineVersion))
				}
				n++
				seen[aws.ToString(o.DBInstanceClass)+" "+aws.ToString(o.StorageType)] = true
			}
		}
		return n, seen
	}
	all, seen := count(&rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("postgres"), MaxRecords: aws.Int32(20)})
	for _, want := range []string{"db.t3.micro gp2", "db.t4g.micro gp3", "db.m6i.large io1", "db.r6g.xlarge gp2"} {
		if !seen[want] {
			t.Errorf("%s is not orderable", want)
		}
	}
	if all != len(seen) || all < 100 {
		t.Fatalf("%d options, %d distinct", all, len(seen))
	}
	for _, tc := range []struct {
		name string
		in   rds.DescribeOrderableDBInstanceOptionsInput
		want int
	}{
		{"class", rds.DescribeOrderableDBInstanceOptionsInput{DBInstanceClass: aws.String("db.t3.micro")}, 5},
		{"version", rds.DescribeOrderableDBInstanceOptionsInput{EngineVersion: aws.String(version)}, all},
		{"other version", rds.DescribeOrderableDBInstanceOptionsInput{EngineVersion: aws.String("9.6.1")}, 0},
		{"unknown class", rds.DescribeOrderableDBInstanceOptionsInput{DBInstanceClass: aws.String("db.x9.huge")}, 0},
		{"other engine", rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("mysql")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Engine == nil {
				tc.in.Engine = aws.String("postgres")
			}
			if n, _ := count(&tc.in); n != tc.want {
				t.Fatalf("%d options, want %d", n, tc.want)
			}
		})
	}

	in := createInput("badclass")
	in.DBInstanceClass = aws.String("db.x9.huge")
	_, err = e.rds.CreateDBInstance(e.ctx, in)
	wantCode(t, err, "InvalidParameterCombination")
	in = createInput("badstorage")
	in.StorageType = aws.String("ssd")
	_, err = e.rds.CreateDBInstance(e.ctx, in)
	wantCode(t, err, "StorageTypeNotSupported")
}
