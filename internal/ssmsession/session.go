package ssmsession

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/minicloud/minicloud/internal/agentport"
)

// Session types (the handshake's SessionType).
const (
	SessionShell = "Standard_Stream"
	// SessionInteractive runs Spec.Shell (a command) on a terminal, as
	// AWS-StartInteractiveCommand does; the plugin serves it as a shell.
	SessionInteractive = "InteractiveCommands"
	SessionPort        = "Port"
)

// AgentVersion is the agent version the handshake announces. The plugin
// picks features by it; below 3.0.196.0 port forwarding is one TCP
// connection at a time (BasicPortForwarding), which is what this agent
// serves.
const AgentVersion = "3.0.0.0"

// PathPrefix is where data channels are served (the StreamUrl's path).
const PathPrefix = "/v1/data-channel/"

// Spec is a session StartSession decided on.
type Spec struct {
	ID     string
	Token  string
	Target agentport.Target
	// Type is SessionShell, SessionInteractive or SessionPort.
	Type string
	// Properties are the document's properties, handed to the plugin in
	// the handshake (a port session's portNumber and type).
	Properties any
	// User runs the shell (agentport.SSMUser unless the preferences say
	// otherwise).
	User string
	// Shell is the shell's command; default sh -l.
	Shell []string
	// ShellProfile is written to the shell before the plugin's input (the
	// preferences' shellProfile.linux).
	ShellProfile string
	// Address is what a port session connects to from inside the instance
	// (host:port; localhost is the instance itself).
	Address string
	// IdleTimeout ends a session without input for that long; MaxDuration
	// ends it after that long. Zero: no limit.
	IdleTimeout, MaxDuration time.Duration
	// OnEnd is called once, when the session ends.
	OnEnd func(Result)
}

// Result is how a session ended.
type Result struct {
	// ExitCode is the shell's exit status, when it exited.
	ExitCode *int
	// Reason: "exited", "terminated", "idle timeout", "maximum duration",
	// "shutdown", or what failed.
	Reason string
}

// Config configures a Manager.
type Config struct {
	// Agent runs processes in instances and connects from them.
	Agent agentport.Agent
	// Logger; nil discards.
	Logger *slog.Logger
}

// Manager holds the sessions and serves their data channels.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
}

// NewManager returns a Manager.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{cfg: cfg, log: cfg.Logger.With("component", "ssm-session"), sessions: map[string]*session{}}
}

// ErrClosed is Start's answer once the Manager is closed.
var ErrClosed = errors.New("ssmsession: shutting down")

// Start registers a session; its agent side begins when the plugin
// connects.
func (m *Manager) Start(spec Spec) error {
	if spec.ID == "" || spec.Token == "" {
		return errors.New("ssmsession: a session needs an ID and a token")
	}
	if m.cfg.Agent == nil {
		return errors.New("ssmsession: no agent runs sessions here")
	}
	if spec.Type != SessionShell && spec.Type != SessionInteractive && spec.Type != SessionPort {
		return fmt.Errorf("ssmsession: unknown session type %q", spec.Type)
	}
	s := newSession(m, spec)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if _, dup := m.sessions[spec.ID]; dup {
		return fmt.Errorf("ssmsession: session %s exists", spec.ID)
	}
	m.sessions[spec.ID] = s
	go s.consume()
	go s.timers()
	return nil
}

// SetToken replaces a session's token (ResumeSession); false if there is
// no such session.
func (m *Manager) SetToken(id, token string) bool {
	s := m.get(id)
	if s == nil {
		return false
	}
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
	return true
}

// Terminate ends a session (TerminateSession); false if there is none.
func (m *Manager) Terminate(id string) bool {
	s := m.get(id)
	if s == nil {
		return false
	}
	s.end(Result{Reason: "terminated"})
	return true
}

// Close ends every session (minicloud stopping): the plugins get
// channel_closed, the shells are killed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	all := make([]*session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Go(func() { s.end(Result{Reason: "shutdown"}) })
	}
	wg.Wait()
}

func (m *Manager) get(id string) *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[id]
}

func (m *Manager) remove(s *session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions[s.spec.ID] == s {
		delete(m.sessions, s.spec.ID)
	}
}

// openDataChannel is the plugin's first (text) frame.
type openDataChannel struct {
	MessageSchemaVersion string
	RequestID            string `json:"RequestId"`
	TokenValue           string
	ClientID             string `json:"ClientId"`
	ClientVersion        string
}

