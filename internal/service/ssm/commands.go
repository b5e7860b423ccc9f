package ssm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/state"
	"gopkg.in/yaml.v3"
)

// Run Command: SendCommand records a command with one invocation per
// target instance, durably, and answers; the runner (runner.go) then
// runs each invocation's steps in its instance through the agent port,
// off the request path, and records every transition, so that the
// history (statuses, exit codes, the output AWS keeps: the first 24,000
// characters of standard output and 8,000 of standard error) survives a
// restart. A command that a restart interrupted is recorded as failed.

// Command and invocation statuses.
const (
	cmdPending    = "Pending"
	cmdInProgress = "InProgress"
	cmdSuccess    = "Success"
	cmdFailed     = "Failed"
	cmdTimedOut   = "TimedOut"
	cmdCancelled  = "Cancelled"
	cmdCancelling = "Cancelling"

	maxStdout = 24000
	maxStderr = 8000
	// maxListOutput is what ListCommandInvocations' Details show of a
	// plugin's output.
	maxListOutput = 2500
)

// commandRecord is one command and its invocations.
type commandRecord struct {
	ID              string
	DocumentName    string
	DocumentVersion string
	Comment         string              `json:",omitempty"`
	Parameters      map[string][]string `json:",omitempty"`
	InstanceIDs     []string            `json:",omitempty"`
	Targets         []cmdTarget         `json:",omitempty"`
	Requested       time.Time
	TimeoutSeconds  int32
	MaxConcurrency  string
	MaxErrors       string
	Status          string
	StatusDetails   string
	Steps           []cmdStep
	Invocations     []invocation
}

type cmdTarget struct {
	Key    string
	Values []string
}

// cmdStep is one plugin of the document, with its parameters filled in.
type cmdStep struct {
	Name     string
	Commands []string
	Dir      string `json:",omitempty"`
	Timeout  int    // seconds
}

// invocation is the command on one instance.
type invocation struct {
	InstanceID    string
	Status        string
	StatusDetails string
	Plugins       []pluginResult
	Start, End    time.Time
}

// pluginResult is one step's run on one instance.
type pluginResult struct {
	Name          string
	Status        string
	StatusDetails string
	ResponseCode  int32
	Stdout        string `json:",omitempty"`
	Stderr        string `json:",omitempty"`
	Start, End    time.Time
}

var commands = state.Table[commandRecord]{Service: "ssm", Kind: "command"}

// terminal reports whether a status is final.
func terminal(status string) bool {
	return status == cmdSuccess || status == cmdFailed || status == cmdTimedOut || status == cmdCancelled
}

// counts are the command's TargetCount, CompletedCount, ErrorCount and
// DeliveryTimedOutCount.
func (c *commandRecord) counts() (targets, completed, errs, delivery int32) {
	for _, inv := range c.Invocations {
		targets++
		if terminal(inv.Status) {
			completed++
		}
		if inv.Status == cmdFailed || inv.Status == cmdTimedOut {
			errs++
		}
		if inv.StatusDetails == "DeliveryTimedOut" {
			delivery++
		}
	}
	return
}

