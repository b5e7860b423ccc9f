package iampolicy

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Position is a place in a policy document as SimulatePrincipalPolicy's
// MatchedStatements give it: a 1-based line and column. AWS's columns
// are one past the brace: a statement whose "{" is the 37th character of
// its line starts at column 38, and one whose "}" is the 166th ends at
// 167 (the AWS CLI's simulate-custom-policy example).
type Position struct{ Line, Column int }

// statementSpans are the positions of the statements of doc, in order:
// the element of "Statement" when it is one object, or each element of
// its list. It returns nil for a document it cannot walk (Parse has
// refused such a document already).
func statementSpans(doc string) [][2]Position {
	dec := json.NewDecoder(strings.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		if k != "Statement" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		start := valueStart(doc, int(dec.InputOffset()))
		if start < len(doc) && doc[start] == '{' {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			return [][2]Position{span(doc, start, int(dec.InputOffset()))}
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil
		}
		var out [][2]Position
		for dec.More() {
			start := valueStart(doc, int(dec.InputOffset()))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			out = append(out, span(doc, start, int(dec.InputOffset())))
		}
		return out
	}
	return nil
}

// valueStart is the offset of the next value at or after off: past
// whitespace, the colon after a key and the comma between elements.
func valueStart(doc string, off int) int {
	for off < len(doc) && strings.IndexByte(" \t\r\n:,", doc[off]) >= 0 {
		off++
	}
	return off
}

// span is the Positions of a value from its first byte to one past its
// last.
func span(doc string, start, end int) [2]Position {
	return [2]Position{positionAt(doc, start+1), positionAt(doc, end)}
}

// positionAt is the line and column of byte offset off, plus one column
// (AWS's convention, see Position): columns count characters.
func positionAt(doc string, off int) Position {
	before := doc[:off]
	line := strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return Position{Line: line, Column: utf8.RuneCountInString(before[lineStart:]) + 1}
}
