package rds_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

const arnPrefix = "arn:aws:rds:us-east-1:000000000000:"

func tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// tagString renders tags sorted as "k=v,k=v" for comparison.
func tagString(ts []types.Tag) string {
	var s []string
	for _, t := range ts {
		s = append(s, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func (e *testEnv) listTags(t *testing.T, arn string) string {
	t.Helper()
	out, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource %s: %v", arn, err)
	}
	return tagString(out.TagList)
}

// TestTagging tags each kind of resource: the tags given at creation are
// the ones ListTagsForResource returns, and Add/Remove show in both
// ListTagsForResource and the Describe calls that return a TagList.
func TestTagging(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	family := aws.ToString(ev.DBEngineVersions[0].DBParameterGroupFamily)
	subnets := e.vpc(t, "10.7", "us-east-1a", "us-east-1b")
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("Tag-Net"), DBSubnetGroupDescription: aws.String("d"),
		SubnetIds: subnets, Tags: tags("net", "1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rds.CreateDBParameterGroup(e.ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("tag-params"), DBParameterGroupFamily: aws.String(family),
		Description: aws.String("d"), Tags: tags("pg", "1")}); err != nil {
		t.Fatal(err)
	}
	in := createInput("tag-db")
	in.BackupRetentionPeriod = aws.Int32(0)
	in.Tags = tags("team", "a", "env", "dev")
	if _, err := e.rds.CreateDBInstance(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "tag-db", "available")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("tag-db"), DBSnapshotIdentifier: aws.String("tag-snap"),
		Tags: tags("snap", "1")}); err != nil {
		t.Fatal(err)
	}
	e.waitSnapshot(t, "tag-snap", "available")

	for _, tc := range []struct {
		name, arn, created string
		described          func() (string, error) // the Describe call's TagList, if it has one
	}{
		{"instance", arnPrefix + "db:tag-db", "env=dev,team=a", func() (string, error) {
			out, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("tag-db")})
			if err != nil {
				return "", err
			}
			return tagString(out.DBInstances[0].TagList), nil
		}},
		{"snapshot", arnPrefix + "snapshot:tag-snap", "snap=1", func() (string, error) {
			out, err := e.rds.DescribeDBSnapshots(e.ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("tag-snap")})
			if err != nil {
				return "", err
			}
			return tagString(out.DBSnapshots[0].TagList), nil
		}},
		{"subnet group", arnPrefix + "subgrp:tag-net", "net=1", nil},
		{"parameter group", arnPrefix + "pg:tag-params", "pg=1", nil},
		{"default parameter group", arnPrefix + "pg:default." + family, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(want string) {
				t.Helper()
				if got := e.listTags(t, tc.arn); got != want {
					t.Fatalf("ListTagsForResource = %q, want %q", got, want)
				}
				if tc.described != nil {
					got, err := tc.described()
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("Describe's TagList = %q, want %q", got, want)
					}
				}
			}
			check(tc.created)
			if _, err := e.rds.AddTagsToResource(e.ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(tc.arn), Tags: tags("team", "b", "cost", "42")}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"instance": "cost=42,env=dev,team=b", "snapshot": "cost=42,snap=1,team=b", "subnet group": "cost=42,net=1,team=b",
				"parameter group": "cost=42,pg=1,team=b", "default parameter group": "cost=42,team=b"}[tc.name]
			check(want)
			// Keys the resource lacks are ignored.
			if _, err := e.rds.RemoveTagsFromResource(e.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(tc.arn), TagKeys: []string{"team", "nope"}}); err != nil {
				t.Fatal(err)
			}
			check(strings.Replace(want, ",team=b", "", 1))
			// An empty list of keys removes nothing.
			if _, err := e.rds.RemoveTagsFromResource(e.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(tc.arn), TagKeys: []string{}}); err != nil {
				t.Fatal(err)
			}
			check(strings.Replace(want, ",team=b", "", 1))
		})
	}

	// CopyTagsToSnapshot's copy is the instance's tags as they are now.
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("tag-db"), CopyTagsToSnapshot: aws.Bool(true), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, "tag-db", "available")
	if _, err := e.rds.CreateDBSnapshot(e.ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("tag-db"), DBSnapshotIdentifier: aws.String("copied-tags")}); err != nil {
		t.Fatal(err)
	}
	if got := e.listTags(t, arnPrefix+"snapshot:copied-tags"); got != "cost=42,env=dev" {
		t.Fatalf("copied tags = %q", got)
	}
	e.waitSnapshot(t, "copied-tags", "available")
}

