package ssm_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func put(t *testing.T, e *testEnv, in *ssm.PutParameterInput) *ssm.PutParameterOutput {
	t.Helper()
	out, err := e.ssm.PutParameter(e.ctx, in)
	if err != nil {
		t.Fatalf("PutParameter %s: %v", aws.ToString(in.Name), err)
	}
	return out
}

// TestPutParameterErrors: what PutParameter refuses, with AWS's codes and
// messages.
func TestPutParameterErrors(t *testing.T) {
	e := newEnv(t, "")
	put(t, e, &ssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("v"), Type: types.ParameterTypeString})
	put(t, e, &ssm.PutParameterInput{Name: aws.String("/adv"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced})
	long := strings.Repeat("x", 4097)
	deep := "/" + strings.Repeat("a/", 15) + "b"
	for _, tc := range []struct {
		name, code, msg string
		in              ssm.PutParameterInput
	}{
		{"no type on create", "ValidationException", "A parameter type is required",
			ssm.PutParameterInput{Name: aws.String("new"), Value: aws.String("v")}},
		{"exists without overwrite", "ParameterAlreadyExists", "The parameter already exists.",
			ssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"tags with overwrite", "ValidationException", "tags and overwrite can't be used together",
			ssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("v"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
		{"aws prefix", "ValidationException", `can't be prefixed with "aws" or "ssm"`,
			ssm.PutParameterInput{Name: aws.String("awsThing"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"ssm prefix in a path", "ValidationException", "If formed as a path",
			ssm.PutParameterInput{Name: aws.String("/SSM/thing"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"reserved /aws path", "AccessDeniedException", "No access to reserved parameter name: /aws/x.",
			ssm.PutParameterInput{Name: aws.String("/aws/x"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"not fully qualified", "ValidationException", "Parameter name must be a fully qualified name.",
			ssm.PutParameterInput{Name: aws.String("a/b"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"space in name", "ValidationException", "If formed as a path",
			ssm.PutParameterInput{Name: aws.String("a b"), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"16 levels", "HierarchyLevelLimitExceededException", "maximum of 15 levels",
			ssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: types.ParameterTypeString}},
		{"empty value", "ValidationException", "Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
			ssm.PutParameterInput{Name: aws.String("e"), Value: aws.String(""), Type: types.ParameterTypeString}},
		{"bad type", "ValidationException", "Member must satisfy enum value set: [String, StringList, SecureString]",
			ssm.PutParameterInput{Name: aws.String("t"), Value: aws.String("v"), Type: "Binary"}},
		{"long description", "ValidationException", "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024",
			ssm.PutParameterInput{Name: aws.String("d"), Value: aws.String("v"), Type: types.ParameterTypeString, Description: aws.String(strings.Repeat("d", 1025))}},
		{"standard value too long", "ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters.",
			ssm.PutParameterInput{Name: aws.String("big"), Value: aws.String(long), Type: types.ParameterTypeString}},
		{"advanced value too long", "ValidationException", "maximum parameter value of 8192",
			ssm.PutParameterInput{Name: aws.String("bigger"), Value: aws.String(strings.Repeat("x", 8193)), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced}},
		{"no downgrade", "ValidationException", "You can't downgrade a parameter from the advanced-parameter tier",
			ssm.PutParameterInput{Name: aws.String("/adv"), Value: aws.String("v2"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard}},
		{"pattern mismatch", "ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: ^\\d+$",
			ssm.PutParameterInput{Name: aws.String("n"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`^\d+$`)}},
		{"bad pattern", "InvalidAllowedPatternException", "",
			ssm.PutParameterInput{Name: aws.String("n"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String(`(`)}},
		{"unknown data type", "ValidationException", "The following data type is not supported: TEXT (Data type names are all lowercase.)",
			ssm.PutParameterInput{Name: aws.String("dt"), Value: aws.String("v"), Type: types.ParameterTypeString, DataType: aws.String("TEXT")}},
		{"image that is no AMI ID", "ValidationException", "is not in a valid format for the aws:ec2:image data type",
			ssm.PutParameterInput{Name: aws.String("img"), Value: aws.String("nope"), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")}},
		{"image that does not exist", "ValidationException", "Unable to validate the image ID ami-0123456789abcdef0",
			ssm.PutParameterInput{Name: aws.String("img"), Value: aws.String("ami-0123456789abcdef0"), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")}},
		{"policies on a standard parameter", "ValidationException", "Standard tier parameters don't support parameter policies",
			ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierStandard,
				Policies: aws.String(`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Days"}}]`)}},
		{"unknown policy type", "InvalidPolicyTypeException", "The policy type is not supported.",
			ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced,
				Policies: aws.String(`[{"Type":"Rotate","Version":"1.0","Attributes":{}}]`)}},
		{"two expirations", "IncompatiblePolicyException", "",
			ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced,
				Policies: aws.String(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2099-01-01T00:00:00.000Z"}},{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2099-01-02T00:00:00.000Z"}}]`)}},
		{"expiration in the past", "InvalidPolicyAttributeException", "",
			ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced,
				Policies: aws.String(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2001-01-01T00:00:00.000Z"}}]`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ssm.PutParameter(e.ctx, &tc.in)
			wantError(t, err, tc.code, tc.msg)
		})
	}
}

// TestParameterRoundTrip: versions, selectors, tiers, history and
// deletion, as the SDK sees them.
func TestParameterRoundTrip(t *testing.T) {
	e := newEnv(t, "")
	if out := put(t, e, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("h1"), Type: types.ParameterTypeString,
		Description: aws.String("the host"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); aws.ToInt64(&out.Version) != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("first put: version %d tier %s", out.Version, out.Tier)
	}
	// Overwrite keeps the type when none is given; Intelligent-Tiering
	// picks Advanced for a value over 4 KB.
	big := strings.Repeat("y", 5000)
	if out := put(t, e, &ssm.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String(big), Overwrite: aws.Bool(true), Tier: types.ParameterTierIntelligentTiering}); out.Version != 2 || out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("overwrite: version %d tier %s", out.Version, out.Tier)
	}
	got, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host")})
	if err != nil || aws.ToString(got.Parameter.Value) != big || got.Parameter.Type != types.ParameterTypeString || got.Parameter.Version != 2 {
		t.Fatalf("GetParameter: %+v %v", got, err)
	}
	if want := "arn:aws:ssm:us-east-1:000000000000:parameter/app/db/host"; aws.ToString(got.Parameter.ARN) != want {
		t.Errorf("ARN %s, want %s", aws.ToString(got.Parameter.ARN), want)
	}
	for _, tc := range []struct{ name, value, selector, code string }{
		{"/app/db/host:1", "h1", ":1", ""},
		{"arn:aws:ssm:us-east-1:000000000000:parameter/app/db/host:1", "h1", ":1", ""},
		{"/app/db/host:3", "", "", "ParameterVersionNotFound"},
		{"/app/db/host:nolabel", "", "", "ParameterVersionNotFound"},
		{"/app/db/none", "", "", "ParameterNotFound"},
		{"arn:aws:ssm:us-east-1:111111111111:parameter/app/db/host", "", "", "ParameterNotFound"},
	} {
		out, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String(tc.name)})
		if tc.code != "" {
			wantError(t, err, tc.code, "")
			continue
		}
		if err != nil || aws.ToString(out.Parameter.Value) != tc.value || aws.ToString(out.Parameter.Selector) != tc.selector {
			t.Errorf("GetParameter %s: %+v %v", tc.name, out, err)
		}
	}
	many, err := e.ssm.GetParameters(e.ctx, &ssm.GetParametersInput{Names: []string{"/app/db/host:1", "/nope", "/app/db/host:9"}})
	if err != nil || len(many.Parameters) != 1 || !slices.Equal(many.InvalidParameters, []string{"/nope", "/app/db/host:9"}) {
		t.Fatalf("GetParameters: %+v %v", many, err)
	}
	hist, err := e.ssm.GetParameterHistory(e.ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/host")})
	if err != nil || len(hist.Parameters) != 2 || aws.ToString(hist.Parameters[0].Description) != "the host" || hist.Parameters[1].Tier != types.ParameterTierAdvanced {
		t.Fatalf("history: %+v %v", hist, err)
	}
	tags, err := e.ssm.ListTagsForResource(e.ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/app/db/host")})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "env" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if _, err := e.ssm.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/db/host")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ssm.DeleteParameter(e.ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/db/host")})
	wantError(t, err, "ParameterNotFound", "")
	// "plain" and "/plain" are one parameter, answered by the name asked
	// (AWS-validated behaviour); a hierarchy needs its leading slash.
	put(t, e, &ssm.PutParameterInput{Name: aws.String("plain"), Value: aws.String("123"), Type: types.ParameterTypeString})
	_, err = e.ssm.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/plain"), Value: aws.String("x"), Type: types.ParameterTypeString})
	wantError(t, err, "ParameterAlreadyExists", "")
	slash, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/plain")})
	if err != nil || aws.ToString(slash.Parameter.Name) != "/plain" || aws.ToString(slash.Parameter.Value) != "123" {
		t.Fatalf("/plain: %+v %v", slash, err)
	}
	byARN, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: slash.Parameter.ARN})
	if err != nil || aws.ToString(byARN.Parameter.Name) != "plain" {
		t.Fatalf("by ARN: %+v %v", byARN, err)
	}
	put(t, e, &ssm.PutParameterInput{Name: aws.String("/h/b/c"), Value: aws.String("v"), Type: types.ParameterTypeString})
	for _, name := range []string{"h/b/c", "/h//b//c"} {
		_, err = e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		wantError(t, err, "ValidationException", "sub-paths divided by slash symbol")
	}
	// Another account or region has parameters of its own.
	_, err = e.ssmIn("111111111111", "us-east-1").GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/host")})
	wantError(t, err, "ParameterNotFound", "")
}

// TestLabels: a label is on one version at a time, ten at most per
// version; invalid labels are answered back.
func TestLabels(t *testing.T) {
	e := newEnv(t, "")
	for i := range 3 {
		put(t, e, &ssm.PutParameterInput{Name: aws.String("cfg"), Value: aws.String(fmt.Sprint("v", i+1)), Type: types.ParameterTypeString, Overwrite: aws.Bool(i > 0)})
	}
	out, err := e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("cfg"), ParameterVersion: aws.Int64(1), Labels: []string{"prod", "aws-x", "1st", "ok.v-1"}})
	if err != nil || !slices.Equal(out.InvalidLabels, []string{"aws-x", "1st"}) || out.ParameterVersion != 1 {
		t.Fatalf("label: %+v %v", out, err)
	}
	// Moving prod to the latest version.
	if _, err := e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("cfg"), Labels: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("cfg:prod")})
	if err != nil || aws.ToString(got.Parameter.Value) != "v3" {
		t.Fatalf("cfg:prod: %+v %v", got, err)
	}
	un, err := e.ssm.UnlabelParameterVersion(e.ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("cfg"), ParameterVersion: aws.Int64(1), Labels: []string{"prod", "ok.v-1"}})
	if err != nil || !slices.Equal(un.RemovedLabels, []string{"ok.v-1"}) || !slices.Equal(un.InvalidLabels, []string{"prod"}) {
		t.Fatalf("unlabel: %+v %v", un, err)
	}
	var ten []string
	for i := range 10 {
		ten = append(ten, fmt.Sprint("l", i))
	}
	if _, err := e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("cfg"), ParameterVersion: aws.Int64(2), Labels: ten}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("cfg"), ParameterVersion: aws.Int64(2), Labels: []string{"eleven"}})
	wantError(t, err, "ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels.")
	_, err = e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("cfg"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	wantError(t, err, "ParameterVersionNotFound", "Systems Manager could not find version 7 of cfg.")
}

