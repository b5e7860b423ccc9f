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
// appends one record (length, CRC-32C, payload) to a write-ahead log and
// returns once an fsync that began after that write has ended, so an
// acknowledged put survives kill -9. The fsync is a group commit: puts
// write and apply their records in turn, then wait together, and one
// fsync makes every record written before it durable (one put runs it,
// for the others too), so concurrent puts do not queue one fsync each
// (BenchmarkConcurrentPut: 16 goroutines, ~1.3 ms → ~0.15 ms a put on
// this machine's disk). Readers may see a put's samples just before it is
// acknowledged (they are applied in log order under the writers' lock,
// which the snapshot's cut needs); every
// few minutes (or when the log passes 64 MiB) the whole store is written
// to a snapshot file (temporary file, fsync, rename) and the log restarts.
// Opening loads the snapshot and replays the log, stopping at the first
// torn or corrupt record (a put that was never acknowledged). With an
// empty directory the store is memory only (--ephemeral).
//
// # Memory
//
// The raw tier is columnar: an hour block holds a bitmap of the seconds
// with data and, in time order, each second's value when that second is
// one sample counted once (what publishers and high-resolution puts
// write), 8 bytes a second; other seconds keep a full aggregate aside.
// Coarse buckets keep at most 8 exact values before their sketch, whose
// bins are sorted columns. 1,000 metrics at one second for an hour hold
// about 42 MB (BenchmarkHourOfHighRes; docs/benchmarks.md). Memory is
// bounded by retention: old blocks and buckets are dropped as data arrive
// and by the periodic snapshot.
//
// The package knows nothing of HTTP or of CloudWatch's API shapes
// (internal/service/cloudwatch validates requests and shapes answers); the
// built-in publishers (EC2, RDS, ALB) will write here through Put.
package metrics
