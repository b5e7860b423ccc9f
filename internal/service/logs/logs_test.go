package logs_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	lt "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/server"
)

func TestGroupsAndStreams(t *testing.T) {
	ctx := context.Background()
	c := start(t, server.Config{}).logs
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app/web"),
		KmsKeyId: aws.String("arn:aws:kms:us-east-1:000000000000:key/k1"), Tags: map[string]string{"team": "a"},
		LogGroupClass: lt.LogGroupClassInfrequentAccess})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/app/api", "other", "/app/zeta"} {
		group(t, c, n, "")
	}
	must[*cloudwatchlogs.PutRetentionPolicyOutput](t)(c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/app/web"), RetentionInDays: aws.Int32(7)}))
	must[*cloudwatchlogs.PutMetricFilterOutput](t)(c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("/app/web"),
		FilterName: aws.String("errors"), FilterPattern: aws.String("ERROR"), MetricTransformations: []lt.MetricTransformation{
			{MetricName: aws.String("Errors"), MetricNamespace: aws.String("App"), MetricValue: aws.String("1")}}}))

	out := must[*cloudwatchlogs.DescribeLogGroupsOutput](t)(c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")}))
	var names []string
	for _, g := range out.LogGroups {
		names = append(names, *g.LogGroupName)
	}
	if want := []string{"/app/api", "/app/web", "/app/zeta"}; !slices.Equal(names, want) {
		t.Fatalf("groups %v, want %v", names, want)
	}
	web := out.LogGroups[1]
	if *web.Arn != "arn:aws:logs:us-east-1:000000000000:log-group:/app/web:*" || *web.LogGroupArn != "arn:aws:logs:us-east-1:000000000000:log-group:/app/web" ||
		aws.ToInt32(web.RetentionInDays) != 7 || aws.ToInt32(web.MetricFilterCount) != 1 || web.LogGroupClass != lt.LogGroupClassInfrequentAccess ||
		aws.ToString(web.KmsKeyId) == "" || web.CreationTime == nil || web.StoredBytes == nil {
		t.Fatalf("group %+v", web)
	}

	// Pattern (case-insensitive substring) and pages of one.
	var paged []string
	var token *string
	for {
		page := must[*cloudwatchlogs.DescribeLogGroupsOutput](t)(c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("APP"), Limit: aws.Int32(1), NextToken: token}))
		for _, g := range page.LogGroups {
			paged = append(paged, *g.LogGroupName)
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(paged, names) {
		t.Fatalf("paged %v, want %v", paged, names)
	}

	// Tags by name and by ARN.
	arn := strings.TrimSuffix(*web.Arn, ":*")
	must[*cloudwatchlogs.TagResourceOutput](t)(c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "dev"}}))
	must[*cloudwatchlogs.UntagLogGroupOutput](t)(c.UntagLogGroup(ctx, &cloudwatchlogs.UntagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: []string{"team"}}))
	tags := must[*cloudwatchlogs.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))
	if fmt.Sprint(tags.Tags) != "map[env:dev]" {
		t.Fatalf("tags %v", tags.Tags)
	}

	// Streams: order by name and by last event time, descending, pages.
	now := time.Now()
	for i, s := range []string{"b", "a", "c"} {
		must[*cloudwatchlogs.CreateLogStreamOutput](t)(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String(s)}))
		must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String(s),
			LogEvents: events(now.Add(time.Duration(i)*time.Minute), "x")}))
	}
	streamNames := func(in *cloudwatchlogs.DescribeLogStreamsInput) []string {
		in.LogGroupName = aws.String("/app/web")
		var out []string
		for {
			page := must[*cloudwatchlogs.DescribeLogStreamsOutput](t)(c.DescribeLogStreams(ctx, in))
			for _, s := range page.LogStreams {
				out = append(out, *s.LogStreamName)
				if s.LastEventTimestamp == nil || s.FirstEventTimestamp == nil || s.LastIngestionTime == nil || s.UploadSequenceToken == nil {
					t.Fatalf("stream %+v", s)
				}
			}
			if in.NextToken = page.NextToken; in.NextToken == nil {
				return out
			}
		}
	}
	for _, tc := range []struct {
		in   *cloudwatchlogs.DescribeLogStreamsInput
		want string
	}{
		{&cloudwatchlogs.DescribeLogStreamsInput{}, "[a b c]"},
		{&cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2), Descending: aws.Bool(true)}, "[c b a]"},
		{&cloudwatchlogs.DescribeLogStreamsInput{OrderBy: lt.OrderByLastEventTime}, "[b a c]"},
		{&cloudwatchlogs.DescribeLogStreamsInput{OrderBy: lt.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)}, "[c a b]"},
		{&cloudwatchlogs.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("b")}, "[b]"},
	} {
		if got := fmt.Sprint(streamNames(tc.in)); got != tc.want {
			t.Errorf("streams %+v: %s, want %s", tc.in, got, tc.want)
		}
	}

	must[*cloudwatchlogs.DeleteLogStreamOutput](t)(c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("a")}))
	if got := fmt.Sprint(streamNames(&cloudwatchlogs.DescribeLogStreamsInput{})); got != "[b c]" {
		t.Fatalf("after delete: %s", got)
	}
	must[*cloudwatchlogs.DeleteLogGroupOutput](t)(c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")}))
	group(t, c, "/app/web", "b") // recreated empty: the old events are gone
	got := must[*cloudwatchlogs.GetLogEventsOutput](t)(c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("b")}))
	if len(got.Events) != 0 {
		t.Fatalf("recreated group has events %v", got.Events)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c := start(t, server.Config{}).logs
	group(t, c, "g", "s")
	now := time.Now()
	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"group exists", func() error {
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")})
			return err
		}, "ResourceAlreadyExistsException", "already exists"},
		{"bad group name", func() error {
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("a:b")})
			return err
		}, "InvalidParameterException", "regular expression pattern"},
		{"bad class", func() error {
			_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("h"), LogGroupClass: "COLD"})
			return err
		}, "InvalidParameterException", "logGroupClass"},
		{"no group", func() error {
			_, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", "The specified log group does not exist."},
		{"stream exists", func() error {
			_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceAlreadyExistsException", "already exists"},
		{"bad stream name", func() error {
			_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a*b")})
			return err
		}, "InvalidParameterException", "logStreamName"},
		{"no stream", func() error {
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("t"), LogEvents: events(now, "x")})
			return err
		}, "ResourceNotFoundException", "The specified log stream does not exist."},
		{"retention value", func() error {
			_, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
			return err
		}, "InvalidParameterException", "retentionInDays"},
		{"not chronological", func() error {
			evs := events(now, "a", "b")
			evs[0], evs[1] = evs[1], evs[0]
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
			return err
		}, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order."},
		{"span over 24 h", func() error {
			evs := append(events(now.Add(-25*time.Hour), "a"), events(now, "b")...)
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
			return err
		}, "InvalidParameterException", "cannot span more than 24 hours"},
		{"too large", func() error {
			big := strings.Repeat("x", 600_000)
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events(now, big, big)})
			return err
		}, "InvalidParameterException", "1048576"},
		{"no events", func() error {
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: []lt.InputLogEvent{}})
			return err
		}, "InvalidParameterException", "logEvents"},
		{"too many events", func() error {
			evs := make([]lt.InputLogEvent, 10001)
			for i := range evs {
				evs[i] = lt.InputLogEvent{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String("x")}
			}
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs})
			return err
		}, "InvalidParameterException", "10000"},
		{"order by time with prefix", func() error {
			_, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: lt.OrderByLastEventTime, LogStreamNamePrefix: aws.String("s")})
			return err
		}, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."},
		{"describe limit", func() error {
			_, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
			return err
		}, "InvalidParameterException", "less than or equal to 50"},
		{"bad token", func() error {
			_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("x/1")})
			return err
		}, "InvalidParameterException", "nextToken"},
		{"both stream selectors", func() error {
			_, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"s"}, LogStreamNamePrefix: aws.String("s")})
			return err
		}, "InvalidParameterException", "both"},
		{"two metric transformations", func() error {
			tr := lt.MetricTransformation{MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("1")}
			_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("f"), FilterPattern: aws.String(""),
				MetricTransformations: []lt.MetricTransformation{tr, tr}})
			return err
		}, "InvalidParameterException", "metricTransformations"},
		{"metric value", func() error {
			_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("f"), FilterPattern: aws.String(""),
				MetricTransformations: []lt.MetricTransformation{{MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("one")}}})
			return err
		}, "InvalidParameterException", "metric value"},
		{"no filter", func() error {
			_, err := c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("f")})
			return err
		}, "ResourceNotFoundException", "The specified filter does not exist."},
		{"tag unknown arn", func() error {
			_, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:destination:d"), Tags: map[string]string{"a": "b"}})
			return err
		}, "ResourceNotFoundException", ""},
		{"query without groups", func() error {
			_, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{QueryString: aws.String("fields @message"), StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
			return err
		}, "InvalidParameterException", "log groups"},
		{"unknown query", func() error {
			_, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", "Query does not exist."},
		// Tokens are only base64: a forged offset is an invalid token.
		{"forged stream token", func() error {
			_, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"), NextToken: api.PageToken("streams", "-1")})
			return err
		}, "InvalidParameterException", "The specified nextToken is invalid."},
		{"forged query token", func() error {
			_, err := c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{NextToken: api.PageToken("queries", "x")})
			return err
		}, "InvalidParameterException", "The specified nextToken is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code, tc.msg) })
	}

	// Subscription filters: recorded, two per group.
	for i := range 3 {
		_, err := c.PutSubscriptionFilter(ctx, &cloudwatchlogs.PutSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String(fmt.Sprint("sub", i)),
			FilterPattern: aws.String(""), DestinationArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")})
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			wantCode(t, err, "LimitExceededException", "Resource limit exceeded.")
		}
	}
	subs := must[*cloudwatchlogs.DescribeSubscriptionFiltersOutput](t)(c.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("g"), Limit: aws.Int32(1)}))
	if len(subs.SubscriptionFilters) != 1 || *subs.SubscriptionFilters[0].FilterName != "sub0" || subs.NextToken == nil || subs.SubscriptionFilters[0].Distribution != lt.DistributionByLogStream {
		t.Fatalf("subscriptions %+v", subs)
	}
	subs = must[*cloudwatchlogs.DescribeSubscriptionFiltersOutput](t)(c.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("g"), NextToken: subs.NextToken}))
	if len(subs.SubscriptionFilters) != 1 || *subs.SubscriptionFilters[0].FilterName != "sub1" || subs.NextToken != nil {
		t.Fatalf("subscriptions page 2 %+v", subs)
	}
}

