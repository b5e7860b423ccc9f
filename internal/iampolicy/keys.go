package iampolicy

import (
	"strconv"
	"strings"
	"time"
)

// lookup is a condition key's values: the request's Context first, then the
// keys the principal itself answers (aws:username, aws:userid,
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
// aws:PrincipalTag/…, aws:PrincipalServiceName) and the clock
// (aws:CurrentTime, aws:EpochTime). key is lower-case.
func (e *evaluation) lookup(key string) []string {
	if v, ok := e.req.Context[key]; ok {
		return v
	}
	if v, ok := e.principalKey(key); ok {
		return []string{v}
	}
	return nil
}

// lookupOne answers a policy variable: one value, or nothing.
func (e *evaluation) lookupOne(key string) (string, bool) {
	if v, ok := e.req.Context[key]; ok {
		if len(v) == 1 {
			return v[0], true
		}
		return "", false
	}
	return e.principalKey(key)
}

func (e *evaluation) principalKey(key string) (string, bool) {
	p := &e.req.Principal
	nonEmpty := func(s string) (string, bool) { return s, s != "" }
	switch key {
	case "aws:username":
		if p.Type == User {
			return nonEmpty(p.Username)
		}
	case "aws:userid":
		return nonEmpty(p.UserID)
	case "aws:principalarn":
		if p.Type == AssumedRole && p.RoleARN != "" {
			return p.RoleARN, true
		}
		if p.Type != ServicePrincipal && p.Type != Anonymous {
			return nonEmpty(p.ARN)
		}
	case "aws:principalaccount":
		if p.Type != ServicePrincipal && p.Type != Anonymous {
			return nonEmpty(p.Account)
		}
	case "aws:principaltype":
		switch p.Type {
		case Root:
			return "Account", true
		case User:
			return "User", true
		case AssumedRole:
			return "AssumedRole", true
		case FederatedUser:
			return "FederatedUser", true
		case Anonymous:
			return "Anonymous", true
		}
	case "aws:currenttime":
		// The request's time when the caller did not fix it.
		return time.Now().UTC().Format(time.RFC3339), true
	case "aws:epochtime":
		return strconv.FormatInt(time.Now().Unix(), 10), true
	case "aws:principalservicename":
		if p.Type == ServicePrincipal {
			return nonEmpty(p.Service)
		}
	default:
		// Tag keys are case-insensitive in aws:PrincipalTag/…; values are
		// not.
		if tag, ok := strings.CutPrefix(key, "aws:principaltag/"); ok {
			for k, v := range p.Tags {
				if strings.EqualFold(k, tag) {
					return v, true
				}
			}
		}
	}
	return "", false
}
