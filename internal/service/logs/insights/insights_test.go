package insights

import (
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var base = time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)

// events is the fixed event set the command tests run over.
var events = []Event{
	{Time: base.Add(1 * time.Minute), Message: `{"level":"INFO","latency":120,"path":"/a","user":{"id":"u1"},"tags":["x","y"]}`, Stream: "s1"},
	{Time: base.Add(2 * time.Minute), Message: `{"level":"ERROR","latency":900,"path":"/b","user":{"id":"u2"}}`, Stream: "s1"},
	{Time: base.Add(3*time.Minute + 345*time.Millisecond), Message: `{"level":"INFO","latency":300,"path":"/a","user":{"id":"u1"}}`, Stream: "s2"},
	{Time: base.Add(7 * time.Minute), Message: "user=u3, method:GET, latency := 50", Stream: "s2"},
	{Time: base.Add(8 * time.Minute), Message: "[ERROR] Exception in thread main 10.0.1.7", Stream: "s3"},
	{Time: base.Add(9 * time.Minute), Message: `{"level":"WARN","latency":"75","path":"/c"}`, Stream: "s3"},
}

func init() {
	for i := range events {
		events[i].Group = "123456789012:/app"
		events[i].Ptr = fmt.Sprintf("ptr%d", i)
		events[i].Ingestion = events[i].Time.Add(time.Second)
	}
}

func seq(evs []Event) iter.Seq[Event] { return slices.Values(evs) }

