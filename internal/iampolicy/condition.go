package iampolicy

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// opFamily is how an operator compares.
type opFamily uint8

const (
	famString opFamily = iota
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

// cmpKind is the comparison within a family.
type cmpKind uint8

const (
	cmpEq cmpKind = iota
	cmpLike
	cmpFold
	cmpLT
	cmpLE
	cmpGT
	cmpGE
)

type opSpec struct {
	fam opFamily
	cmp cmpKind
	neg bool
}

// operators is every condition operator AWS documents, by its base name
// (without ForAllValues:/ForAnyValue: and IfExists).
var operators = map[string]opSpec{
	"StringEquals":              {famString, cmpEq, false},
	"StringNotEquals":           {famString, cmpEq, true},
	"StringEqualsIgnoreCase":    {famString, cmpFold, false},
	"StringNotEqualsIgnoreCase": {famString, cmpFold, true},
	"StringLike":                {famString, cmpLike, false},
	"StringNotLike":             {famString, cmpLike, true},
	"NumericEquals":             {famNumeric, cmpEq, false},
	"NumericNotEquals":          {famNumeric, cmpEq, true},
	"NumericLessThan":           {famNumeric, cmpLT, false},
	"NumericLessThanEquals":     {famNumeric, cmpLE, false},
	"NumericGreaterThan":        {famNumeric, cmpGT, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGE, false},
	"DateEquals":                {famDate, cmpEq, false},
	"DateNotEquals":             {famDate, cmpEq, true},
	"DateLessThan":              {famDate, cmpLT, false},
	"DateLessThanEquals":        {famDate, cmpLE, false},
	"DateGreaterThan":           {famDate, cmpGT, false},
	"DateGreaterThanEquals":     {famDate, cmpGE, false},
	"Bool":                      {famBool, cmpEq, false},
	"BinaryEquals":              {famBinary, cmpEq, false},
	"IpAddress":                 {famIP, cmpEq, false},
	"NotIpAddress":              {famIP, cmpEq, true},
	"ArnEquals":                 {famARN, cmpEq, false},
	"ArnLike":                   {famARN, cmpLike, false},
	"ArnNotEquals":              {famARN, cmpEq, true},
	"ArnNotLike":                {famARN, cmpLike, true},
	"Null":                      {famNull, cmpEq, false},
}

type setKind uint8

const (
	setNone setKind = iota
	setAll
	setAny
)

// Condition is one operator–key pair of a Condition block with its values
// (OR'ed). The conditions of a statement are AND'ed.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLike"
	Key      string // as written, e.g. "aws:PrincipalTag/team"
	Values   []string

	key      string // lower-cased: keys are case-insensitive
	spec     opSpec
	set      setKind
	ifExists bool
	pats     []pattern
	arns     []arnPattern
	nums     []float64
	times    []time.Time
	nets     []netip.Prefix
	bins     [][]byte
}

// parseConditions reads a Condition block. Its faults are syntax errors
// (the error) except values of the wrong form for their operator — a date
// that is not one — which IAM reports as legacy-parsing failures (legacy).
func parseConditions(raw json.RawMessage, vars bool) (out []Condition, legacy bool, err error) {
	var block map[string]json.RawMessage
	if json.Unmarshal(raw, &block) != nil || block == nil {
		return nil, false, malformed(msgSyntax)
	}
	for op, inner := range block {
		var keys map[string]json.RawMessage
		if json.Unmarshal(inner, &keys) != nil || keys == nil {
			return nil, false, malformed(msgSyntax)
		}
		for key, vals := range keys {
			c, bad, err := parseCondition(op, key, vals, vars)
			if err != nil {
				return nil, false, err
			}
			legacy = legacy || bad
			out = append(out, c)
		}
	}
	// Map order is random; a stable order keeps Decisions and tests
	// deterministic.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].key < out[j].key
	})
	return out, legacy, nil
}

