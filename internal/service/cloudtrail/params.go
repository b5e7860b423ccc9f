package cloudtrail

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/codec"
	"github.com/minicloud/minicloud/internal/model"
)

// requestParameters and responseElements are written from the operation's
// decoded input and output by paramEncoder, a codec.Encoder of its own:
// the generated types walk their members through it as they do for the
// wire, so no service describes its events.
//
// What AWS's examples show, and this follows:
//   - member names in lowerCamelCase: the model's name with its first
//     letter lowered ("dBInstanceIdentifier", "userName"); EC2's events
//     use its XML wire names ("instancesSet", "groupId") with lists as
//     {"items": [...]}, so EC2 takes the member's locationName when it
//     has one, and wraps lists so;
//   - timestamps: EC2 as epoch milliseconds ("launchTime": 1610486402000),
//     the other services as Java's default date text ("Jan 11, 2020,
//     12:18:27 AM");
//   - members the model marks sensitive: in requestParameters replaced by
//     "HIDDEN_DUE_TO_SECURITY_REASONS" (EC2: "<sensitiveDataRemoved>"),
//     in responseElements left out (STS's and IAM's secret access keys
//     are absent from AssumeRole's and CreateAccessKey's events); and a
//     few members AWS hides though the model does not mark them
//     (hiddenMembers: RDS's master password, "****").

// hiddenText is what a sensitive request member is replaced by.
func hiddenText(ec2 bool) string {
	if ec2 {
		return "<sensitiveDataRemoved>"
	}
	return "HIDDEN_DUE_TO_SECURITY_REASONS"
}

// hiddenMembers are members AWS's events mask although the model does not
// mark them sensitive, by service and member name, with their mask.
var hiddenMembers = map[string]map[string]string{
	"rds": {"MasterUserPassword": "****", "NewMasterUserPassword": "****"},
}

// javaTime is the date text AWS's Java services write in events.
const javaTime = "Jan 2, 2006, 3:04:05 PM"

// paramEncoder writes a structure as the JSON of an event's
// requestParameters or responseElements and collects the resources it
// names (resources.go).
type paramEncoder struct {
	b        []byte
	ec2      bool // EC2's names and list wrapping
	response bool // sensitive members are left out, not masked
	hidden   map[string]string
	// first is whether the innermost open object or array has no
	// element yet; one entry per level.
	first []bool
	// skip counts the levels opened inside a member that is left out.
	skip int
	res  *resourceSet
	// within names the open lists and maps, innermost last: a list's
	// member name, "" for a map, so that a list's strings are noted as
	// its member's resources.
	within []string
}

// encodeParams returns v's JSON as an event member (nil for a nil v) and
// adds the resources it names to res.
func encodeParams(v codec.Marshaler, ref *model.Ref, service string, response bool, res *resourceSet) json.RawMessage {
	if v == nil || ref == nil || ref.Shape == nil {
		return nil
	}
	e := &paramEncoder{ec2: service == "ec2", response: response, hidden: hiddenMembers[service], res: res}
	e.open('{')
	v.MarshalAWS(e, ref.Shape.MemberRefs)
	e.close('}')
	return e.b
}

func (e *paramEncoder) open(c byte) {
	e.b = append(e.b, c)
	e.first = append(e.first, true)
}

func (e *paramEncoder) close(c byte) {
	e.b = append(e.b, c)
	e.first = e.first[:len(e.first)-1]
}

// name is a member's name in an event.
func (e *paramEncoder) name(ref *model.Ref) string {
	n := ref.Name
	if e.ec2 && ref.LocationName != "" {
		n = ref.LocationName
	}
	return lowerFirst(n)
}

func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}

// begin starts a value: its key inside an object (a structure member or,
// after Key, a map entry) and the separator. It returns false when the
// value is not to be written: inside a left-out member, or a member that
// is left out or masked (the mask is then written in its place).
func (e *paramEncoder) begin(ref *model.Ref) bool {
	if e.skip > 0 {
		return false
	}
	member := ref != nil && ref.Name != ""
	if member {
		mask, hidden := e.hidden[ref.Name]
		if ref.Shape != nil && ref.Shape.Sensitive {
			mask, hidden = hiddenText(e.ec2), true
		}
		if hidden && e.response {
			return false
		}
		e.sep()
		e.b = appendString(e.b, e.name(ref))
		e.b = append(e.b, ':')
		if hidden {
			e.b = appendString(e.b, mask)
			return false
		}
		return true
	}
	if !e.afterKey() {
		e.sep()
	}
	return true
}

// afterKey reports (and clears) that a map key was just written, so the
// value needs no separator.
func (e *paramEncoder) afterKey() bool {
	n := len(e.b)
	return n > 0 && e.b[n-1] == ':'
}

