package workload

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// echoServer answers every connection on 127.0.0.1 with what it reads,
// closing its side once the client has closed its own.
func echoServer(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// A loopback port hands its connections to the kernel: request–answer
// exchanges and a bulk stream arrive whole and in order, the end of a
// stream follows its last bytes, and (as root) the userspace copy carries
// next to nothing. Without the kernel path (kernel=false, or not root) the
// same exchanges go through the copy.
func TestForwardSplice(t *testing.T) {
	root := os.Geteuid() == 0
	if root {
		if _, err := kernelSplicer(); err != nil {
			t.Fatalf("root, but no sockmap: %v", err)
		}
	}
	for _, kernel := range []bool{true, false} {
		t.Run(fmt.Sprintf("kernel=%v", kernel), func(t *testing.T) {
			target := echoServer(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			r := newRelay(ln, func() (net.Conn, error) { return DialIn("", "tcp", target.String(), time.Second) }, kernel)
			defer r.Close()
			const exchanges = 2000
			var total int64
			for range 3 { // several connections: each its own pair in the map
				c, err := net.DialTimeout("tcp", r.Addr().String(), time.Second)
				if err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				buf := make([]byte, 64)
				for i := range exchanges {
					msg := fmt.Appendf(nil, "query %06d", i)
					if _, err := c.Write(msg); err != nil {
						t.Fatal(err)
					}
					if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil || !bytes.Equal(buf[:len(msg)], msg) {
						t.Fatalf("exchange %d: %q, %v", i, buf[:len(msg)], err)
					}
					total += int64(len(msg))
				}
				// A bulk stream, then the end of it: the echo must hold every
				// byte in order before its own end.
				bulk := make([]byte, 4<<20)
				_, _ = rand.Read(bulk)
				go func() {
					_, _ = c.Write(bulk)
					_ = c.(*net.TCPConn).CloseWrite()
				}()
				back, err := io.ReadAll(c)
				if err != nil {
					t.Fatal(err)
				}
				if sha256.Sum256(back) != sha256.Sum256(bulk) {
					i := 0
					for i < len(back) && back[i] == bulk[i] {
						i++
					}
					t.Logf("first difference at %d; copied %d", i, r.copied.Load())
					t.Fatalf("bulk echo: %d bytes of %d, or out of order", len(back), len(bulk))
				}
				total += int64(len(bulk))
				c.Close()
			}
			copied := r.copied.Load()
			t.Logf("userspace copied %d of %d bytes each way", copied/2, total)
			switch {
			case kernel && root && copied > total/100:
				t.Errorf("the userspace copy carried %d bytes of 2×%d: the kernel did not splice", copied, total)
			case (!kernel || !root) && copied != 0:
				t.Errorf("copied counts %d bytes without the kernel path", copied)
			}
		})
	}
}
