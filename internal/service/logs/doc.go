// Package logs is CloudWatch Logs (`logs`, JSON 1.1, X-Amz-Target
// Logs_20140328.*): log groups and streams, PutLogEvents and the reads
// (GetLogEvents, FilterLogEvents), retention that really expires events,
// metric filters that publish to CloudWatch, subscription filters
// (recorded only), Insights queries, and logport.Writer for minicloud's
// own components (Service.Writer), with logport.Groups (Service.Groups)
// for those that must refuse a group that does not exist (Route 53's
// query logging).
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
// frame holds the names and the identity of the stream record). Each
// accepted batch is one frame (events.go has the format): a fixed header
// with its own CRC-32C that carries the batch's summary (time range,
// count, bytes, ingestion time, first sequence number), then the events,
// under a second CRC-32C; it is written and fsynced before PutLogEvents
// answers, so an acknowledged put survives kill -9, and a torn tail (a
// put never acknowledged) is cut on open. Memory holds, per batch, only
// that summary and its place in the file — never the messages — plus each
// stream's summary (first/last event, last ingestion, stored bytes).
// Opening reads the frame headers only (O(batches) small reads); a frame
// whose header fails its CRC, with good ones after it, is logged (file
// and offset) and skipped by finding the next header that checks; a
// payload is checked when read (one that fails is skipped, logged); a
// sweep's leftover .tmp file is removed.
// Files of the first format (the summary inside the payload) are
// converted once when opened. `--ephemeral` keeps the same bytes in
// memory; reset deletes every file.
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
//     Across batches events may come in any time order: reads merge them.
//   - Retention: reads hide events older than the retention at once; a
//     sweep (every SweepInterval, a minute, and at start) drops the
//     batches all of whose events expired (a batch with one live event
//     stays whole: reads hide the rest). Nothing expired: nothing is
//     written. Expired batches at the head of the file (time moves on)
//     are cut by moving the file header's start offset, one small write;
//     the dead head is reclaimed by a copy once it outweighs the live
//     part, and expired batches elsewhere are dropped by copying the live
//     frames as they are (temp file, fsync, rename). AWS takes up to 72 h.
//     Until then storedBytes and firstEventTimestamp count the expired
//     events of a batch that still has live ones.
//   - Stream incarnations: a stream record has a random Gen (older
//     records: their creation time), kept in its event file's names. A
//     put into a stream deleted and created again replaces the old
//     incarnation's data (what a put racing the delete left); the sweep
//     deletes the data of streams that have no record, or another
//     incarnation's, and only the data it listed — not a newer one
//     created meanwhile.
//   - Reads go through cursors (cursor.go): the index orders batches by
//     min and max time, with running maxima and minima, so a read finds
//     its first batch by binary search and merges only the batches it
//     reaches, decoding without the stream's lock (appends go on; a
//     rewrite does not wait: the old file closes when its last reader is
//     done). A page of GetLogEvents or FilterLogEvents costs its own size
//     plus the batches it straddles, whether it is the first page or the
//     thousandth; the tokens are positions (time, sequence) a cursor
//     resumes from. A FilterLogEvents page with a rare pattern still reads
//     until it finds its matches (and one more, to know whether a token is
//     due). Insights queries read the same way, streamed into the engine.
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
