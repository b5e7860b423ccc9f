package filterpattern

import (
	"slices"
	"strconv"
	"strings"
)

// Pattern is a compiled filter pattern, safe for concurrent use.
type Pattern struct {
	match func(message string) (Match, bool)
}

// Match is what a successful match extracted from an event, for metric
// filters' metricValue and dimensions.
type Match struct {
	json   any               // the decoded JSON object of a JSON pattern's event
	refs   []string          // the selectors a JSON pattern names
	fields map[string]string // named fields of a space-delimited pattern, and positions ("3")
	named  []int             // the words named slots took (0-based)
	words  int               // the event's field count
}

// Compile parses pattern. An empty (or all-blank) pattern matches every
// event. The error's text is what AWS puts in an
// InvalidParameterException's message.
func Compile(pattern string) (*Pattern, error) {
	p := strings.TrimSpace(pattern)
	switch {
	case p == "":
		return &Pattern{match: func(string) (Match, bool) { return Match{}, true }}, nil
	case strings.HasPrefix(p, "{"):
		return compileJSON(p)
	case strings.HasPrefix(p, "["):
		return compileSpace(p)
	}
	return compileTerms(p)
}

// Match reports whether message matches the pattern and, when it does,
// what the pattern extracted from it.
func (p *Pattern) Match(message string) (Match, bool) {
	return p.match(message)
}

// Value returns the value ref selects from the matched event: "$.a.b[0]"
// for a JSON pattern's event, "$name" for a named field of a
// space-delimited pattern. JSON objects and arrays come back as their
// JSON text, null as "null".
func (m Match) Value(ref string) (string, bool) {
	switch {
	case strings.HasPrefix(ref, "$.") || ref == "$":
		if m.json == nil {
			return "", false
		}
		sel, err := parseSelector(ref)
		if err != nil {
			return "", false
		}
		v, ok := sel.lookup(m.json)
		if !ok {
			return "", false
		}
		return jsonText(v), true
	case strings.HasPrefix(ref, "$"):
		v, ok := m.fields[ref[1:]]
		return v, ok
	}
	return "", false
}

// Extracted is what the match bound, keyed as a metric filter would refer
// to it — TestMetricFilter's extractedValues: a JSON pattern's selectors
// that reach a value in the event ("$.latency"); a space-delimited
// pattern's named fields ("$status_code") and, by position ("$2"), the
// fields no named slot took (unnamed slots and those an ellipsis took).
// An unstructured pattern binds nothing: an empty map.
func (m Match) Extracted() map[string]string {
	out := map[string]string{}
	for _, ref := range m.refs {
		if v, ok := m.Value(ref); ok {
			out[ref] = v
		}
	}
	if m.fields == nil {
		return out
	}
	for i := range m.words {
		if !slices.Contains(m.named, i) {
			out["$"+strconv.Itoa(i+1)] = m.fields[strconv.Itoa(i+1)]
		}
	}
	for k, v := range m.fields {
		if _, err := strconv.Atoi(k); err != nil {
			out["$"+k] = v
		}
	}
	return out
}
