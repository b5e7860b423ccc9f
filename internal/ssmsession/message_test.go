package ssmsession

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestMessageLayout checks the encoding against the plugin's layout
// (src/message/clientmessage.go and messageparser.go).
func TestMessageLayout(t *testing.T) {
	var id UUID
	for i := range id {
		id[i] = byte(i)
	}
	m := Message{Type: TypeOutput, SchemaVersion: 1, CreatedDate: 1700000000123, Sequence: 7, Flags: 3, ID: id,
		PayloadType: PayloadOutput, Payload: []byte("hi")}
	b, err := m.Marshal()
	must(t, err)
	sum := sha256.Sum256([]byte("hi"))
	for _, c := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"header length", b[0:4], []byte{0, 0, 0, 116}},
		{"type, space-padded", b[4:36], []byte("output_stream_data              ")},
		{"schema version", b[36:40], []byte{0, 0, 0, 1}},
		{"created date", b[40:48], binary.BigEndian.AppendUint64(nil, 1700000000123)},
		{"sequence", b[48:56], binary.BigEndian.AppendUint64(nil, 7)},
		{"flags", b[56:64], binary.BigEndian.AppendUint64(nil, 3)},
		{"message ID, least significant half first", b[64:80], append(append([]byte{}, id[8:]...), id[:8]...)},
		{"digest", b[80:112], sum[:]},
		{"payload type", b[112:116], []byte{0, 0, 0, 1}},
		{"payload length", b[116:120], []byte{0, 0, 0, 2}},
		{"payload", b[120:], []byte("hi")},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: % x, want % x", c.name, c.got, c.want)
		}
	}
	if id.String() != "00010203-0405-0607-0809-0a0b0c0d0e0f" {
		t.Errorf("UUID string %s", id)
	}
	got, err := Parse(b)
	must(t, err)
	if got.Type != m.Type || got.Sequence != 7 || got.ID != id || got.CreatedDate != m.CreatedDate || got.Flags != 3 ||
		got.PayloadType != PayloadOutput || string(got.Payload) != "hi" {
		t.Errorf("Parse(Marshal(m)) = %+v", got)
	}
}

func TestParseRefuses(t *testing.T) {
	good, err := (&Message{Type: TypeInput, Payload: []byte("abc")}).Marshal()
	must(t, err)
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:100]},
		{"header length too small", edit(func(b []byte) []byte { b[3] = 100; return b })},
		{"header length past the end", edit(func(b []byte) []byte { b[2] = 1; return b })},
		{"payload length too long", edit(func(b []byte) []byte { b[119] = 4; return b })},
		{"payload length too short", edit(func(b []byte) []byte { b[119] = 2; return b })},
		{"digest", edit(func(b []byte) []byte { b[80] ^= 1; return b })},
		{"payload changed", edit(func(b []byte) []byte { b[120] = 'x'; return b })},
		{"no type", edit(func(b []byte) []byte { copy(b[4:36], bytes.Repeat([]byte{' '}, 32)); return b })},
	} {
		if _, err := Parse(c.b); err == nil {
			t.Errorf("%s: parsed", c.name)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts encodes back to a
// message it reads the same.
func FuzzParse(f *testing.F) {
	for _, m := range []Message{
		{Type: TypeInput, SchemaVersion: 1, Sequence: 3, PayloadType: PayloadOutput, Payload: []byte("ls\r")},
		{Type: TypeAcknowledge, Flags: 3, Payload: []byte(`{"AcknowledgedMessageType":"output_stream_data"}`)},
		{Type: TypeStartPublication},
	} {
		b, _ := m.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		m2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if m.CreatedDate == 0 {
			m2.CreatedDate = 0 // Marshal stamps a missing date
		}
		if m2.Type != m.Type || m2.Sequence != m.Sequence || m2.ID != m.ID || m2.Flags != m.Flags ||
			m2.PayloadType != m.PayloadType || !bytes.Equal(m2.Payload, m.Payload) || m2.CreatedDate != m.CreatedDate {
			t.Fatalf("round trip: %+v → %+v", m, m2)
		}
	})
}

// wsClient is a hand-driven plugin for the protocol's corner cases.
type wsClient struct {
	t   *testing.T
	c   *websocket.Conn
	ctx context.Context
	in  chan Message // what the agent sent, read in the background
	err error        // why reading stopped, once in is closed
}

func dialSession(t *testing.T, srv *httptest.Server, id, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+PathPrefix+id+"?role=publish_subscribe", nil)
	must(t, err)
	open, _ := json.Marshal(openDataChannel{MessageSchemaVersion: "1.0", RequestID: "r", TokenValue: token, ClientID: "c"})
	must(t, c.Write(ctx, websocket.MessageText, open))
	w := &wsClient{t: t, c: c, ctx: ctx, in: make(chan Message, 1024)}
	go func() {
		defer close(w.in)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				w.err = err
				return
			}
			if m, err := Parse(b); err == nil {
				w.in <- m
			}
		}
	}()
	return w
}

// read is the next message; the test fails without one within 10 s.
func (w *wsClient) read() Message {
	w.t.Helper()
	m, ok := w.tryRead(10 * time.Second)
	if !ok {
		w.t.Fatal("no message from the agent")
	}
	return m
}

// tryRead is the next message within d, if any.
func (w *wsClient) tryRead(d time.Duration) (Message, bool) {
	select {
	case m, ok := <-w.in:
		return m, ok
	case <-time.After(d):
		return Message{}, false
	}
}

