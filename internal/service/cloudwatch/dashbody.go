package cloudwatch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// validationMessage is one problem with a dashboard body, as AWS reports
// it: a JSON pointer into the body and a message. The field order is the
// order AWS's error message shows them in.
type validationMessage struct {
	DataPath string `json:"dataPath"`
	Message  string `json:"message"`
}

// validateDashboardBody checks a dashboard body against the Dashboard Body
// Structure and Syntax reference. AWS validates with a JSON schema (ajv):
// every problem is reported, each under the path of the value at fault
// (the parent object for a missing property), with ajv's messages
// capitalised ("Should have required property 'markdown'", "Should be
// equal to one of the allowed values", "Should NOT have more than 2
// items"); this reproduces the schema's rules for the five widget types,
// not its every property.
func validateDashboardBody(body string) []validationMessage {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return []validationMessage{{"", "Should be a valid JSON object"}}
	}
	v := &bodyValidator{}
	top, ok := v.object("", doc)
	if !ok {
		return v.msgs
	}
	v.require("", top, "widgets")
	v.enum("/periodOverride", top["periodOverride"], "auto", "inherit")
	v.str("/start", top["start"])
	v.str("/end", top["end"])
	if ws, ok := v.array("/widgets", top["widgets"], 0, 500); ok {
		for i, w := range ws {
			v.widget(fmt.Sprintf("/widgets/%d", i), w)
		}
	}
	return v.msgs
}

type bodyValidator struct{ msgs []validationMessage }

func (v *bodyValidator) add(path, format string, args ...any) {
	v.msgs = append(v.msgs, validationMessage{path, fmt.Sprintf(format, args...)})
}

// Each check below ignores an absent value (nil): presence is require's.

func (v *bodyValidator) require(path string, obj map[string]any, names ...string) {
	for _, n := range names {
		if _, ok := obj[n]; !ok {
			v.add(path, "Should have required property '%s'", n)
		}
	}
}

func (v *bodyValidator) object(path string, x any) (map[string]any, bool) {
	if x == nil {
		return nil, false
	}
	o, ok := x.(map[string]any)
	if !ok {
		v.add(path, "Should be object")
	}
	return o, ok
}

func (v *bodyValidator) array(path string, x any, minItems, maxItems int) ([]any, bool) {
	if x == nil {
		return nil, false
	}
	a, ok := x.([]any)
	switch {
	case !ok:
		v.add(path, "Should be array")
	case len(a) < minItems:
		v.add(path, "Should NOT have fewer than %d items", minItems)
	case len(a) > maxItems:
		v.add(path, "Should NOT have more than %d items", maxItems)
	}
	return a, ok
}

func (v *bodyValidator) str(path string, x any) {
	if _, ok := x.(string); x != nil && !ok {
		v.add(path, "Should be string")
	}
}

func (v *bodyValidator) boolean(path string, x any) {
	if _, ok := x.(bool); x != nil && !ok {
		v.add(path, "Should be boolean")
	}
}

func (v *bodyValidator) enum(path string, x any, allowed ...string) {
	if s, ok := x.(string); x != nil && (!ok || !slices.Contains(allowed, s)) {
		v.add(path, "Should be equal to one of the allowed values")
	}
}

// integer checks an integer in [lo, hi] (hi < lo: no upper bound).
func (v *bodyValidator) integer(path string, x any, lo, hi int64) {
	if x == nil {
		return
	}
	n, ok := x.(json.Number)
	i, err := n.Int64()
	switch {
	case !ok || err != nil:
		v.add(path, "Should be integer")
	case i < lo:
		v.add(path, "Should be >= %d", lo)
	case hi >= lo && i > hi:
		v.add(path, "Should be <= %d", hi)
	}
}

