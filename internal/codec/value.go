package codec

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/model"
)

// Value is the generic form of a shape's value:
//
//	structure, map: map[string]any      list: []any
//	string (and enums): string          integer, long, byte, short: int64
//	float, double: float64              boolean: bool
//	timestamp: time.Time                blob: []byte
//	document: any JSON-like value
type Value = any

// Timestamp formats of the models' timestampFormat trait.
const (
	FormatISO8601  = "iso8601"
	FormatUnix     = "unixTimestamp"
	FormatRFC822   = "rfc822"
	iso8601Layout  = "2006-01-02T15:04:05.999999999Z07:00"
	iso8601Compact = "2006-01-02T15:04:05Z"
)

// tsFormat picks the timestamp format of a reference: the member's trait, then
// the shape's, then the protocol's default for that location.
func tsFormat(ref *model.Ref, def string) string {
	if ref != nil {
		if ref.TimestampFormat != "" {
			return ref.TimestampFormat
		}
		if ref.Shape != nil && ref.Shape.TimestampFormat != "" {
			return ref.Shape.TimestampFormat
		}
	}
	return def
}

func formatTime(t time.Time, format string) string {
	return string(appendTime(nil, t, format))
}

// maxEpoch bounds the epoch seconds the codec accepts (year 10000): past it,
// and for NaN and infinities, seconds do not convert to a time.Time.
const maxEpoch = 253402300800

// epochTime converts epoch seconds into a time, rejecting what is no time.
func epochTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.Abs(f) >= maxEpoch {
		return time.Time{}, fmt.Errorf("invalid epoch timestamp %v", f)
	}
	return epochToTime(f), nil
}

func epochToTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
}

// parseTime accepts every format AWS clients send, whatever the trait says:
// servers are lenient where clients differ.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return epochTime(f)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
}

// textBlob decodes the base64 text of a blob.
func textBlob(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("invalid base64 value for blob")
	}
	return b, nil
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// memberName is the name a member has on the wire in JSON and XML bodies.
func memberName(name string, ref *model.Ref) string {
	if ref.LocationName != "" {
		return ref.LocationName
	}
	return name
}
