package logs

import (
	"context"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
)

// queryFunc runs a parsed query over events.
type queryFunc func(ctx context.Context, events func(yield func(queryEvent) bool)) (queryResult, error)

// parseQuery parses an Insights query. The engine (package insights) is
// not wired yet: queries are refused rather than answered wrongly.
func parseQuery(string) (queryFunc, error) {
	return nil, api.Errorf(http.StatusNotImplemented, "NotImplemented", "minicloud does not run CloudWatch Logs Insights queries yet")
}
