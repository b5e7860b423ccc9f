package ssm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/agentport"
	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/ssmsession"
	"github.com/minicloud/minicloud/internal/state"
)

// Session Manager: StartSession, TerminateSession, ResumeSession and
// DescribeSessions. The records are here (durable: the history outlives a
// restart); the data channels, with the shells and connections they run in
// the instances, are package ssmsession's (SessionConfig.Agent), which
// tells the record when a session ends. A session is Connected from
// StartSession until it ends (its shell exits, TerminateSession, its idle
// or maximum duration, the plugin's TerminateSession flag), then
// Terminated; minicloud stopping ends every session (the plugins get
// channel_closed), and one that finds sessions still open at start (after
// a crash) records them Terminated.

// SessionAgent is the data channels' side of Session Manager
// (*ssmsession.Manager).
type SessionAgent interface {
	Start(spec ssmsession.Spec) error
	Terminate(id string) bool
	SetToken(id, token string) bool
}

// SessionConfig is what Session Manager is built from.
type SessionConfig struct {
	// Agent serves the sessions; nil: no target is ever connected.
	Agent SessionAgent
	// Connected reports whether an instance's agent can take a session
	// (a running managed instance); nil: none can.
	Connected func(ctx context.Context, account, region, instanceID string) bool
}

// SetSessions gives the service its sessions' agent and target check
// (none until then: no target is connected); the server calls it once,
// before serving.
func (s *Service) SetSessions(c SessionConfig) { s.sessionCfg = c }

func (s *Service) sessions() SessionConfig { return s.sessionCfg }

// sessionRecord is a session as DescribeSessions shows it, with how it
// ended.
type sessionRecord struct {
	ID, Target, Document, Owner string
	Reason                      string `json:",omitempty"`
	Status                      string
	Started                     time.Time
	Ended                       time.Time `json:",omitzero"`
	MaxSessionDuration          string    `json:",omitempty"`
	// How it ended (minicloud's own: the shell's exit status, why).
	ExitCode *int   `json:",omitempty"`
	End      string `json:",omitempty"`
}

var sessions = state.Table[sessionRecord]{Service: "ssm", Kind: "session"}

// Session statuses.
const (
	sessionConnected  = "Connected"
	sessionTerminated = "Terminated"
	sessionFailed     = "Failed"
)

func activeStatus(s string) bool { return s != sessionTerminated && s != sessionFailed }

var (
	sessionTargetRE = lazyregexp.New(`^(i|mi)-[0-9a-f]{8,17}$`)
	portParamRE     = lazyregexp.New(`^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$`)
	localPortRE     = lazyregexp.New(`^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$`)
	hostParamRE     = lazyregexp.New(`^[a-zA-Z0-9.:_-]{1,253}$`)
)

// sessionDoc is what a Session document's content says that a session
// needs: its type, parameters, properties (with {{ parameter }}
// references) and, for the preferences, its inputs.
type sessionDoc struct {
	SessionType string                     `json:"sessionType"`
	Parameters  map[string]json.RawMessage `json:"parameters"`
	Properties  json.RawMessage            `json:"properties"`
	Inputs      struct {
		RunAsEnabled       bool   `json:"runAsEnabled"`
		RunAsDefaultUser   string `json:"runAsDefaultUser"`
		IdleSessionTimeout string `json:"idleSessionTimeout"`
		MaxSessionDuration string `json:"maxSessionDuration"`
		ShellProfile       struct {
			Linux string `json:"linux"`
		} `json:"shellProfile"`
	} `json:"inputs"`
}

type docParamSpec struct {
	Default *string `json:"default"`
}

// loadSessionDoc reads document name's default version as JSON.
func loadSessionDoc(tx state.Tx, sc state.Scope, name string) (*sessionDoc, bool, error) {
	d, _, err := findDocument(tx, sc, name)
	if err != nil || d == nil {
		return nil, false, err
	}
	if d.Type != docSession {
		return nil, true, clientError("InvalidDocument", "Document type must be Session: %s is a %s document.", name, d.Type)
	}
	v := d.version(d.Default)
	if v == nil {
		v = d.latest()
	}
	content, _, err := convertContent(v.Content, d.Format, formatJSON)
	if err != nil {
		return nil, true, fmt.Errorf("document %s: %w", name, err)
	}
	var sd sessionDoc
	if err := json.Unmarshal([]byte(content), &sd); err != nil {
		return nil, true, fmt.Errorf("document %s: %w", name, err)
	}
	return &sd, true, nil
}