func (e *paramEncoder) sep() {
	i := len(e.first) - 1
	if !e.first[i] {
		e.b = append(e.b, ',')
	}
	e.first[i] = false
}

// String writes a string and notes the resource it may name.
func (e *paramEncoder) String(ref *model.Ref, v string) {
	if e.begin(ref) {
		e.b = appendString(e.b, v)
		member := ref.Name
		if member == "" && len(e.within) > 0 {
			member = e.within[len(e.within)-1]
		}
		e.res.note(member, v)
	}
}

// Bool writes a boolean.
func (e *paramEncoder) Bool(ref *model.Ref, v bool) {
	if e.begin(ref) {
		e.b = strconv.AppendBool(e.b, v)
	}
}

// Int writes an integer.
func (e *paramEncoder) Int(ref *model.Ref, v int64) {
	if e.begin(ref) {
		e.b = strconv.AppendInt(e.b, v, 10)
	}
}

// Float writes a number (JSON has no NaN or infinities: those as text).
func (e *paramEncoder) Float(ref *model.Ref, v float64) {
	if !e.begin(ref) {
		return
	}
	if b, err := json.Marshal(v); err == nil {
		e.b = append(e.b, b...)
	} else {
		e.b = appendString(e.b, strconv.FormatFloat(v, 'g', -1, 64))
	}
}

// Time writes a timestamp as the service's events do.
func (e *paramEncoder) Time(ref *model.Ref, v time.Time) {
	if !e.begin(ref) {
		return
	}
	if e.ec2 {
		e.b = strconv.AppendInt(e.b, v.UnixMilli(), 10)
		return
	}
	e.b = appendString(e.b, v.UTC().Format(javaTime))
}

// Blob writes bytes as base64.
func (e *paramEncoder) Blob(ref *model.Ref, v []byte) {
	if e.begin(ref) {
		e.b = appendString(e.b, base64.StdEncoding.EncodeToString(v))
	}
}

// Value writes a document member as its JSON.
func (e *paramEncoder) Value(ref *model.Ref, v any) {
	if !e.begin(ref) {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	e.b = append(e.b, b...)
}

// Struct writes a nested structure.
func (e *paramEncoder) Struct(ref *model.Ref, v codec.Marshaler) {
	if !e.begin(ref) {
		return
	}
	e.open('{')
	if ref.Shape != nil {
		v.MarshalAWS(e, ref.Shape.MemberRefs)
	}
	e.close('}')
}

// BeginList starts a list (EC2's as {"items": [...]}).
func (e *paramEncoder) BeginList(ref *model.Ref, _ int) {
	if !e.begin(ref) {
		e.skip++
		return
	}
	e.within = append(e.within, ref.Name)
	if e.ec2 {
		e.open('{')
		e.sep()
		e.b = append(e.b, `"items":`...)
	}
	e.open('[')
}

// EndList ends a list.
func (e *paramEncoder) EndList(*model.Ref) {
	if e.skip > 0 {
		e.skip--
		return
	}
	e.within = e.within[:len(e.within)-1]
	e.close(']')
	if e.ec2 {
		e.close('}')
	}
}

// BeginMap starts a map.
func (e *paramEncoder) BeginMap(ref *model.Ref, _ int) {
	if !e.begin(ref) {
		e.skip++
		return
	}
	e.within = append(e.within, "")
	e.open('{')
}

// Key writes a map entry's key.
func (e *paramEncoder) Key(_ *model.Ref, k string) {
	if e.skip > 0 {
		return
	}
	e.sep()
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
}

// EndMap ends a map.
func (e *paramEncoder) EndMap(*model.Ref) {
	if e.skip > 0 {
		e.skip--
		return
	}
	e.within = e.within[:len(e.within)-1]
	e.close('}')
}

// Null writes a missing element.
func (e *paramEncoder) Null(ref *model.Ref) {
	if e.begin(ref) {
		e.b = append(e.b, "null"...)
	}
}

// appendString appends s as a JSON string. Unlike encoding/json it does
// not escape <, > and &: the events read as AWS's do ("<sensitiveDataRemoved>").
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r) // an invalid byte becomes U+FFFD
		}
	}
	return append(b, '"')
}

// eventSourceOf is the eventSource of a service's events: its endpoint
// prefix under amazonaws.com, as AWS names them (ec2.amazonaws.com,
// elasticloadbalancing.amazonaws.com, monitoring.amazonaws.com).
func eventSourceOf(endpointPrefix string) string {
	return strings.ToLower(endpointPrefix) + ".amazonaws.com"
}