func TestPutAndGetLogEvents(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	c := start(t, server.Config{Now: clk.Now}).logs
	group(t, c, "g", "s")
	now := clk.Now().Truncate(time.Second)

	// Too old, expired by retention, too new: left out and reported.
	must[*cloudwatchlogs.PutRetentionPolicyOutput](t)(c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(14)}))
	evs := append(events(now.Add(-15*24*time.Hour+time.Hour), "too old"), events(now.Add(-9*time.Hour), "kept 1", "kept 2")...)
	evs = append(evs, events(now.Add(3*time.Hour), "too new")...)
	put := must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs[:1]}))
	if r := put.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.ExpiredLogEventEndIndex) != 1 || r.TooNewLogEventStartIndex != nil {
		t.Fatalf("rejected %+v", put.RejectedLogEventsInfo)
	}
	put = must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: evs[1:], SequenceToken: aws.String("ignored")}))
	if r := put.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooNewLogEventStartIndex) != 2 || r.TooOldLogEventEndIndex != nil || put.NextSequenceToken == nil {
		t.Fatalf("rejected %+v", put.RejectedLogEventsInfo)
	}
	// All four in one batch: the 24-hour span is over the valid events
	// only, so the two current ones are stored and the others reported.
	must[*cloudwatchlogs.CreateLogStreamOutput](t)(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("whole")}))
	put = must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("whole"), LogEvents: evs}))
	if r := put.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 3 {
		t.Fatalf("one batch: rejected %+v", put.RejectedLogEventsInfo)
	}

	// 25 more, then page through them both ways.
	var msgs []string
	for i := range 25 {
		msgs = append(msgs, fmt.Sprintf("line %02d", i))
	}
	must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events(now.Add(-time.Hour), msgs...)}))
	all := append([]string{"kept 1", "kept 2"}, msgs...)

	get := func(in cloudwatchlogs.GetLogEventsInput) *cloudwatchlogs.GetLogEventsOutput {
		in.LogGroupName, in.LogStreamName = aws.String("g"), aws.String("s")
		return must[*cloudwatchlogs.GetLogEventsOutput](t)(c.GetLogEvents(ctx, &in))
	}
	// Forward from the head, 10 at a time, until the token repeats.
	var fwd []string
	in := cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(10)}
	for range 10 {
		out := get(in)
		fwd = append(fwd, messages(out.Events, outMsg)...)
		if in.NextToken != nil && *out.NextForwardToken == *in.NextToken {
			break
		}
		if !strings.HasPrefix(*out.NextForwardToken, "f/") || !strings.HasPrefix(*out.NextBackwardToken, "b/") {
			t.Fatalf("tokens %s %s", *out.NextForwardToken, *out.NextBackwardToken)
		}
		in.NextToken = out.NextForwardToken
	}
	if !slices.Equal(fwd, all) {
		t.Fatalf("forward %v, want %v", fwd, all)
	}
	// Default: the newest page; backward from there.
	out := get(cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(10)})
	if got := messages(out.Events, outMsg); !slices.Equal(got, all[len(all)-10:]) {
		t.Fatalf("newest %v", got)
	}
	back := get(cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(10), NextToken: out.NextBackwardToken})
	if got := messages(back.Events, outMsg); !slices.Equal(got, all[len(all)-20:len(all)-10]) {
		t.Fatalf("backward %v", got)
	}
	// A time range: [start, end).
	ranged := get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(now.Add(-time.Hour + 3*time.Second).UnixMilli()),
		EndTime: aws.Int64(now.Add(-time.Hour + 5*time.Second).UnixMilli())})
	if got := messages(ranged.Events, outMsg); fmt.Sprint(got) != "[line 03 line 04]" {
		t.Fatalf("range %v", got)
	}
	if e := ranged.Events[0]; e.IngestionTime == nil || *e.Timestamp != now.Add(-time.Hour+3*time.Second).UnixMilli() {
		t.Fatalf("event %+v", e)
	}

	// FilterLogEvents across streams, interleaved, in pages.
	must[*cloudwatchlogs.CreateLogStreamOutput](t)(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("t")}))
	must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("t"),
		LogEvents: events(now.Add(-time.Hour+500*time.Millisecond), "line t0", "other", "line t2")}))
	var found []string
	fin := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("line"), Limit: aws.Int32(4),
		StartTime: aws.Int64(now.Add(-time.Hour).UnixMilli()), EndTime: aws.Int64(now.Add(-time.Hour + 3*time.Second).UnixMilli())}
	for {
		out := must[*cloudwatchlogs.FilterLogEventsOutput](t)(c.FilterLogEvents(ctx, fin))
		found = append(found, messages(out.Events, filtMsg)...)
		for _, e := range out.Events {
			if e.EventId == nil || e.LogStreamName == nil || e.IngestionTime == nil {
				t.Fatalf("filtered event %+v", e)
			}
		}
		if fin.NextToken = out.NextToken; fin.NextToken == nil {
			break
		}
	}
	if want := "[line 00 line t0 line 01 line 02 line t2]"; fmt.Sprint(found) != want {
		t.Fatalf("filtered %v, want %s", found, want)
	}
	one := must[*cloudwatchlogs.FilterLogEventsOutput](t)(c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:g:*"),
		LogStreamNamePrefix: aws.String("t"), FilterPattern: aws.String("other")}))
	if got := messages(one.Events, filtMsg); fmt.Sprint(got) != "[other]" || len(one.SearchedLogStreams) != 1 {
		t.Fatalf("by prefix %v %+v", got, one.SearchedLogStreams)
	}
}

