// Package metrics is CloudWatch's metric store: time series keyed by
// account, region, namespace, metric name and sorted dimensions, each split
// by unit, aggregated into the resolution tiers AWS documents and kept
// durable in a directory of its own.
//
// # Tiers
//
// A datapoint is added, when it is put, to the raw tier (3 hours;
// one-second buckets for high-resolution data, one-minute buckets for
// standard data, so a query with a period under a minute sees standard
// data at the minute as AWS does). An hour after an hour of raw data
// ends, that hour is folded into the coarse tiers: one minute (15 days),
// five minutes (63 days) and one hour (455 days); a put later than that
// goes to both. A query of a coarse tier reads its buckets up to the last
// fold and the raw seconds after it, which nest in the same periods, so
// no roll-up job is ever behind a query. A query reads the finest tier
// that still holds its StartTime and whose bucket divides its period (the
// "period rules by age").
//
// # Aggregates and percentiles
//
// A bucket keeps SampleCount, Sum, Minimum and Maximum exactly. For
// percentiles it keeps the values themselves (with their counts) up to 64
// distinct values (8 in the coarse tiers), then switches to a logarithmic
// sketch in the manner of DDSketch: a value is placed in bin ⌈log_γ |v|⌉
// with γ = 1.01/0.99, so a percentile read from the sketch is within 1%
// of a value that was put (relative error), clamped to the bucket's exact
// Minimum and Maximum. Magnitudes under 1e-9 count as zero and the bins
// are bounded (about 2,800 per sign), so a bucket's memory is bounded
// whatever is put. A
// period's percentile is exact while the values of its buckets together
// number at most 4,096, else it merges their sketches. Percentiles are the
// nearest rank: the smallest value v such that at least p% of the samples
// are ≤ v. A statistic set (SampleCount, Sum, Minimum, Maximum) gives
// values only when its Minimum equals its Maximum, as AWS's; otherwise the
// bucket, and each period it is in, has no percentiles.
//
// # Durability
//
// The store has a file of its own rather than records in internal/state's
// bbolt: a PutMetricData adds hundreds of datapoints to tens of buckets,
// and a bbolt record per bucket would rewrite B-tree pages on every put
// for data that is append-mostly and read by time range. Instead each Put
// appends one record (length, CRC-32C, payload: the put's number, time,
// scope and samples) to a write-ahead log and returns once an fsync that
// began after that write has ended, so an acknowledged put survives
// kill -9. The fsync is a group commit: puts write and apply their
// records in turn, then wait together, and one fsync makes every record
// written before it durable (one put runs it, for the others too), so
// concurrent puts do not queue one fsync each (BenchmarkConcurrentPut: 16
// goroutines, ~1.3 ms → ~0.15 ms a put on this machine's disk). Readers
// may see a put's samples just before it is acknowledged (they are
// applied in log order under the writers' lock).
//
// A failed or short write is cut back to the log's last good size, so
// that later records never follow garbage (where the replay would stop,
// losing them); a failed fsync is never retried as if nothing happened
// (the kernel may have dropped the pages and cleared the error): the log
// is broken, every put fails, and the snapshot loop moves to a new log,
// writing memory (which has the records) to a snapshot.
//
// Every five minutes, when the log has records, the loop folds it into
// a snapshot: with the writers stopped for an instant it starts the next
// log (opened before the current one is closed) and notes the last put's
// number; then, with puts going on into the new log, it streams the store
// to a temporary file a series at a time, each under the read lock alone,
// so a put waits at most for one series' encoding; then fsync, rename and
// the old logs go. A series written after a put applied has that put in
// it, which the series' Seq records, and the replay of the new log skips
// what a series has. A crash at any step leaves a snapshot and the logs
// that complete it. A put that finds the log past 64 MiB asks the loop
// for a snapshot rather than writing one inside the client's request.
// Stop writes a last snapshot only when the log is over 8 MiB (a shorter
// one replays in well under a second) and gives up on it when its
// context ends (the log has every put). Opening loads the snapshot and
// replays the logs, stopping at the first torn or corrupt record (a put
// that was never acknowledged). With an empty directory the store is
// memory only (--ephemeral).
//
// # Memory
//
// Every tier is columnar (rawBlock): a block holds a bitmap of its
// buckets with data and, in time order, each bucket's value when it is
// one sample counted once (what publishers and high-resolution puts
// write, and what a minute of standard data folds to), 8 bytes a bucket
// with an implicit timestamp; other buckets keep a full aggregate aside.
// Raw blocks are an hour of seconds; coarse blocks a day of minutes, a
// week of five minutes, two weeks of hours; whole blocks and the expired
// head of the oldest are dropped by reslicing, once per series per put
// and in the loop, never by copying a tier. Coarse buckets keep at most 8
// exact values before their sketch, whose bins are sorted columns.
//
// Steady-state costs (BenchmarkSteadyState, docs/benchmarks.md): 1,000
// metrics at one second for an hour hold about 42 MB
// (BenchmarkHourOfHighRes). A standard one-minute metric holds about
// 1.8 MB of heap at 16 days and 3.1 MB at 30 days (0.9 and 1.5 MB of
// snapshot): its minute tier is full at 15 days at about 0.17 MB; past
// that it grows by about 0.1 MB a day, most of it the five-minute
// buckets' five exact values (about 250 bytes a bucket) and the hourly
// buckets' sketches (about 1 KB), until the five-minute tier fills at 63
// days and the hourly one at 455 — about 15 MB a metric at full
// retention, by extrapolation. Cheaper coarse buckets (a coarser sketch;
// AWS documents no accuracy for its percentiles, only that they need
// values rather than statistic sets) are the next step.
//
// There is no bound on the number of series: AWS has none to copy (custom
// metrics are billed per metric; the quotas are per request: 1,000
// metrics, 150 values, 30 dimensions, 1 MB), so a client putting a new
// dimension value per request grows the store until its data expire (455
// days). Each such one-datapoint series costs a few hundred bytes a tier
// it reaches plus its names.
//
// The package knows nothing of HTTP or of CloudWatch's API shapes
// (internal/service/cloudwatch validates requests and shapes answers); the
// built-in publishers (EC2, RDS, ALB) write here through Put, one Put per
// account and region a tick.
package metrics