// TestVersionLimit: 100 versions are kept; the oldest goes unless it has
// a label.
func TestVersionLimit(t *testing.T) {
	e := newEnv(t, "")
	for i := range 100 {
		put(t, e, &ssm.PutParameterInput{Name: aws.String("v"), Value: aws.String(fmt.Sprint(i)), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	}
	if _, err := e.ssm.LabelParameterVersion(e.ctx, &ssm.LabelParameterVersionInput{Name: aws.String("v"), ParameterVersion: aws.Int64(1), Labels: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.ssm.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("v"), Value: aws.String("x"), Overwrite: aws.Bool(true)})
	wantError(t, err, "ParameterMaxVersionLimitExceeded", "Version 1, the oldest version, can't be deleted because it has a label associated with it.")
	if _, err := e.ssm.UnlabelParameterVersion(e.ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("v"), ParameterVersion: aws.Int64(1), Labels: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	if out := put(t, e, &ssm.PutParameterInput{Name: aws.String("v"), Value: aws.String("x"), Overwrite: aws.Bool(true)}); out.Version != 101 {
		t.Fatalf("version %d", out.Version)
	}
	_, err = e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("v:1")})
	wantError(t, err, "ParameterVersionNotFound", "")
	var n int
	p := ssm.NewGetParameterHistoryPaginator(e.ssm, &ssm.GetParameterHistoryInput{Name: aws.String("v"), MaxResults: aws.Int32(30)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Parameters)
	}
	if n != 100 {
		t.Fatalf("history has %d versions, want 100", n)
	}
}

// TestByPathAndDescribe: hierarchies, filters and pages.
func TestByPathAndDescribe(t *testing.T) {
	e := newEnv(t, "")
	for _, p := range []struct {
		name string
		typ  types.ParameterType
	}{{"/a/x", types.ParameterTypeString}, {"/a/y", types.ParameterTypeSecureString}, {"/a/b/z", types.ParameterTypeStringList}, {"/a/b/c/w", types.ParameterTypeString}, {"/ab", types.ParameterTypeString}, {"flat", types.ParameterTypeString}} {
		put(t, e, &ssm.PutParameterInput{Name: aws.String(p.name), Value: aws.String("v1,v2"), Type: p.typ})
	}
	names := func(ps []types.Parameter) []string {
		var out []string
		for _, p := range ps {
			out = append(out, aws.ToString(p.Name))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		in        ssm.GetParametersByPathInput
		want      []string
		code, msg string
	}{
		{"one level", ssm.GetParametersByPathInput{Path: aws.String("/a")}, []string{"/a/x", "/a/y"}, "", ""},
		{"trailing slash", ssm.GetParametersByPathInput{Path: aws.String("/a/")}, []string{"/a/x", "/a/y"}, "", ""},
		{"recursive", ssm.GetParametersByPathInput{Path: aws.String("/a"), Recursive: aws.Bool(true)}, []string{"/a/b/c/w", "/a/b/z", "/a/x", "/a/y"}, "", ""},
		{"root", ssm.GetParametersByPathInput{Path: aws.String("/")}, []string{"/ab"}, "", ""},
		{"type filter", ssm.GetParametersByPathInput{Path: aws.String("/a"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString", "StringList"}}}}, []string{"/a/b/z", "/a/y"}, "", ""},
		{"name filter refused", ssm.GetParametersByPathInput{Path: aws.String("/a"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}},
			nil, "InvalidFilterKey", ""},
		{"bad path", ssm.GetParametersByPathInput{Path: aws.String("a")}, nil, "ValidationException", "The parameter doesn't meet the parameter name requirements."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			p := ssm.NewGetParametersByPathPaginator(e.ssm, &tc.in, func(o *ssm.GetParametersByPathPaginatorOptions) { o.Limit = 1 })
			for p.HasMorePages() {
				page, err := p.NextPage(e.ctx)
				if tc.code != "" {
					wantError(t, err, tc.code, tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, names(page.Parameters)...)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := e.ssm.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/a"), MaxResults: aws.Int32(11)})
	wantError(t, err, "ValidationException", "Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10")
	for _, tc := range []struct {
		name      string
		in        ssm.DescribeParametersInput
		want      []string
		code, msg string
	}{
		{"all", ssm.DescribeParametersInput{}, []string{"/a/b/c/w", "/a/b/z", "/a/x", "/a/y", "/ab", "flat"}, "", ""},
		{"path recursive", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/a/b"}}}},
			[]string{"/a/b/c/w", "/a/b/z"}, "", ""},
		{"name begins with", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/a/"}}}},
			[]string{"/a/b/c/w", "/a/b/z", "/a/x", "/a/y"}, "", ""},
		{"name contains", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Contains"), Values: []string{"la"}}}},
			[]string{"flat"}, "", ""},
		{"key id", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("KeyId"), Values: []string{"alias/aws/ssm"}}}},
			[]string{"/a/y"}, "", ""},
		{"old filters", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/a/b"}}}},
			[]string{"/a/b/c/w", "/a/b/z"}, "", ""},
		{"both kinds", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"x"}}},
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}}, nil, "ValidationException", "You can use either Filters or ParameterFilters"},
		{"label refused", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"x"}}}},
			nil, "InvalidFilterKey", ""},
		{"bad option", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Option: aws.String("Contains"), Values: []string{"String"}}}},
			nil, "InvalidFilterOption", ""},
		{"bad type value", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Blob"}}}},
			nil, "InvalidFilterValue", ""},
		{"duplicate key", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"String"}}, {Key: aws.String("Type"), Values: []string{"String"}}}},
			nil, "InvalidFilterKey", ""},
	} {
		t.Run("describe "+tc.name, func(t *testing.T) {
			var got []string
			p := ssm.NewDescribeParametersPaginator(e.ssm, &tc.in, func(o *ssm.DescribeParametersPaginatorOptions) { o.Limit = 2 })
			for p.HasMorePages() {
				page, err := p.NextPage(e.ctx)
				if tc.code != "" {
					wantError(t, err, tc.code, tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range page.Parameters {
					got = append(got, aws.ToString(m.Name))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSecureStringAtRest: a SecureString is stored encrypted, answered as
// ciphertext without WithDecryption, and decrypts after a restart with the
// key kept in the state directory.
func TestSecureStringAtRest(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	const secret = "correct-horse-battery-staple"
	put(t, e, &ssm.PutParameterInput{Name: aws.String("/db/password"), Value: aws.String(secret), Type: types.ParameterTypeSecureString})
	put(t, e, &ssm.PutParameterInput{Name: aws.String("/db/other"), Value: aws.String(secret), Type: types.ParameterTypeSecureString, KeyId: aws.String("alias/mine")})
	enc, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/db/password")})
	if err != nil || aws.ToString(enc.Parameter.Value) == secret || aws.ToString(enc.Parameter.Value) == "" {
		t.Fatalf("without decryption: %+v %v", enc, err)
	}
	desc, err := e.ssm.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(desc.Parameters) != 2 || aws.ToString(desc.Parameters[0].KeyId) != "alias/mine" || aws.ToString(desc.Parameters[1].KeyId) != "alias/aws/ssm" {
		t.Fatalf("describe: %+v %v", desc, err)
	}
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(secret)) {
		t.Fatal("the secret is in state.db in the clear")
	}
	e2 := newEnv(t, dir)
	for _, name := range []string{"/db/password", "/db/other"} {
		got, err := e2.ssm.GetParameter(e2.ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil || aws.ToString(got.Parameter.Value) != secret {
			t.Fatalf("after restart %s: %+v %v", name, got, err)
		}
	}
	byPath, err := e2.ssm.GetParametersByPath(e2.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/db"), WithDecryption: aws.Bool(true)})
	if err != nil || len(byPath.Parameters) != 2 || aws.ToString(byPath.Parameters[0].Value) != secret {
		t.Fatalf("by path: %+v %v", byPath, err)
	}
}

// TestPublicParameters: the AMI parameters AWS publishes answer the images
// EC2 serves, read-only.
func TestPublicParameters(t *testing.T) {
	e := newEnv(t, "")
	for _, name := range []string{
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64",
		"/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
		"/aws/service/canonical/ubuntu/server/jammy/stable/current/arm64/hvm/ebs-gp2/ami-id",
		"/aws/service/debian/release/12/latest/amd64",
		"/aws/service/debian/release/bookworm/latest/arm64",
	} {
		got, err := e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil || !strings.HasPrefix(aws.ToString(got.Parameter.Value), "ami-") {
			t.Fatalf("%s: %+v %v", name, got, err)
		}
		if want := "arn:aws:ssm:us-east-1::parameter" + name; aws.ToString(got.Parameter.ARN) != want {
			t.Errorf("ARN %s, want %s", aws.ToString(got.Parameter.ARN), want)
		}
		// The image is one EC2 launches: aws:ec2:image accepts it.
		put(t, e, &ssm.PutParameterInput{Name: aws.String("/golden" + strings.ReplaceAll(strings.TrimPrefix(name, "/aws/service"), ".", "-")),
			Value: got.Parameter.Value, Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
	}
	out, err := e.ssm.GetParametersByPath(e.ctx, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/ami-amazon-linux-latest")})
	if err != nil || len(out.Parameters) != 4 {
		t.Fatalf("by path: %+v %v", out, err)
	}
	_, err = e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/amzn-ami-none")})
	wantError(t, err, "ParameterNotFound", "")
	_, err = e.ssm.PutParameter(e.ctx, &ssm.PutParameterInput{Name: aws.String("/aws/service/mine"), Value: aws.String("v"), Type: types.ParameterTypeString})
	wantError(t, err, "AccessDeniedException", "")
}

// TestExpirationPolicy: an advanced parameter with an Expiration policy
// is gone once its time passes.
func TestExpirationPolicy(t *testing.T) {
	e := newEnv(t, "")
	at := time.Now().Add(2 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	out := put(t, e, &ssm.PutParameterInput{Name: aws.String("temp"), Value: aws.String("v"), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering,
		Policies: aws.String(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"` + at + `"}},{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Hours"}}]`)})
	if out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("tier %s: policies need Advanced", out.Tier)
	}
	desc, err := e.ssm.DescribeParameters(e.ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(desc.Parameters) != 1 || len(desc.Parameters[0].Policies) != 2 || aws.ToString(desc.Parameters[0].Policies[0].PolicyStatus) != "Pending" {
		t.Fatalf("describe: %+v %v", desc, err)
	}
	time.Sleep(time.Until(time.Now().Add(2100 * time.Millisecond)))
	_, err = e.ssm.GetParameter(e.ctx, &ssm.GetParameterInput{Name: aws.String("temp")})
	wantError(t, err, "ParameterNotFound", "")
}