func TestTestMetricFilter(t *testing.T) {
	c := start(t, server.Config{}).logs
	apache := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	tests := []struct {
		pattern string
		msgs    []string
		want    string // event numbers and extracted values
	}{
		{"ERROR", []string{"ok", "ERROR one", "fine", "an ERROR"}, "2 map[] 4 map[] "},
		// AWS's API reference example: the named fields, keyed $name.
		{"[ip, identity, user_id, timestamp, request, status_code, size]", []string{apache},
			"1 map[$identity:- $ip:127.0.0.1 $request:GET /apache_pb.gif HTTP/1.0 $size:1534 $status_code:200 $timestamp:10/Oct/2000:13:25:15 -0700 $user_id:frank] "},
		{"[..., status=2*, size]", []string{apache, "x 500 1"},
			"1 map[$1:127.0.0.1 $2:- $3:frank $4:10/Oct/2000:13:25:15 -0700 $5:GET /apache_pb.gif HTTP/1.0 $size:1534 $status:200] "},
		{`{ $.ms > 10 }`, []string{`{"ms": 12.5, "path": "/a"}`, `{"ms": 1}`}, "1 map[$.ms:12.5] "},
	}
	for _, tt := range tests {
		out := must[*cloudwatchlogs.TestMetricFilterOutput](t)(c.TestMetricFilter(context.Background(), &cloudwatchlogs.TestMetricFilterInput{
			FilterPattern: aws.String(tt.pattern), LogEventMessages: tt.msgs}))
		got := ""
		for _, m := range out.Matches {
			got += fmt.Sprintf("%d %v ", m.EventNumber, m.ExtractedValues)
		}
		if got != tt.want {
			t.Errorf("%s: matches\n%s\nwant\n%s", tt.pattern, got, tt.want)
		}
	}
}

