package cloudwatch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

const cpuDashboard = `{"start":"-PT6H","periodOverride":"inherit","widgets":[
 {"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-012345"],[".",".",".","i-abc",{"stat":"Maximum","label":"abc"}]],"period":300,"stat":"Average","region":"us-east-1","title":"EC2 Instance CPU"}},
 {"type":"text","x":0,"y":7,"width":3,"height":3,"properties":{"markdown":"Hello world"}},
 {"type":"log","properties":{"query":"SOURCE '/aws/lambda/f' | fields @message","region":"us-east-1","view":"table"}},
 {"type":"alarm","properties":{"alarms":["arn:aws:cloudwatch:us-east-1:000000000000:alarm:a"],"sortBy":"stateUpdatedTimestamp","states":["ALARM"]}},
 {"type":"explorer","properties":{"metrics":[{"metricName":"CPUUtilization","resourceType":"AWS::EC2::Instance","stat":"Average"}],"period":300}}
]}`

func TestDashboards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cw, stop := startClient(t, dir)
	ctx := context.Background()

	out, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("web-1"), DashboardBody: aws.String(cpuDashboard)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DashboardValidationMessages) != 0 {
		t.Errorf("validation messages of a valid body: %+v", out.DashboardValidationMessages)
	}
	for _, n := range []string{"web-2", "db_1", "web-3"} {
		if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(n), DashboardBody: aws.String(`{"widgets":[]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// A put replaces the whole body.
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("web-3"), DashboardBody: aws.String(`{"widgets": [ ]}`)}); err != nil {
		t.Fatal(err)
	}

	get, err := cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(get.DashboardBody) != cpuDashboard || aws.ToString(get.DashboardName) != "web-1" ||
		aws.ToString(get.DashboardArn) != "arn:aws:cloudwatch::000000000000:dashboard/web-1" {
		t.Errorf("GetDashboard = %s %s %q", aws.ToString(get.DashboardName), aws.ToString(get.DashboardArn), aws.ToString(get.DashboardBody))
	}
	_, err = cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFound", "Dashboard nope does not exist")
	var nf *cwtypes.DashboardNotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("GetDashboard of no dashboard: %T, want *DashboardNotFoundError", err)
	}

	list := func(prefix string) []string {
		t.Helper()
		var names []string
		p := cloudwatch.NewListDashboardsPaginator(cw, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.DashboardEntries {
				names = append(names, aws.ToString(e.DashboardName))
				if e.LastModified == nil || e.LastModified.IsZero() || aws.ToString(e.DashboardArn) != "arn:aws:cloudwatch::000000000000:dashboard/"+aws.ToString(e.DashboardName) {
					t.Errorf("entry %+v", e)
				}
				if want := map[string]int64{"web-1": int64(len(cpuDashboard)), "web-3": int64(len(`{"widgets": [ ]}`))}[*e.DashboardName]; want != 0 && aws.ToInt64(e.Size) != want {
					t.Errorf("%s: Size %d, want %d", *e.DashboardName, aws.ToInt64(e.Size), want)
				}
			}
		}
		return names
	}
	for prefix, want := range map[string][]string{"": {"db_1", "web-1", "web-2", "web-3"}, "web": {"web-1", "web-2", "web-3"}, "x": nil} {
		if got := list(prefix); !slices.Equal(got, want) {
			t.Errorf("ListDashboards(%q) = %v, want %v", prefix, got, want)
		}
	}

	// Dashboards are global: another region's client sees them.
	other, err := cw.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{}, func(o *cloudwatch.Options) { o.Region = "eu-west-1" })
	if err != nil || len(other.DashboardEntries) != 4 {
		t.Errorf("ListDashboards from eu-west-1: %v, %d entries, want 4", err, len(other.DashboardEntries))
	}

	// All or nothing.
	_, err = cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"web-2", "nope"}})
	wantCode(t, err, "ResourceNotFound", "does not exist")
	if got := list("web"); len(got) != 3 {
		t.Errorf("a failed DeleteDashboards deleted some: %v", got)
	}
	if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"web-2", "web-3"}}); err != nil {
		t.Fatal(err)
	}

	// Durable.
	stop()
	cw, _ = startClient(t, dir)
	if got := list(""); !slices.Equal(got, []string{"db_1", "web-1"}) {
		t.Errorf("after restart: %v", got)
	}
	get, err = cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String("web-1")})
	if err != nil || aws.ToString(get.DashboardBody) != cpuDashboard {
		t.Errorf("GetDashboard after restart: %v", err)
	}
}

func TestListDashboardsPages(t *testing.T) {
	t.Parallel()
	cw := newClient(t, "")
	ctx := context.Background()
	var want []string
	for i := range 1003 {
		n := fmt.Sprintf("d-%04d", i)
		want = append(want, n)
		if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(n), DashboardBody: aws.String(`{"widgets":[]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var pages []int
	p := cloudwatch.NewListDashboardsPaginator(cw, &cloudwatch.ListDashboardsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page.DashboardEntries))
		for _, e := range page.DashboardEntries {
			got = append(got, *e.DashboardName)
		}
	}
	if !slices.Equal(pages, []int{1000, 3}) || !slices.Equal(got, want) {
		t.Errorf("pages %v, %d names (in order: %v)", pages, len(got), slices.Equal(got, want))
	}
	_, err := cw.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{NextToken: aws.String("garbage!")})
	wantCode(t, err, "InvalidParameterValue", "NextToken")
}

