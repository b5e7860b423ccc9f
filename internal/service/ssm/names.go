package ssm

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
)

// Parameter names: letters, digits and _.-/, a hierarchy written with a
// leading slash and at most 15 levels, no "aws" or "ssm" prefix (AWS's
// own), and at most 1011 characters counted with the ARN.

var nameRE = lazyregexp.New(`^[a-zA-Z0-9_.\-/]+$`)

const (
	msgNameRules = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	msgLevels    = "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide."
)

// checkName checks a name PutParameter is to create in sc.
func checkName(sc state.Scope, name string) error {
	if !nameRE.MatchString(name) {
		return errValidation(msgNameRules)
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return errValidation("Parameter name must be a fully qualified name.")
	}
	bare := strings.TrimPrefix(name, "/")
	if bare == "" || strings.Contains(bare, "//") || strings.HasSuffix(bare, "/") {
		return errValidation(msgNameRules)
	}
	lower := strings.ToLower(bare)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		if strings.HasPrefix(lower, "aws/") && strings.HasPrefix(name, "/") {
			return api.Errorf(http.StatusBadRequest, "AccessDeniedException", "No access to reserved parameter name: %s.", name)
		}
		if !strings.Contains(bare, "/") {
			return errValidation(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`)
		}
		return errValidation(msgNameRules)
	}
	if strings.Count(bare, "/")+1 > maxLevels {
		return clientError("HierarchyLevelLimitExceededException", msgLevels)
	}
	if len(parameterARN(sc, name)) > maxNameARNLength {
		return errValidation("Parameter name: the name, counted with its ARN (%s), is longer than %d characters.", parameterARN(sc, ""), maxNameARNLength)
	}
	return nil
}

// reference is a parameter named in a Get: its name, and the version or
// label after a colon ("name:3", "name:prod"), from a name or an ARN.
type reference struct {
	name     string
	selector string // ":3" or ":label", as AWS echoes it
	version  int64  // > 0 when the selector is a version
	label    string
	// byARN: the request named the parameter by its ARN.
	byARN bool
}

// paramKey is the key a parameter is stored under: its name without a
// leading slash, so that "a" and "/a" are one parameter, as on AWS (one
// ARN, parameter/a; a Get of either finds what a Put of either made).
func paramKey(name string) string { return strings.TrimPrefix(name, "/") }

// checkReference refuses a name no parameter can have: a hierarchy
// without its leading slash, or an empty level (AWS's ValidationException,
// for reads as for writes).
func checkReference(name string) error {
	if strings.HasPrefix(name, "arn:") || !strings.Contains(name, "/") {
		return nil
	}
	if !strings.HasPrefix(name, "/") || strings.Contains(name, "//") {
		return errValidation(msgNameRules)
	}
	return nil
}

// parseReference reads a name with its selector; ok is false for what can
// be no parameter of sc (another account's ARN, a malformed name).
func parseReference(sc state.Scope, s string) (reference, bool) {
	var ref reference
	if strings.HasPrefix(s, "arn:") {
		a, err := state.ParseARN(s)
		if err != nil || a.Service != "ssm" || a.Region != sc.Region || a.Account != sc.Account {
			return ref, false
		}
		rest, ok := strings.CutPrefix(a.Resource, "parameter/")
		if !ok || rest == "" {
			return ref, false
		}
		s, ref.byARN = rest, true
	}
	name, sel, has := strings.Cut(s, ":")
	ref.name = name
	if has {
		if sel == "" || strings.Contains(sel, ":") {
			return ref, false
		}
		ref.selector = ":" + sel
		if n, err := strconv.ParseInt(sel, 10, 64); err == nil && n > 0 {
			ref.version = n
		} else {
			ref.label = sel
		}
	}
	return ref, name != ""
}
