package acm

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/acmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// AWS checks a request against its model's constraints (length, pattern,
// enum, range) before the operation sees it, and answers every violation
// at once: ValidationException "2 validation errors detected: Value 'x' at
// 'domainName' failed to satisfy constraint: Member must …; Value …". The
// codec enforces only required members, so ACM checks the rest here, with
// AWS's member paths (lower camel case, "tags.1.member.key") and wording.

// The model's patterns. DomainNameString's lookaheads, which RE2 lacks,
// are checked by validDomainName.
const (
	arnPattern        = `arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*`
	pcaArnPattern     = `arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*`
	domainPattern     = `^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$`
	tokenPattern      = `\w+`
	tagPattern        = `[\p{L}\p{Z}\p{N}_.:\/=+\-@]*`
	nextTokenPattern  = `[\u0009\u000A\u000D\u0020-\u00FF]*`
	maxDomainLen      = 253
	maxARNLen         = 2048
	minARNLen         = 20
	maxTokenLen       = 32
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
	maxTags           = 50
	maxDomains        = 100
	maxCertificateLen = 32768
	maxPrivateKeyLen  = 5120
	maxChainLen       = 2097152
)

var (
	arnRE       = lazyregexp.New(`^(?:` + arnPattern + `)$`)
	pcaArnRE    = lazyregexp.New(`^(?:` + pcaArnPattern + `)$`)
	tokenRE     = lazyregexp.New(`^(?:` + tokenPattern + `)$`)
	tagRE       = lazyregexp.New(`^(?:` + tagPattern + `)$`)
	nextTokenRE = lazyregexp.New(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]*$`) // nextTokenPattern in RE2
)

// The model's enums, in its order.
var (
	keyAlgorithms       = []string{"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"}
	validationMethods   = []string{"EMAIL", "DNS"}
	certificateStatuses = []string{statusPending, statusIssued, statusInactive, statusExpired, statusTimedOut, statusRevoked, statusFailed}
	ctPreferences       = []string{"ENABLED", "DISABLED"}
	sortBys             = []string{"CREATED_AT"}
	sortOrders          = []string{"ASCENDING", "DESCENDING"}
	extendedKeyUsages   = []string{"TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION", "CODE_SIGNING", "EMAIL_PROTECTION", "TIME_STAMPING", "OCSP_SIGNING", "IPSEC_END_SYSTEM", "IPSEC_TUNNEL", "IPSEC_USER", "ANY", "NONE", "CUSTOM"}
	keyUsages           = []string{"DIGITAL_SIGNATURE", "NON_REPUDIATION", "KEY_ENCIPHERMENT", "DATA_ENCIPHERMENT", "KEY_AGREEMENT", "CERTIFICATE_SIGNING", "CRL_SIGNING", "ENCIPHER_ONLY", "DECIPHER_ONLY", "ANY", "CUSTOM"}
)

// violations collects the constraint failures of one request: api.Violations
// with this service's checks.
type violations struct{ api.Violations }

// length checks a string's length in characters.
func (v *violations) length(s, path string, min, max int) {
	n := utf8.RuneCountInString(s)
	if n < min {
		v.Add(&s, path, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if max > 0 && n > max {
		v.Add(&s, path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// pattern checks s against a model pattern (shown as the model writes it).
func (v *violations) pattern(s, path string, re *lazyregexp.Regexp, shown string) {
	if !re.MatchString(s) {
		v.Add(&s, path, "Member must satisfy regular expression pattern: "+shown)
	}
}

// enum checks an optional enum member.
func (v *violations) enum(p *string, path string, set []string) {
	if p == nil {
		return
	}
	if slices.Contains(set, *p) {
		return
	}
	v.Add(p, path, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

// enumList checks a list of enum members.
func (v *violations) enumList(list []string, path string, set []string) {
	for _, e := range list {
		if !slices.Contains(set, e) {
			shown := "[" + strings.Join(list, ", ") + "]"
			v.Add(&shown, path, "Member must satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]]")
			return
		}
	}
}

// blob checks a blob's size; AWS does not echo blobs.
func (v *violations) blob(b []byte, path string, max int) {
	if len(b) == 0 {
		v.Add(nil, path, "Member must have length greater than or equal to 1")
	}
	if len(b) > max {
		v.Add(nil, path, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// arn checks a certificate ARN member.
func (v *violations) arn(p *string, path string) {
	if p == nil {
		return
	}
	v.length(*p, path, minARNLen, maxARNLen)
	v.pattern(*p, path, arnRE, arnPattern)
}

// domain checks one DomainNameString member.
func (v *violations) domain(s, path string) {
	v.length(s, path, 1, maxDomainLen)
	if !validDomainName(s) {
		v.Add(&s, path, "Member must satisfy regular expression pattern: "+domainPattern)
	}
}

// domainList checks a DomainList member: its size, and each name, reported
// the way AWS reports a list whose members fail (all member constraints
// listed once).
func (v *violations) domainList(list []string, path string) {
	if list == nil {
		return
	}
	shown := "[" + strings.Join(list, ", ") + "]"
	if len(list) < 1 {
		v.Add(&shown, path, "Member must have length greater than or equal to 1")
	}
	if len(list) > maxDomains {
		v.Add(&shown, path, fmt.Sprintf("Member must have length less than or equal to %d", maxDomains))
	}
	for _, d := range list {
		if n := utf8.RuneCountInString(d); n < 1 || n > maxDomainLen || !validDomainName(d) {
			v.Add(&shown, path, fmt.Sprintf("Member must satisfy constraint: [Member must have length less than or equal to %d, "+
				"Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: %s]", maxDomainLen, domainPattern))
			return
		}
	}
}

// tags checks a TagList member.
func (v *violations) tags(tags []acmapi.Tag, path string) {
	if tags == nil {
		return
	}
	if len(tags) < 1 {
		shown := "[]"
		v.Add(&shown, path, "Member must have length greater than or equal to 1")
	}
	if len(tags) > maxTags {
		v.Add(nil, path, fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
	}
	for i, t := range tags {
		kp := fmt.Sprintf("%s.%d.member.key", path, i+1)
		key := deref(t.Key)
		v.length(key, kp, 1, maxTagKeyLen)
		v.pattern(key, kp, tagRE, tagPattern)
		if t.Value != nil {
			vp := fmt.Sprintf("%s.%d.member.value", path, i+1)
			v.length(*t.Value, vp, 0, maxTagValueLen)
			v.pattern(*t.Value, vp, tagRE, tagPattern)
		}
	}
}

// validDomainName matches DomainNameString's pattern:
// ^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$
// — labels of letters, digits and hyphens, not starting or ending with a
// hyphen, at most 63 characters, the last at least two, at least two
// labels, and an optional leading "*." wildcard label.
func validDomainName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		min := 1
		if i == len(labels)-1 {
			min = 2
		}
		if len(l) < min || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func errValidation(format string, args ...any) error {
	return api.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
