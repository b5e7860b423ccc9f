package cli_test

import (
	"slices"
	"strings"
	"testing"
)

type ssmParameter struct {
	Name, Type, Value, ARN, DataType, Selector string
	Version                                    int64
}

// TestSSMParameterStoreCLI drives Parameter Store with each AWS CLI as a
// user would: a String, a StringList and a SecureString (answered
// encrypted unless --with-decryption), versions and labels, a hierarchy
// walked recursively (the CLI pages through it), a refused overwrite, the
// public AMI parameter, tags and deletion.
func TestSSMParameterStoreCLI(t *testing.T) {
	for _, cli := range requireCLIs(t) {
		t.Run(cli.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
			env := awsEnv(t)
			ssm := func(args ...string) result { return cli.aws(t, s, env, append([]string{"ssm"}, args...)...) }
			for _, p := range [][]string{
				{"--name", "/app/prod/db/host", "--type", "String", "--value", "db.internal"},
				{"--name", "/app/prod/db/password", "--type", "SecureString", "--value", "p@ss w0rd"},
				{"--name", "/app/prod/hosts", "--type", "StringList", "--value", "a,b,c"},
				{"--name", "/app/prod/feature/flag", "--type", "String", "--value", "on", "--tags", "Key=team,Value=core"},
			} {
				if v := decode[struct{ Version int64 }](t, ssm(append([]string{"put-parameter"}, p...)...)); v.Version != 1 {
					t.Fatalf("put-parameter %v: version %d", p, v.Version)
				}
			}
			if r := ssm("put-parameter", "--name", "/app/prod/db/host", "--type", "String", "--value", "x"); r.code == 0 || !strings.Contains(r.stderr, "ParameterAlreadyExists") {
				t.Fatalf("overwrite without --overwrite: %s", r)
			}
			if v := decode[struct{ Version int64 }](t, ssm("put-parameter", "--name", "/app/prod/db/host", "--value", "db2.internal", "--overwrite")); v.Version != 2 {
				t.Fatalf("overwrite: version %d", v.Version)
			}

			enc := decode[struct{ Parameter ssmParameter }](t, ssm("get-parameter", "--name", "/app/prod/db/password")).Parameter
			dec := decode[struct{ Parameter ssmParameter }](t, ssm("get-parameter", "--name", "/app/prod/db/password", "--with-decryption")).Parameter
			if enc.Value == "p@ss w0rd" || enc.Type != "SecureString" || dec.Value != "p@ss w0rd" {
				t.Fatalf("SecureString: %+v / %+v", enc, dec)
			}
			old := decode[struct{ Parameter ssmParameter }](t, ssm("get-parameter", "--name", "/app/prod/db/host:1")).Parameter
			if old.Value != "db.internal" || old.Version != 1 || old.Selector != ":1" {
				t.Fatalf("version 1: %+v", old)
			}
			if r := ssm("label-parameter-version", "--name", "/app/prod/db/host", "--parameter-version", "1", "--labels", "stable"); r.code != 0 {
				t.Fatalf("label: %s", r)
			}
			if p := decode[struct{ Parameter ssmParameter }](t, ssm("get-parameter", "--name", "/app/prod/db/host:stable")).Parameter; p.Value != "db.internal" {
				t.Fatalf("label stable: %+v", p)
			}

			// The CLI pages through the hierarchy one parameter a call.
			all := decode[struct{ Parameters []ssmParameter }](t, ssm("get-parameters-by-path", "--path", "/app/prod", "--recursive", "--with-decryption",
				"--page-size", "1"))
			var names []string
			for _, p := range all.Parameters {
				names = append(names, p.Name+"="+p.Value)
			}
			want := []string{"/app/prod/db/host=db2.internal", "/app/prod/db/password=p@ss w0rd", "/app/prod/feature/flag=on", "/app/prod/hosts=a,b,c"}
			if !slices.Equal(names, want) {
				t.Fatalf("by path: %v, want %v", names, want)
			}
			one := decode[struct{ Parameters []ssmParameter }](t, ssm("get-parameters-by-path", "--path", "/app/prod"))
			if len(one.Parameters) != 1 || one.Parameters[0].Name != "/app/prod/hosts" {
				t.Fatalf("one level: %+v", one.Parameters)
			}
			got := decode[struct {
				Parameters        []ssmParameter
				InvalidParameters []string
			}](t, ssm("get-parameters", "--names", "/app/prod/hosts", "/nope"))
			if len(got.Parameters) != 1 || !slices.Equal(got.InvalidParameters, []string{"/nope"}) {
				t.Fatalf("get-parameters: %+v", got)
			}
			desc := decode[struct {
				Parameters []struct{ Name, Type, KeyId, Tier string }
			}](t, ssm("describe-parameters",
				"--parameter-filters", "Key=Type,Values=SecureString"))
			if len(desc.Parameters) != 1 || desc.Parameters[0].KeyId != "alias/aws/ssm" || desc.Parameters[0].Tier != "Standard" {
				t.Fatalf("describe-parameters: %+v", desc)
			}
			tags := decode[struct{ TagList []struct{ Key, Value string } }](t, ssm("list-tags-for-resource", "--resource-type", "Parameter",
				"--resource-id", "/app/prod/feature/flag"))
			if len(tags.TagList) != 1 || tags.TagList[0].Key != "team" {
				t.Fatalf("tags: %+v", tags)
			}
			ami := decode[struct{ Parameter ssmParameter }](t, ssm("get-parameter", "--name", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")).Parameter
			if !strings.HasPrefix(ami.Value, "ami-") {
				t.Fatalf("public AMI parameter: %+v", ami)
			}
			images := decode[struct {
				Images []struct{ ImageId, Name string }
			}](t, cli.aws(t, s, env, "ec2", "describe-images", "--image-ids", ami.Value))
			if len(images.Images) != 1 || !strings.HasPrefix(images.Images[0].Name, "al2023-ami-") {
				t.Fatalf("the public parameter's image: %+v", images)
			}
			del := decode[struct{ DeletedParameters, InvalidParameters []string }](t, ssm("delete-parameters", "--names", "/app/prod/hosts", "/nope"))
			if !slices.Equal(del.DeletedParameters, []string{"/app/prod/hosts"}) || !slices.Equal(del.InvalidParameters, []string{"/nope"}) {
				t.Fatalf("delete-parameters: %+v", del)
			}
			if r := ssm("get-parameter", "--name", "/app/prod/hosts"); r.code == 0 || !strings.Contains(r.stderr, "ParameterNotFound") {
				t.Fatalf("deleted: %s", r)
			}
		})
	}
}

// ssmBoto3Script round-trips a SecureString and pages GetParametersByPath
// with boto3's paginator.
const ssmBoto3Script = `
import json, sys
import boto3
ssm = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="us-east-1")
for i in range(5):
    ssm.put_parameter(Name="/b3/p%d" % i, Value="v%d" % i, Type="SecureString" if i % 2 else "String")
pages, names = 0, []
for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/b3", WithDecryption=True, PaginationConfig={"PageSize": 2}):
    pages += 1
    names += [p["Name"] + "=" + p["Value"] for p in page["Parameters"]]
try:
    ssm.get_parameter(Name="/b3/none")
    missing = ""
except ssm.exceptions.ParameterNotFound as e:
    missing = e.response["Error"]["Code"]
print(json.dumps({"Pages": pages, "Names": names, "Missing": missing}))
`

// TestSSMParameterStoreBoto3: boto3's paginator and modelled exceptions.
func TestSSMParameterStoreBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	got := decode[struct {
		Pages   int
		Names   []string
		Missing string
	}](t, run(t, awsEnv(t), py, "-c", ssmBoto3Script, s.URL))
	want := []string{"/b3/p0=v0", "/b3/p1=v1", "/b3/p2=v2", "/b3/p3=v3", "/b3/p4=v4"}
	if got.Pages != 3 || !slices.Equal(got.Names, want) || got.Missing != "ParameterNotFound" {
		t.Fatalf("boto3: %+v", got)
	}
}
