package rds

import (
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/rdsapi"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
)

// Log exports to CloudWatch Logs: CreateDBInstance's
// EnableCloudwatchLogsExports and ModifyDBInstance's
// CloudwatchLogsExportConfiguration record the log types to export in
// EnabledCloudwatchLogsExports; the controller tails them
// (controller/logexports.go). A type must be one of the engine's
// ExportableLogTypes (DescribeDBEngineVersions), else AWS answers
// InvalidParameterCombination naming every type it refuses. A change
// applies at once, whatever ApplyImmediately says, as on AWS.

// checkLogTypes refuses the types that engine (of version) does not
// export, in AWS's words.
func checkLogTypes(eng engine.Engine, version string, types []string) error {
	var bad []string
	for _, t := range types {
		if !slices.Contains(eng.Defaults().LogTypes, t) {
			bad = append(bad, "'"+t+"'")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return errCombination("You cannot use the log types %s with engine version %s %s. For supported log types, see the documentation.",
		strings.Join(bad, ", "), eng.Name(), version)
}

// exportsAfter is the types exported once c's are enabled and disabled on
// cur, sorted (the engines' ExportableLogTypes are), nil for none.
func exportsAfter(cur []string, c *rdsapi.CloudwatchLogsExportConfiguration) []string {
	var out []string
	for _, t := range append(slices.Clone(cur), c.EnableLogTypes...) {
		if !slices.Contains(c.DisableLogTypes, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// modifyCheckLogExports checks ModifyDBInstance's
// CloudwatchLogsExportConfiguration against r's engine.
func modifyCheckLogExports(eng engine.Engine, r *records.Instance, c *rdsapi.CloudwatchLogsExportConfiguration) error {
	if c == nil {
		return nil
	}
	return checkLogTypes(eng, deref(r.EngineVersion), append(slices.Clone(c.EnableLogTypes), c.DisableLogTypes...))
}