// StartSession starts a session on a connected instance.
func (s *Service) StartSession(ctx context.Context, in *ssmapi.StartSessionRequest) (*ssmapi.StartSessionResponse, error) {
	req := api.Request(ctx)
	sc := scopeOf(ctx)
	target := deref(in.Target)
	docName := deref(in.DocumentName)
	if i := strings.Index(docName, ":document/"); strings.HasPrefix(docName, "arn:") && i > 0 {
		docName = docName[i+len(":document/"):]
	}
	if docName == "" {
		docName = SessionPreferences
	}
	if r := deref(in.Reason); in.Reason != nil && (r == "" || len(r) > 256 || strings.ContainsAny(r, "\r\n")) {
		return nil, errValidation("1 validation error detected: Value at 'reason' failed to satisfy constraint: Member must satisfy regular expression pattern: ^.{1,256}$")
	}
	var doc, prefs *sessionDoc
	err := s.store.View(ctx, func(tx state.Tx) error {
		var found bool
		var err error
		if doc, found, err = loadSessionDoc(tx, sc, docName); err != nil {
			return err
		} else if !found {
			return errNoDocument()
		}
		prefs, _, err = loadSessionDoc(tx, sc, SessionPreferences)
		return err
	})
	if err != nil {
		return nil, err
	}
	if prefs == nil {
		prefs = &sessionDoc{}
	}
	params, err := sessionParameters(doc, in.Parameters)
	if err != nil {
		return nil, err
	}
	if !sessionTargetRE.MatchString(target) || s.sessions().Agent == nil || s.sessions().Connected == nil ||
		!s.sessions().Connected(ctx, sc.Account, sc.Region, target) {
		return nil, clientError("TargetNotConnected", "%s is not connected.", target)
	}

	id := sessionOwnerName(req.Caller) + "-" + randomHex(17)
	token := randomToken()
	spec := ssmsession.Spec{ID: id, Token: token, Target: agentport.Target{Account: sc.Account, Region: sc.Region, InstanceID: target},
		Type: doc.SessionType, User: agentport.SSMUser, ShellProfile: prefs.Inputs.ShellProfile.Linux}
	if prefs.Inputs.RunAsEnabled && prefs.Inputs.RunAsDefaultUser != "" {
		spec.User = prefs.Inputs.RunAsDefaultUser
	}
	idle := 20
	if n, err := strconv.Atoi(prefs.Inputs.IdleSessionTimeout); err == nil && n >= 1 && n <= 60 {
		idle = n
	}
	spec.IdleTimeout = time.Duration(idle) * time.Minute
	rec := sessionRecord{ID: id, Target: target, Document: docName, Owner: req.Caller, Reason: deref(in.Reason),
		Status: sessionConnected, Started: s.now()}
	if n, err := strconv.Atoi(prefs.Inputs.MaxSessionDuration); err == nil && n >= 1 && n <= 1440 {
		spec.MaxDuration = time.Duration(n) * time.Minute
		rec.MaxSessionDuration = prefs.Inputs.MaxSessionDuration
	}
	switch doc.SessionType {
	case ssmsession.SessionShell:
	case ssmsession.SessionInteractive:
		spec.Shell = []string{"sh", "-c", params["command"]}
	case ssmsession.SessionPort:
		host := params["host"]
		if host == "" {
			host = "localhost"
		}
		spec.Address = net.JoinHostPort(host, params["portNumber"])
	default:
		return nil, clientError("InvalidDocument", "Session type %s of document %s is not supported.", doc.SessionType, docName)
	}
	spec.Properties, err = sessionProperties(doc.Properties, params)
	if err != nil {
		return nil, err
	}
	spec.OnEnd = func(r ssmsession.Result) { s.sessionEnded(sc, id, r) }
	err = s.store.Update(ctx, func(tx state.Tx) error { return sessions.Put(tx, sc, id, rec) })
	if err != nil {
		return nil, err
	}
	if err := s.sessions().Agent.Start(spec); err != nil {
		s.sessionEnded(sc, id, ssmsession.Result{Reason: err.Error()})
		return nil, api.Errorf(500, "InternalServerError", "could not start the session: %v", err)
	}
	return &ssmapi.StartSessionResponse{SessionId: new(id), TokenValue: new(token), StreamUrl: new(streamURL(req, id))}, nil
}

// sessionParameters checks StartSession's parameters against the
// document's and fills in the defaults.
func sessionParameters(doc *sessionDoc, given map[string][]string) (map[string]string, error) {
	out := map[string]string{}
	for name, raw := range doc.Parameters {
		var p docParamSpec
		_ = json.Unmarshal(raw, &p)
		if p.Default != nil {
			out[name] = *p.Default
		}
	}
	for name, vals := range given {
		if _, ok := doc.Parameters[name]; !ok {
			return nil, clientError("InvalidParameters", "Parameter %q is not declared by the document.", name)
		}
		if len(vals) != 1 {
			return nil, clientError("InvalidParameters", "Parameter %q takes one value.", name)
		}
		out[name] = vals[0]
	}
	for name, re := range map[string]*lazyregexp.Regexp{"portNumber": portParamRE, "localPortNumber": localPortRE, "host": hostParamRE} {
		if _, declared := doc.Parameters[name]; declared && !re.MatchString(out[name]) {
			return nil, clientError("InvalidParameters", "Parameter %q value %q does not match the document's allowed pattern.", name, out[name])
		}
	}
	if _, declared := doc.Parameters["command"]; declared && out["command"] == "" {
		return nil, clientError("InvalidParameters", "Parameter \"command\" is required.")
	}
	return out, nil
}