// ServeHTTP serves a data channel: GET PathPrefix<session-id>, a websocket
// upgrade, the token in the first frame.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || id == "" || strings.Contains(id, "/") || r.Method != http.MethodGet {
		http.Error(w, "not a data channel", http.StatusNotFound)
		return
	}
	s := m.get(id)
	if s == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	// The plugin sends no Origin; the gateway has refused web pages'.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept answered
	}
	ws.SetReadLimit(MaxPayload + offPayload)
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	typ, data, err := ws.Read(ctx)
	cancel()
	var open openDataChannel
	if err == nil && typ == websocket.MessageText {
		err = json.Unmarshal(data, &open)
	} else if err == nil {
		err = errors.New("the first frame is not the open-data-channel text frame")
	}
	if err != nil {
		_ = ws.Close(websocket.StatusPolicyViolation, "expected the open data channel frame")
		return
	}
	s.mu.Lock()
	valid := subtle.ConstantTimeCompare([]byte(open.TokenValue), []byte(s.token)) == 1
	s.mu.Unlock()
	if !valid {
		m.log.Warn("data channel refused: wrong token", "session", id, "remote", r.RemoteAddr)
		_ = ws.Close(websocket.StatusPolicyViolation, "invalid token")
		return
	}
	s.serve(r.Context(), ws, open.ClientID)
}

// Flow control and retransmission.
const (
	// window is how many output messages may be unacknowledged; past it
	// the shell's output waits (and so does the shell).
	window = 512
	// resendAfter is how long an unacknowledged message waits before it
	// is sent again.
	resendAfter = 500 * time.Millisecond
	// flushWait is how long the last output may take to be acknowledged
	// before channel_closed.
	flushWait = 5 * time.Second
	// sizeWait is how long the shell waits for the plugin's terminal size.
	sizeWait = time.Second
)

// outMsg is an output message awaiting its acknowledgement.
type outMsg struct {
	seq  int64
	raw  []byte
	sent time.Time
}

// session is the agent's side of one session.
type session struct {
	m     *Manager
	spec  Spec
	log   *slog.Logger
	begun time.Time

	mu       sync.Mutex
	space    *sync.Cond // on mu: unacked shrank or the session ended
	token    string
	conn     *websocket.Conn // the plugin's current connection; nil between
	clientID string
	outSeq   int64
	unacked  []*outMsg
	inNext   int64
	inBuf    map[int64]Message
	hello    bool // the handshake request was sent
	ready    bool // the handshake is complete
	ending   bool // no new output
	ended    bool
	active   time.Time
	proc     agentport.Process
	port     portStream

	in        chan Message // delivered input, in order
	startOnce sync.Once
	endOnce   sync.Once
	done      chan struct{}
}

func newSession(m *Manager, spec Spec) *session {
	s := &session{m: m, spec: spec, token: spec.Token, begun: time.Now(), active: time.Now(),
		inBuf: map[int64]Message{}, in: make(chan Message, 64), done: make(chan struct{}),
		log: m.log.With("session", spec.ID, "target", spec.Target.InstanceID)}
	s.space = sync.NewCond(&s.mu)
	return s
}

// serve runs one connection of the plugin until it drops or the session
// ends.
func (s *session) serve(ctx context.Context, ws *websocket.Conn, clientID string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		_ = ws.Close(websocket.StatusNormalClosure, "session ended")
		return
	}
	old := s.conn
	s.conn, s.clientID = ws, clientID
	hello := !s.hello
	s.hello = true
	var again [][]byte
	for _, o := range s.unacked {
		again = append(again, o.raw)
		o.sent = time.Now()
	}
	s.mu.Unlock()
	if old != nil {
		_ = old.CloseNow()
	}
	s.log.Info("data channel connected", "client", clientID)
	if hello {
		req := map[string]any{"AgentVersion": AgentVersion, "RequestedClientActions": []any{map[string]any{
			"ActionType":       "SessionType",
			"ActionParameters": map[string]any{"SessionType": s.spec.Type, "Properties": s.spec.Properties},
		}}}
		b, _ := json.Marshal(req)
		if err := s.send(PayloadHandshakeRequest, b); err != nil {
			return
		}
	}
	for _, raw := range again {
		_ = ws.Write(ctx, websocket.MessageBinary, raw)
	}
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			break
		}
		if typ != websocket.MessageBinary {
			continue // a repeated open frame
		}
		m, err := Parse(data)
		if err != nil {
			s.log.Debug("data channel: bad message", "err", err)
			continue
		}
		if !s.receive(ctx, ws, m) {
			break
		}
	}
	s.mu.Lock()
	if s.conn == ws {
		s.conn = nil
		s.log.Info("data channel disconnected")
	}
	s.mu.Unlock()
	_ = ws.CloseNow()
}

// acknowledgement is an acknowledge message's payload.
type acknowledgement struct {
	MessageType    string `json:"AcknowledgedMessageType"`
	MessageID      string `json:"AcknowledgedMessageId"`
	SequenceNumber int64  `json:"AcknowledgedMessageSequenceNumber"`
	IsSequential   bool   `json:"IsSequentialMessage"`
}