func TestTaggingErrors(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Fatal("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)")
	}
	e := newEnv(t)
	subnets := e.vpc(t, "10.8", "us-east-1a", "us-east-1b")
	grp := arnPrefix + "subgrp:errs"
	if _, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("errs"), DBSubnetGroupDescription: aws.String("d"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	many := func(n, from int) []types.Tag {
		var kv []string
		for i := range n {
			kv = append(kv, fmt.Sprintf("k%d", from+i), "v")
		}
		return tags(kv...)
	}
	add := func(arn string, ts []types.Tag) func() error {
		return func() error {
			_, err := e.rds.AddTagsToResource(e.ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: ts})
			return err
		}
	}
	list := func(arn string) func() error {
		return func() error {
			_, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
			return err
		}
	}
	remove := func(arn string) func() error {
		return func() error {
			_, err := e.rds.RemoveTagsFromResource(e.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: []string{"a"}})
			return err
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"no instance", list(arnPrefix + "db:ghost"), "DBInstanceNotFound"},
		{"no instance add", add(arnPrefix+"db:ghost", tags("a", "b")), "DBInstanceNotFound"},
		{"no instance remove", remove(arnPrefix + "db:ghost"), "DBInstanceNotFound"},
		{"no snapshot", list(arnPrefix + "snapshot:ghost"), "DBSnapshotNotFound"},
		{"no automated backup", list(arnPrefix + "snapshot:rds:ghost-2026-01-01-00-00"), "DBSnapshotNotFound"},
		{"no subnet group", list(arnPrefix + "subgrp:ghost"), "DBSubnetGroupNotFoundFault"},
		{"no parameter group", list(arnPrefix + "pg:ghost"), "DBParameterGroupNotFound"},
		{"no cluster", list(arnPrefix + "cluster:ghost"), "DBClusterNotFoundFault"},
		{"not an ARN", list("errs"), "InvalidParameterValue"},
		{"not RDS", list("arn:aws:ec2:us-east-1:000000000000:db:errs"), "InvalidParameterValue"},
		{"no type", list(arnPrefix + "errs"), "InvalidParameterValue"},
		{"bad account", list("arn:aws:rds:us-east-1:AIDAJDGLPYCDO:subgrp:errs"), "InvalidParameterValue"},
		{"other region", list("arn:aws:rds:eu-west-1:000000000000:subgrp:errs"), "InvalidParameterValue"},
		{"other account", list("arn:aws:rds:us-east-1:111111111111:subgrp:errs"), "InvalidParameterValue"},
		{"unknown type", list(arnPrefix + "og:errs"), "InvalidParameterValue"},
		{"filters", func() error {
			_, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(grp),
				Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"a"}}}})
			return err
		}, "InvalidParameterValue"},
		{"51 tags", add(grp, many(51, 0)), "InvalidParameterValue"},
		{"key too long", add(grp, tags(strings.Repeat("é", 129), "v")), "InvalidParameterValue"},
		{"value too long", add(grp, tags("k", strings.Repeat("é", 257))), "InvalidParameterValue"},
		{"empty key", add(grp, tags("", "v")), "InvalidParameterValue"},
		{"aws: key", add(grp, tags("AWS:thing", "v")), "InvalidParameterValue"},
		{"rds: key", add(grp, tags("rds:thing", "v")), "InvalidParameterValue"},
		{"aws: value", add(grp, tags("k", "aws:v")), "InvalidParameterValue"},
		{"bad character", add(grp, tags("off(M-F)", "v")), "InvalidParameterValue"},
		{"bad value character", add(grp, tags("k", "a,b")), "InvalidParameterValue"},
		{"at create", func() error {
			_, err := e.rds.CreateDBSubnetGroup(e.ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("bad-tags"), DBSubnetGroupDescription: aws.String("d"),
				SubnetIds: subnets, Tags: tags("aws:x", "y")})
			return err
		}, "InvalidParameterValue"},
		{"instance at create", func() error {
			in := createInput("bad-tags")
			in.Tags = many(51, 0)
			_, err := e.rds.CreateDBInstance(e.ctx, in)
			return err
		}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	// The limit counts the tags a resource would have: 50 is fine, a 51st
	// is refused, and overwriting a key at the limit is not a new tag.
	if err := add(grp, many(30, 0))(); err != nil {
		t.Fatal(err)
	}
	if err := add(grp, many(20, 30))(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, add(grp, tags("one-more", "v"))(), "InvalidParameterValue")
	if err := add(grp, tags("k0", "new", "k49", "new"))(); err != nil {
		t.Fatal(err)
	}
	out, err := e.rds.ListTagsForResource(e.ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(grp)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TagList) != 50 || !strings.Contains(tagString(out.TagList), "k0=new,") || !strings.Contains(tagString(out.TagList), "k49=new,") {
		t.Fatalf("after the limit: %d tags %s", len(out.TagList), tagString(out.TagList))
	}
	// Unicode letters and the documented symbols are allowed, at full length.
	ok := tags(strings.Repeat("é", 128), strings.Repeat("ü", 256), "a b_c.d:e/f=g+h-i@j", "日本 語")
	if _, err := e.rds.RemoveTagsFromResource(e.ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(grp), TagKeys: []string{"k0", "k1", "k2"}}); err != nil {
		t.Fatal(err)
	}
	if err := add(grp, ok)(); err != nil {
		t.Fatal(err)
	}
}