// sessionProperties are the document's properties with the parameters'
// values in place of their {{ references }}.
func sessionProperties(raw json.RawMessage, params map[string]string) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var props any
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, err
	}
	var subst func(v any) any
	subst = func(v any) any {
		switch v := v.(type) {
		case string:
			for name, val := range params {
				v = strings.ReplaceAll(v, "{{ "+name+" }}", val)
				v = strings.ReplaceAll(v, "{{"+name+"}}", val)
			}
			return v
		case map[string]any:
			for k, e := range v {
				v[k] = subst(e)
			}
		case []any:
			for i, e := range v {
				v[i] = subst(e)
			}
		}
		return v
	}
	return subst(props), nil
}

// streamURL is where the plugin connects: ssmmessages's name when the
// caller came by AWS's names (from a VPC), else the address it reached
// minicloud by.
func streamURL(req *api.RequestInfo, id string) string {
	host := req.Host
	if h, ok := strings.CutPrefix(host, "ssm."); ok && strings.HasSuffix(strings.Split(h, ":")[0], ".amazonaws.com") {
		host = "ssmmessages." + h
	}
	if host == "" {
		host = "ssmmessages." + req.Region + ".amazonaws.com"
	}
	scheme := "ws"
	if req.TLS {
		scheme = "wss"
	}
	cell := base64.RawURLEncoding.EncodeToString([]byte{0, 1, 0, 1})
	return scheme + "://" + host + ssmsession.PathPrefix + id + "?role=publish_subscribe&cell-number=" + cell
}

// sessionOwnerName is the start of a session ID: the caller's name (an IAM
// user's, a role session's), as AWS makes it.
func sessionOwnerName(caller string) string {
	name := caller[strings.LastIndexAny(caller, "/:")+1:]
	if name == "" {
		name = "session"
	}
	return name
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randomToken() string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// sessionEnded records a session's end.
func (s *Service) sessionEnded(sc state.Scope, id string, r ssmsession.Result) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.store.Update(ctx, func(tx state.Tx) error {
		rec, ok, err := sessions.Get(tx, sc, id)
		if err != nil || !ok || !activeStatus(rec.Status) {
			return err
		}
		rec.Status, rec.Ended, rec.ExitCode, rec.End = sessionTerminated, s.now(), r.ExitCode, r.Reason
		return sessions.Put(tx, sc, id, rec)
	})
	if err != nil {
		s.cfg.Logger.Warn("record a session's end", "session", id, "err", err)
	}
}

