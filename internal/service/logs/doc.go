// Package logs is CloudWatch Logs (`logs`, JSON 1.1, X-Amz-Target
// Logs_20140328.*): log groups and streams, PutLogEvents and the reads
// (GetLogEvents, FilterLogEvents), retention that really expires events,
// metric filters that publish to CloudWatch, subscription filters
// (recorded only), Insights queries, and logport.Writer for minicloud's
// own components (Service.Writer).
//
// # Where things live
//
// Records — groups (retention, KMS key, class, tags), streams, metric and
// subscription filters, queries with their results — are small and
// transactional: they live in state.db through internal/state, keyed
// "logs/<kind>/<id>"; a stream's or a filter's id is "<group>:<name>"
// (neither name may hold ':'), so one group's children are one prefix
// scan. `--ephemeral` keeps them in the memory store; the server's reset
// deletes them with the rest of the state.
//
// Events are append-mostly data, like metrics (see internal/metrics' doc):
// a bbolt write per PutLogEvents would rewrite B-tree pages for data that
// is only ever appended, read in time ranges and dropped by age. They live
// in files of their own, <state-dir>/logs (eventsDir in the server): one
// append-only file per stream (directory and file named by hashes of the
// names, which may hold '/' and run to 512 characters; the file's first
// frame holds the names). Each accepted batch is one CRC-32C framed frame
// (ingestion time, first sequence number, each event's timestamp and
// message), written and fsynced before PutLogEvents answers, so an
// acknowledged put survives kill -9; a torn tail (a put never
// acknowledged) is cut on open. Memory holds, per batch, only its place in
// the file, time range, count and bytes — never the messages — plus each
// stream's summary (first/last event, last ingestion, stored bytes); a
// read decodes only the batches whose time range overlaps the request.
// Opening reads every file once to rebuild that index. `--ephemeral`
// keeps the same frames in memory; reset deletes every file.
//
// # Rules worth knowing
//
//   - PutLogEvents: ≤ 10,000 events, ≤ 1,048,576 bytes (message bytes + 26
//     each), chronological, spanning ≤ 24 h, else InvalidParameterException
//     and nothing is stored. Events older than 14 days or the group's
//     retention, or more than 2 h ahead, are left out and reported
//     (tooOldLogEventEndIndex and expiredLogEventEndIndex exclusive,
//     tooNewLogEventStartIndex inclusive). The sequence token is ignored
//     (AWS no longer requires it); nextSequenceToken is still answered.
//     Across batches events may come in any time order: reads sort them.
//   - Retention: reads hide events older than the retention at once; a
//     sweep (every SweepInterval, a minute, and at start) rewrites the
//     files without them (temp file, fsync, rename). AWS takes up to 72 h.
//     The sweep also deletes the events of streams that have no record
//     (a put that raced the stream's or group's deletion).
//   - Reads decode the overlapping batches of each stream they touch and
//     sort them in memory: a request over a long range of a large stream
//     costs that range's size (bounded per page by the limits below, not
//     by the read); an index by time within a batch is the next step if
//     that matters.
//   - GetLogEvents' tokens are "f/…" and "b/…" digits (the position of the
//     next page); at the end the same forward token comes back, as AWS.
//     FilterLogEvents always interleaves; searchedLogStreams lists every
//     stream searched, completely.
//   - Metric filters (100 per group, one transformation each): each event
//     that matches publishes one datapoint at the event's time (value "1",
//     a number, or a "$.field"/"$field" reference; dimensions from
//     fields), through metricport.Publisher; a batch with no match
//     publishes defaultValue once. A publish failure is logged: the events
//     are already stored.
//   - Subscription filters (2 per group) are recorded and listed; nothing
//     is delivered to their destinations yet.
//   - Insights: queries run in a goroutine each (30 at a time per server,
//     AWS's per-account quota), results kept in the query's record; a query
//     still running when minicloud stopped reports Failed. Queries and
//     their results are kept 7 days (AWS's quota page): the sweep deletes
//     older ones, and GetQueryResults then answers ResourceNotFound as for
//     an unknown id.
//   - TestMetricFilter's extractedValues are filterpattern's
//     Match.Extracted: "$name" per named space-delimited field, "$N" for
//     the fields no name took, "$.a.b" per JSON selector with a value.
//   - Filter patterns are internal/service/logs/filterpattern's (another
//     branch writes it); queries internal/service/logs/insights' (see
//     insights.go for what is wired).
package logs
