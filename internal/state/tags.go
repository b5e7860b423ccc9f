package state

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// EC2 tag limits (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html).
const (
	MaxTagsPerResource = 50
	MaxTagKeyLen       = 128 // Unicode characters
	MaxTagValueLen     = 256 // Unicode characters
	reservedTagPrefix  = "aws:"
)

// Tag is a resource tag. Services store tags as a slice sorted by key (see
// MergeTags) so Describe output is deterministic.
type Tag struct {
	Key   string
	Value string
}

// TagKeyValue selects tags to remove, with EC2 DeleteTags semantics: a nil
// Value removes the key whatever its value; a non-nil Value (even "")
// removes it only if the value matches exactly.
type TagKeyValue struct {
	Key   string
	Value *string
}

// TagSpecification is the TagSpecifications.N request element that lets a
// Create*/Run* call tag the resources it creates.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// ValidateTags checks one request's tags against EC2's rules: at most 50,
// keys of 1-128 characters not starting with "aws:" (case-insensitive),
// values of at most 256 characters, and no key twice. Messages follow what
// EC2 returns where known.
func ValidateTags(tags []Tag) error {
	if len(tags) > MaxTagsPerResource {
		return tagLimitError()
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := validateTagKey(t.Key); err != nil {
			return err
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen {
			return InvalidParameterValue("Tag value exceeds the maximum length of %d characters", MaxTagValueLen)
		}
		if seen[t.Key] {
			return InvalidParameterValue("Duplicate tag key '%s' specified.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func validateTagKey(key string) error {
	switch {
	case key == "":
		return InvalidParameterValue("Value ( '' ) for parameter Tag key is invalid. Tag key cannot be null or empty.")
	case utf8.RuneCountInString(key) > MaxTagKeyLen:
		return InvalidParameterValue("Tag key exceeds the maximum length of %d characters", MaxTagKeyLen)
	case IsReservedTagKey(key):
		return InvalidParameterValue("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", key)
	}
	return nil
}

// IsReservedTagKey reports whether key uses AWS's reserved "aws:" prefix
// (in any letter case). Such tags are set by AWS itself and do not count
// towards the per-resource limit.
func IsReservedTagKey(key string) bool {
	return len(key) >= len(reservedTagPrefix) && strings.EqualFold(key[:len(reservedTagPrefix)], reservedTagPrefix)
}

func tagLimitError() *Error {
	// The code is documented by EC2; the wire message is not published, so
	// this is the wording other emulators (moto) settled on.
	return Errorf(400, CodeTagLimitExceeded, "The maximum number of Tags for a resource has been reached.")
}

// CheckTagLimit fails with TagLimitExceeded if adding add to existing would
// leave more than 50 user tags. Overwriting an existing key does not count,
// which matters for resources already at the limit.
func CheckTagLimit(existing, add []Tag) error {
	n := 0
	for _, t := range MergeTags(existing, add) {
		if !IsReservedTagKey(t.Key) {
			n++
		}
	}
	if n > MaxTagsPerResource {
		return tagLimitError()
	}
	return nil
}

// MergeTags returns existing with add applied (CreateTags semantics: a key
// in add overwrites), sorted by key. Inputs are not modified.
func MergeTags(existing, add []Tag) []Tag {
	m := make(map[string]string, len(existing)+len(add))
	for _, t := range existing {
		m[t.Key] = t.Value
	}
	for _, t := range add {
		m[t.Key] = t.Value
	}
	return tagsFromMap(m)
}

// RemoveTags returns existing minus the tags selected by remove, sorted by
// key. As in EC2 DeleteTags, an empty remove list deletes every tag.
func RemoveTags(existing []Tag, remove []TagKeyValue) []Tag {
	if len(remove) == 0 {
		return []Tag{}
	}
	m := make(map[string]string, len(existing))
	for _, t := range existing {
		m[t.Key] = t.Value
	}
	for _, r := range remove {
		v, ok := m[r.Key]
		if ok && (r.Value == nil || *r.Value == v) {
			delete(m, r.Key)
		}
	}
	return tagsFromMap(m)
}

func tagsFromMap(m map[string]string) []Tag {
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// TagsFor extracts and validates the tags an operation should apply to the
// resource type it is creating. allowed lists every resource type the
// operation accepts in TagSpecifications (e.g. RunInstances accepts
// "instance", "volume", "network-interface"...); when empty only
// resourceType is accepted. Naming any other type is the error EC2 returns.
func TagsFor(specs []TagSpecification, resourceType string, allowed ...string) ([]Tag, error) {
	if len(allowed) == 0 {
		allowed = []string{resourceType}
	}
	var tags []Tag
	seen := map[string]bool{}
	for _, s := range specs {
		switch {
		case s.ResourceType == "":
			return nil, InvalidParameterValue("Tag specification resource type must have a value")
		case !slices.Contains(allowed, s.ResourceType):
			return nil, InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		case seen[s.ResourceType]:
			return nil, InvalidParameterValue("The same resource type may not be specified more than once in tag specifications")
		}
		seen[s.ResourceType] = true
		if s.ResourceType == resourceType {
			tags = s.Tags
		}
	}
	if err := ValidateTags(tags); err != nil {
		return nil, err
	}
	return MergeTags(nil, tags), nil
}
