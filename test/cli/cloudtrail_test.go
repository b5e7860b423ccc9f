package cli_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// trailEvent is what LookupEvents answers of an event, with its
// CloudTrailEvent (the record as a JSON string) parsed.
type trailEvent struct {
	EventId, EventName, Username, AccessKeyId, ReadOnly string
	Resources                                           []struct{ ResourceType, ResourceName string }
	CloudTrailEvent                                     string
}

// trailRecord is the part of a CloudTrail record the tests check.
type trailRecord struct {
	EventSource, EventName, RequestID, UserAgent string
	ReadOnly                                     bool
	UserIdentity                                 struct {
		Type, PrincipalId, Arn, AccountId, AccessKeyId string
		SessionContext                                 *struct {
			SessionIssuer struct{ Type, Arn, UserName string }
		}
	}
	RequestParameters map[string]any
	ResponseElements  map[string]any
}

func (e trailEvent) record(t *testing.T) trailRecord {
	t.Helper()
	var r trailRecord
	if err := json.Unmarshal([]byte(e.CloudTrailEvent), &r); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v\n%s", err, e.CloudTrailEvent)
	}
	return r
}

func (e trailEvent) names(typ string) []string {
	var out []string
	for _, r := range e.Resources {
		if r.ResourceType == typ {
			out = append(out, r.ResourceName)
		}
	}
	return out
}