func (v *bodyValidator) widget(path string, x any) {
	w, ok := v.object(path, x)
	if !ok {
		return
	}
	v.require(path, w, "type", "properties")
	v.enum(path+"/type", w["type"], "metric", "text", "log", "alarm", "explorer")
	v.integer(path+"/x", w["x"], 0, 23)
	v.integer(path+"/y", w["y"], 0, -1)
	v.integer(path+"/width", w["width"], 1, 24)
	v.integer(path+"/height", w["height"], 1, 1000)
	p, ok := v.object(path+"/properties", w["properties"])
	if !ok {
		return
	}
	pp := path + "/properties"
	v.str(pp+"/title", p["title"])
	v.str(pp+"/region", p["region"])
	switch w["type"] {
	case "text":
		v.require(pp, p, "markdown")
		v.str(pp+"/markdown", p["markdown"])
		v.enum(pp+"/background", p["background"], "transparent", "solid")
	case "metric":
		v.metricWidget(pp, p)
	case "log":
		v.require(pp, p, "query")
		v.str(pp+"/query", p["query"])
		v.enum(pp+"/view", p["view"], "table", "timeSeries", "bar", "pie")
		v.boolean(pp+"/stacked", p["stacked"])
	case "alarm":
		v.require(pp, p, "alarms")
		if as, ok := v.array(pp+"/alarms", p["alarms"], 1, 100); ok {
			for i, a := range as {
				v.str(fmt.Sprintf("%s/alarms/%d", pp, i), a)
			}
		}
		v.enum(pp+"/sortBy", p["sortBy"], "default", "stateUpdatedTimestamp", "timestamp")
		if ss, ok := v.array(pp+"/states", p["states"], 0, 3); ok {
			for i, s := range ss {
				v.enum(fmt.Sprintf("%s/states/%d", pp, i), s, "ALARM", "INSUFFICIENT_DATA", "OK")
			}
		}
	case "explorer":
		v.require(pp, p, "metrics")
		if ms, ok := v.array(pp+"/metrics", p["metrics"], 1, 100); ok {
			for i, m := range ms {
				mp := fmt.Sprintf("%s/metrics/%d", pp, i)
				if o, ok := v.object(mp, m); ok {
					v.require(mp, o, "metricName", "resourceType")
					v.str(mp+"/metricName", o["metricName"])
					v.str(mp+"/resourceType", o["resourceType"])
					v.str(mp+"/stat", o["stat"])
				}
			}
		}
		v.integer(pp+"/period", p["period"], 1, -1)
	}
}

// metricRenderingKeys are the members of a metric line's closing object.
var metricRenderingKeys = []string{"accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis"}

// metricWidget checks a metric widget's properties. A metric line is
// strings (namespace, name, dimension pairs, or "." and "..." repeating the
// line above) optionally closed by one rendering object. AWS's schema
// reports an object before the end as "Invalid metric field type, only
// "String" type is allowed" and a closing object with unknown members
// (dimensions written as a map, say) as the line having one item too
// many — both seen in real traces.
func (v *bodyValidator) metricWidget(pp string, p map[string]any) {
	ann, _ := p["annotations"].(map[string]any)
	if _, alarmGraph := ann["alarms"]; !alarmGraph {
		v.require(pp, p, "metrics")
	}
	v.enum(pp+"/view", p["view"], "timeSeries", "singleValue", "gauge", "bar", "pie", "table")
	v.boolean(pp+"/stacked", p["stacked"])
	v.str(pp+"/stat", p["stat"])
	v.integer(pp+"/period", p["period"], 1, -1)
	v.object(pp+"/yAxis", p["yAxis"])
	v.object(pp+"/annotations", p["annotations"])
	lines, ok := v.array(pp+"/metrics", p["metrics"], 0, 500)
	if !ok {
		return
	}
	for i, l := range lines {
		lp := fmt.Sprintf("%s/metrics/%d", pp, i)
		items, ok := v.array(lp, l, 1, 1<<31)
		if !ok {
			continue
		}
		for j, it := range items {
			switch it := it.(type) {
			case string:
			case map[string]any:
				if j != len(items)-1 {
					v.add(fmt.Sprintf("%s/%d", lp, j), `Invalid metric field type, only "String" type is allowed`)
					continue
				}
				for k := range it {
					if !slices.Contains(metricRenderingKeys, k) {
						v.add(lp, "Should NOT have more than %d items", len(items)-1)
						break
					}
				}
			default:
				v.add(fmt.Sprintf("%s/%d", lp, j), `Invalid metric field type, only "String" type is allowed`)
			}
		}
	}
}
