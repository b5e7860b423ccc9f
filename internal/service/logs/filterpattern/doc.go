// Package filterpattern is CloudWatch Logs' filter pattern language — the
// patterns of metric filters, subscription filters and FilterLogEvents —
// compiled once and matched against log event messages. It is pure: no
// store, no I/O; the logs service compiles a filter's pattern when the
// filter is put (a compile error is the InvalidParameterException message)
// and matches each event as it is ingested or filtered.
//
// The three forms of AWS's "Filter pattern syntax" user guide page:
//
//   - unstructured: terms, all of which must occur in the message
//     (case-sensitive), "quoted phrases", -term exclusions, ?term
//     alternatives and %regex% in AWS's restricted regular expression
//     subset;
//   - JSON: { $.a.b = "x" && ($.c > 5 || $.d IS NULL) } over messages that
//     are JSON objects;
//   - space-delimited: [ip, user, ..., status = 4*, bytes > 1000] over
//     messages split on spaces, with "quoted" and [bracketed] fields kept
//     whole.
//
// Match.Value gives the value a metric filter's metricValue or dimension
// selector ($.latency, $bytes) extracts from the matched event.
package filterpattern
