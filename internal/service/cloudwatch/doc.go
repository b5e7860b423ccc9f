// Package cloudwatch is Amazon CloudWatch's metrics API (the "monitoring"
// service) over the metric store of internal/metrics: PutMetricData,
// ListMetrics, GetMetricStatistics and GetMetricData with metric math,
// metric alarms evaluated on a clock, dashboards,
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
//
//   - ListMetrics (list.go): metrics with data in the past two weeks (or
//     three hours with RecentlyActive=PT3H), namespace, name and
//     dimension filters (a name alone matches any value), 500 a page in a
//     stable order, an opaque NextToken.
//
//   - GetMetricStatistics (stats.go): Statistics or ExtendedStatistics
//     (pNN.NN), the Period rule (1, 5, 10, 20, 30 or a multiple of 60),
//     1,440 datapoints at most, a datapoint per unit unless Unit filters,
//     answered in no particular order as AWS.
//
//   - GetMetricData (data.go, expr.go): MetricStat and Expression queries,
//     ReturnData, Label, ScanBy, MaxDatapoints with paging by time
//     (StatusCode PartialData on every page but the last), and metric math:
//     arithmetic, SUM/AVG/MIN/MAX, FILL(x, value), METRICS() with an id
//     filter, arrays. An expression error is a ValidationError naming the
//     query.
//
//   - The built-in metrics' way in (publish.go): Publisher, the
//     metricport.Publisher the server hands the data planes, writes
//     AWS/EC2, AWS/ApplicationELB… datapoints to the store directly; the
//     API's refusal of AWS/ namespaces is for clients only.
//
//   - Metric alarms (alarms.go, tags.go): PutMetricAlarm on a metric
//     (Statistic or ExtendedStatistic) or metric math (Metrics, one
//     result), the four static comparison operators (the anomaly-band ones
//     are refused until bands exist), EvaluationPeriods, DatapointsToAlarm,
//     TreatMissingData; DescribeAlarms (names, prefix, state, action
//     prefix, AlarmTypes, pages), DescribeAlarmsForMetric, DeleteAlarms,
//     SetAlarmState, Enable/DisableAlarmActions, DescribeAlarmHistory
//     (ConfigurationUpdate, StateUpdate and Action items with AWS's
//     HistoryData JSON, two weeks), tags. Records live in the state store
//     (cloudwatch/alarm, cloudwatch/alarmhistory), not in the metric store.
//
//   - The evaluator (evaluator.go, decide.go): every alarm each
//     Config.EvaluationInterval, reading EvaluationPeriods+2 periods
//     through GetMetricData's code, deciding by the User Guide's rules for
//     M of N and missing data (decide's comment; its table test is the
//     guide's tables), writing AWS's StateReason and StateReasonData, then
//     the new state's actions: arn:aws:automate:<region>:ec2:stop,
//     terminate or reboot on the alarm's InstanceId dimension through
//     ec2port.InstanceActor; any other action is an Action history item
//     that says minicloud does not run it yet.
//
//   - Dashboards (dashboards.go, dashbody.go): PutDashboard validates the
//     body as AWS's JSON schema reports problems (every problem, a JSON
//     pointer and ajv's capitalised message, in InvalidParameterInput's
//     text and its dashboardValidationMessages): the top level, widget
//     geometry, and the properties of metric (metric lines of strings and
//     a closing rendering object), text, log, alarm and explorer widgets.
//     The body is kept as given. GetDashboard, ListDashboards (prefix,
//     1,000 a page), DeleteDashboards (all or none). Dashboards are global
//     to an account (state.Global scope, ARNs without a region). Errors
//     whose shape code differs from the shape name (InvalidParameterInput,
//     ResourceNotFound) are returned under the shape name so that SDKs
//     build their types; the codec writes the code clients see.
//
//   - GetMetricWidgetImage (widgetimage*.go): a metric widget (the metric
//     widget's properties plus width, height, start and end) drawn with
//     image/png, its data through GetMetricData's code over the range
//     asked. Views: timeSeries (lines or stacked areas; left and right
//     y axes with nice-step numbers and a title of the axis' label and
//     its lines' common unit; time labels HH:MM or MM/DD in the widget's
//     "+HHMM" timezone; horizontal (with fill) and vertical annotations),
//     singleValue (each line's latest value, large), bar (horizontal, the
//     latest value) and pie; setPeriodToTimeRange makes one period of
//     the range for the last three. Title, legend (bottom, right or
//     hidden; a line's name is its label, else the metric name, else the
//     query id) and "No data available." are written in X11's 7×13
//     bitmap font (golang.org/x/image/font/basicfont), so images are the
//     same bytes everywhere. Not drawn: gauge and table views, sparklines,
//     the console's partial-data triangle.
//
// It must not aggregate or store data itself (internal/metrics does) nor
// know a protocol. Composite alarms and the rest of the model
// answer NotImplemented until they are built (NOTES-CW.md at the
// repository root of branch cw says what is next).
package cloudwatch
