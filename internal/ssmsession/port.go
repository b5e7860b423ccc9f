package ssmsession

import (
	"context"
	"net"
	"sync"
	"time"
)

// Port forwarding as an agent older than 3.0.196.0 serves it (the plugin's
// BasicPortForwarding): one TCP connection at a time between the plugin's
// local port and Spec.Address, made from inside the instance. The agent
// connects when the handshake completes, again shortly after the plugin
// says its client went (DisconnectToPort; reconnectDelay), and when data
// comes for a connection the server closed. Data the server sends before the plugin has accepted its
// client is not acknowledged by the plugin and so is sent again until it
// is: protocols whose server speaks first work.

// portStream is a port session's current connection.
type portStream struct {
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func (p *portStream) set(c net.Conn) (old net.Conn, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false
	}
	old, p.conn = p.conn, c
	return old, true
}

func (p *portStream) current() net.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

// drop forgets c if it is the current connection.
func (p *portStream) drop(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == c {
		p.conn = nil
	}
}

func (p *portStream) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// portConnect makes a new connection to the session's address, replacing
// the current one.
func (s *session) portConnect() net.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.m.cfg.Agent.Dial(ctx, s.spec.Target, "tcp", s.spec.Address)
	if err != nil {
		s.log.Warn("port forwarding: connect", "address", s.spec.Address, "err", err)
		return nil
	}
	old, ok := s.port.set(c)
	if old != nil {
		old.Close()
	}
	if !ok {
		c.Close()
		return nil
	}
	go func() {
		defer s.port.drop(c)
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 && s.send(PayloadOutput, append([]byte(nil), buf[:n]...)) != nil {
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// portInput writes the plugin's data to the connection, making one if the
// server closed the last.
func (s *session) portInput(b []byte) {
	c := s.port.current()
	if c == nil {
		if c = s.portConnect(); c == nil {
			return
		}
	}
	if _, err := c.Write(b); err != nil {
		s.port.drop(c)
		c.Close()
	}
}

// reconnectDelay is how long after DisconnectToPort the next connection
// is made. The plugin sends the flag, then closes its client's stream and
// waits for the next client: what the server sends before that close
// would be written into the old stream, acknowledged and lost; after it,
// the plugin fails to write it, does not acknowledge it, and gets it again
// once its next client is there.
const reconnectDelay = 250 * time.Millisecond

// portDisconnect closes the connection (its client went) and makes the
// next one, unless data for it came first (portInput made it then).
func (s *session) portDisconnect() {
	if c := s.port.current(); c != nil {
		s.port.drop(c)
		c.Close()
	}
	time.AfterFunc(reconnectDelay, func() {
		select {
		case <-s.done:
			return
		default:
		}
		if s.port.current() == nil {
			s.portConnect()
		}
	})
}