// render shows rows compactly: "a=1 b=2; a=3".
func render(rows [][]Field) string {
	var out []string
	for _, r := range rows {
		var fs []string
		for _, f := range r {
			if f.Name != "@ptr" {
				fs = append(fs, f.Name+"="+f.Value)
			}
		}
		out = append(out, strings.Join(fs, " "))
	}
	return strings.Join(out, "; ")
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"default columns newest first", "limit 2",
			`@timestamp=2026-12-07 17:09:00.000 @message={"level":"WARN","latency":"75","path":"/c"}; @timestamp=2026-12-07 17:08:00.000 @message=[ERROR] Exception in thread main 10.0.1.7`},
		{"fields", "fields @timestamp, level | filter level = 'ERROR'", "@timestamp=2026-12-07 17:02:00.000 level=ERROR"},
		{"fields alias and arithmetic", "fields latency * 2 as double, abs(-latency) | filter ispresent(latency) | sort double asc | limit 2",
			"double=150 abs(-latency)=75; double=240 abs(-latency)=120"},
		{"nested and array fields", "fields user.id, tags.1 | filter ispresent(tags.0)", "user.id=u1 tags.1=y"},
		{"system fields", "fields @logStream, @log, @ingestionTime | filter @logStream = 's3' | limit 1",
			"@logStream=s3 @log=123456789012:/app @ingestionTime=2026-12-07 17:09:01.000"},
		{"filter numeric", "fields path | filter latency > 100 and latency < 1000 | sort latency desc", "path=/b; path=/a; path=/a"},
		{"filter string number", "fields path | filter latency = 75", "path=/c"},
		{"filter or not", "fields level | filter level = 'WARN' or not ispresent(level)", "level=WARN; ; "},
		{"like regex", "fields @message | filter @message like /Exception/", "@message=[ERROR] Exception in thread main 10.0.1.7"},
		{"like case-insensitive", "fields @logStream | filter @message =~ /(?i)exception/", "@logStream=s3"},
		{"like substring", `fields @logStream | filter @message like "method:GET"`, "@logStream=s2"},
		{"not like", `fields path | filter ispresent(path) and path not like /a/ | sort path asc`, "path=/b; path=/c"},
		{"in", "fields path | filter path in ['/b', '/c'] | sort path", "path=/c; path=/b"},
		{"not in", "fields path | filter path not in ['/a'] | sort path asc", "path=/b; path=/c"},
		{"stats count", "stats count(*)", "count(*)=6"},
		{"stats count()", "stats count() as n", "n=6"},
		{"stats count field", "stats count(level) as withLevel, count(*) as all", "withLevel=4 all=6"},
		{"stats by", "stats count(*) as n, avg(latency) as avg by level",
			"level=ERROR n=1 avg=900; level=INFO n=2 avg=210; level=WARN n=1 avg=75; n=2"}, // the group without level last
		{"stats sum min max", "stats sum(latency), min(latency), max(latency) by path | filter ispresent(path)",
			"path=/a sum(latency)=420 min(latency)=120 max(latency)=300; path=/b sum(latency)=900 min(latency)=900 max(latency)=900; path=/c sum(latency)=75 min(latency)=75 max(latency)=75"},
		{"stats pct stddev", "stats pct(latency, 50) as p50, pct(latency, 99) as p99, stddev(latency) as sd",
			"p50=120 p99=900 sd=380.1397769242256"},
		{"stats count_distinct", "stats count_distinct(user.id) as users", "users=2"},
		{"stats earliest latest", "stats earliest(level) as first, latest(level) as last, sortsFirst(level) as sf, sortsLast(level) as sl",
			"first=INFO last=WARN sf=ERROR sl=WARN"},
		{"stats bin", "stats count(*) by bin(5m)",
			"bin(5m)=2026-12-07 17:00:00.000 count(*)=3; bin(5m)=2026-12-07 17:05:00.000 count(*)=3"},
		{"stats arithmetic", "stats sum(latency) / count(latency) as mean", "mean=348.75"},
		{"stats then sort limit", "stats count(*) as n by level | sort n desc | limit 1", "level=INFO n=2"},
		{"stats then filter", "stats count(*) as n by level | filter n < 2 and ispresent(level)", "level=ERROR n=1; level=WARN n=1"},
		{"sort asc", "fields path | filter ispresent(path) | sort path asc", "path=/a; path=/a; path=/b; path=/c"},
		{"sort two keys", "fields path, latency | filter ispresent(path) | sort path asc, latency desc",
			"path=/a latency=300; path=/a latency=120; path=/b latency=900; path=/c latency=75"},
		{"limit", "fields @logStream | limit 1", "@logStream=s3"},
		{"parse glob", `parse @message "user=*, method:*, latency := *" as @user, @method, @latency | filter ispresent(@user) | display @user, @method, @latency`,
			"@user=u3 @method=GET @latency=50"},
		{"parse glob stats", `parse "user=*, method:*, latency := *" as u, m, l | stats avg(l) as a by m | filter ispresent(m)`, "m=GET a=50"},
		{"parse regex", `parse @message /\[(?<lvl>[A-Z]+)\] (?<what>\w+)/ | filter ispresent(lvl) | display lvl, what`, "lvl=ERROR what=Exception"},
		{"parse columns", `parse @message "[*]" as lvl | filter lvl = "ERROR"`,
			"@timestamp=2026-12-07 17:08:00.000 @message=[ERROR] Exception in thread main 10.0.1.7 lvl=ERROR"},
		{"display", "fields level, path | display path | filter ispresent(path) | limit 1", "path=/c"},
		{"dedup", "fields path | filter ispresent(path) | dedup path | sort path asc", "path=/a; path=/b; path=/c"},
		{"string functions", `fields toupper(path) as up, strlen(@logStream) as n, concat(path, '!') as c, substr('xyZfooxyZ', 3, 3) as s, replace('foo', 'o', '0') as r, trim('xyZfooxyZ', 'xyZ') as t, ltrim('  a') as lt, strcontains(path, 'b') as sc | filter path = '/b'`,
			"up=/B n=2 c=/b! s=foo r=f00 t=foo lt=a sc=1"},
		{"isempty isblank", `fields isempty(level) as e, isblank('  ') as b, tolower(level) as l | filter path = '/c'`, "e=0 b=1 l=warn"},
		{"numeric functions", `fields ceil(1.2) as c, floor(1.8) as f, greatest(1, 5, 3) as g, least(4, 2) as l, sqrt(16) as s, log(1) as ln, 2 ^ 3 as p, 10 % 3 as m | limit 1`,
			"c=2 f=1 g=5 l=2 s=4 ln=0 p=8 m=1"},
		// % on fractions once divided by zero (int64(0.5) == 0) and killed the process.
		{"modulo", `fields 5 % 0.5 as a, 5.5 % 2 as b, -7 % 3 as c, 7 % -3 as d, 5 % 0 as z, 1e300 % 7 as big | limit 1`,
			"a=0 b=1.5 c=-1 d=1 big=" + strconv.FormatFloat(math.Mod(1e300, 7), 'f', -1, 64)},
		{"string growth capped", `fields concat(@logStream, @logStream) as a | fields concat(a, a) as a | fields concat(a, a) as a | filter @logStream = 's2' | limit 1`,
			"a=s2s2s2s2s2s2s2s2"},
		{"datetime functions", `fields datefloor(@timestamp, 1h) as fl, dateceil(@timestamp, 1h) as ce, toMillis(@timestamp) as ms, fromMillis(0) as epoch, bin(1m) as b | filter path = '/a' | sort @timestamp desc | limit 1`,
			"fl=2026-12-07 17:00:00.000 ce=2026-12-07 18:00:00.000 ms=1796662980345 epoch=1970-01-01 00:00:00.000 b=2026-12-07 17:03:00.000"},
		{"ip functions", `parse @message "main *" as ip | filter isValidIp(ip) and isIpInSubnet(ip, '10.0.0.0/16') and isValidIpV4(ip) and not isValidIpV6(ip) and isIpv4InSubnet(ip, '10.0.1.0/24') | display ip`,
			"ip=10.0.1.7"},
		{"coalesce", "fields coalesce(level, @logStream) as c | sort @timestamp asc | limit 5 | sort c asc | limit 2", "c=ERROR; c=INFO"},
		{"backticks and comments", "# all paths\nfields `path` as `the-path` | filter ispresent(`path`) # only JSON\n| sort `the-path` asc | limit 1", "the-path=/a"},
		{"case-insensitive commands", "FIELDS path | FILTER path = '/b' AND latency > 1", "path=/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.query, err)
			}
			res, err := q.Run(context.Background(), seq(events))
			if err != nil {
				t.Fatal(err)
			}
			if got := render(res.Rows); got != tt.want {
				t.Errorf("%s\n got %s\nwant %s", tt.query, got, tt.want)
			}
		})
	}
}

