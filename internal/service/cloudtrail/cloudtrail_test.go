package cloudtrail_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

const account = "123456789012"

// serve runs a minicloud on dir and returns its URL and a stop function.
func serve(t *testing.T, dir string) (string, func()) {
	t.Helper()
	srv, err := server.New(server.Config{StateDir: dir, Accounts: map[string]string{"AKIATRAIL": account}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			hs.Close()
			if err := srv.Close(context.Background()); err != nil {
				t.Errorf("close: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return hs.URL, stop
}

func cfg(url, key, secret, token string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient()}
}

// record is the part of a CloudTrail record the test reads.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type, PrincipalID, ARN, AccountID, AccessKeyID string
		SessionContext                                 *struct {
			SessionIssuer struct{ Type, ARN string }
			Attributes    struct{ CreationDate, MfaAuthenticated string }
		}
	} `json:"userIdentity"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	RequestParameters  map[string]any  `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID, EventID string
	ReadOnly           bool   `json:"readOnly"`
	EventType          string `json:"eventType"`
	ManagementEvent    bool   `json:"managementEvent"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventCategory      string `json:"eventCategory"`
}

func lookup(t *testing.T, c *cloudtrail.Client, key ct.LookupAttributeKey, value string) []ct.Event {
	t.Helper()
	out, err := c.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
		LookupAttributes: []ct.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Events
}

func parse(t *testing.T, e ct.Event) record {
	t.Helper()
	var r record
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEventsThroughTheSDK(t *testing.T) {
	dir := t.TempDir()
	url, stop := serve(t, dir)
	ctx := context.Background()
	root := cfg(url, "AKIATRAIL", "x", "")
	e2 := ec2.NewFromConfig(root)
	vpc, err := e2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	_, err = e2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-0123456789abcdef0")})
	if err == nil {
		t.Fatal("deleting a missing VPC succeeded")
	}
	as, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/auditor"), RoleSessionName: aws.String("night-shift")})
	if err != nil {
		t.Fatal(err)
	}
	cr := as.Credentials
	role := cfg(url, *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	if _, err := ec2.NewFromConfig(role).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}); err != nil {
		t.Fatal(err)
	}
	trail := cloudtrail.NewFromConfig(root)

	// The root key's write: every field as AWS writes it.
	evs := lookup(t, trail, ct.LookupAttributeKeyEventName, "CreateVpc")
	if len(evs) != 1 {
		t.Fatalf("CreateVpc events: %d", len(evs))
	}
	r := parse(t, evs[0])
	id := r.UserIdentity
	if id.Type != "Root" || id.ARN != "arn:aws:iam::"+account+":root" || id.AccountID != account || id.AccessKeyID != "AKIATRAIL" || id.PrincipalID != account {
		t.Errorf("root identity %+v", id)
	}
	if r.EventSource != "ec2.amazonaws.com" || r.AWSRegion != "us-east-1" || r.ReadOnly || r.EventType != "AwsApiCall" ||
		!r.ManagementEvent || r.EventCategory != "Management" || r.RecipientAccountID != account || r.EventVersion == "" ||
		r.SourceIPAddress != "127.0.0.1" || r.UserAgent == "" || r.RequestID == "" || r.EventID != aws.ToString(evs[0].EventId) {
		t.Errorf("record %+v", r)
	}
	if r.RequestParameters["cidrBlock"] != "10.7.0.0/16" || string(r.ResponseElements) == "null" {
		t.Errorf("parameters %v, response %s", r.RequestParameters, r.ResponseElements)
	}
	if aws.ToString(evs[0].Username) != "root" || aws.ToString(evs[0].ReadOnly) != "false" || aws.ToString(evs[0].AccessKeyId) != "AKIATRAIL" {
		t.Errorf("event %+v", evs[0])
	}
	found := false
	for _, res := range evs[0].Resources {
		found = found || aws.ToString(res.ResourceType) == "AWS::EC2::VPC" && aws.ToString(res.ResourceName) == vpcID
	}
	if !found {
		t.Errorf("resources %+v lack the VPC", evs[0].Resources)
	}
	if n := len(lookup(t, trail, ct.LookupAttributeKeyResourceName, vpcID)); n != 2 {
		t.Errorf("events naming %s: %d, want CreateVpc and DescribeVpcs", vpcID, n)
	}

	// A failing call carries its error code (EC2's "Client." form).
	evs = lookup(t, trail, ct.LookupAttributeKeyEventName, "DeleteVpc")
	if len(evs) != 1 || parse(t, evs[0]).ErrorCode != "Client.InvalidVpcID.NotFound" {
		t.Fatalf("DeleteVpc events %+v", evs)
	}

	// The role session's read: AssumedRole, its issuer, no response.
	evs = lookup(t, trail, ct.LookupAttributeKeyUsername, "night-shift")
	if len(evs) != 1 {
		t.Fatalf("night-shift events: %d", len(evs))
	}
	r = parse(t, evs[0])
	if r.EventName != "DescribeVpcs" || !r.ReadOnly || string(r.ResponseElements) != "null" || r.UserIdentity.Type != "AssumedRole" ||
		r.UserIdentity.SessionContext == nil || r.UserIdentity.SessionContext.SessionIssuer.ARN != "arn:aws:iam::"+account+":role/auditor" ||
		r.UserIdentity.SessionContext.Attributes.CreationDate == "" || r.UserIdentity.AccessKeyID != aws.ToString(cr.AccessKeyId) {
		t.Errorf("role record %+v", r)
	}

	// Pages: newest first, each event once.
	seen := map[string]bool{}
	var token *string
	for page := 0; ; page++ {
		out, err := trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range out.Events {
			if seen[*e.EventId] {
				t.Fatalf("event %s twice", *e.EventId)
			}
			seen[*e.EventId] = true
			if i > 0 && e.EventTime.After(*out.Events[i-1].EventTime) {
				t.Errorf("page %d not newest first", page)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(seen) < 5 {
		t.Errorf("%d events in all, want the 5 calls and the lookups", len(seen))
	}

	// AWS's validation errors.
	for _, tc := range []struct {
		in   cloudtrail.LookupEventsInput
		code string
	}{
		{cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{cloudtrail.LookupEventsInput{LookupAttributes: []ct.LookupAttribute{
			{AttributeKey: ct.LookupAttributeKeyEventName, AttributeValue: aws.String("A")},
			{AttributeKey: ct.LookupAttributeKeyUsername, AttributeValue: aws.String("B")}}}, "InvalidLookupAttributesException"},
		{cloudtrail.LookupEventsInput{LookupAttributes: []ct.LookupAttribute{{AttributeKey: "Colour", AttributeValue: aws.String("x")}}}, "InvalidLookupAttributesException"},
		{cloudtrail.LookupEventsInput{StartTime: aws.Time(*evs[0].EventTime), EndTime: aws.Time(evs[0].EventTime.Add(-1e9))}, "InvalidTimeRangeException"},
		{cloudtrail.LookupEventsInput{NextToken: aws.String("bm9wZQ")}, "InvalidNextTokenException"},
	} {
		_, err := trail.LookupEvents(ctx, &tc.in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("want %s, got %v", tc.code, err)
		}
	}
	_, err = trail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("t"), S3BucketName: aws.String("logs")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "S3BucketDoesNotExistException" {
		t.Errorf("CreateTrail: %v", err)
	}
	if out, err := trail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil || len(out.TrailList) != 0 {
		t.Errorf("DescribeTrails: %v %v", out, err)
	}

	// A restart keeps the events; LookupEvents is itself recorded.
	stop()
	url, _ = serve(t, dir)
	trail = cloudtrail.NewFromConfig(cfg(url, "AKIATRAIL", "x", ""))
	if n := len(lookup(t, trail, ct.LookupAttributeKeyEventName, "CreateVpc")); n != 1 {
		t.Errorf("after restart: %d CreateVpc events", n)
	}
	if n := len(lookup(t, trail, ct.LookupAttributeKeyEventName, "LookupEvents")); n < 5 {
		t.Errorf("after restart: %d LookupEvents events", n)
	}
}
