package logs

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/logsapi"
	"github.com/minicloud/minicloud/internal/service/logs/insights"
)

// queryFunc runs a parsed query over events.
type queryFunc func(ctx context.Context, events func(yield func(queryEvent) bool)) (queryResult, error)

// parseQuery parses an Insights query with package insights; a parse
// error is MalformedQueryException with the parser's message.
func parseQuery(query string) (queryFunc, error) {
	q, err := insights.Parse(query)
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "MalformedQueryException", "%s", err.Error())
	}
	return func(ctx context.Context, events func(yield func(queryEvent) bool)) (queryResult, error) {
		res, err := q.Run(ctx, func(yield func(insights.Event) bool) {
			for e := range events {
				ie := insights.Event{Time: time.UnixMilli(e.Time).UTC(), Ingestion: time.UnixMilli(e.Ingest).UTC(),
					Message: e.Message, Group: e.Account + ":" + e.Group, Stream: e.Stream, Ptr: e.Ptr}
				if !yield(ie) {
					return
				}
			}
		})
		if err != nil {
			return queryResult{}, fmt.Errorf("run query: %w", err)
		}
		rows := make([][]logsapi.ResultField, len(res.Rows))
		for i, r := range res.Rows {
			rows[i] = make([]logsapi.ResultField, len(r))
			for j, f := range r {
				rows[i][j] = logsapi.ResultField{Field: ptr(f.Name), Value: ptr(f.Value)}
			}
		}
		return queryResult{rows: rows, matched: res.Matched, scanned: res.Scanned, bytes: res.BytesScanned}, nil
	}, nil
}