// TestMetricFilterAlarm is the done-when: a metric filter turns
// log lines into a metric that GetMetricStatistics sees and an alarm
// watches.
func TestMetricFilterAlarm(t *testing.T) {
	ctx := context.Background()
	e := start(t, server.Config{MetricsInterval: time.Second})
	group(t, e.logs, "/app/web", "i-1")
	must[*cloudwatchlogs.PutMetricFilterOutput](t)(e.logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("/app/web"),
		FilterName: aws.String("errors"), FilterPattern: aws.String("ERROR"), MetricTransformations: []lt.MetricTransformation{
			{MetricName: aws.String("ErrorCount"), MetricNamespace: aws.String("App"), MetricValue: aws.String("1"), Unit: lt.StandardUnitCount}}}))
	must[*cloudwatch.PutMetricAlarmOutput](t)(e.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("errors"),
		Namespace: aws.String("App"), MetricName: aws.String("ErrorCount"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(2), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching")}))
	// In the last whole minute: the alarm evaluates whole periods.
	now := time.Now().UTC()
	must[*cloudwatchlogs.PutLogEventsOutput](t)(e.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("i-1"),
		LogEvents: events(now.Truncate(time.Minute).Add(-time.Minute+10*time.Second), "GET / 200", "ERROR db down", "ERROR db down", "ERROR timeout")}))

	stats := must[*cloudwatch.GetMetricStatisticsOutput](t)(e.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"),
		MetricName: aws.String("ErrorCount"), StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount}}))
	var sum float64
	for _, dp := range stats.Datapoints {
		sum += aws.ToFloat64(dp.Sum)
		if dp.Unit != cwtypes.StandardUnitCount {
			t.Fatalf("unit %s", dp.Unit)
		}
	}
	if sum != 3 {
		t.Fatalf("ErrorCount sum %v, want 3 (%+v)", sum, stats.Datapoints)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := must[*cloudwatch.DescribeAlarmsOutput](t)(e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"errors"}}))
		if out.MetricAlarms[0].StateValue == cwtypes.StateValueAlarm {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm stayed %s: %s", out.MetricAlarms[0].StateValue, aws.ToString(out.MetricAlarms[0].StateReason))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRestartAndRetention: events survive a restart, and a retention
// expires them — at once for reads, on disk by the sweep, which a restart
// runs too.
func TestRestartAndRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := newClock()
	e := start(t, server.Config{StateDir: dir, Now: clk.Now})
	group(t, e.logs, "g", "s")
	now := clk.Now()
	must[*cloudwatchlogs.PutLogEventsOutput](t)(e.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: events(now.Add(-36*time.Hour), "old 1", "old 2")}))
	must[*cloudwatchlogs.PutLogEventsOutput](t)(e.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: events(now.Add(-time.Hour), "new 1")}))
	e.stop()

	read := func(c *cloudwatchlogs.Client) string {
		out := must[*cloudwatchlogs.GetLogEventsOutput](t)(c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)}))
		return fmt.Sprint(messages(out.Events, outMsg))
	}
	stored := func(c *cloudwatchlogs.Client) int64 {
		out := must[*cloudwatchlogs.DescribeLogGroupsOutput](t)(c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}))
		return aws.ToInt64(out.LogGroups[0].StoredBytes)
	}
	e = start(t, server.Config{StateDir: dir, Now: clk.Now})
	if got := read(e.logs); got != "[old 1 old 2 new 1]" {
		t.Fatalf("after restart %s", got)
	}
	if got := stored(e.logs); got != int64(len("old 1old 2new 1")) {
		t.Fatalf("stored %d", got)
	}
	must[*cloudwatchlogs.PutRetentionPolicyOutput](t)(e.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}))
	if got := read(e.logs); got != "[new 1]" {
		t.Fatalf("with 1 day retention %s", got)
	}
	e.stop()
	// A day later, a restart's sweep deletes what the retention dropped.
	clk.Add(24 * time.Hour)
	e = start(t, server.Config{StateDir: dir, Now: clk.Now})
	deadline := time.Now().Add(10 * time.Second)
	for stored(e.logs) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d after the sweep", stored(e.logs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := read(e.logs); got != "[]" {
		t.Fatalf("after expiry %s", got)
	}
	e.stop()
	e = start(t, server.Config{StateDir: dir, Now: clk.Now})
	if got := read(e.logs); got != "[]" || stored(e.logs) != 0 {
		t.Fatalf("expired events came back: %s", got)
	}
}

