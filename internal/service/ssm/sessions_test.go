package ssm

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/ssmsession"
	"github.com/minicloud/minicloud/internal/state"
)

// fakeSessions records what the service asks of the data channels.
type fakeSessions struct {
	mu         sync.Mutex
	started    map[string]ssmsession.Spec
	terminated []string
	tokens     map[string]string
}

func (f *fakeSessions) Start(spec ssmsession.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started[spec.ID] = spec
	return nil
}

func (f *fakeSessions) Terminate(id string) bool {
	f.mu.Lock()
	spec, ok := f.started[id]
	f.terminated = append(f.terminated, id)
	f.mu.Unlock()
	if ok {
		spec.OnEnd(ssmsession.Result{Reason: "terminated"})
	}
	return ok
}

func (f *fakeSessions) SetToken(id, token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[id] = token
	_, ok := f.started[id]
	return ok
}

func (f *fakeSessions) spec(id string) ssmsession.Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started[id]
}

// sessionService is the service over memory with fake data channels; the
// connected instance is i-0123456789abcdef0.
func sessionService(t *testing.T) (*Service, *fakeSessions) {
	t.Helper()
	s := New(state.NewMemory(), Config{})
	f := &fakeSessions{started: map[string]ssmsession.Spec{}, tokens: map[string]string{}}
	s.SetSessions(SessionConfig{Agent: f, Connected: func(_ context.Context, account, region, id string) bool {
		return account == "111122223333" && region == "us-east-1" && id == "i-0123456789abcdef0"
	}})
	return s, f
}

// callAs is a request context of an IAM user reaching minicloud at host.
func callAs(user, host string, tls bool) context.Context {
	return api.WithRequest(context.Background(), &api.RequestInfo{Account: "111122223333", Region: "us-east-1",
		Caller: "arn:aws:iam::111122223333:user/" + user, Host: host, TLS: tls})
}

func errCode(err error) string {
	var e interface{ ErrorCode() string }
	if errors.As(err, &e) {
		return e.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestStartSession(t *testing.T) {
	s, f := sessionService(t)
	ctx := callAs("alice", "127.0.0.1:4566", false)
	out, err := s.StartSession(ctx, &ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), Reason: new("maintenance")})
	if err != nil {
		t.Fatal(err)
	}
	id := deref(out.SessionId)
	if !regexp.MustCompile(`^alice-[0-9a-f]{17}$`).MatchString(id) {
		t.Errorf("session ID %q, want alice-<17 hex>", id)
	}
	if want := "ws://127.0.0.1:4566/v1/data-channel/" + id + "?role=publish_subscribe&cell-number="; !strings.HasPrefix(deref(out.StreamUrl), want) {
		t.Errorf("StreamUrl %s, want %s…", deref(out.StreamUrl), want)
	}
	spec := f.spec(id)
	if spec.Token != deref(out.TokenValue) || len(spec.Token) < 64 || spec.Type != ssmsession.SessionShell || spec.User != "ssm-user" ||
		spec.IdleTimeout != 20*time.Minute || spec.MaxDuration != 0 || spec.Target.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("the session asked for: %+v", spec)
	}

	// From a VPC, by AWS's names, over TLS.
	out, err = s.StartSession(callAs("bob", "ssm.us-east-1.amazonaws.com", true), &ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/" + deref(out.SessionId) + "?"; !strings.HasPrefix(deref(out.StreamUrl), want) {
		t.Errorf("StreamUrl from a VPC %s, want %s…", deref(out.StreamUrl), want)
	}

	for _, tc := range []struct {
		name string
		in   ssmapi.StartSessionRequest
		code string
	}{
		{"no such instance", ssmapi.StartSessionRequest{Target: new("i-0fffffffffffffff0")}, "TargetNotConnected"},
		{"not an instance", ssmapi.StartSessionRequest{Target: new("vpc-0123456789abcdef0")}, "TargetNotConnected"},
		{"no such document", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), DocumentName: new("Nope")}, "InvalidDocument"},
		{"not a Session document", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), DocumentName: new("AWS-RunShellScript")}, "InvalidDocument"},
		{"an undeclared parameter", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), DocumentName: new("AWS-StartPortForwardingSession"),
			Parameters: map[string][]string{"colour": {"blue"}}}, "InvalidParameters"},
		{"a bad port", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), DocumentName: new("AWS-StartPortForwardingSession"),
			Parameters: map[string][]string{"portNumber": {"70000"}}}, "InvalidParameters"},
		{"a remote host required", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), DocumentName: new("AWS-StartPortForwardingSessionToRemoteHost")}, "InvalidParameters"},
		{"a reason over two lines", ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"), Reason: new("a\nb")}, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.StartSession(ctx, &tc.in); errCode(err) != tc.code {
				t.Errorf("%v, want %s", err, tc.code)
			}
		})
	}

	// Port forwarding: the document's properties with the parameters,
	// defaults filled in, the address the agent connects to.
	out, err = s.StartSession(ctx, &ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0"),
		DocumentName: new("arn:aws:ssm:us-east-1::document/AWS-StartPortForwardingSessionToRemoteHost"),
		Parameters:   map[string][]string{"host": {"db.example.internal"}, "portNumber": {"5432"}}})
	if err != nil {
		t.Fatal(err)
	}
	spec = f.spec(deref(out.SessionId))
	props, _ := spec.Properties.(map[string]any)
	if spec.Type != ssmsession.SessionPort || spec.Address != "db.example.internal:5432" || props["portNumber"] != "5432" ||
		props["localPortNumber"] != "0" || props["host"] != "db.example.internal" || props["type"] != "LocalPortForwarding" {
		t.Errorf("port forwarding asked for %+v", spec)
	}
}