func (w *wsClient) input(seq int64, pt PayloadType, payload string) {
	w.t.Helper()
	b, err := (&Message{Type: TypeInput, SchemaVersion: 1, Sequence: seq, ID: NewUUID(), PayloadType: pt, Payload: []byte(payload)}).Marshal()
	must(w.t, err)
	must(w.t, w.c.Write(w.ctx, websocket.MessageBinary, b))
}

func (w *wsClient) ack(m Message) {
	w.t.Helper()
	a, _ := json.Marshal(acknowledgement{MessageType: m.Type, MessageID: m.ID.String(), SequenceNumber: m.Sequence, IsSequential: true})
	b, _ := (&Message{Type: TypeAcknowledge, SchemaVersion: 1, Flags: 3, ID: NewUUID(), Payload: a}).Marshal()
	must(w.t, w.c.Write(w.ctx, websocket.MessageBinary, b))
}

// TestProtocol: unacknowledged output is sent again, input is delivered in
// sequence order whatever order it comes in, duplicates are acknowledged
// but not delivered twice, a reconnection gets what is unacknowledged, and
// a wrong token gets nothing.
func TestProtocol(t *testing.T) {
	m := NewManager(Config{Agent: &hostAgent{}})
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	must(t, m.Start(Spec{ID: "p-1", Token: "tok", Type: SessionShell, Shell: []string{"/bin/sh"}}))

	bad := dialSession(t, srv, "p-1", "nope")
	if m, open := bad.tryRead(10 * time.Second); open || websocket.CloseStatus(bad.err) != websocket.StatusPolicyViolation {
		t.Fatalf("a wrong token: got %+v, %v; want the channel closed (policy violation)", m, bad.err)
	}

	w := dialSession(t, srv, "p-1", "tok")
	hello := w.read()
	if hello.Type != TypeOutput || hello.PayloadType != PayloadHandshakeRequest || hello.Sequence != 0 {
		t.Fatalf("first message %+v, want the handshake request", hello)
	}
	var req struct {
		AgentVersion           string
		RequestedClientActions []struct {
			ActionType       string
			ActionParameters struct{ SessionType string }
		}
	}
	must(t, json.Unmarshal(hello.Payload, &req))
	if len(req.RequestedClientActions) != 1 || req.RequestedClientActions[0].ActionParameters.SessionType != SessionShell {
		t.Errorf("handshake request %s", hello.Payload)
	}
	start := time.Now()
	again := w.read()
	if again.ID != hello.ID || again.Sequence != 0 || time.Since(start) < resendAfter/2 {
		t.Fatalf("unacknowledged handshake request not sent again as itself: %+v after %s", again, time.Since(start))
	}
	w.ack(again)
	w.input(0, PayloadHandshakeResponse, `{"ClientVersion":"1.3.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1}]}`)
	acks := map[int64]int{}
	var out strings.Builder
	// next reads until cond, acknowledging output and counting acks.
	next := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; acks %v, output %q", what, acks, out.String())
			}
			msg, ok := w.tryRead(200 * time.Millisecond)
			if !ok {
				continue
			}
			switch {
			case msg.Type == TypeAcknowledge:
				var a acknowledgement
				must(t, json.Unmarshal(msg.Payload, &a))
				acks[a.SequenceNumber]++
			case msg.Type == TypeOutput:
				w.ack(msg)
				if msg.PayloadType == PayloadOutput {
					out.Write(msg.Payload)
				}
				if msg.PayloadType == PayloadHandshakeComplete {
					acks[-1]++ // the handshake is complete
				}
			}
		}
	}
	next("the handshake to complete", func() bool { return acks[0] == 1 && acks[-1] == 1 })
	w.input(1, PayloadSize, `{"cols":80,"rows":24}`)
	w.input(3, PayloadOutput, "orld\r")
	w.input(2, PayloadOutput, "echo hello-w")
	w.input(2, PayloadOutput, "echo hello-w") // a retransmission
	// The terminal echoes the line, then the shell prints it. The input was
	// typed ahead, so the shell's prompt may come anywhere in the echo
	// ("echo hello-w$ orld"): it is left out of the count.
	next("hello-world", func() bool { return strings.Count(strings.ReplaceAll(out.String(), "$ ", ""), "hello-world\r\n") >= 2 })
	next("the acknowledgements", func() bool { return acks[1] == 1 && acks[2] == 2 && acks[3] == 1 })
	w.input(4, PayloadOutput, "echo end-$((1+1))\r")
	next("end-2", func() bool { return strings.Contains(out.String(), "end-2") })
	if strings.Contains(out.String(), "hello-wecho") {
		t.Errorf("a duplicate was delivered twice: %q", out.String())
	}

	// The plugin drops its connection and comes back: what it has not
	// acknowledged comes again, then the session goes on.
	_ = w.c.CloseNow()
	w = dialSession(t, srv, "p-1", "tok")
	w.input(5, PayloadOutput, "echo back-$((2+2))\r")
	next("back-4", func() bool { return strings.Contains(out.String(), "back-4") })
	m.Terminate("p-1")
	for {
		msg, ok := w.tryRead(10 * time.Second)
		if !ok {
			t.Fatal("no channel_closed before the end")
		}
		if msg.Type == TypeChannelClosed {
			var cc channelClosed
			must(t, json.Unmarshal(msg.Payload, &cc))
			if cc.SessionID != "p-1" || cc.MessageType != TypeChannelClosed {
				t.Errorf("channel_closed %s", msg.Payload)
			}
			break
		}
	}
	if _, open := w.tryRead(5 * time.Second); open {
		t.Error("the channel stayed open after channel_closed")
	}
}