func TestInsightsQuery(t *testing.T) {
	ctx := context.Background()
	c := start(t, server.Config{}).logs
	group(t, c, "/app/web", "a")
	must[*cloudwatchlogs.CreateLogStreamOutput](t)(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("b")}))
	now := time.Now().Truncate(time.Second)
	must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("a"),
		LogEvents: events(now.Add(-time.Minute), `{"level":"ERROR","ms":12}`, `{"level":"INFO","ms":3}`, `{"level":"ERROR","ms":30}`)}))
	must[*cloudwatchlogs.PutLogEventsOutput](t)(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/app/web"), LogStreamName: aws.String("b"),
		LogEvents: events(now.Add(-30*time.Second), `{"level":"ERROR","ms":7}`)}))

	run := func(query string) *cloudwatchlogs.GetQueryResultsOutput {
		t.Helper()
		q := must[*cloudwatchlogs.StartQueryOutput](t)(c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("/app/web"), QueryString: aws.String(query),
			StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())}))
		deadline := time.Now().Add(10 * time.Second)
		for {
			out := must[*cloudwatchlogs.GetQueryResultsOutput](t)(c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: q.QueryId}))
			if out.Status == lt.QueryStatusComplete {
				return out
			}
			if out.Status != lt.QueryStatusRunning || time.Now().After(deadline) {
				t.Fatalf("query %s: %s", query, out.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	row := func(r []lt.ResultField) map[string]string {
		m := map[string]string{}
		for _, f := range r {
			m[aws.ToString(f.Field)] = aws.ToString(f.Value)
		}
		return m
	}

	out := run(`fields @message, @logStream | filter level = "ERROR" | sort ms desc | limit 2`)
	if len(out.Results) != 2 || row(out.Results[0])["@message"] != `{"level":"ERROR","ms":30}` || row(out.Results[1])["@logStream"] != "a" {
		t.Fatalf("rows %v", out.Results)
	}
	if s := out.Statistics; s == nil || s.RecordsScanned != 4 || s.RecordsMatched != 3 {
		t.Fatalf("statistics %+v", out.Statistics)
	}
	rec := must[*cloudwatchlogs.GetLogRecordOutput](t)(c.GetLogRecord(ctx, &cloudwatchlogs.GetLogRecordInput{LogRecordPointer: aws.String(row(out.Results[0])["@ptr"])}))
	if rec.LogRecord["@message"] != `{"level":"ERROR","ms":30}` || rec.LogRecord["@logStream"] != "a" || rec.LogRecord["@log"] != "000000000000:/app/web" {
		t.Fatalf("record %v", rec.LogRecord)
	}

	out = run(`stats count(*) as n, sum(ms) as total by level | sort level asc`)
	if len(out.Results) != 2 || fmt.Sprint(row(out.Results[0])) != "map[level:ERROR n:3 total:49]" {
		t.Fatalf("stats %v, %v", row(out.Results[0]), len(out.Results))
	}

	qs := must[*cloudwatchlogs.DescribeQueriesOutput](t)(c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{LogGroupName: aws.String("/app/web")}))
	if len(qs.Queries) != 2 || qs.Queries[0].Status != lt.QueryStatusComplete {
		t.Fatalf("queries %+v", qs.Queries)
	}
	_, err := c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: qs.Queries[0].QueryId})
	wantCode(t, err, "InvalidParameterException", "not running")
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("/app/web"), QueryString: aws.String("fields |"),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	wantCode(t, err, "MalformedQueryException", "")
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("nope"), QueryString: aws.String("fields @message"),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	wantCode(t, err, "ResourceNotFoundException", "nope")
}