// receive handles one message from the plugin; false ends the connection.
func (s *session) receive(ctx context.Context, ws *websocket.Conn, m Message) bool {
	switch m.Type {
	case TypeAcknowledge:
		var a acknowledgement
		if json.Unmarshal(m.Payload, &a) != nil || a.MessageType != TypeOutput {
			return true
		}
		s.mu.Lock()
		for i, o := range s.unacked {
			if o.seq == a.SequenceNumber {
				s.unacked = append(s.unacked[:i], s.unacked[i+1:]...)
				s.space.Broadcast()
				break
			}
		}
		s.mu.Unlock()
	case TypeInput:
		ack, _ := json.Marshal(acknowledgement{MessageType: m.Type, MessageID: m.ID.String(), SequenceNumber: m.Sequence, IsSequential: true})
		raw, _ := (&Message{Type: TypeAcknowledge, SchemaVersion: 1, Flags: 3, ID: NewUUID(), Payload: ack}).Marshal()
		// Acknowledged first: what is buffered or delivered is the
		// agent's now, and a duplicate is acknowledged again.
		if err := ws.Write(ctx, websocket.MessageBinary, raw); err != nil {
			return false
		}
		var deliver []Message
		s.mu.Lock()
		s.active = time.Now()
		switch {
		case m.Sequence == s.inNext:
			deliver = append(deliver, m)
			s.inNext++
			for {
				next, ok := s.inBuf[s.inNext]
				if !ok {
					break
				}
				delete(s.inBuf, s.inNext)
				deliver = append(deliver, next)
				s.inNext++
			}
		case m.Sequence > s.inNext && len(s.inBuf) < window:
			s.inBuf[m.Sequence] = m
		}
		s.mu.Unlock()
		for _, d := range deliver {
			select {
			case s.in <- d:
			case <-s.done:
				return false
			}
		}
	}
	return true
}

// send numbers and sends one output message (kept until acknowledged);
// it waits while the window is full.
func (s *session) send(pt PayloadType, payload []byte) error {
	s.mu.Lock()
	for len(s.unacked) >= window && !s.ending {
		s.space.Wait()
	}
	if s.ending {
		s.mu.Unlock()
		return ErrClosed
	}
	m := Message{Type: TypeOutput, SchemaVersion: 1, Sequence: s.outSeq, ID: NewUUID(), PayloadType: pt, Payload: payload}
	raw, err := m.Marshal()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.outSeq++
	s.unacked = append(s.unacked, &outMsg{seq: m.Sequence, raw: raw, sent: time.Now()})
	ws := s.conn
	s.mu.Unlock()
	if ws != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = ws.Write(ctx, websocket.MessageBinary, raw) // resent if lost
		cancel()
	}
	return nil
}

// timers resends what is unacknowledged and ends the session on its idle
// and maximum durations.
func (s *session) timers() {
	t := time.NewTicker(resendAfter / 4)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			ws := s.conn
			var again [][]byte
			if ws != nil {
				for _, o := range s.unacked {
					if now.Sub(o.sent) >= resendAfter {
						again = append(again, o.raw)
						o.sent = now
					}
				}
			}
			idle := s.spec.IdleTimeout > 0 && now.Sub(s.active) >= s.spec.IdleTimeout
			s.mu.Unlock()
			for _, raw := range again {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = ws.Write(ctx, websocket.MessageBinary, raw)
				cancel()
			}
			switch {
			case idle:
				go s.end(Result{Reason: "idle timeout"})
			case s.spec.MaxDuration > 0 && now.Sub(s.begun) >= s.spec.MaxDuration:
				go s.end(Result{Reason: "maximum duration"})
			}
		}
	}
}

// consume acts on the plugin's input, in sequence order.
func (s *session) consume() {
	var sizeTimer *time.Timer
	for {
		var m Message
		select {
		case <-s.done:
			if sizeTimer != nil {
				sizeTimer.Stop()
			}
			return
		case m = <-s.in:
		}
		switch m.PayloadType {
		case PayloadHandshakeResponse:
			s.mu.Lock()
			first := !s.ready
			s.ready = true
			s.mu.Unlock()
			if !first {
				continue
			}
			b, _ := json.Marshal(map[string]any{"HandshakeTimeToComplete": time.Since(s.begun), "CustomerMessage": ""})
			if s.send(PayloadHandshakeComplete, b) != nil {
				return
			}
			switch s.spec.Type {
			case SessionShell, SessionInteractive:
				sizeTimer = time.AfterFunc(sizeWait, func() { s.startShell(agentport.WindowSize{Rows: 24, Cols: 80}) })
			case SessionPort:
				s.portConnect()
			}
		case PayloadSize:
			var size struct{ Cols, Rows uint32 }
			if json.Unmarshal(m.Payload, &size) != nil || size.Cols == 0 || size.Rows == 0 {
				continue
			}
			ws := agentport.WindowSize{Rows: uint16(min(size.Rows, 1000)), Cols: uint16(min(size.Cols, 1000))}
			if s.spec.Type == SessionPort {
				continue
			}
			s.startShell(ws)
			s.mu.Lock()
			p := s.proc
			s.mu.Unlock()
			if p != nil {
				_ = p.Resize(ws)
			}
		case PayloadOutput:
			switch s.spec.Type {
			case SessionShell, SessionInteractive:
				s.mu.Lock()
				p := s.proc
				s.mu.Unlock()
				if p != nil {
					_, _ = p.Stdin().Write(m.Payload)
				}
			case SessionPort:
				s.portInput(m.Payload)
			}
		case PayloadFlag:
			if len(m.Payload) != 4 {
				continue
			}
			switch binary.BigEndian.Uint32(m.Payload) {
			case FlagTerminateSession:
				go s.end(Result{Reason: "terminated"})
			case FlagDisconnectToPort:
				s.portDisconnect()
			}
		}
	}
}

