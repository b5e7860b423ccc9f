package insights

import (
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// function is a scalar function: min..max arguments (max -1: any).
type function struct {
	min, max int
	call     func(e *env, args []value) value
}

func pow(x, y float64) float64 { return math.Pow(x, y) }

// numeric wraps a one-number function; a missing or non-numeric
// argument gives a missing result.
func numeric(f func(float64) float64) *function {
	return &function{1, 1, func(_ *env, a []value) value {
		x, ok := a[0].number()
		if !ok {
			return null
		}
		r := f(x)
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return null
		}
		return num(r)
	}}
}

// text wraps a function of strings; a missing first argument gives a
// missing result.
func text(min, max int, f func(s []string) value) *function {
	return &function{min, max, func(_ *env, a []value) value {
		if a[0].k == kNull {
			return null
		}
		s := make([]string, len(a))
		for i, v := range a {
			s[i] = v.String()
		}
		return f(s)
	}}
}

func extreme(greatest bool) *function {
	return &function{1, -1, func(_ *env, a []value) value {
		best := null
		for _, v := range a {
			if v.k == kNull {
				continue
			}
			c := compareValues(v, best)
			if best.k == kNull || greatest && c > 0 || !greatest && c < 0 {
				best = v
			}
		}
		return best
	}}
}

func trimmer(f func(s, cutset string) string) *function {
	return text(1, 2, func(s []string) value {
		if len(s) == 1 {
			return str(f(s[0], " \t\r\n"))
		}
		return str(f(s[0], s[1]))
	})
}

// timeOf reads a timestamp argument: a timestamp or epoch milliseconds.
func timeOf(v value) (time.Time, bool) {
	if v.k == kTime {
		return v.t, true
	}
	if n, ok := v.number(); ok && v.k != kDur {
		return time.UnixMilli(int64(n)).UTC(), true
	}
	return time.Time{}, false
}

func floorTime(t time.Time, period float64) time.Time {
	ms := t.UnixMilli()
	p := int64(period)
	if p <= 0 {
		return t
	}
	f := ms - ((ms%p)+p)%p
	return time.UnixMilli(f).UTC()
}

func roundTime(ceil bool) *function {
	return &function{2, 2, func(_ *env, a []value) value {
		t, ok := timeOf(a[0])
		if !ok || a[1].k != kDur {
			return null
		}
		f := floorTime(t, a[1].n)
		if ceil && f.Before(t) {
			f = f.Add(time.Duration(a[1].n) * time.Millisecond)
		}
		return timeVal(f)
	}}
}

func ipCheck(f func(netip.Addr) bool) *function {
	return text(1, 1, func(s []string) value {
		a, err := netip.ParseAddr(s[0])
		return boolean(err == nil && f(a))
	})
}

func inSubnet(f func(netip.Addr) bool) *function {
	return text(2, 2, func(s []string) value {
		a, err := netip.ParseAddr(s[0])
		p, perr := netip.ParsePrefix(s[1])
		return boolean(err == nil && perr == nil && f(a) && p.Contains(a))
	})
}

// maxStringLen is the longest string, in bytes, that concat and replace
// make; past it they give null, as for any value they cannot make. It is
// CloudWatch Logs' largest event (1 MiB), so no value drawn from events
// is ever cut, while a query that doubles a field in every "fields"
// stage (fields concat(a, a) as a | ...) or replaces "" with "xx" stays
// within a few MiB per record instead of growing exponentially.
const maxStringLen = 1 << 20

// functions are the scalar functions of AWS's query syntax page, by
// lower-case name (names are matched case-insensitively).
var functions map[string]*function

