package filterpattern

import (
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
	fields map[string]string // named fields of a space-delimited pattern
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