// startShell starts the shell on a terminal of size ws, once.
func (s *session) startShell(ws agentport.WindowSize) {
	s.startOnce.Do(func() {
		argv := s.spec.Shell
		if len(argv) == 0 {
			argv = []string{"sh", "-l"}
		}
		// The process lives as long as the session: Close kills it (the
		// agent bounds the wait for its start on its own).
		p, err := s.m.cfg.Agent.Exec(context.Background(), s.spec.Target, agentport.Spec{Argv: argv, User: s.spec.User,
			Env: []string{"TERM=xterm-256color"}, TTY: &ws})
		if err != nil {
			s.log.Warn("start the session's shell", "err", err)
			_ = s.send(PayloadOutput, []byte(fmt.Sprintf("\r\nCould not start the shell: %v\r\n", err)))
			go s.end(Result{Reason: "could not start the shell: " + err.Error()})
			return
		}
		s.mu.Lock()
		if s.ending {
			s.mu.Unlock()
			_ = p.Close()
			return
		}
		s.proc = p
		s.mu.Unlock()
		if s.spec.ShellProfile != "" {
			_, _ = io.WriteString(p.Stdin(), s.spec.ShellProfile+"\n")
		}
		go s.pumpShell(p)
	})
}

// pumpShell sends the terminal's output until the shell exits.
func (s *session) pumpShell(p agentport.Process) {
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 4096)
		for {
			n, err := p.Stdout().Read(buf)
			if n > 0 {
				if s.send(PayloadOutput, append([]byte(nil), buf[:n]...)) != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	code, err := p.Wait()
	// What the shell wrote last is still in the terminal; background jobs
	// holding it open must not keep the session.
	select {
	case <-drained:
	case <-time.After(200 * time.Millisecond):
	}
	if err != nil {
		s.end(Result{Reason: "the instance stopped"})
		return
	}
	s.end(Result{ExitCode: &code, Reason: "exited"})
}

// channelClosed is channel_closed's payload.
type channelClosed struct {
	MessageID     string `json:"MessageId"`
	CreatedDate   string
	DestinationID string `json:"DestinationId"`
	SessionID     string `json:"SessionId"`
	MessageType   string
	SchemaVersion int
	Output        string
}

// end ends the session once: the output still unacknowledged gets
// flushWait, then channel_closed and the websocket's close; the shell or
// port connection goes; OnEnd is told.
func (s *session) end(r Result) {
	s.endOnce.Do(func() {
		deadline := time.Now().Add(flushWait)
		s.mu.Lock()
		s.ending = true
		s.space.Broadcast()
		for len(s.unacked) > 0 && s.conn != nil && time.Now().Before(deadline) {
			s.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			s.mu.Lock()
		}
		s.ended = true
		ws, p, port, clientID := s.conn, s.proc, &s.port, s.clientID
		s.conn = nil
		s.mu.Unlock()
		if ws != nil {
			id := NewUUID()
			b, _ := json.Marshal(channelClosed{MessageID: id.String(), CreatedDate: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
				DestinationID: clientID, SessionID: s.spec.ID, MessageType: TypeChannelClosed, SchemaVersion: 1})
			raw, _ := (&Message{Type: TypeChannelClosed, SchemaVersion: 1, ID: id, Payload: b}).Marshal()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = ws.Write(ctx, websocket.MessageBinary, raw)
			cancel()
			_ = ws.Close(websocket.StatusNormalClosure, "")
		}
		if p != nil {
			_ = p.Close()
		}
		port.close()
		close(s.done)
		s.m.remove(s)
		s.log.Info("session ended", "reason", r.Reason)
		if s.spec.OnEnd != nil {
			s.spec.OnEnd(r)
		}
	})
}