// TestCloudTrailCLI: each AWS CLI launches an instance (v1 with the
// account's key, v2 with an assumed role's session), and each finds both
// launches with lookup-events, whose records name the caller as AWS does.
func TestCloudTrailCLI(t *testing.T) {
	t.Parallel()
	clis := requireCLIs(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	env := awsEnv(t)
	image := decode[struct{ Images []struct{ ImageId string } }](t, clis[0].aws(t, s, env, "ec2", "describe-images",
		"--filters", "Name=name,Values=al2023-ami-*-x86_64")).Images[0].ImageId
	launched := map[string]string{} // instance → the CLI that launched it
	for i, c := range clis {
		callEnv := env
		if i == 1 {
			callEnv = append(slices.Clone(env), c.assumeRole(t, s, env, "deployer", "ci").env()...)
		}
		out := decode[struct{ Instances []struct{ InstanceId string } }](t, c.aws(t, s, callEnv, "ec2", "run-instances",
			"--image-id", image, "--instance-type", "t3.micro", "--count", "1"))
		launched[out.Instances[0].InstanceId] = c.name
	}
	for _, c := range clis {
		t.Run(c.name, func(t *testing.T) {
			got := decode[struct{ Events []trailEvent }](t, c.aws(t, s, env, "cloudtrail", "lookup-events",
				"--lookup-attributes", "AttributeKey=EventName,AttributeValue=RunInstances"))
			if len(got.Events) != len(clis) {
				t.Fatalf("lookup-events: %d RunInstances events, want %d: %+v", len(got.Events), len(clis), got.Events)
			}
			for _, e := range got.Events {
				ids := e.names("AWS::EC2::Instance")
				if len(ids) != 1 || launched[ids[0]] == "" {
					t.Fatalf("event %s: instances %v, want one of %v", e.EventId, ids, launched)
				}
				r := e.record(t)
				if e.EventName != "RunInstances" || e.ReadOnly != "false" || r.EventSource != "ec2.amazonaws.com" || r.EventName != "RunInstances" ||
					r.ReadOnly || r.RequestID == "" || r.RequestParameters["imageId"] != image || r.ResponseElements == nil {
					t.Errorf("event %s: %+v\nrecord %+v", e.EventId, e, r)
				}
				id := r.UserIdentity
				if launched[ids[0]] == clis[0].name {
					if id.Type != "Root" || id.Arn != "arn:aws:iam::"+defaultAccount+":root" || id.AccountId != defaultAccount ||
						id.AccessKeyId != "test" || e.AccessKeyId != "test" || e.Username != "root" || id.SessionContext != nil {
						t.Errorf("v1's launch: userIdentity %+v, Username %q, AccessKeyId %q", id, e.Username, e.AccessKeyId)
					}
				} else if id.Type != "AssumedRole" || id.Arn != "arn:aws:sts::"+defaultAccount+":assumed-role/deployer/ci" ||
					!strings.HasPrefix(id.AccessKeyId, "ASIA") || e.Username != "ci" || id.SessionContext == nil ||
					id.SessionContext.SessionIssuer.Arn != "arn:aws:iam::"+defaultAccount+":role/deployer" {
					t.Errorf("v2's launch (assumed role): userIdentity %+v, Username %q", id, e.Username)
				}
			}
		})
	}
}

// trailBoto3Script launches instances, then pages through LookupEvents
// with boto3's paginator, one event a page; with "calls N" it only makes
// N DescribeVpcs calls and prints their request IDs.
const trailBoto3Script = `
import json, sys
import boto3

ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
ct = boto3.client("cloudtrail", endpoint_url=sys.argv[1], region_name="us-east-1")
mode = sys.argv[2]
if mode == "calls":
    ids = [ec2.describe_vpcs()["ResponseMetadata"]["RequestId"] for _ in range(int(sys.argv[3]))]
    print(json.dumps(ids))
    sys.exit(0)
if mode == "launch":
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])["Images"][0]["ImageId"]
    launched = [ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
                for _ in range(3)]
name = "RunInstances" if mode == "launch" else "DescribeVpcs"
pages, events = 0, []
for page in ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}], PaginationConfig={"PageSize": 1}):
    pages += 1
    for e in page["Events"]:
        rec = json.loads(e["CloudTrailEvent"])
        events.append({"Name": e["EventName"], "Time": e["EventTime"].isoformat(), "Resources": [r["ResourceName"] for r in e.get("Resources", [])],
                       "Identity": rec["userIdentity"]["type"], "Account": rec["userIdentity"]["accountId"], "RequestID": rec["requestID"]})
print(json.dumps({"Launched": launched if mode == "launch" else [], "Pages": pages, "Events": events}))
`

type trailBoto3Out struct {
	Launched []string
	Pages    int
	Events   []struct {
		Name, Time, Identity, Account, RequestID string
		Resources                                []string
	}
}

// TestCloudTrailBoto3: boto3's paginator walks LookupEvents a page at a
// time and finds every launch, newest first, each record parsed.
func TestCloudTrailBoto3(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	s := startServer(t, "--ephemeral", "--data-plane", "off", "--dns-listen", "off")
	got := decode[trailBoto3Out](t, run(t, awsEnv(t), py, "-c", trailBoto3Script, s.URL, "launch"))
	if len(got.Launched) != 3 || len(got.Events) != 3 || got.Pages < 3 {
		t.Fatalf("boto3: %+v", got)
	}
	for i, e := range got.Events {
		// Newest first: the last launch comes first.
		want := got.Launched[len(got.Launched)-1-i]
		if e.Name != "RunInstances" || !slices.Contains(e.Resources, want) || e.Identity != "Root" || e.Account != defaultAccount || e.RequestID == "" {
			t.Errorf("event %d: %+v, want the launch of %s", i, e, want)
		}
		if i > 0 && e.Time > got.Events[i-1].Time {
			t.Errorf("event %d at %s is newer than event %d at %s", i, e.Time, i-1, got.Events[i-1].Time)
		}
	}
}

// TestCloudTrailKill9: every call answered more than the writer's window
// (10 ms, the package doc) before kill -9 has its event after a restart.
func TestCloudTrailKill9(t *testing.T) {
	t.Parallel()
	py := findBoto3Python(t)
	dir := filepath.Join(t.TempDir(), "state")
	args := []string{"--state-dir", dir, "--data-plane", "off", "--dns-listen", "off"}
	s := startServer(t, args...)
	const n = 40
	ids := decode[[]string](t, run(t, awsEnv(t), py, "-c", trailBoto3Script, s.URL, "calls", fmt.Sprint(n)))
	if len(ids) != n {
		t.Fatalf("%d request IDs, want %d", len(ids), n)
	}
	time.Sleep(500 * time.Millisecond) // well past the window: 10 ms and one write
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("minicloud pid %d alive after SIGKILL", s.cmd.Process.Pid)
	}
	s = startServer(t, args...)
	got := decode[trailBoto3Out](t, run(t, awsEnv(t), py, "-c", trailBoto3Script, s.URL, "find"))
	found := map[string]bool{}
	for _, e := range got.Events {
		found[e.RequestID] = true
	}
	for _, id := range ids {
		if !found[id] {
			t.Errorf("DescribeVpcs %s answered before kill -9 has no event after the restart (%d events found)", id, len(got.Events))
		}
	}
}
