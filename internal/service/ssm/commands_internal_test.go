package ssm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/state"
)

// managedFleet launches n managed instances tagged Role=web.
func (ts *testService) managedFleet(t *testing.T, n int) []string {
	t.Helper()
	ts.world.set(func() { ts.world.policies["core"] = coreDoc })
	var ids []string
	for i := range n {
		id := fmt.Sprintf("i-%017d", i+1)
		ts.launch(id, "core", true, map[string]string{"Role": "web"})
		ids = append(ids, id)
	}
	if err := ts.CheckInstances(ts.ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

// waitCommand waits until a command's status is final.
func (ts *testService) waitCommand(t *testing.T, id string) *ssmapi.Command {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := ts.ListCommands(ts.ctx, &ssmapi.ListCommandsRequest{CommandId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if c := out.Commands[0]; terminal(*c.Status) {
			return &c
		}
		if time.Now().After(deadline) {
			t.Fatalf("command %s still %s", id, *out.Commands[0].Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (ts *testService) send(t *testing.T, in *ssmapi.SendCommandRequest) string {
	t.Helper()
	ts.advance(time.Second) // commands list newest first
	out, err := ts.SendCommand(ts.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.Command.CommandId
}

func (ts *testService) invocation(t *testing.T, cmd, instance string) *ssmapi.GetCommandInvocationResult {
	t.Helper()
	out, err := ts.GetCommandInvocation(ts.ctx, &ssmapi.GetCommandInvocationRequest{CommandId: &cmd, InstanceId: &instance})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSendCommandErrors: what SendCommand refuses.
func TestSendCommandErrors(t *testing.T) {
	ts := newTestService(t, state.NewMemory())
	ids := ts.managedFleet(t, 1)
	shell := new("AWS-RunShellScript")
	for _, tc := range []struct {
		name, code string
		in         ssmapi.SendCommandRequest
	}{
		{"no targets", "ValidationException", ssmapi.SendCommandRequest{DocumentName: shell}},
		{"unmanaged instance", "InvalidInstanceId", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: []string{"i-0123456789abcdef0"},
			Parameters: map[string][]string{"commands": {"true"}}}},
		{"duplicate instance", "DuplicateInstanceId", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: []string{ids[0], ids[0]},
			Parameters: map[string][]string{"commands": {"true"}}}},
		{"missing parameter", "InvalidParameters", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids}},
		{"unknown parameter", "InvalidParameters", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids,
			Parameters: map[string][]string{"commands": {"true"}, "color": {"red"}}}},
		{"timeout out of its pattern", "InvalidParameters", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids,
			Parameters: map[string][]string{"commands": {"true"}, "executionTimeout": {"999999"}}}},
		{"no such document", "InvalidDocument", ssmapi.SendCommandRequest{DocumentName: new("Nope"), InstanceIds: ids}},
		{"a session document", "InvalidDocument", ssmapi.SendCommandRequest{DocumentName: new("AWS-StartSSHSession"), InstanceIds: ids}},
		{"no such version", "InvalidDocumentVersion", ssmapi.SendCommandRequest{DocumentName: shell, DocumentVersion: new("7"), InstanceIds: ids,
			Parameters: map[string][]string{"commands": {"true"}}}},
		{"bad concurrency", "ValidationException", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids, MaxConcurrency: new("0"),
			Parameters: map[string][]string{"commands": {"true"}}}},
		{"short timeout", "ValidationException", ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids, TimeoutSeconds: new(int32(5)),
			Parameters: map[string][]string{"commands": {"true"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ts.SendCommand(ts.ctx, &tc.in); !isCode(err, tc.code) {
				t.Fatalf("%v, want %s", err, tc.code)
			}
		})
	}
	if _, err := ts.GetCommandInvocation(ts.ctx, &ssmapi.GetCommandInvocationRequest{CommandId: new(strings.Repeat("0", 36)), InstanceId: &ids[0]}); !isCode(err, "InvalidCommandId") {
		t.Errorf("unknown command: %v", err)
	}
}

// TestRunCommandOutcomes: outputs and their limits, exit codes, own
// documents with steps, MaxErrors, timeouts and cancelling.
func TestRunCommandOutcomes(t *testing.T) {
	ts := newTestService(t, state.NewMemory())
	ids := ts.managedFleet(t, 3)
	shell := new("AWS-RunShellScript")

	id := ts.send(t, &ssmapi.SendCommandRequest{DocumentName: shell, Targets: []ssmapi.Target{{Key: new("tag:Role"), Values: []string{"web"}}},
		Parameters: map[string][]string{"commands": {`echo "on $INSTANCE"`, `head -c 30000 /dev/zero | tr '\0' x`, `head -c 9000 /dev/zero | tr '\0' e >&2`}}})
	if c := ts.waitCommand(t, id); *c.Status != cmdSuccess || *c.TargetCount != 3 || *c.CompletedCount != 3 || *c.ErrorCount != 0 {
		t.Fatalf("command %+v", c)
	}
	for _, inst := range ids {
		inv := ts.invocation(t, id, inst)
		out, errOut := *inv.StandardOutputContent, *inv.StandardErrorContent
		if *inv.Status != cmdSuccess || *inv.ResponseCode != 0 || len(out) != maxStdout || !strings.HasPrefix(out, "on "+inst+"\n") || len(errOut) != maxStderr {
			t.Errorf("%s: %s %d stdout %d %q… stderr %d", inst, *inv.Status, *inv.ResponseCode, len(out), out[:20], len(errOut))
		}
	}
	// A Parameter Store reference in a command's parameters.
	if _, err := ts.PutParameter(ts.ctx, &ssmapi.PutParameterRequest{Name: new("/greeting"), Value: new("hi there"), Type: new("String")}); err != nil {
		t.Fatal(err)
	}
	ref := ts.send(t, &ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids[:1], Parameters: map[string][]string{"commands": {"echo '{{ssm:/greeting}}'"}}})
	ts.waitCommand(t, ref)
	if inv := ts.invocation(t, ref, ids[0]); *inv.StandardOutputContent != "hi there\n" {
		t.Errorf("{{ssm:/greeting}}: %q", *inv.StandardOutputContent)
	}
	if _, err := ts.SendCommand(ts.ctx, &ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids[:1],
		Parameters: map[string][]string{"commands": {"echo {{ssm:/nope}}"}}}); !isCode(err, "InvalidParameters") {
		t.Errorf("{{ssm:/nope}}: %v", err)
	}
	list, err := ts.ListCommandInvocations(ts.ctx, &ssmapi.ListCommandInvocationsRequest{CommandId: &id, Details: new(true)})
	if err != nil || len(list.CommandInvocations) != 3 || len(*list.CommandInvocations[0].CommandPlugins[0].Output) != maxListOutput {
		t.Fatalf("details: %+v %v", list, err)
	}

	// An own document of two steps, one of which fails: MaxErrors 0 and
	// one at a time, so the first failure stops the others.
	doc := `{"schemaVersion":"2.2","parameters":{"code":{"type":"String","default":"0"}},"mainSteps":[
		{"action":"aws:runShellScript","name":"first","inputs":{"runCommand":["echo first"]}},
		{"action":"aws:runShellScript","name":"second","inputs":{"runCommand":["echo second","exit {{ code }}"]}}]}`
	if _, err := ts.CreateDocument(ts.ctx, &ssmapi.CreateDocumentRequest{Name: new("TwoSteps"), Content: &doc}); err != nil {
		t.Fatal(err)
	}
	id = ts.send(t, &ssmapi.SendCommandRequest{DocumentName: new("TwoSteps"), InstanceIds: ids, MaxConcurrency: new("1"), MaxErrors: new("0"),
		Parameters: map[string][]string{"code": {"4"}}})
	c := ts.waitCommand(t, id)
	if *c.Status != cmdFailed || *c.ErrorCount != 1 {
		t.Fatalf("MaxErrors: %+v", c)
	}
	if _, err := ts.GetCommandInvocation(ts.ctx, &ssmapi.GetCommandInvocationRequest{CommandId: &id, InstanceId: &ids[0]}); !isCode(err, "InvalidPluginName") {
		t.Errorf("two plugins, none named: %v", err)
	}
	second := ts.mustInvocation(t, id, ids[0], "second")
	if *second.ResponseCode != 4 || *second.StandardOutputContent != "second\n" || *second.Status != cmdFailed {
		t.Errorf("second step: %d %q %s", *second.ResponseCode, *second.StandardOutputContent, *second.Status)
	}
	if first := ts.mustInvocation(t, id, ids[0], "first"); *first.Status != cmdSuccess {
		t.Errorf("first step: %s", *first.Status)
	}
	for _, inst := range ids[1:] {
		if inv := ts.invocation(t, id, inst); *inv.Status != cmdCancelled {
			t.Errorf("%s after MaxErrors: %s", inst, *inv.Status)
		}
	}

	// The execution timeout kills the script.
	id = ts.send(t, &ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids[:1], Parameters: map[string][]string{"commands": {"sleep 20"}, "executionTimeout": {"1"}}})
	if c := ts.waitCommand(t, id); *c.Status != cmdTimedOut && *c.Status != cmdFailed {
		t.Errorf("timeout: %s", *c.Status)
	}
	if inv := ts.invocation(t, id, ids[0]); *inv.Status != cmdTimedOut || *inv.StatusDetails != "ExecutionTimedOut" {
		t.Errorf("timeout: %s %s", *inv.Status, *inv.StatusDetails)
	}

	// CancelCommand kills what runs.
	id = ts.send(t, &ssmapi.SendCommandRequest{DocumentName: shell, InstanceIds: ids, Parameters: map[string][]string{"commands": {"sleep 20"}}})
	time.Sleep(200 * time.Millisecond)
	if _, err := ts.CancelCommand(ts.ctx, &ssmapi.CancelCommandRequest{CommandId: &id}); err != nil {
		t.Fatal(err)
	}
	if c := ts.waitCommand(t, id); *c.Status != cmdCancelled {
		t.Errorf("cancelled: %s", *c.Status)
	}
	for _, inst := range ids {
		if inv := ts.invocation(t, id, inst); *inv.Status != cmdCancelled {
			t.Errorf("%s cancelled: %s", inst, *inv.Status)
		}
	}
	all, err := ts.ListCommands(ts.ctx, &ssmapi.ListCommandsRequest{})
	if err != nil || len(all.Commands) != 5 || *all.Commands[0].CommandId != id {
		t.Fatalf("ListCommands, newest first: %+v %v", all, err)
	}
}

func (ts *testService) mustInvocation(t *testing.T, cmd, instance, plugin string) *ssmapi.GetCommandInvocationResult {
	t.Helper()
	out, err := ts.GetCommandInvocation(ts.ctx, &ssmapi.GetCommandInvocationRequest{CommandId: &cmd, InstanceId: &instance, PluginName: &plugin})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommandsAcrossRestart: a command a stop interrupted is recorded as
// failed by the next start; finished ones keep their output.
func TestCommandsAcrossRestart(t *testing.T) {
	store := state.NewMemory()
	ts := newTestService(t, store)
	ids := ts.managedFleet(t, 1)
	done := ts.send(t, &ssmapi.SendCommandRequest{DocumentName: new("AWS-RunShellScript"), InstanceIds: ids, Parameters: map[string][]string{"commands": {"echo kept"}}})
	ts.waitCommand(t, done)
	running := ts.send(t, &ssmapi.SendCommandRequest{DocumentName: new("AWS-RunShellScript"), InstanceIds: ids, Parameters: map[string][]string{"commands": {"sleep 30"}}})
	time.Sleep(200 * time.Millisecond)
	if err := ts.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts2 := newTestService(t, store)
	if c := ts2.waitCommand(t, running); *c.Status != cmdFailed {
		t.Errorf("interrupted: %s", *c.Status)
	}
	if inv := ts2.invocation(t, running, ids[0]); !strings.Contains(*inv.StandardErrorContent, "minicloud stopped while the command ran.") {
		t.Errorf("interrupted: stderr %q", *inv.StandardErrorContent)
	}
	if inv := ts2.invocation(t, done, ids[0]); *inv.StandardOutputContent != "kept\n" {
		t.Errorf("finished: %q", *inv.StandardOutputContent)
	}
}

// TestDeliveryTimedOut: an invocation whose instance stopped being
// connected after the command was sent waits for it (Delayed) until the
// command's TimeoutSeconds, then times out undelivered.
func TestDeliveryTimedOut(t *testing.T) {
	ts := newTestService(t, state.NewMemory())
	ids := ts.managedFleet(t, 1)
	ts.world.set(func() { ts.world.reachable[ids[0]] = false })
	if err := ts.CheckInstances(ts.ctx); err != nil {
		t.Fatal(err)
	}
	sc := scopeOf(ts.ctx)
	c := commandRecord{ID: newCommandID(), DocumentName: "AWS-RunShellScript", DocumentVersion: "1", Requested: ts.now.Add(-time.Hour), TimeoutSeconds: 60,
		MaxConcurrency: "50", MaxErrors: "0", Status: cmdPending, StatusDetails: cmdPending, Steps: []cmdStep{{Name: "aws:runShellScript", Commands: []string{"true"}, Timeout: 60}},
		Invocations: []invocation{{InstanceID: ids[0], Status: cmdPending, StatusDetails: cmdPending}}}
	if err := ts.store.Update(ts.ctx, func(tx state.Tx) error { return commands.Put(tx, sc, c.ID, c) }); err != nil {
		t.Fatal(err)
	}
	ts.runner.start(sc, c.ID)
	if got := ts.waitCommand(t, c.ID); *got.Status != cmdTimedOut || *got.DeliveryTimedOutCount != 1 {
		t.Fatalf("command %s, %d undelivered", *got.Status, *got.DeliveryTimedOutCount)
	}
	if inv := ts.invocation(t, c.ID, ids[0]); *inv.Status != cmdTimedOut || *inv.StatusDetails != "DeliveryTimedOut" {
		t.Fatalf("invocation %s %s", *inv.Status, *inv.StatusDetails)
	}
}