// EndStaleSessions records as Terminated the sessions a previous run left
// open (it stopped without ending them: a crash): no data channel of them
// is left. The server calls it at start, before any StartSession.
func (s *Service) EndStaleSessions(ctx context.Context) error {
	return s.store.Update(ctx, func(tx state.Tx) error {
		var stale []state.Scope
		var ids []string
		err := tx.Scan("", func(key string, _ []byte) error {
			if sc, id, ok := sessions.ParseKey(key); ok {
				stale, ids = append(stale, sc), append(ids, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, id := range ids {
			rec, ok, err := sessions.Get(tx, stale[i], id)
			if err != nil {
				return err
			}
			if ok && activeStatus(rec.Status) {
				rec.Status, rec.Ended, rec.End = sessionTerminated, s.now(), "minicloud restarted"
				if err := sessions.Put(tx, stale[i], id, rec); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TerminateSession ends a session; a session that is not (or no longer)
// open is answered the same.
func (s *Service) TerminateSession(ctx context.Context, in *ssmapi.TerminateSessionRequest) (*ssmapi.TerminateSessionResponse, error) {
	sc := scopeOf(ctx)
	id := deref(in.SessionId)
	if id == "" || len(id) > 96 {
		return nil, errValidation("1 validation error detected: Value at 'sessionId' failed to satisfy constraint: Member must have length less than or equal to 96")
	}
	var open bool
	err := s.store.View(ctx, func(tx state.Tx) error {
		rec, ok, err := sessions.Get(tx, sc, id)
		open = ok && activeStatus(rec.Status)
		return err
	})
	if err != nil {
		return nil, err
	}
	if open {
		if s.sessions().Agent == nil || !s.sessions().Agent.Terminate(id) {
			s.sessionEnded(sc, id, ssmsession.Result{Reason: "terminated"})
		}
	}
	return &ssmapi.TerminateSessionResponse{SessionId: new(id)}, nil
}

// ResumeSession gives an open session a new token for the plugin's next
// connection; an ended one gets none (the plugin then says it timed out).
func (s *Service) ResumeSession(ctx context.Context, in *ssmapi.ResumeSessionRequest) (*ssmapi.ResumeSessionResponse, error) {
	sc := scopeOf(ctx)
	id := deref(in.SessionId)
	var rec sessionRecord
	var ok bool
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		rec, ok, err = sessions.Get(tx, sc, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, clientError("DoesNotExistException", "Session with id %s does not exist.", id)
	}
	out := &ssmapi.ResumeSessionResponse{SessionId: new(id)}
	if !activeStatus(rec.Status) {
		return out, nil
	}
	token := randomToken()
	if s.sessions().Agent == nil || !s.sessions().Agent.SetToken(id, token) {
		return out, nil
	}
	out.TokenValue, out.StreamUrl = new(token), new(streamURL(api.Request(ctx), id))
	return out, nil
}

// sessionFilterKeys are DescribeSessions's filter keys.
var sessionFilterKeys = []string{"InvokedAfter", "InvokedBefore", "Target", "Owner", "Status", "SessionId", "AccessType"}

// DescribeSessions lists the active sessions or the history, newest first.
func (s *Service) DescribeSessions(ctx context.Context, in *ssmapi.DescribeSessionsRequest) (*ssmapi.DescribeSessionsResponse, error) {
	sc := scopeOf(ctx)
	which := deref(in.State)
	if which != "Active" && which != "History" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [Active, History]", which)
	}
	if len(in.Filters) > 6 {
		return nil, errValidation("1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 6")
	}
	var keep []func(sessionRecord) bool
	for _, f := range in.Filters {
		key, val := deref(f.Key), deref(f.Value)
		if val == "" || len(val) > 400 {
			return nil, errValidation("1 validation error detected: Value at 'filters.value' failed to satisfy constraint: Member must have length between 1 and 400")
		}
		switch key {
		case "InvokedAfter", "InvokedBefore":
			at, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return nil, clientError("InvalidFilterValue", "The filter value %s is not a valid date.", val)
			}
			after := key == "InvokedAfter"
			keep = append(keep, func(r sessionRecord) bool { return after == !r.Started.Before(at) })
		case "Target":
			keep = append(keep, func(r sessionRecord) bool { return r.Target == val })
		case "Owner":
			keep = append(keep, func(r sessionRecord) bool { return r.Owner == val })
		case "Status":
			keep = append(keep, func(r sessionRecord) bool { return r.Status == val })
		case "SessionId":
			keep = append(keep, func(r sessionRecord) bool { return r.ID == val })
		case "AccessType":
			keep = append(keep, func(sessionRecord) bool { return val == "Standard" })
		default:
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid. Valid filter keys include: [%s].", key, strings.Join(sessionFilterKeys, ", "))
		}
	}
	var all []sessionRecord
	err := s.store.View(ctx, func(tx state.Tx) error {
		return sessions.ForEach(tx, sc, func(_ string, r sessionRecord) error {
			if activeStatus(r.Status) != (which == "Active") {
				return nil
			}
			for _, k := range keep {
				if !k(r) {
					return nil
				}
			}
			all = append(all, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := state.Paginate(all, in.MaxResults, deref(in.NextToken),
		state.PageOptions{Min: 1, Max: 200, Default: 20, Param: "maxResults", SizeCode: "ValidationException"},
		func(r sessionRecord) string {
			return fmt.Sprintf("%019d/%s", math.MaxInt64-r.Started.UnixNano(), r.ID)
		})
	if err != nil {
		return nil, err
	}
	out := &ssmapi.DescribeSessionsResponse{Sessions: []ssmapi.Session{}}
	for _, r := range page {
		ses := ssmapi.Session{SessionId: new(r.ID), Target: new(r.Target), Status: new(r.Status), StartDate: new(r.Started),
			DocumentName: new(r.Document), Owner: new(r.Owner), OutputUrl: &ssmapi.SessionManagerOutputUrl{}}
		if r.Reason != "" {
			ses.Reason = new(r.Reason)
		}
		if !r.Ended.IsZero() {
			ses.EndDate = new(r.Ended)
		}
		if r.MaxSessionDuration != "" {
			ses.MaxSessionDuration = new(r.MaxSessionDuration)
		}
		out.Sessions = append(out.Sessions, ses)
	}
	if next != "" {
		out.NextToken = new(next)
	}
	return out, nil
}
