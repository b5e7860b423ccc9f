package cloudwatch

import (
	"fmt"
	"slices"
	"strings"
)

// A composite alarm's AlarmRule, as the API reference writes it:
// ALARM(x), OK(x) and INSUFFICIENT_DATA(x), x an alarm name or ARN with or
// without double quotes; TRUE and FALSE; AND, OR and NOT; parentheses.
// NOT binds tighter than AND, AND tighter than OR. Keywords are matched
// without regard to case (the reference's own example breaks a cycle by
// changing a rule "to false").

// Limits of a rule (API reference, PutCompositeAlarm).
const (
	maxRuleLen      = 10240
	maxRuleChildren = 100
	maxRuleElements = 500
)

// ruleNode is a parsed rule.
type ruleNode interface {
	// eval answers the rule over the children's states.
	eval(states map[string]string) bool
}

type (
	ruleConst bool
	ruleState struct{ state, child string } // child is a name, ARNs resolved
	ruleNot   struct{ x ruleNode }
	ruleBin   struct {
		and  bool
		l, r ruleNode
	}
)

func (c ruleConst) eval(map[string]string) bool        { return bool(c) }
func (s ruleState) eval(states map[string]string) bool { return states[s.child] == s.state }
func (n ruleNot) eval(states map[string]string) bool   { return !n.x.eval(states) }
func (b ruleBin) eval(states map[string]string) bool {
	if b.and {
		return b.l.eval(states) && b.r.eval(states)
	}
	return b.l.eval(states) || b.r.eval(states)
}

// alarmRule is a parsed rule and the children it names, in order of first
// mention.
type alarmRule struct {
	root     ruleNode
	children []string
}

type ruleParser struct {
	s        string
	pos      int
	arn      string // this account and region's alarm ARN prefix
	elements int
	depth    int
	children []string
}

// parseRule parses an AlarmRule; arnPrefix ("arn:aws:cloudwatch:<region>:
// <account>:alarm:") turns a child's ARN into its name.
func parseRule(s, arnPrefix string) (*alarmRule, error) {
	if len(s) > maxRuleLen {
		return nil, fmt.Errorf("the alarm rule must not be longer than %d characters", maxRuleLen)
	}
	p := &ruleParser{s: s, arn: arnPrefix}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.rest(), p.pos+1)
	}
	switch {
	case len(p.children) > maxRuleChildren:
		return nil, fmt.Errorf("the alarm rule names %d alarms; at most %d are allowed", len(p.children), maxRuleChildren)
	case p.elements > maxRuleElements:
		return nil, fmt.Errorf("the alarm rule has %d elements; at most %d are allowed", p.elements, maxRuleElements)
	}
	return &alarmRule{root: n, children: p.children}, nil
}

func (p *ruleParser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *ruleParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

// word answers the keyword at the position (letters and _), upper-cased,
// without consuming it.
func (p *ruleParser) word() string {
	p.space()
	end := p.pos
	for end < len(p.s) && (p.s[end] == '_' || p.s[end] >= 'a' && p.s[end] <= 'z' || p.s[end] >= 'A' && p.s[end] <= 'Z') {
		end++
	}
	return strings.ToUpper(p.s[p.pos:end])
}

func (p *ruleParser) or() (ruleNode, error) {
	l, err := p.and()
	for err == nil && p.word() == "OR" {
		p.pos += 2
		p.elements++
		var r ruleNode
		if r, err = p.and(); err == nil {
			l = ruleBin{false, l, r}
		}
	}
	return l, err
}

func (p *ruleParser) and() (ruleNode, error) {
	l, err := p.not()
	for err == nil && p.word() == "AND" {
		p.pos += 3
		p.elements++
		var r ruleNode
		if r, err = p.not(); err == nil {
			l = ruleBin{true, l, r}
		}
	}
	return l, err
}

func (p *ruleParser) not() (ruleNode, error) {
	if p.word() == "NOT" {
		p.pos += 3
		p.elements++
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return ruleNot{x}, nil
	}
	return p.primary()
}

func (p *ruleParser) primary() (ruleNode, error) {
	w := p.word()
	switch {
	case p.pos == len(p.s):
		return nil, fmt.Errorf("unexpected end of the alarm rule")
	case w == "" && p.s[p.pos] == '(':
		if p.depth++; p.depth > maxRuleElements {
			return nil, fmt.Errorf("the alarm rule is nested too deeply")
		}
		p.pos++
		p.elements += 2
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos == len(p.s) || p.s[p.pos] != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos+1)
		}
		p.pos++
		p.depth--
		return n, nil
	case w == "TRUE" || w == "FALSE":
		p.pos += len(w)
		p.elements++
		return ruleConst(w == "TRUE"), nil
	case w == stateAlarm || w == stateOK || w == stateInsufficient:
		p.pos += len(w)
		p.space()
		if p.pos == len(p.s) || p.s[p.pos] != '(' {
			return nil, fmt.Errorf("%s must be followed by ( and an alarm name at position %d", w, p.pos+1)
		}
		p.pos++
		name, err := p.alarmName()
		if err != nil {
			return nil, err
		}
		p.elements++
		if !slices.Contains(p.children, name) {
			p.children = append(p.children, name)
		}
		return ruleState{w, name}, nil
	}
	return nil, fmt.Errorf("unexpected %q at position %d", p.rest(), p.pos+1)
}

// alarmName reads a child up to its closing parenthesis: quoted, or bare
// (the reference: names "can be surrounded with double-quotes, but do not
// have to be").
func (p *ruleParser) alarmName() (string, error) {
	p.space()
	var name string
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		end := strings.IndexByte(p.s[p.pos+1:], '"')
		if end < 0 {
			return "", fmt.Errorf("unterminated alarm name at position %d", p.pos+1)
		}
		name = p.s[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		p.space()
	} else {
		end := strings.IndexByte(p.s[p.pos:], ')')
		if end < 0 {
			return "", fmt.Errorf("missing ) after the alarm name at position %d", p.pos+1)
		}
		name = strings.TrimSpace(p.s[p.pos : p.pos+end])
		p.pos += end
	}
	if p.pos == len(p.s) || p.s[p.pos] != ')' {
		return "", fmt.Errorf("missing ) after the alarm name at position %d", p.pos+1)
	}
	p.pos++
	if name == "" {
		return "", fmt.Errorf("empty alarm name at position %d", p.pos)
	}
	if n, ok := strings.CutPrefix(name, p.arn); ok && p.arn != "" {
		name = n
	}
	return name, nil
}
