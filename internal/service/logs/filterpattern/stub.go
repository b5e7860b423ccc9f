package filterpattern

import (
	"encoding/json"
	"errors"
)

func compileJSON(string) (*Pattern, error) {
	return nil, errors.New("JSON filter patterns are not supported yet")
}
func compileSpace(string) (*Pattern, error) {
	return nil, errors.New("space-delimited filter patterns are not supported yet")
}

type selector struct{}

func parseSelector(string) (selector, error) { return selector{}, errors.New("not supported") }
func (selector) lookup(any) (any, bool)      { return nil, false }
func jsonText(v any) string                  { b, _ := json.Marshal(v); return string(b) }
