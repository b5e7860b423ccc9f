// Package cloudwatch is Amazon CloudWatch's metrics API (the "monitoring"
// service) over the metric store of internal/metrics: PutMetricData,
// ListMetrics, GetMetricStatistics and GetMetricData with metric math,
// metric and composite alarms evaluated on a clock, dashboards,
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
//   - GetMetricData (data.go, expr.go, mathfuncs.go, pctstats.go):
//     MetricStat and Expression queries, ReturnData, Label, ScanBy,
//     MaxDatapoints with paging by time (StatusCode PartialData on every
//     page but the last), and metric math: arithmetic, comparisons and
//     AND/OR/NOT, SUM/AVG/MIN/MAX/STDDEV (population), IF, ABS, DIFF,
//     DIFF_TIME, RATE, PERIOD, FILL(x, value|REPEAT|LINEAR), FIRST/LAST,
//     SORT, SLICE, METRICS() with an id filter, SEARCH over the stored
//     metrics (a {Namespace,Dim…} schema, Key=value and bare terms; its
//     series labelled "dimension values… MetricName"), arrays; each
//     function's reading is in mathfuncs.go's comment. A result whose values
//     lost a NaN or an infinity says so in its Messages (ArithmeticError,
//     AWS's text). Stat is a basic statistic, pNN, or TM/WM/TC/TS/PR with
//     percentage or value bounds, tmNN/wmNN/tcNN/tsNN, IQM (pctstats.go).
//     An expression error is a ValidationError naming the query.
//
//   - The built-in metrics' way in (publish.go): Publisher, the
//     metricport.Publisher the server hands the data planes, writes
//     AWS/EC2, AWS/ApplicationELB… datapoints to the store directly; the
//     API's refusal of AWS/ namespaces is for clients only.
//
//   - Metric alarms (alarms.go, tags.go): PutMetricAlarm on a metric
//     (Statistic or ExtendedStatistic) or metric math (Metrics, one
//     result), the four static comparison operators (the anomaly-band ones
//     are refused until bands exist), EvaluationPeriods (Period × it at most
//     a day, seven for periods of an hour or more), DatapointsToAlarm,
//     TreatMissingData, EvaluateLowSampleCountPercentile (ignore: a pNN
//     alarm keeps its state while an evaluated period has fewer than
//     10/(1-p) samples, 10/p under the median — AWS does not publish its
//     rule); an EC2 action on an alarm that does not watch one instance (no
//     InstanceId dimension, or metric math) is refused with AWS's
//     ValidationError; DescribeAlarms (names, prefix, state, action prefix,
//     AlarmTypes — metric alarms unless asked —, ChildrenOfAlarmName,
//     ParentsOfAlarmName, pages), DescribeAlarmsForMetric, DeleteAlarms
//     (all or none, at most one composite alarm, never a child a composite
//     alarm still names), SetAlarmState, Enable/DisableAlarmActions,
//     DescribeAlarmHistory (ConfigurationUpdate, StateUpdate and Action
//     items with AWS's HistoryData JSON and AlarmType, two weeks; older
//     items are deleted every hour), tags. There is no limit on the number
//     of alarms (the quotas page: "No limit on the total number of alarms
//     per account"). Records live in the state store (cloudwatch/alarm,
//     cloudwatch/alarmhistory), not in the metric store.
//
//   - Composite alarms (composite.go, alarmrule.go): PutCompositeAlarm with
//     an AlarmRule of ALARM/OK/INSUFFICIENT_DATA(name or ARN, quoted or
//     not), TRUE, FALSE, AND, OR, NOT and parentheses (10,240 characters,
//     100 children, 500 elements), every child existing; kept in the same
//     records as metric alarms (one name space, as their ARNs are). The
//     evaluator evaluates one when a child changes state (transition
//     enqueues its parents) and on the clock: ALARM while the rule holds,
//     else OK, with AWS's reason ("<child ARN> transitioned to ALARM at
//     Monday 07 December, 2026 17:00:00 UTC", the child that moved last)
//     and triggeringAlarms reason data; a composite alarm in a cycle is not
//     evaluated (AWS stops too). ActionsSuppressor: actions are not run
//     while the suppressor is in ALARM or left it less than
//     ExtensionPeriod ago (ActionsSuppressedBy Alarm / ExtensionPeriod),
//     and on a move into ALARM they wait up to WaitPeriod for the
//     suppressor to go into ALARM (WaitPeriod), then run unless it did.
//
//   - The evaluator (evaluator.go, decide.go): every alarm each
//     Config.EvaluationInterval, reading EvaluationPeriods+2 periods
//     through GetMetricData's code, deciding by the User Guide's rules for
//     M of N and missing data (decide's comment; its table test is the
//     guide's tables), writing AWS's StateReason and StateReasonData, then
//     the new state's actions: arn:aws:automate:<region>:ec2:stop,
//     terminate, reboot or recover on the alarm's InstanceId dimension
//     through ec2port.InstanceActor (recover — AWS moving the instance to
//     healthy hardware with its ID, addresses and volumes — is, on
//     minicloud's one host, the instance's workload restarted, as a
//     reboot); any other action is an Action history item that says
//     minicloud does not run it yet.
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
//     latest value), pie, and gauge (a half ring per line from
//     yAxis.left min to max, default 0–100); setPeriodToTimeRange makes
//     one period of the range for all but timeSeries. Title, legend (bottom, right or
//     hidden; a line's name is its label, else the metric name, else the
//     query id) and "No data available." are written in X11's 7×13
//     bitmap font (golang.org/x/image/font/basicfont), so images are the
//     same bytes everywhere. Not drawn: the table view (drawn as
//     timeSeries), sparklines, the console's partial-data triangle.
//
// It must not aggregate or store data itself (internal/metrics does) nor
// know a protocol. Anomaly detection, metric streams, insight rules and
// the rest of the model answer NotImplemented until they are built (NOTES-CW.md at the
// repository root of branch cw says what is next).
package cloudwatch