func TestResultCounts(t *testing.T) {
	q, err := Parse("fields path | filter ispresent(path)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Run(context.Background(), seq(events))
	if err != nil {
		t.Fatal(err)
	}
	bytes := 0
	for _, e := range events {
		bytes += len(e.Message)
	}
	if res.Matched != 4 || res.Scanned != 6 || res.BytesScanned != float64(bytes) {
		t.Errorf("matched %d scanned %d bytes %v, want 4, 6, %d", res.Matched, res.Scanned, res.BytesScanned, bytes)
	}
	// Rows of events end with @ptr, newest first.
	if last := res.Rows[0][len(res.Rows[0])-1]; last != (Field{"@ptr", "ptr5"}) {
		t.Errorf("first row ends with %v, want @ptr=ptr5", last)
	}
	// Stats rows have none.
	q, _ = Parse("stats count(*)")
	res, _ = q.Run(context.Background(), seq(events))
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		t.Errorf("stats rows = %v", res.Rows)
	}
}

func TestDefaultLimit(t *testing.T) {
	many := make([]Event, defaultLimit+5)
	for i := range many {
		many[i] = Event{Time: base.Add(time.Duration(i) * time.Millisecond), Message: "m"}
	}
	for query, want := range map[string]int{"fields @message": defaultLimit, "fields @message | limit 20000": defaultLimit + 5, "stats count(*) by @timestamp": defaultLimit} {
		q, err := Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		res, err := q.Run(context.Background(), seq(many))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != want {
			t.Errorf("%s: %d rows, want %d", query, len(res.Rows), want)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q, _ := Parse("fields @message")
	if _, err := q.Run(ctx, seq(events)); err == nil {
		t.Error("Run on a cancelled context succeeded")
	}
}

func TestNaturalSort(t *testing.T) {
	// AWS's sort page: the ascending order of its example values.
	want := []string{"!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A", "A9876fghj", "a12345hfh", "0", "01", "1", "2", "3"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, func(a, b string) int { return sortCompare(str(a), str(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q\nwant   %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ query, want string }{
		{"", "query is empty"},
		{"   # only a comment", "query is empty"},
		{"fieldz a", "unexpected symbol found fieldz at line 1 and position 1"},
		{"fields a |", "unexpected end of query"},
		{"fields a b", "unexpected symbol found b at line 1 and position 10"},
		{"fields a,\n  b |\n  filter ?", "unexpected symbol found ? at line 3 and position 10"},
		{"filter a = 'x", "unterminated string"},
		{"fields `a", "unterminated `name`"},
		{"filter a like 3", "expected a /regex/ or a string"},
		{"filter a like /(/", "invalid regular expression"},
		{"filter a in 'x'", "unexpected symbol found x"},
		{"fields nosuch(a)", "unknown function nosuch"},
		{"fields abs(1, 2)", "wrong number of arguments for abs"},
		{"fields count(*)", "can be used only in stats"},
		{"stats a", "stats needs an aggregate function"},
		{"stats count(*) by", "unexpected end of query"},
		{"stats pct(a)", "wrong number of arguments for pct"},
		{"stats sum(count(*))", "can be used only in stats"},
		{"limit 0", "limit must be a whole number"},
		{"limit 100001", "limit must be a whole number"},
		{"limit x", "limit must be a whole number"},
		{"parse @message 'a*b*' as x", "has 2 * but 1 names"},
		{"parse @message 'a*'", "expected as"},
		{"parse @message /(a)/", "must be named"},
		{"parse @message /a/", "needs a named group"},
		{"parse 3", "parse needs a field"},
		{"stats count(*) by bin(5parsecs)", "invalid time period 5parsecs"},
		{"fields a as 3", "expected a name after as"},
		{"sort", "unexpected end of query"},
		{"unmask @message", "unexpected symbol found unmask"},
		{"fields (a", "unexpected end of query"},
		{"fields a ! b", "unexpected symbol found !"},
		{"fields \xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.query)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.query, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"fields a, b as c | filter a > 1 and b like /x/ | sort a desc | limit 5",
		"stats count(*), pct(l, 95) by bin(5m), x", `parse @message "a * b *" as x, y | dedup x`,
		"filter f in [1, 'a'] or not ispresent(g) | display f", "fields `a-b` # c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			return
		}
		if _, err := q.Run(context.Background(), seq(events)); err != nil {
			t.Errorf("Run(%q): %v", query, err)
		}
	})
}

// A query must not grow a value exponentially: concat and replace give
// null past maxStringLen, and the query still finishes at once.
func TestStringGrowthCapped(t *testing.T) {
	doubling := func(stages int) string {
		q := "filter @logStream = 's2' and ispresent(user.id) | limit 1 | fields @logStream as a"
		for range stages {
			q += " | fields concat(a, a) as a"
		}
		return q + " | fields strlen(a) as n, ispresent(a) as p | display n, p"
	}
	tests := []struct{ name, query, want string }{
		// "s2" doubled 19 times is exactly 1 MiB: still a value.
		{"concat to the cap", doubling(19), "n=1048576 p=1"},
		{"concat past the cap", doubling(20), "p=0"},
		// concat of nulls is "": the value starts again from nothing.
		{"concat far past the cap", doubling(64), "n=0 p=1"},
		{"replace empty", "filter @logStream = 's2' and ispresent(user.id) | limit 1 | fields @logStream as a" +
			strings.Repeat(` | fields replace(a, "", a) as a`, 8) + " | fields ispresent(a) as p | display p", "p=0"},
		{"replace within the cap", `fields replace(@logStream, "", "xx") as r | filter @logStream = 's2' and ispresent(user.id) | limit 1 | display r`, "r=xxsxx2xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			res, err := q.Run(context.Background(), seq(events))
			if err != nil {
				t.Fatal(err)
			}
			if got := render(res.Rows); got != tt.want {
				t.Errorf("%s\n got %.200s\nwant %s", tt.query, got, tt.want)
			}
		})
	}
}
