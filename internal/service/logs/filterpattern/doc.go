// Package filterpattern is CloudWatch Logs' filter pattern language — the
// patterns of metric filters, subscription filters and FilterLogEvents —
// compiled once and matched against log event messages. It is pure: no
// store, no I/O; the logs service compiles a filter's pattern when the
// filter is put (a compile error's text is the InvalidParameterException
// message) and matches each event as it is ingested or filtered. A
// compiled Pattern is safe for concurrent use.
//
// The three forms of AWS's "Filter pattern syntax" user guide pages:
//
//   - unstructured (terms.go): terms that must all occur in the message
//     (case-sensitive, anywhere: ERROR matches "ERRORCODE"), "quoted
//     phrases", -term exclusions, ?term alternatives (one of them must
//     occur) and %regex%;
//   - JSON (json.go): { $.a.b[0] = "x" && ($.c > 5 || $.d IS NULL) } with
//     = != < <= > >=, IS TRUE/FALSE/NULL, NOT EXISTS, && over || with
//     parentheses, over messages that are one JSON object;
//   - space-delimited (space.go): [ip, user, ..., status = 4*, bytes > 1000]
//     over messages split on blanks, "quoted" and [bracketed] fields kept
//     whole without their delimiters, conditions joined by && and ||.
//
// Values (value.go): a bare or quoted string, * wildcards at its start or
// end only (AWS: "Ev*ent" matches only the string "Ev*ent"); a number
// compares numerically with a field that holds a number and as text with
// one that does not; < <= > >= need a number. %regex% (regex.go) is AWS's
// restricted subset — letters, digits, : _ # = @ / ; , - and blanks, the
// operators ^ $ ? [ ] { } | \ * + . and \d \D \s \S \w \W, no
// parentheses, no multi-byte characters, at most two a pattern — and
// matches anywhere in the text. A JSON comparison applies only to a
// value node: on an object, an array, null or a missing key both = and !=
// fail.
//
// Match.Value gives the value a metric filter's metricValue or dimension
// ($.latency, $bytes) extracts from a matched event: JSON numbers as
// written, strings unquoted; space-delimited fields by name and by
// 1-based position ($4), as AWS's extracted-fields example shows.
// Match.Extracted lists what a match bound, for TestMetricFilter's
// extractedValues: "$name" per named field (AWS's API reference example),
// "$N" per field no name took and "$.a" per JSON selector that reaches a
// value (these two keyings are unverified against AWS).
//
// Not verified against AWS (decided from the documentation's wording and
// examples, and noted here for whoever can test on AWS):
//   - the exact texts of AWS's InvalidParameterException messages: only
//     "Invalid character(s) in term '...'" is AWS's wording; the rest say
//     what is wrong in the same style;
//   - which characters AWS refuses in unquoted terms: the guide asks for
//     quotes around anything but letters, digits and _, but minicloud
//     refuses only " { } ( ) % there, to accept what AWS accepts;
//   - mixing ?terms with plain or -terms (here: all plain terms, no
//     -term, and one ?term);
//   - $.* and [*] (any member or element: the condition holds when it
//     holds for one) and $.a["key"] forms beyond $.a.b[0];
//   - whether a space-delimited pattern without ... needs exactly as many
//     fields as the message has (here: yes), how runs of blanks split
//     (here: as one), and the guide's [w1=!ERROR&&w1=!WARN, w2] (read as
//     the literal "!ERROR"; write w1 != ERROR);
//   - a numeric literal against a JSON string holding a number ("400" =
//     400 holds here).
package filterpattern