func init() {
	functions = map[string]*function{
		// General.
		"ispresent": {1, 1, func(_ *env, a []value) value { return boolean(a[0].k != kNull) }},
		"coalesce": {1, -1, func(_ *env, a []value) value {
			for _, v := range a {
				if v.k != kNull {
					return v
				}
			}
			return null
		}},
		// Strings.
		"isempty": {1, 1, func(_ *env, a []value) value { return boolean(a[0].k == kNull || a[0].String() == "") }},
		"isblank": {1, 1, func(_ *env, a []value) value {
			return boolean(a[0].k == kNull || strings.TrimFunc(a[0].String(), unicode.IsSpace) == "")
		}},
		"concat": {1, -1, func(_ *env, a []value) value {
			n := 0
			for _, v := range a {
				if n += len(v.String()); n > maxStringLen {
					return null
				}
			}
			var b strings.Builder
			b.Grow(n)
			for _, v := range a {
				b.WriteString(v.String())
			}
			return str(b.String())
		}},
		"ltrim":   trimmer(strings.TrimLeft),
		"rtrim":   trimmer(strings.TrimRight),
		"trim":    trimmer(strings.Trim),
		"strlen":  text(1, 1, func(s []string) value { return num(float64(utf8.RuneCountInString(s[0]))) }),
		"toupper": text(1, 1, func(s []string) value { return str(strings.ToUpper(s[0])) }),
		"tolower": text(1, 1, func(s []string) value { return str(strings.ToLower(s[0])) }),
		"substr": {2, 3, func(_ *env, a []value) value {
			if a[0].k == kNull {
				return null
			}
			r := []rune(a[0].String())
			start, ok := a[1].number()
			if !ok {
				return null
			}
			from := clamp(int(start), len(r))
			to := len(r)
			if len(a) == 3 {
				n, ok := a[2].number()
				if !ok {
					return null
				}
				to = clamp(from+int(n), len(r))
			}
			if to < from {
				to = from
			}
			return str(string(r[from:to]))
		}},
		"replace": text(3, 3, func(s []string) value {
			// strings.Count of "" is one more than the runes in s[0].
			if n := strings.Count(s[0], s[1]); len(s[0])+n*(len(s[2])-len(s[1])) > maxStringLen {
				return null
			}
			return str(strings.ReplaceAll(s[0], s[1], s[2]))
		}),
		"strcontains": text(2, 2, func(s []string) value {
			return num(b2f(strings.Contains(s[0], s[1])))
		}),
		// Numbers.
		"abs":      numeric(math.Abs),
		"ceil":     numeric(math.Ceil),
		"floor":    numeric(math.Floor),
		"log":      numeric(math.Log),
		"sqrt":     numeric(math.Sqrt),
		"greatest": extreme(true),
		"least":    extreme(false),
		// Date and time.
		"bin": {1, 1, func(e *env, a []value) value {
			t, ok := e.rec["@timestamp"], a[0].k == kDur
			if !ok || t.k != kTime {
				return null
			}
			return timeVal(floorTime(t.t, a[0].n))
		}},
		"datefloor": roundTime(false),
		"dateceil":  roundTime(true),
		"frommillis": {1, 1, func(_ *env, a []value) value {
			n, ok := a[0].number()
			if !ok {
				return null
			}
			return timeVal(time.UnixMilli(int64(n)).UTC())
		}},
		"tomillis": {1, 1, func(_ *env, a []value) value {
			t, ok := timeOf(a[0])
			if !ok {
				return null
			}
			return num(float64(t.UnixMilli()))
		}},
		// IP addresses.
		"isvalidip":      ipCheck(func(netip.Addr) bool { return true }),
		"isvalidipv4":    ipCheck(netip.Addr.Is4),
		"isvalidipv6":    ipCheck(func(a netip.Addr) bool { return a.Is6() }),
		"isipinsubnet":   inSubnet(func(netip.Addr) bool { return true }),
		"isipv4insubnet": inSubnet(netip.Addr.Is4),
		"isipv6insubnet": inSubnet(func(a netip.Addr) bool { return a.Is6() }),
	}
}

func clamp(i, n int) int {
	switch {
	case i < 0:
		return 0
	case i > n:
		return n
	}
	return i
}