func parseCondition(op, key string, raw json.RawMessage, vars bool) (c Condition, legacy bool, err error) {
	c = Condition{Operator: op, Key: key, key: strings.ToLower(key)}
	base := op
	if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		base, c.set = rest, setAll
	} else if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		base, c.set = rest, setAny
	}
	if rest, ok := strings.CutSuffix(base, "IfExists"); ok && rest != "Null" {
		base, c.ifExists = rest, true
	}
	spec, ok := operators[base]
	if !ok {
		return c, false, malformed(msgSyntax)
	}
	c.spec = spec
	if c.Values, err = conditionValues(raw); err != nil {
		return c, false, err
	}
	for _, v := range c.Values {
		switch spec.fam {
		case famString:
			c.pats = append(c.pats, compilePattern(v, spec.cmp == cmpLike, vars))
		case famARN:
			c.arns = append(c.arns, compileARN(v, vars))
		case famNumeric:
			f, err := strconv.ParseFloat(v, 64)
			legacy = legacy || err != nil
			c.nums = append(c.nums, f)
		case famDate:
			t, ok := parseDate(v)
			legacy = legacy || !ok
			c.times = append(c.times, t)
		case famIP:
			p, ok := parseCIDR(v)
			legacy = legacy || !ok
			c.nets = append(c.nets, p)
		case famBinary:
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				b = []byte(v)
			}
			c.bins = append(c.bins, b)
		case famNull:
			legacy = legacy || !(strings.EqualFold(v, "true") || strings.EqualFold(v, "false"))
		}
	}
	return c, legacy, nil
}

// conditionValues reads a condition's value: a string, number or boolean,
// or an array of them, all as strings.
func conditionValues(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, malformed(msgSyntax)
	}
	scalar := func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			return strconv.FormatBool(t), true
		}
		return "", false
	}
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, x := range list {
			s, ok := scalar(x)
			if !ok {
				return nil, malformed(msgSyntax)
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, malformed(msgSyntax)
	}
	return []string{s}, nil
}

// parseDate reads AWS's date forms: ISO 8601 (with or without time,
// fractional seconds and zone) and epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseCIDR(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// eval is the condition against the request's values for its key (present
// when the key is in the request with at least one value).
func (c *Condition) eval(vals []string, r resolver) bool {
	present := len(vals) > 0
	if c.spec.fam == famNull {
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.set == setAll:
			return true // AWS: ForAllValues on a missing or empty key is true
		case c.set == setAny:
			return false
		case c.ifExists:
			return true
		}
		return c.spec.neg
	}
	// matches: does one request value match the operator (negation
	// applied per value)?
	matches := func(v string) bool { return c.any(v, r) != c.spec.neg }
	switch c.set {
	case setAll:
		for _, v := range vals {
			if !matches(v) {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if matches(v) {
				return true
			}
		}
		return false
	}
	// Without a set operator, a positive operator holds when any value
	// matches, a negated one when none does.
	for _, v := range vals {
		if c.any(v, r) {
			return !c.spec.neg
		}
	}
	return c.spec.neg
}

// any is whether v matches at least one of the condition's values under the
// positive form of the operator.
func (c *Condition) any(v string, r resolver) bool {
	switch c.spec.fam {
	case famString:
		for i := range c.pats {
			if c.pats[i].match(v, c.spec.cmp == cmpFold, r) {
				return true
			}
		}
	case famARN:
		for i := range c.arns {
			if c.arns[i].match(v, r) {
				return true
			}
		}
	case famBool:
		for _, p := range c.Values {
			if strings.EqualFold(p, v) {
				return true
			}
		}
	case famNumeric:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, p := range c.nums {
			if compare(c.spec.cmp, cmp.Compare(f, p)) {
				return true
			}
		}
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, p := range c.times {
			if compare(c.spec.cmp, t.Compare(p)) {
				return true
			}
		}
	case famIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			b = []byte(v)
		}
		for _, p := range c.bins {
			if bytes.Equal(p, b) {
				return true
			}
		}
	}
	return false
}

func compare(k cmpKind, c int) bool {
	switch k {
	case cmpLT:
		return c < 0
	case cmpLE:
		return c <= 0
	case cmpGT:
		return c > 0
	case cmpGE:
		return c >= 0
	}
	return c == 0
}
