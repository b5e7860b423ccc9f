package codec

import (
	"testing"
	"time"
)

// TestFormatTime checks the hand-written timestamp formats against the
// layouts they replace, at the edges of each field (epoch seconds keep
// float64's rounding, as they always have).
func TestFormatTime(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		t              time.Time
		iso, rfc, unix string
	}{
		{time.Date(2026, 12, 7, 14, 5, 9, 0, time.UTC), "2026-12-07T14:05:09Z", "Mon, 07 Dec 2026 14:05:09 GMT", "1796652309"},
		{time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC), "2026-01-01T00:00:00.123Z", "Thu, 01 Jan 2026 00:00:00 GMT", "1767225600.1234567"},
		{time.Date(2026, 1, 1, 0, 0, 0, 500_000, time.UTC), "2026-01-01T00:00:00.000Z", "Thu, 01 Jan 2026 00:00:00 GMT", "1767225600.0005"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, est), "2000-01-01T04:59:59.999Z", "Sat, 01 Jan 2000 04:59:59 GMT", "946702799.9990001"},
		{time.Date(5, 3, 4, 5, 6, 7, 0, time.UTC), "0005-03-04T05:06:07Z", "Fri, 04 Mar 0005 05:06:07 GMT", "-62003991233"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00Z", "Sat, 01 Jan 10000 00:00:00 GMT", "253402300800"},
	} {
		for format, want := range map[string]string{FormatISO8601: tc.iso, FormatRFC822: tc.rfc, FormatUnix: tc.unix} {
			if got := formatTime(tc.t, format); got != want {
				t.Errorf("formatTime(%v, %s) = %q, want %q", tc.t, format, got, want)
			}
		}
	}
}