func TestSessionPreferences(t *testing.T) {
	s, f := sessionService(t)
	ctx := callAs("alice", "127.0.0.1:4566", false)
	prefs := `{"schemaVersion":"1.0","description":"prefs","sessionType":"Standard_Stream","inputs":{"runAsEnabled":true,` +
		`"runAsDefaultUser":"ec2-user","idleSessionTimeout":"5","maxSessionDuration":"90","shellProfile":{"linux":"cd /tmp"}}}`
	if _, err := s.CreateDocument(ctx, &ssmapi.CreateDocumentRequest{Name: new(SessionPreferences), Content: new(prefs),
		DocumentType: new("Session"), DocumentFormat: new("JSON")}); err != nil {
		t.Fatal(err)
	}
	out, err := s.StartSession(ctx, &ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0")})
	if err != nil {
		t.Fatal(err)
	}
	spec := f.spec(deref(out.SessionId))
	if spec.User != "ec2-user" || spec.ShellProfile != "cd /tmp" || spec.IdleTimeout != 5*time.Minute || spec.MaxDuration != 90*time.Minute {
		t.Errorf("the preferences gave %+v", spec)
	}
	d, err := s.DescribeSessions(ctx, &ssmapi.DescribeSessionsRequest{State: new("Active")})
	if err != nil || len(d.Sessions) != 1 || deref(d.Sessions[0].MaxSessionDuration) != "90" {
		t.Errorf("DescribeSessions: %+v %v", d, err)
	}
}

func TestSessionLifecycle(t *testing.T) {
	s, f := sessionService(t)
	ctx := callAs("alice", "127.0.0.1:4566", false)
	var ids []string
	for range 3 {
		out, err := s.StartSession(ctx, &ssmapi.StartSessionRequest{Target: new("i-0123456789abcdef0")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, deref(out.SessionId))
		time.Sleep(2 * time.Millisecond) // distinct start times
	}
	// The first ends by itself (its shell exits 3), the second by
	// TerminateSession.
	code := 3
	f.spec(ids[0]).OnEnd(ssmsession.Result{ExitCode: &code, Reason: "exited"})
	if out, err := s.TerminateSession(ctx, &ssmapi.TerminateSessionRequest{SessionId: new(ids[1])}); err != nil || deref(out.SessionId) != ids[1] {
		t.Fatalf("TerminateSession: %v %v", out, err)
	}
	if out, err := s.TerminateSession(ctx, &ssmapi.TerminateSessionRequest{SessionId: new("nobody-00000000000000000")}); err != nil || deref(out.SessionId) != "nobody-00000000000000000" {
		t.Errorf("TerminateSession of no session: %v %v", out, err)
	}

	list := func(state string, filters ...ssmapi.SessionFilter) []string {
		t.Helper()
		var got []string
		var next *string
		for {
			out, err := s.DescribeSessions(ctx, &ssmapi.DescribeSessionsRequest{State: new(state), Filters: filters, MaxResults: new(int32(1)), NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, ses := range out.Sessions {
				got = append(got, deref(ses.SessionId))
				ended := ses.EndDate != nil
				if ended != (state == "History") || deref(ses.Owner) != "arn:aws:iam::111122223333:user/alice" {
					t.Errorf("%s session %+v", state, ses)
				}
			}
			if next = out.NextToken; next == nil {
				return got
			}
		}
	}
	if got := list("Active"); len(got) != 1 || got[0] != ids[2] {
		t.Errorf("Active: %v, want %v", got, ids[2:])
	}
	if got := list("History"); len(got) != 2 || got[0] != ids[1] || got[1] != ids[0] {
		t.Errorf("History, newest first: %v, want %s %s", got, ids[1], ids[0])
	}
	if got := list("History", ssmapi.SessionFilter{Key: new("SessionId"), Value: new(ids[0])}); len(got) != 1 {
		t.Errorf("History by SessionId: %v", got)
	}
	if got := list("History", ssmapi.SessionFilter{Key: new("Target"), Value: new("i-0fffffffffffffff0")}); len(got) != 0 {
		t.Errorf("History of another target: %v", got)
	}
	if got := list("Active", ssmapi.SessionFilter{Key: new("InvokedAfter"), Value: new("2000-01-01T00:00:00Z")},
		ssmapi.SessionFilter{Key: new("Owner"), Value: new("arn:aws:iam::111122223333:user/alice")}); len(got) != 1 {
		t.Errorf("Active by date and owner: %v", got)
	}
	for _, tc := range []struct {
		name string
		in   ssmapi.DescribeSessionsRequest
		code string
	}{
		{"no state", ssmapi.DescribeSessionsRequest{State: new("Open")}, "ValidationException"},
		{"unknown filter", ssmapi.DescribeSessionsRequest{State: new("Active"), Filters: []ssmapi.SessionFilter{{Key: new("Colour"), Value: new("x")}}}, "InvalidFilterKey"},
		{"a bad date", ssmapi.DescribeSessionsRequest{State: new("Active"), Filters: []ssmapi.SessionFilter{{Key: new("InvokedAfter"), Value: new("yesterday")}}}, "InvalidFilterValue"},
		{"a bad token", ssmapi.DescribeSessionsRequest{State: new("Active"), NextToken: new("garbage")}, "InvalidNextToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.DescribeSessions(ctx, &tc.in); errCode(err) != tc.code {
				t.Errorf("%v, want %s", err, tc.code)
			}
		})
	}

	// ResumeSession: a new token for an open session, none for an ended
	// one, an error for none.
	r, err := s.ResumeSession(ctx, &ssmapi.ResumeSessionRequest{SessionId: new(ids[2])})
	if err != nil || r.TokenValue == nil || f.tokens[ids[2]] != deref(r.TokenValue) || r.StreamUrl == nil {
		t.Errorf("ResumeSession of an open session: %+v %v", r, err)
	}
	if r, err := s.ResumeSession(ctx, &ssmapi.ResumeSessionRequest{SessionId: new(ids[0])}); err != nil || r.TokenValue != nil {
		t.Errorf("ResumeSession of an ended session: %+v %v", r, err)
	}
	if _, err := s.ResumeSession(ctx, &ssmapi.ResumeSessionRequest{SessionId: new("nobody-00000000000000000")}); errCode(err) != "DoesNotExistException" {
		t.Errorf("ResumeSession of no session: %v", err)
	}
	// Another account sees none of them.
	other := api.WithRequest(context.Background(), &api.RequestInfo{Account: "444455556666", Region: "us-east-1", Caller: "arn:aws:iam::444455556666:root"})
	if d, err := s.DescribeSessions(other, &ssmapi.DescribeSessionsRequest{State: new("History")}); err != nil || len(d.Sessions) != 0 {
		t.Errorf("another account's history: %+v %v", d, err)
	}

	// A restart after a crash: the open one is recorded ended.
	if err := s.EndStaleSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := list("Active"); len(got) != 0 {
		t.Errorf("Active after EndStaleSessions: %v", got)
	}
}