func TestPutDashboardErrors(t *testing.T) {
	t.Parallel()
	cw := newClient(t, "")
	ctx := context.Background()
	type vm struct{ path, msg string }
	tests := []struct {
		name, body string
		want       []vm
	}{
		{"not JSON", `{"widgets":[}`, []vm{{"", "Should be a valid JSON object"}}},
		{"two values", `{"widgets":[]} {}`, []vm{{"", "Should be a valid JSON object"}}},
		{"array", `[]`, []vm{{"", "Should be object"}}},
		{"no widgets", `{}`, []vm{{"", "Should have required property 'widgets'"}}},
		{"widgets not array", `{"widgets":{}}`, []vm{{"/widgets", "Should be array"}}},
		{"period override", `{"widgets":[],"periodOverride":"sometimes"}`, []vm{{"/periodOverride", "Should be equal to one of the allowed values"}}},
		{"widget without type nor properties", `{"widgets":[{}]}`, []vm{{"/widgets/0", "Should have required property 'type'"}, {"/widgets/0", "Should have required property 'properties'"}}},
		{"unknown type", `{"widgets":[{"type":"graph","properties":{}}]}`, []vm{{"/widgets/0/type", "Should be equal to one of the allowed values"}}},
		{"geometry", `{"widgets":[{"type":"text","x":24,"y":-1,"width":0,"height":1.5,"properties":{"markdown":"m"}}]}`, []vm{
			{"/widgets/0/x", "Should be <= 23"}, {"/widgets/0/y", "Should be >= 0"}, {"/widgets/0/width", "Should be >= 1"}, {"/widgets/0/height", "Should be integer"}}},
		{"text without markdown", `{"widgets":[{"type":"text","properties":{"background":"red"}}]}`, []vm{
			{"/widgets/0/properties", "Should have required property 'markdown'"}, {"/widgets/0/properties/background", "Should be equal to one of the allowed values"}}},
		{"metric without metrics", `{"widgets":[{"type":"text","properties":{"markdown":"m"}},{"type":"metric","properties":{"view":"line"}}]}`, []vm{
			{"/widgets/1/properties", "Should have required property 'metrics'"}, {"/widgets/1/properties/view", "Should be equal to one of the allowed values"}}},
		// The two shapes of mistake AWS's traces show for metric lines.
		{"dimensions as a map", `{"widgets":[{"type":"metric","properties":{"metrics":[["AWS/ECS","CPUUtilization",{"ClusterName":"c"}]]}}]}`, []vm{
			{"/widgets/0/properties/metrics/0", "Should NOT have more than 2 items"}}},
		{"object inside a line", `{"widgets":[{"type":"metric","properties":{"metrics":[["AWS/EC2","CPUUtilization",{"stat":"Sum"},"InstanceId","i-1"]]}}]}`, []vm{
			{"/widgets/0/properties/metrics/0/2", `Invalid metric field type, only "String" type is allowed`}}},
		{"number in a line", `{"widgets":[{"type":"metric","properties":{"metrics":[["AWS/EC2",5]]}}]}`, []vm{
			{"/widgets/0/properties/metrics/0/1", `Invalid metric field type, only "String" type is allowed`}}},
		{"log without query", `{"widgets":[{"type":"log","properties":{"region":"us-east-1"}}]}`, []vm{{"/widgets/0/properties", "Should have required property 'query'"}}},
		{"alarm widget", `{"widgets":[{"type":"alarm","properties":{"alarms":[],"states":["BAD"]}}]}`, []vm{
			{"/widgets/0/properties/alarms", "Should NOT have fewer than 1 items"}, {"/widgets/0/properties/states/0", "Should be equal to one of the allowed values"}}},
		{"explorer", `{"widgets":[{"type":"explorer","properties":{"metrics":[{"metricName":"CPUUtilization"}]}}]}`, []vm{
			{"/widgets/0/properties/metrics/0", "Should have required property 'resourceType'"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String("d"), DashboardBody: aws.String(tc.body)})
			wantCode(t, err, "InvalidParameterInput", fmt.Sprintf("The dashboard body is invalid, there are %d validation errors:", len(tc.want)))
			var ie *cwtypes.DashboardInvalidInputError
			if !errors.As(err, &ie) {
				t.Fatalf("%T, want *DashboardInvalidInputError", err)
			}
			var got []vm
			for _, m := range ie.DashboardValidationMessages {
				got = append(got, vm{aws.ToString(m.DataPath), aws.ToString(m.Message)})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("validation messages\n got %q\nwant %q", got, tc.want)
			}
			// The message embeds the same list, dataPath first.
			if len(tc.want) > 0 && !strings.Contains(ie.ErrorMessage(), fmt.Sprintf("\"dataPath\": %q,\n    \"message\": %q", tc.want[0].path, tc.want[0].msg)) {
				t.Errorf("message %q", ie.ErrorMessage())
			}
		})
	}

	for _, name := range []string{"has space", "dot.ted", "", strings.Repeat("a", 256)} {
		_, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(`{"widgets":[]}`)})
		wantCode(t, err, "InvalidParameterValue", fmt.Sprintf("The value %s for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).", name))
	}
	if _, err := cw.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(strings.Repeat("a", 255)), DashboardBody: aws.String(`{"widgets":[]}`)}); err != nil {
		t.Errorf("255-character name: %v", err)
	}
	_, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: make([]string, 101)})
	wantCode(t, err, "InvalidParameterValue", "The collection DashboardNames must not have a size greater than 100.")
}