// TestReset: the server's reset deletes the events with the records, on
// disk too.
func TestReset(t *testing.T) {
	ctx := context.Background()
	e := start(t, server.Config{StateDir: t.TempDir()})
	group(t, e.logs, "g", "s")
	must[*cloudwatchlogs.PutLogEventsOutput](t)(e.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: events(time.Now().Add(-time.Minute), "before reset")}))
	resp, err := http.Post(e.url+"/_minicloud/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %s", resp.Status)
	}
	_, err = e.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
	wantCode(t, err, "ResourceNotFoundException", "log group")
	group(t, e.logs, "g", "s")
	out := must[*cloudwatchlogs.GetLogEventsOutput](t)(e.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}))
	if len(out.Events) != 0 {
		t.Fatalf("events after reset: %+v", out.Events)
	}
}

// TestRDSLogExport: an RDS PostgreSQL instance with the postgresql log
// exported writes its engine log here through logport.Writer, into
// /aws/rds/instance/<id>/postgresql, which is created on first write.
func TestRDSLogExport(t *testing.T) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		t.Skip("no PostgreSQL binaries")
	}
	ctx := context.Background()
	e := start(t, server.Config{StateDir: t.TempDir()})
	db := rds.NewFromConfig(e.awsCfg)
	_, err := db.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("logs-db"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("master"), MasterUserPassword: aws.String("s3cret-pass"),
		EnableCloudwatchLogsExports: []string{"postgresql"}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := e.logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/rds/instance/logs-db/postgresql")})
		if err == nil && len(out.Events) > 0 {
			if aws.ToString(out.Events[0].LogStreamName) != "logs-db" {
				t.Fatalf("stream %s", aws.ToString(out.Events[0].LogStreamName))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exported log events: %v", err)
		}
		time.Sleep(time.Second)
	}
}

// TestQueryEngineFault: a query the engine cannot run (5 % 0.5 once divided
// by an integer zero in it) ends — failed or answered — and the server
// goes on; the engine runs in a goroutine of its own, no request's.
func TestQueryEngineFault(t *testing.T) {
	ctx := context.Background()
	c := start(t, server.Config{}).logs
	group(t, c, "g", "s")
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: events(time.Now(), "one")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("g"), QueryString: aws.String("fields 5 % 0.5 as x"),
		StartTime: aws.Int64(0), EndTime: aws.Int64(time.Now().Unix() + 60)})
	if err != nil {
		t.Fatal(err)
	}
	for range 250 {
		r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: out.QueryId})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == lt.QueryStatusFailed || r.Status == lt.QueryStatusComplete {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the query never ended")
}
