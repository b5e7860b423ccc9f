package rds_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Log exports: CreateDBInstance's EnableCloudwatchLogsExports and
// ModifyDBInstance's CloudwatchLogsExportConfiguration take the engine's
// ExportableLogTypes only, and EnabledCloudwatchLogsExports shows them.
func TestLogExportsSettings(t *testing.T) {
	t.Parallel()
	if !hasPostgres() {
		t.Skip("no PostgreSQL binaries")
	}
	e := newEnv(t)
	ev, err := e.rds.DescribeDBEngineVersions(e.ctx, &rds.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil || len(ev.DBEngineVersions) == 0 {
		t.Fatalf("engine versions: %v", err)
	}
	if got := ev.DBEngineVersions[0].ExportableLogTypes; !slices.Equal(got, []string{"postgresql", "upgrade"}) {
		t.Fatalf("ExportableLogTypes %v", got)
	}
	version := aws.ToString(ev.DBEngineVersions[0].EngineVersion)

	in := createInput("logs")
	in.EnableCloudwatchLogsExports = []string{"postgresql", "general", "audit"}
	_, err = e.rds.CreateDBInstance(e.ctx, in)
	wantCode(t, err, "InvalidParameterCombination")
	if want := "You cannot use the log types 'general', 'audit' with engine version postgres " + version + ". For supported log types, see the documentation."; !strings.Contains(err.Error(), want) {
		t.Fatalf("message: %v, want %q", err, want)
	}

	in.EnableCloudwatchLogsExports = []string{"postgresql"}
	out, err := e.rds.CreateDBInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.DBInstance.EnabledCloudwatchLogsExports; !slices.Equal(got, []string{"postgresql"}) {
		t.Fatalf("created with %v", got)
	}
	e.waitStatus(t, "logs", "available")
	for _, tc := range []struct {
		name            string
		enable, disable []string
		code            string
		want            []string
	}{
		{"a type postgres does not export", []string{"slowquery"}, nil, "InvalidParameterCombination", []string{"postgresql"}},
		{"enable and disable at once", []string{"upgrade"}, []string{"postgresql"}, "", []string{"upgrade"}},
		{"enable again what is on", []string{"upgrade", "postgresql"}, nil, "", []string{"postgresql", "upgrade"}},
		{"disable all", nil, []string{"postgresql", "upgrade"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("logs"),
				CloudwatchLogsExportConfiguration: &types.CloudwatchLogsExportConfiguration{EnableLogTypes: tc.enable, DisableLogTypes: tc.disable}})
			if tc.code != "" {
				wantCode(t, err, tc.code)
			} else if err != nil {
				t.Fatal(err)
			} else if got := out.DBInstance.EnabledCloudwatchLogsExports; !slices.Equal(got, tc.want) {
				t.Fatalf("ModifyDBInstance answered %v, want %v", got, tc.want)
			}
			d, err := e.rds.DescribeDBInstances(e.ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("logs")})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.DBInstances[0].EnabledCloudwatchLogsExports; !slices.Equal(got, tc.want) {
				t.Fatalf("described %v, want %v", got, tc.want)
			}
		})
	}
}
