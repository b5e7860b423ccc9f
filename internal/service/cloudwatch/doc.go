// Package cloudwatch is Amazon CloudWatch's metrics API (the "monitoring"
// service) over the metric store of internal/metrics: PutMetricData,
// ListMetrics, GetMetricStatistics and GetMetricData with metric math,
// with AWS's limits, period rules and error codes. Clients reach it in
// any of the three protocols its model lists (smithy-rpc-v2-cbor, JSON
// 1.0, query); the codec makes them the same typed input.
//
// What it owns:
//
//   - PutMetricData (put.go): every datum checked before any is stored
//     (limits: 1,000 data, 30 dimensions, 150 values; Value, Values with
//     Counts, or StatisticValues; the timestamp window of two weeks back
//     and two hours ahead, each datum out of it named on its own line);
//     then one durable write of the whole request. EntityMetricData and
//     StrictEntityValidation are accepted and ignored (the v1 model
//     minicloud generates from predates them, and the codec drops
//     unknown members).
//   - ListMetrics (list.go): metrics with data in the past two weeks (or
//     three hours with RecentlyActive=PT3H), namespace, name and
//     dimension filters (a name alone matches any value), 500 a page in a
//     stable order, an opaque NextToken.
//   - GetMetricStatistics (stats.go): Statistics or ExtendedStatistics
//     (pNN.NN), the Period rule (1, 5, 10, 20, 30 or a multiple of 60),
//     1,440 datapoints at most, a datapoint per unit unless Unit filters,
//     answered in no particular order as AWS.
//   - GetMetricData (data.go, expr.go): MetricStat and Expression queries,
//     ReturnData, Label, ScanBy, MaxDatapoints with paging by time
//     (StatusCode PartialData on every page but the last), and metric math:
//     arithmetic, SUM/AVG/MIN/MAX, FILL(x, value), METRICS() with an id
//     filter, arrays. An expression error is a ValidationError naming the
//     query.
//   - The built-in metrics' way in (publish.go): Publisher, the
//     metricport.Publisher the server hands the data planes, writes
//     AWS/EC2, AWS/ApplicationELB… datapoints to the store directly; the
//     API's refusal of AWS/ namespaces is for clients only.
//
// It must not aggregate or store data itself (internal/metrics does) nor
// know a protocol. Alarms, dashboards and the rest of the model answer
// NotImplemented until they are built (NOTES-CW.md at the repository
// root of branch cw says what is next).
package cloudwatch