func newCommandID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var (
	instanceIDRE     = lazyregexp.New(`(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)
	maxConcurrencyRE = lazyregexp.New(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	maxErrorsRE      = lazyregexp.New(`^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
	paramRefRE       = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.:/\-]+)\s*\}\}`)
)

// limit is a MaxConcurrency or MaxErrors value for n targets: a number,
// or a percentage of n (at least 1 for concurrency).
func limit(v string, n int, atLeastOne bool) int {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		pct, _ := strconv.Atoi(p)
		l := int(math.Ceil(float64(n) * float64(pct) / 100))
		if atLeastOne && l < 1 {
			l = 1
		}
		return l
	}
	l, _ := strconv.Atoi(v)
	return l
}

// docParams are a document's declared parameters with their rules.
type docParamRule struct {
	Type           string `json:"type" yaml:"type"`
	Default        any    `json:"default" yaml:"default"`
	AllowedPattern string `json:"allowedPattern" yaml:"allowedPattern"`
}

// planSteps fills a Command document's parameters in and returns its
// steps (aws:runShellScript plugins), or InvalidParameters.
func planSteps(d *docRecord, v *docVersion, given map[string][]string) ([]cmdStep, error) {
	var doc struct {
		Parameters    map[string]docParamRule `json:"parameters" yaml:"parameters"`
		RuntimeConfig map[string]struct {
			Properties []map[string]any `json:"properties" yaml:"properties"`
		} `json:"runtimeConfig" yaml:"runtimeConfig"`
		MainSteps []struct {
			Action string         `json:"action" yaml:"action"`
			Name   string         `json:"name" yaml:"name"`
			Inputs map[string]any `json:"inputs" yaml:"inputs"`
		} `json:"mainSteps" yaml:"mainSteps"`
	}
	var err error
	if d.Format == formatYAML {
		err = yaml.Unmarshal([]byte(v.Content), &doc)
	} else {
		err = json.Unmarshal([]byte(v.Content), &doc)
	}
	if err != nil {
		return nil, clientError("InvalidDocument", "The content of document %s is not valid: %v", d.Name, err)
	}
	values := map[string][]string{}
	var unknown, missing []string
	for name := range given {
		if _, ok := doc.Parameters[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	for name, rule := range doc.Parameters {
		val, ok := given[name]
		if !ok {
			switch def := rule.Default.(type) {
			case nil:
				missing = append(missing, name)
				continue
			case string:
				val = []string{def}
			case []any:
				for _, x := range def {
					val = append(val, fmt.Sprint(x))
				}
			default:
				val = []string{fmt.Sprint(def)}
			}
		}
		if rule.AllowedPattern != "" && ok {
			re, err := regexp.Compile(rule.AllowedPattern)
			if err == nil {
				for _, x := range val {
					if !re.MatchString(x) {
						return nil, clientError("InvalidParameters", "Parameter \"%s\" with value \"%s\" does not match the allowed pattern %s.", name, x, rule.AllowedPattern)
					}
				}
			}
		}
		values[name] = val
	}
	slices.Sort(unknown)
	slices.Sort(missing)
	if len(unknown) > 0 {
		return nil, clientError("InvalidParameters", "Document %s does not support parameters: %s.", d.Name, strings.Join(unknown, ", "))
	}
	if len(missing) > 0 {
		return nil, clientError("InvalidParameters", "Parameters required by document %s are missing: %s.", d.Name, strings.Join(missing, ", "))
	}
	step := func(name string, in map[string]any) (cmdStep, error) {
		st := cmdStep{Name: name, Timeout: 3600}
		st.Commands = fillList(in["runCommand"], values)
		if len(st.Commands) == 0 {
			return st, clientError("InvalidParameters", "Step %s of document %s has no commands to run.", name, d.Name)
		}
		st.Dir = strings.TrimSpace(strings.Join(fillList(in["workingDirectory"], values), ""))
		if t := strings.Join(fillList(in["timeoutSeconds"], values), ""); t != "" {
			n, err := strconv.Atoi(strings.TrimSpace(t))
			if err != nil || n < 1 || n > 172800 {
				return st, clientError("InvalidParameters", "The execution timeout %q of step %s is not a number of seconds from 1 to 172800.", t, name)
			}
			st.Timeout = n
		}
		return st, nil
	}
	var steps []cmdStep
	for plugin, rc := range doc.RuntimeConfig {
		if plugin != "aws:runShellScript" {
			return nil, clientError("InvalidDocument", "minicloud runs the aws:runShellScript plugin; document %s uses %s.", d.Name, plugin)
		}
		for _, props := range rc.Properties {
			st, err := step(plugin, props)
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
		}
	}
	for _, ms := range doc.MainSteps {
		if ms.Action != "aws:runShellScript" {
			return nil, clientError("InvalidDocument", "minicloud runs the aws:runShellScript plugin; step %s of document %s is %s.", ms.Name, d.Name, ms.Action)
		}
		st, err := step(ms.Name, ms.Inputs)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// fillList is a runCommand-like input with {{ parameter }} references
// filled in: a list parameter alone in an element (or as the whole input)
// becomes its elements, elsewhere its elements joined by newlines.
func fillList(in any, values map[string][]string) []string {
	var raw []string
	switch x := in.(type) {
	case string:
		raw = []string{x}
	case []any:
		for _, e := range x {
			raw = append(raw, fmt.Sprint(e))
		}
	}
	var out []string
	for _, r := range raw {
		if m := paramRefRE.FindStringSubmatch(strings.TrimSpace(r)); m != nil && m[0] == strings.TrimSpace(r) {
			if v, ok := values[m[1]]; ok {
				out = append(out, v...)
				continue
			}
		}
		out = append(out, paramRefRE.ReplaceAllStringFunc(r, func(ref string) string {
			name := paramRefRE.FindStringSubmatch(ref)[1]
			if v, ok := values[name]; ok {
				return strings.Join(v, "\n")
			}
			return ref
		}))
	}
	return out
}

// resolveTargets are the managed, online instances of sc that Targets
// name (InstanceIds, tag:<key>, tag-key), sorted.
func (s *Service) resolveTargets(sc state.Scope, targets []ssmapi.Target) ([]string, error) {
	var out []string
	for _, st := range s.agents.snapshot(sc.Account, sc.Region) {
		if !st.online {
			continue
		}
		ok := true
		for _, t := range targets {
			key := deref(t.Key)
			switch {
			case key == "InstanceIds":
				ok = ok && slices.Contains(t.Values, st.inst.ID)
			case key == "tag-key":
				ok = ok && slices.ContainsFunc(t.Values, func(k string) bool { _, has := st.inst.Tags[k]; return has })
			case strings.HasPrefix(key, "tag:"):
				v, has := st.inst.Tags[key[4:]]
				ok = ok && has && slices.Contains(t.Values, v)
			default:
				return nil, clientError("InvalidTarget", "The target key %s is not supported: use InstanceIds, tag:<key> or tag-key.", key)
			}
		}
		if ok {
			out = append(out, st.inst.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// SendCommand runs a Command document on instances, by ID or by targets.
func (s *Service) SendCommand(ctx context.Context, in *ssmapi.SendCommandRequest) (*ssmapi.SendCommandResult, error) {
	var v violations
	v.pattern(in.DocumentName, "documentName", docNameRE, `^[a-zA-Z0-9_\-.:/]{3,128}$`)
	v.pattern(in.DocumentVersion, "documentVersion", docVersionRE, `([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)`)
	v.rangeInt(in.TimeoutSeconds, "timeoutSeconds", 30, 2592000)
	v.length(in.Comment, "comment", 0, 100)
	v.length(in.MaxConcurrency, "maxConcurrency", 1, 7)
	v.pattern(in.MaxConcurrency, "maxConcurrency", maxConcurrencyRE, `^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	v.length(in.MaxErrors, "maxErrors", 1, 7)
	v.pattern(in.MaxErrors, "maxErrors", maxErrorsRE, `^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
	v.listLen(in.InstanceIds, "instanceIds", 0, 50)
	if len(in.Targets) > 5 {
		v.Add(nil, "targets", "Member must have length less than or equal to 5")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(in.InstanceIds) == 0 && len(in.Targets) == 0 {
		return nil, errValidation("Either InstanceIds or Targets must be specified.")
	}
	if len(in.InstanceIds) > 0 && len(in.Targets) > 0 {
		return nil, errValidation("InstanceIds and Targets can't be specified together.")
	}
	sc := scopeOf(ctx)
	ids := in.InstanceIds
	if len(ids) > 0 {
		var bad []string
		for i, id := range ids {
			if slices.Contains(ids[:i], id) {
				return nil, clientError("DuplicateInstanceId", "Instance %s is specified more than once.", id)
			}
			if !instanceIDRE.MatchString(id) || s.TargetConnected(ctx, sc.Account, sc.Region, id) != nil {
				bad = append(bad, id)
			}
		}
		if len(bad) > 0 {
			return nil, clientError("InvalidInstanceId", "Instances [[%s]] not in a valid state for account %s", strings.Join(bad, ", "), sc.Account)
		}
	} else {
		var err error
		if ids, err = s.resolveTargets(sc, in.Targets); err != nil {
			return nil, err
		}
	}
	c := commandRecord{ID: newCommandID(), Comment: deref(in.Comment), Parameters: in.Parameters, InstanceIDs: in.InstanceIds,
		Requested: s.now(), TimeoutSeconds: 3600, MaxConcurrency: "50", MaxErrors: "0", Status: cmdPending, StatusDetails: cmdPending}
	if in.TimeoutSeconds != nil {
		c.TimeoutSeconds = *in.TimeoutSeconds
	}
	if in.MaxConcurrency != nil {
		c.MaxConcurrency = *in.MaxConcurrency
	}
	if in.MaxErrors != nil {
		c.MaxErrors = *in.MaxErrors
	}
	for _, t := range in.Targets {
		c.Targets = append(c.Targets, cmdTarget{Key: deref(t.Key), Values: t.Values})
	}
	err := s.store.Update(ctx, func(tx state.Tx) error {
		d, _, err := findDocument(tx, sc, *in.DocumentName)
		if err != nil {
			return err
		}
		if d == nil || d.Type != docCommand {
			return clientError("InvalidDocument", "Document %s does not exist or is not a Command document.", *in.DocumentName)
		}
		ver, err := pickVersion(d, deref(in.DocumentVersion), "")
		if err != nil {
			return err
		}
		if h := deref(in.DocumentHash); h != "" && h != ver.Hash {
			return clientError("InvalidDocument", "The document hash does not match version %d of %s.", ver.Version, d.Name)
		}
		given, err := s.resolveReferences(tx, sc, in.Parameters)
		if err != nil {
			return err
		}
		if c.Steps, err = planSteps(d, ver, given); err != nil {
			return err
		}
		c.DocumentName, c.DocumentVersion = d.Name, strconv.Itoa(ver.Version)
		if in.DocumentVersion != nil {
			c.DocumentVersion = *in.DocumentVersion
		}
		for _, id := range ids {
			c.Invocations = append(c.Invocations, invocation{InstanceID: id, Status: cmdPending, StatusDetails: cmdPending})
		}
		if len(ids) == 0 {
			c.Status, c.StatusDetails = cmdSuccess, cmdSuccess
		}
		return commands.Put(tx, sc, c.ID, c)
	})
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		s.runner.start(sc, c.ID)
	}
	return &ssmapi.SendCommandResult{Command: apiCommand(&c)}, nil
}

// ssmRefRE is a Parameter Store reference in a command's parameters.
var ssmRefRE = regexp.MustCompile(`\{\{\s*ssm:([a-zA-Z0-9_.\-/:]+)\s*\}\}`)

// resolveReferences replaces {{ssm:name}} in a command's parameter values
// with the parameters' values (a version or label selector allowed), as
// Systems Manager does when it sends the command; a SecureString may not
// be referenced (its value would show in the command), as on AWS.
func (s *Service) resolveReferences(tx state.Tx, sc state.Scope, params map[string][]string) (map[string][]string, error) {
	out := map[string][]string{}
	now := s.now()
	for k, vals := range params {
		for _, v := range vals {
			var err error
			v = ssmRefRE.ReplaceAllStringFunc(v, func(ref string) string {
				name := ssmRefRE.FindStringSubmatch(ref)[1]
				p, gerr := s.get(tx, sc, name, false, now)
				switch {
				case gerr != nil && err == nil:
					err = clientError("InvalidParameters", "The parameter %s that %s refers to does not exist.", name, k)
				case gerr == nil && deref(p.Type) == typeSecureString && err == nil:
					err = clientError("InvalidParameters", "SecureString parameter %s can't be referenced in a command's parameters.", name)
				}
				return deref(p.Value)
			})
			if err != nil {
				return nil, err
			}
			out[k] = append(out[k], v)
		}
	}
	return out, nil
}

// apiCommand is a command as the API shows it.
func apiCommand(c *commandRecord) *ssmapi.Command {
	t, done, errs, delivery := c.counts()
	out := &ssmapi.Command{CommandId: new(c.ID), DocumentName: new(c.DocumentName), DocumentVersion: new(c.DocumentVersion), Comment: new(c.Comment),
		ExpiresAfter: new(c.Requested.Add(time.Duration(c.TimeoutSeconds) * time.Second)), Parameters: c.Parameters, InstanceIds: c.InstanceIDs,
		Targets: []ssmapi.Target{}, RequestedDateTime: new(c.Requested), Status: new(c.Status), StatusDetails: new(c.StatusDetails),
		MaxConcurrency: new(c.MaxConcurrency), MaxErrors: new(c.MaxErrors), TargetCount: new(t), CompletedCount: new(done), ErrorCount: new(errs),
		DeliveryTimedOutCount: new(delivery), TimeoutSeconds: new(c.TimeoutSeconds), OutputS3Region: new(""), OutputS3BucketName: new(""), OutputS3KeyPrefix: new("")}
	if out.InstanceIds == nil {
		out.InstanceIds = []string{}
	}
	if out.Parameters == nil {
		out.Parameters = map[string][]string{}
	}
	for _, tg := range c.Targets {
		out.Targets = append(out.Targets, ssmapi.Target{Key: new(tg.Key), Values: tg.Values})
	}
	return out
}
