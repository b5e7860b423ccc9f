package ssm

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// Systems Manager checks a request against its model's constraints
// (length, pattern, enum, range) before the operation sees it and answers
// every violation at once: ValidationException "2 validation errors
// detected: Value 'x' at 'name' failed to satisfy constraint: Member must
// …; …". The codec enforces only required members, so the handlers check
// the rest with these, with AWS's member paths (lower camel case,
// "tags.1.member.key").

// violations collects the constraint failures of one request: api.Violations
// with this service's checks.
type violations struct{ api.Violations }

// length checks an optional string member's length in characters.
func (v *violations) length(p *string, path string, min, max int) {
	if p == nil {
		return
	}
	n := utf8.RuneCountInString(*p)
	if n < min {
		v.Add(p, path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max > 0 && n > max {
		v.Add(p, path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// pattern checks an optional member against a model pattern.
func (v *violations) pattern(p *string, path string, re *lazyregexp.Regexp, shown string) {
	if p != nil && !re.MatchString(*p) {
		v.Add(p, path, "Member must satisfy regular expression pattern: "+shown)
	}
}

// enum checks an optional enum member.
func (v *violations) enum(p *string, path string, set []string) {
	if p == nil || slices.Contains(set, *p) {
		return
	}
	v.Add(p, path, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

// rangeInt checks an optional integer member.
func (v *violations) rangeInt(p *int32, path string, min, max int32) {
	if p == nil {
		return
	}
	s := fmt.Sprint(*p)
	if *p < min {
		v.Add(&s, path, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if *p > max {
		v.Add(&s, path, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// listLen checks a list member's size, shown as AWS shows lists.
func (v *violations) listLen(list []string, path string, min, max int) {
	if list == nil {
		return
	}
	shown := "[" + strings.Join(list, ", ") + "]"
	if len(list) < min {
		v.Add(&shown, path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max > 0 && len(list) > max {
		v.Add(&shown, path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// The model's patterns and enums that Parameter Store's members use.
const (
	tagPattern   = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`
	keyIDPattern = `^([a-zA-Z0-9:/_-]+)$`
	filterKeyPat = `tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType`
)

var (
	tagRE       = lazyregexp.New(tagPattern)
	keyIDRE     = lazyregexp.New(keyIDPattern)
	filterKeyRE = lazyregexp.New(`^(?:` + filterKeyPat + `)$`)

	parameterTypes = []string{typeString, typeStringList, typeSecureString}
	parameterTiers = []string{tierStandard, tierAdvanced, tierIntelligent}
	resourceTypes  = []string{"Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline", "OpsItem", "OpsMetadata", "Automation", "Association"}
)

// tagList checks a TagList member (its keys and values).
func (v *violations) tagList(keys, values []string, path string, max int) {
	if max > 0 && len(keys) > max {
		v.Add(nil, path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	for i := range keys {
		kp := fmt.Sprintf("%s.%d.member.key", path, i+1)
		v.length(&keys[i], kp, 1, 128)
		v.pattern(&keys[i], kp, tagRE, tagPattern)
		vp := fmt.Sprintf("%s.%d.member.value", path, i+1)
		v.length(&values[i], vp, 0, 256)
		v.pattern(&values[i], vp, tagRE, tagPattern)
	}
}
