package ssm

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

func errCommandID() error { return clientError("InvalidCommandId", "") }

// commandFilterKeys are ListCommands' and ListCommandInvocations' filters.
var commandFilterKeys = []string{"InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName"}

// checkCommandQuery checks the members ListCommands and
// ListCommandInvocations share.
func checkCommandQuery(commandID, instanceID *string, maxResults *int32, filters []ssmapi.CommandFilter) (func(*commandRecord) bool, error) {
	var v violations
	v.length(commandID, "commandId", 36, 36)
	v.pattern(instanceID, "instanceId", instanceIDRE, `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)
	v.rangeInt(maxResults, "maxResults", 1, 50)
	for i, f := range filters {
		v.enum(f.Key, fmt.Sprintf("filters.%d.member.key", i+1), commandFilterKeys)
		v.length(f.Value, fmt.Sprintf("filters.%d.member.value", i+1), 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var tests []func(*commandRecord) bool
	for _, f := range filters {
		val := deref(f.Value)
		switch *f.Key {
		case "InvokedAfter", "InvokedBefore":
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return nil, clientError("InvalidFilterValue", "The filter value %s is not a time (ISO 8601, e.g. 2024-01-31T00:00:00Z).", val)
			}
			after := *f.Key == "InvokedAfter"
			tests = append(tests, func(c *commandRecord) bool { return c.Requested.After(t) == after })
		case "Status":
			tests = append(tests, func(c *commandRecord) bool { return c.Status == val })
		case "ExecutionStage":
			tests = append(tests, func(c *commandRecord) bool {
				if val == "Executing" {
					return !terminal(c.Status)
				}
				return terminal(c.Status)
			})
		case "DocumentName":
			tests = append(tests, func(c *commandRecord) bool { return c.DocumentName == val })
		}
	}
	return func(c *commandRecord) bool {
		if commandID != nil && c.ID != *commandID {
			return false
		}
		if instanceID != nil && c.invocation(*instanceID) == nil {
			return false
		}
		return !slices.ContainsFunc(tests, func(t func(*commandRecord) bool) bool { return !t(c) })
	}, nil
}

// queryCommands is the commands of the caller's region a ListCommands or
// ListCommandInvocations request selects, newest first; InvalidCommandId
// when it names a command that does not exist.
func (s *Service) queryCommands(ctx context.Context, commandID, instanceID *string, maxResults *int32, filters []ssmapi.CommandFilter) ([]*commandRecord, error) {
	keep, err := checkCommandQuery(commandID, instanceID, maxResults, filters)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var out []*commandRecord
	err = s.store.View(ctx, func(tx state.Tx) error {
		return commands.ForEachShared(tx, sc, func(_ string, c *commandRecord) error {
			if keep(c) {
				out = append(out, c)
			}
			return nil
		})
	})
	if err == nil && commandID != nil && len(out) == 0 {
		err = errCommandID()
	}
	slices.SortFunc(out, func(a, b *commandRecord) int { return strings.Compare(newestFirst(a), newestFirst(b)) })
	return out, err
}

// newestFirst sorts commands by request time, newest first.
func newestFirst(c *commandRecord) string {
	return fmt.Sprintf("%020d/%s", math.MaxInt64-c.Requested.UnixNano(), c.ID)
}

// ListCommands lists the commands sent in the region, newest first.
func (s *Service) ListCommands(ctx context.Context, in *ssmapi.ListCommandsRequest) (*ssmapi.ListCommandsResult, error) {
	all, err := s.queryCommands(ctx, in.CommandId, in.InstanceId, in.MaxResults, in.Filters)
	if err != nil {
		return nil, err
	}
	size := pageSize(in.MaxResults, 50)
	page, next, err := state.Paginate(all, size, deref(in.NextToken), pageOptions, newestFirst)
	if err != nil {
		return nil, err
	}
	out := &ssmapi.ListCommandsResult{Commands: []ssmapi.Command{}, NextToken: tokenOf(next)}
	for _, c := range page {
		out.Commands = append(out.Commands, *apiCommand(c))
	}
	return out, nil
}

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// output is what a plugin wrote, as Details show it: stdout, then
// stderr under AWS's heading.
func (p *pluginResult) output() string {
	out := p.Stdout
	if p.Stderr != "" {
		out += "\n----------ERROR-------\n" + p.Stderr
	}
	return out
}

// ListCommandInvocations lists the invocations of commands, newest
// command first; with Details, each plugin's status and output.
func (s *Service) ListCommandInvocations(ctx context.Context, in *ssmapi.ListCommandInvocationsRequest) (*ssmapi.ListCommandInvocationsResult, error) {
	all, err := s.queryCommands(ctx, in.CommandId, in.InstanceId, in.MaxResults, in.Filters)
	if err != nil {
		return nil, err
	}
	type item struct {
		c   *commandRecord
		inv *invocation
		key string
	}
	var items []item
	for _, c := range all {
		for i := range c.Invocations {
			inv := &c.Invocations[i]
			if in.InstanceId == nil || inv.InstanceID == *in.InstanceId {
				items = append(items, item{c, inv, newestFirst(c) + "/" + inv.InstanceID})
			}
		}
	}
	size := pageSize(in.MaxResults, 50)
	page, next, err := state.Paginate(items, size, deref(in.NextToken), pageOptions, func(i item) string { return i.key })
	if err != nil {
		return nil, err
	}
	out := &ssmapi.ListCommandInvocationsResult{CommandInvocations: []ssmapi.CommandInvocation{}, NextToken: tokenOf(next)}
	for _, it := range page {
		ci := ssmapi.CommandInvocation{CommandId: new(it.c.ID), InstanceId: new(it.inv.InstanceID), InstanceName: new(""), Comment: new(it.c.Comment),
			DocumentName: new(it.c.DocumentName), DocumentVersion: new(it.c.DocumentVersion), RequestedDateTime: new(it.c.Requested),
			Status: new(it.inv.Status), StatusDetails: new(it.inv.StatusDetails), TraceOutput: new(""), StandardOutputUrl: new(""), StandardErrorUrl: new(""),
			CommandPlugins: []ssmapi.CommandPlugin{}}
		if deref(in.Details) {
			for i := range it.inv.Plugins {
				p := &it.inv.Plugins[i]
				cp := ssmapi.CommandPlugin{Name: new(p.Name), Status: new(p.Status), StatusDetails: new(p.StatusDetails), ResponseCode: new(p.ResponseCode),
					Output: new(truncate(p.output(), maxListOutput)), StandardOutputUrl: new(""), StandardErrorUrl: new(""),
					OutputS3Region: new(""), OutputS3BucketName: new(""), OutputS3KeyPrefix: new("")}
				if !p.Start.IsZero() {
					cp.ResponseStartDateTime = new(p.Start)
				}
				if !p.End.IsZero() {
					cp.ResponseFinishDateTime = new(p.End)
				}
				ci.CommandPlugins = append(ci.CommandPlugins, cp)
			}
		}
		out.CommandInvocations = append(out.CommandInvocations, ci)
	}
	return out, nil
}

// awsTime is how GetCommandInvocation writes its times.
func awsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// GetCommandInvocation answers one invocation (or one plugin of it):
// status, exit code and the output AWS keeps.
func (s *Service) GetCommandInvocation(ctx context.Context, in *ssmapi.GetCommandInvocationRequest) (*ssmapi.GetCommandInvocationResult, error) {
	var v violations
	v.length(in.CommandId, "commandId", 36, 36)
	v.pattern(in.InstanceId, "instanceId", instanceIDRE, `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`)
	v.length(in.PluginName, "pluginName", 4, 0)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var c commandRecord
	var found bool
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		c, found, err = commands.Get(tx, sc, *in.CommandId)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errCommandID()
	}
	inv := c.invocation(*in.InstanceId)
	if inv == nil {
		return nil, clientError("InvocationDoesNotExist", "")
	}
	out := &ssmapi.GetCommandInvocationResult{CommandId: new(c.ID), InstanceId: new(inv.InstanceID), Comment: new(c.Comment), DocumentName: new(c.DocumentName),
		DocumentVersion: new(c.DocumentVersion), ResponseCode: new(int32(-1)), ExecutionStartDateTime: new(awsTime(inv.Start)), ExecutionElapsedTime: new(""),
		ExecutionEndDateTime: new(awsTime(inv.End)), Status: new(inv.Status), StatusDetails: new(inv.StatusDetails), StandardOutputContent: new(""),
		StandardOutputUrl: new(""), StandardErrorContent: new(""), StandardErrorUrl: new(""),
		CloudWatchOutputConfig: &ssmapi.CloudWatchOutputConfig{CloudWatchLogGroupName: new(""), CloudWatchOutputEnabled: new(false)}}
	var p *pluginResult
	switch {
	case in.PluginName != nil:
		for i := range inv.Plugins {
			if inv.Plugins[i].Name == *in.PluginName {
				p = &inv.Plugins[i]
			}
		}
		if p == nil && len(inv.Plugins) > 0 {
			return nil, clientError("InvalidPluginName", "")
		}
	case len(c.Steps) > 1 && len(inv.Plugins) > 0:
		// "If the document contains more than one step, you must
		// specify the name of the step."
		return nil, clientError("InvalidPluginName", "")
	case len(inv.Plugins) == 1:
		p = &inv.Plugins[0]
	}
	if len(c.Steps) > 0 {
		out.PluginName = new(c.Steps[0].Name)
	}
	if p != nil {
		out.PluginName = new(p.Name)
		out.ResponseCode = new(p.ResponseCode)
		out.StandardOutputContent = new(truncate(p.Stdout, maxStdout))
		out.StandardErrorContent = new(truncate(p.Stderr, maxStderr))
		out.ExecutionStartDateTime, out.ExecutionEndDateTime = new(awsTime(p.Start)), new(awsTime(p.End))
		if in.PluginName != nil {
			out.Status, out.StatusDetails = new(p.Status), new(p.StatusDetails)
		}
		if !p.Start.IsZero() && !p.End.IsZero() {
			out.ExecutionElapsedTime = new(fmt.Sprintf("PT%.3fS", p.End.Sub(p.Start).Seconds()))
		}
	}
	return out, nil
}

// CancelCommand cancels a command on its instances (or some of them):
// invocations not started are cancelled, running ones killed.
func (s *Service) CancelCommand(ctx context.Context, in *ssmapi.CancelCommandRequest) (*ssmapi.CancelCommandResult, error) {
	var v violations
	v.length(in.CommandId, "commandId", 36, 36)
	v.listLen(in.InstanceIds, "instanceIds", 0, 50)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	err := s.store.Update(ctx, func(tx state.Tx) error {
		c, ok, err := commands.Get(tx, sc, *in.CommandId)
		if err != nil {
			return err
		}
		if !ok {
			return errCommandID()
		}
		for _, id := range in.InstanceIds {
			if c.invocation(id) == nil {
				return clientError("InvalidInstanceId", "Instance %s is not a target of command %s.", id, c.ID)
			}
		}
		if terminal(c.Status) {
			return nil
		}
		for i := range c.Invocations {
			inv := &c.Invocations[i]
			if len(in.InstanceIds) > 0 && !slices.Contains(in.InstanceIds, inv.InstanceID) {
				continue
			}
			switch inv.Status {
			case cmdPending, "Delayed":
				inv.Status, inv.StatusDetails = cmdCancelled, cmdCancelled
			case cmdInProgress:
				inv.StatusDetails = cmdCancelling
			}
		}
		if len(in.InstanceIds) == 0 {
			c.Status, c.StatusDetails = cmdCancelling, cmdCancelling
		}
		c.finish(limit(c.MaxErrors, len(c.Invocations), false))
		return commands.Put(tx, sc, c.ID, c)
	})
	if err != nil {
		return nil, err
	}
	s.runner.cancelInvocations(*in.CommandId, in.InstanceIds)
	return &ssmapi.CancelCommandResult{}, nil
}
