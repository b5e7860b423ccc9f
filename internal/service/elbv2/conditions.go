package elbv2

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/minicloud/minicloud/internal/api/elbv2api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
)

// Rule conditions, with AWS's rules ("Condition types for listener
// rules"): host-header, http-request-method, path-pattern and source-ip at
// most once per rule, http-header and query-string any number of times; at
// most three values per condition and five in the whole rule (match
// evaluations); at most five wildcards (* and ?) per rule. host-header and
// path-pattern may use the legacy form Values (one value); every field may
// use its *Config block, which Describe always shows (with Values too for
// the two legacy fields, as AWS does).

const (
	maxValuesPerCondition = 3
	maxValuesPerRule      = 5
	maxWildcardsPerRule   = 5
	maxConditionValueLen  = 128
)

var conditionFields = []string{"http-header", "http-request-method", "host-header", "path-pattern", "query-string", "source-ip"}

// onceFields may appear in one condition of a rule only.
var onceFields = []string{"host-header", "http-request-method", "path-pattern", "source-ip"}

var (
	hostChars   = lazyregexp.New(`^[A-Za-z0-9\-_.*?]+$`)
	pathChars   = lazyregexp.New(`^[A-Za-z0-9_\-.$/~"'@:+&*?]+$`)
	methodChars = lazyregexp.New(`^[A-Z_-]+$`)
	// headerNameChars is RFC 7230's token.
	headerNameChars = lazyregexp.New("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
)

// conditionValues are a condition's values whichever form it uses, and
// the config block the request gave (nil for the legacy form).
func conditionValues(c *elbv2api.RuleCondition) (field string, values []string, config bool, err error) {
	field = deref(c.Field)
	configs := map[string]bool{
		"host-header": c.HostHeaderConfig != nil, "path-pattern": c.PathPatternConfig != nil,
		"http-header": c.HttpHeaderConfig != nil, "http-request-method": c.HttpRequestMethodConfig != nil,
		"query-string": c.QueryStringConfig != nil, "source-ip": c.SourceIpConfig != nil,
	}
	for f, set := range configs {
		if set && f != field {
			return field, nil, false, errValidation("The '%s' condition cannot have a %s configuration", field, configName(f))
		}
	}
	config = configs[field]
	legacy := field == "host-header" || field == "path-pattern"
	switch {
	case len(c.Values) > 0 && !legacy:
		return field, nil, false, errValidation("The 'Values' field is not compatible with '%s'", field)
	case len(c.Values) > 0 && config:
		return field, nil, false, errValidation("You cannot provide both Values and '%s' for a condition of type '%s'", configName(field), field)
	case !config && !legacy:
		return field, nil, false, errValidation("A '%s' must be specified with '%s'", configName(field), field)
	case !config && len(c.Values) > 1:
		return field, nil, false, errValidation("The '%s' field contains too many values; the limit is '1'", field)
	}
	switch field {
	case "host-header":
		values = c.Values
		if config {
			values = c.HostHeaderConfig.Values
		}
	case "path-pattern":
		values = c.Values
		if config {
			values = c.PathPatternConfig.Values
		}
	case "http-header":
		values = c.HttpHeaderConfig.Values
	case "http-request-method":
		values = c.HttpRequestMethodConfig.Values
	case "source-ip":
		values = c.SourceIpConfig.Values
	case "query-string":
		for _, kv := range c.QueryStringConfig.Values {
			values = append(values, deref(kv.Key)+"="+deref(kv.Value))
		}
	}
	return field, values, config, nil
}

func configName(field string) string {
	return map[string]string{"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig",
		"http-header": "HttpHeaderConfig", "http-request-method": "HttpRequestMethodConfig",
		"query-string": "QueryStringConfig", "source-ip": "SourceIpConfig"}[field]
}

// checkConditions validates a rule's conditions and returns them as they
// are stored and described.
func checkConditions(conds []elbv2api.RuleCondition) ([]elbv2api.RuleCondition, error) {
	if len(conds) == 0 {
		return nil, errValidation("A condition must be specified")
	}
	seen := map[string]bool{}
	total, wildcards := 0, 0
	out := make([]elbv2api.RuleCondition, 0, len(conds))
	for i := range conds {
		c := &conds[i]
		field := deref(c.Field)
		if field == "" {
			return nil, errValidation("A condition field must be specified")
		}
		if !slices.Contains(conditionFields, field) {
			return nil, errValidation("Condition field '%s' must be one of '[%s]'", field, join(conditionFields))
		}
		if slices.Contains(onceFields, field) && seen[field] {
			return nil, errValidation("A rule can only have one '%s' condition", field)
		}
		seen[field] = true
		field, values, _, err := conditionValues(c)
		if err != nil {
			return nil, err
		}
		if len(values) == 0 {
			return nil, errValidation("A condition value must be specified")
		}
		if len(values) > maxValuesPerCondition {
			return nil, errValidation("The '%s' field contains too many values; the limit is '%d'", field, maxValuesPerCondition)
		}
		total += len(values)
		if err := checkConditionValues(c, field); err != nil {
			return nil, err
		}
		for _, v := range values {
			if field != "source-ip" && field != "http-request-method" {
				wildcards += strings.Count(v, "*") + strings.Count(v, "?")
			}
		}
		out = append(out, normalCondition(c, field))
	}
	if total > maxValuesPerRule {
		return nil, errValidation("A rule can only have '%d' condition values", maxValuesPerRule)
	}
	if wildcards > maxWildcardsPerRule {
		return nil, errValidation("A rule can only have '%d' wildcards", maxWildcardsPerRule)
	}
	return out, nil
}

// checkConditionValues applies each field's lengths and characters.
func checkConditionValues(c *elbv2api.RuleCondition, field string) error {
	tooLong := func(v string) bool { return len(v) > maxConditionValueLen }
	_, values, _, _ := conditionValues(c)
	switch field {
	case "host-header":
		for _, v := range values {
			switch {
			case tooLong(v):
				return errValidation("The 'host-header' value is too long; the limit is '%d'", maxConditionValueLen)
			case !hostChars.MatchString(v):
				return errValidation("The 'host-header' value '%s' is invalid; the allowed characters are A-Z, a-z, 0-9, hyphen, underscore, period, * and ?", v)
			case !strings.Contains(v, "."):
				return errValidation("The 'host-header' value '%s' must contain at least one '.' character", v)
			}
		}
	case "path-pattern":
		for _, v := range values {
			switch {
			case tooLong(v):
				return errValidation("The 'path-pattern' value is too long; the limit is '%d'", maxConditionValueLen)
			case !pathChars.MatchString(v):
				return errValidation("The 'path-pattern' value '%s' is invalid; the allowed characters are A-Z, a-z, 0-9, _ - . $ / ~ \" ' @ : + & * and ?", v)
			}
		}
	case "http-header":
		name := deref(c.HttpHeaderConfig.HttpHeaderName)
		switch {
		case name == "":
			return errValidation("A 'HttpHeaderName' must be specified with 'http-header'")
		case len(name) > 40:
			return errValidation("The 'HttpHeaderName' value is too long; the limit is '40'")
		case !headerNameChars.MatchString(name):
			return errValidation("The 'HttpHeaderName' value '%s' is invalid; the allowed characters are specified by RFC 7230", name)
		case strings.EqualFold(name, "host"):
			return errValidation("The 'HttpHeaderName' cannot be 'Host': use a 'host-header' condition")
		}
		for _, v := range values {
			if tooLong(v) {
				return errValidation("The 'http-header' value is too long; the limit is '%d'", maxConditionValueLen)
			}
		}
	case "http-request-method":
		for _, v := range values {
			switch {
			case len(v) > 40:
				return errValidation("The 'http-request-method' value is too long; the limit is '40'")
			case !methodChars.MatchString(v):
				return errValidation("The 'http-request-method' value is invalid; the allowed characters are A-Z, hyphen and underscore")
			}
		}
	case "query-string":
		for _, kv := range c.QueryStringConfig.Values {
			switch {
			case kv.Value == nil || *kv.Value == "":
				return errValidation("A 'Value' must be specified in 'QueryStringKeyValuePair'")
			case len(deref(kv.Key)) > maxConditionValueLen:
				return errValidation("The 'Key' value is too long; the limit is '%d'", maxConditionValueLen)
			case len(*kv.Value) > maxConditionValueLen:
				return errValidation("The 'Value' value is too long; the limit is '%d'", maxConditionValueLen)
			}
		}
	case "source-ip":
		for _, v := range values {
			p, err := netip.ParsePrefix(v)
			switch {
			case err != nil:
				return errValidation("The 'source-ip' value '%s' is not a valid CIDR block", v)
			case p == netip.MustParsePrefix("255.255.255.255/32"):
				return errValidation("The 'source-ip' value cannot be '255.255.255.255/32'")
			}
		}
	}
	return nil
}

// normalCondition is a condition as AWS stores and describes it: the
// config block always, and Values too for host-header and path-pattern.
func normalCondition(c *elbv2api.RuleCondition, field string) elbv2api.RuleCondition {
	_, values, _, _ := conditionValues(c)
	out := elbv2api.RuleCondition{Field: ptr(field)}
	switch field {
	case "host-header":
		out.Values = slices.Clone(values)
		out.HostHeaderConfig = &elbv2api.HostHeaderConditionConfig{Values: slices.Clone(values)}
	case "path-pattern":
		out.Values = slices.Clone(values)
		out.PathPatternConfig = &elbv2api.PathPatternConditionConfig{Values: slices.Clone(values)}
	case "http-header":
		out.HttpHeaderConfig = c.HttpHeaderConfig
	case "http-request-method":
		out.HttpRequestMethodConfig = c.HttpRequestMethodConfig
	case "query-string":
		out.QueryStringConfig = c.QueryStringConfig
	case "source-ip":
		out.SourceIpConfig = c.SourceIpConfig
	}
	return out
}
