package insights

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// kind is a query value's type.
type kind uint8

const (
	kNull kind = iota // a missing field
	kStr
	kNum
	kBool
	kTime
	kDur // a period literal such as 5m, in milliseconds
)

// value is one query value. Numbers read from events keep their text
// (s) so that results show them as the event wrote them.
type value struct {
	k kind
	s string
	n float64
	t time.Time
}

var null = value{}

func str(s string) value        { return value{k: kStr, s: s} }
func num(n float64) value       { return value{k: kNum, n: n} }
func boolean(b bool) value      { return value{k: kBool, n: b2f(b)} }
func timeVal(t time.Time) value { return value{k: kTime, t: t} }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// timeLayout is how GetQueryResults shows timestamps.
const timeLayout = "2006-01-02 15:04:05.000"

// String is the value as a result row shows it.
func (v value) String() string {
	switch v.k {
	case kStr:
		return v.s
	case kNum:
		if v.s != "" {
			return v.s
		}
		return formatNum(v.n)
	case kBool:
		if v.n != 0 {
			return "1"
		}
		return "0"
	case kTime:
		return v.t.UTC().Format(timeLayout)
	case kDur:
		return formatNum(v.n)
	}
	return ""
}

func formatNum(n float64) string {
	if math.IsInf(n, 0) || math.IsNaN(n) {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// number is the value as a number, when it is one or is text that
// reads as one; timestamps are milliseconds since the epoch.
func (v value) number() (float64, bool) {
	switch v.k {
	case kNum, kBool, kDur:
		return v.n, true
	case kTime:
		return float64(v.t.UnixMilli()), true
	case kStr:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return 0, false
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

func (v value) truthy() bool {
	switch v.k {
	case kNull:
		return false
	case kStr:
		return v.s != ""
	case kTime:
		return true
	}
	return v.n != 0
}

// compareValues orders two present values for comparisons: numerically
// when both read as numbers, as text otherwise.
func compareValues(a, b value) int {
	if a.k == kTime && b.k == kTime {
		return a.t.Compare(b.t)
	}
	if x, ok := a.number(); ok {
		if y, ok := b.number(); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(a.String(), b.String())
}

// sortCompare is the sort command's order, AWS's "updated natural sort":
// missing values last, then non-number values before number values; text
// compared in chunks of digits (by length, then value) and of other
// characters (by code point).
func sortCompare(a, b value) int {
	if a.k == kNull || b.k == kNull {
		switch {
		case a.k == b.k:
			return 0
		case a.k == kNull:
			return 1
		}
		return -1
	}
	if a.k == kTime && b.k == kTime {
		return a.t.Compare(b.t)
	}
	x, aNum := a.number()
	y, bNum := b.number()
	switch {
	case aNum && bNum:
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return strings.Compare(a.String(), b.String()) // 01 before 1
	case aNum:
		return 1
	case bNum:
		return -1
	}
	return naturalCompare(a.String(), b.String())
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		ca, ra := chunk(a)
		cb, rb := chunk(b)
		da, db := isDigit(ca[0]), isDigit(cb[0])
		var c int
		switch {
		case da && db:
			ta, tb := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
			if c = len(ta) - len(tb); c == 0 {
				c = strings.Compare(ta, tb)
			}
		default:
			c = strings.Compare(ca, cb)
		}
		if c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		a, b = ra, rb
	}
	return len(a) - len(b)
}

// chunk splits s into its leading run of digits or of non-digits and
// the rest.
func chunk(s string) (string, string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}
