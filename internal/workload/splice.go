package workload

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel path of a loopback port: instead of waking a goroutine per
// message to copy it from the host's socket to the namespace's one, the
// relay puts both sockets of a connection into a BPF sockhash whose verdict
// program redirects every segment a socket receives to the send side of its
// peer, in the kernel (sockmap, as service meshes splice their proxies).
// Each socket is the map's value under its peer's cookie, so the program
// looks a segment's own socket cookie up and gets where it goes.
//
// What stays the same: the connection into the namespace is still made
// from inside it, to the server's own address (the server sees the same
// peer, and no security group, route, nftables rule or sysctl of the host
// or of the namespace changes); the host side is still 127.0.0.1 only.
// Nothing is pinned or named on the host: the map and program are file
// descriptors of this process, a socket leaves the map when it closes, and
// everything goes when the process exits.
//
// The relay's userspace copy stays on both sockets as the fallback: the
// verdict passes up (to the socket's own reader) whatever it cannot
// redirect — a segment that arrives between the two map updates — and
// data queued before the sockets joined the map is read by the copy too.
// That is in order for the protocols the relay carries (PostgreSQL's and
// MySQL's handshakes alternate: one side waits for the other's answer
// before it sends again), which is when those two cases can happen.

// splicer is the BPF sockhash and its verdict program.
type splicer struct {
	mapFD, progFD int
}

var (
	splicerOnce sync.Once
	splicerVal  *splicer
	errSplicer  error
)

// kernelSplicer returns the process's splicer, made on first use; an error
// (not root, a kernel without sockmap) means relays copy in userspace.
func kernelSplicer() (*splicer, error) {
	splicerOnce.Do(func() { splicerVal, errSplicer = newSplicer() })
	return splicerVal, errSplicer
}

// spliceEntries bounds the sockhash: two entries per relayed connection.
const spliceEntries = 1 << 16

// BPF helper numbers (include/uapi/linux/bpf.h) and verdicts.
const (
	bpfFuncGetSocketCookie = 46
	bpfFuncSkRedirectHash  = 72
	skPass                 = 1
)

// bpfInsn is struct bpf_insn.
type bpfInsn struct {
	code uint8
	regs uint8 // dst in the low nibble, src in the high one
	off  int16
	imm  int32
}

func insn(code, dst, src uint8, off int16, imm int32) bpfInsn {
	return bpfInsn{code: code, regs: dst | src<<4, off: off, imm: imm}
}

// verdictProgram redirects a segment to the socket stored under its own
// socket's cookie in the sockhash at mapFD, and passes it up to its own
// socket when there is none:
//
//	r6 = r1
//	r0 = bpf_get_socket_cookie(r1)
//	*(u64 *)(r10 - 8) = r0
//	r0 = bpf_sk_redirect_hash(r6, map, r10 - 8, 0)
//	if r0 != SK_DROP goto out
//	r0 = SK_PASS
//	out: exit
func verdictProgram(mapFD int) []bpfInsn {
	const (
		aluMovX = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_X
		aluMovK = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K
		aluAddK = unix.BPF_ALU64 | unix.BPF_ADD | unix.BPF_K
		call    = unix.BPF_JMP | unix.BPF_CALL
		stxDW   = unix.BPF_STX | unix.BPF_MEM | unix.BPF_DW
		ldImm64 = unix.BPF_LD | unix.BPF_IMM | unix.BPF_DW
		jneK    = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
		exit    = unix.BPF_JMP | unix.BPF_EXIT
	)
	return []bpfInsn{
		insn(aluMovX, 6, 1, 0, 0),
		insn(call, 0, 0, 0, bpfFuncGetSocketCookie),
		insn(stxDW, 10, 0, -8, 0),
		insn(aluMovX, 1, 6, 0, 0),
		insn(ldImm64, 2, unix.BPF_PSEUDO_MAP_FD, 0, int32(mapFD)),
		insn(0, 0, 0, 0, 0),
		insn(aluMovX, 3, 10, 0, 0),
		insn(aluAddK, 3, 0, 0, -8),
		insn(aluMovK, 4, 0, 0, 0),
		insn(call, 0, 0, 0, bpfFuncSkRedirectHash),
		insn(jneK, 0, 0, 1, 0),
		insn(aluMovK, 0, 0, 0, skPass),
		insn(exit, 0, 0, 0, 0),
	}
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	runtime.KeepAlive(attr)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

func newSplicer() (*splicer, error) {
	mapAttr := struct {
		mapType, keySize, valueSize, maxEntries, flags uint32
	}{unix.BPF_MAP_TYPE_SOCKHASH, 8, 4, spliceEntries, 0}
	mapFD, err := bpf(unix.BPF_MAP_CREATE, unsafe.Pointer(&mapAttr), unsafe.Sizeof(mapAttr))
	if err != nil {
		return nil, fmt.Errorf("workload: sockhash: %w", err)
	}
	prog := verdictProgram(mapFD)
	license := []byte("GPL\x00")
	logBuf := make([]byte, 4096)
	progAttr := struct {
		progType, insnCnt uint32
		insns, license    uint64
		logLevel, logSize uint32
		logBuf            uint64
	}{unix.BPF_PROG_TYPE_SK_SKB, uint32(len(prog)), uint64(uintptr(unsafe.Pointer(&prog[0]))),
		uint64(uintptr(unsafe.Pointer(&license[0]))), 1, uint32(len(logBuf)), uint64(uintptr(unsafe.Pointer(&logBuf[0])))}
	progFD, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&progAttr), unsafe.Sizeof(progAttr))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	if err != nil {
		_ = unix.Close(mapFD)
		return nil, fmt.Errorf("workload: sockhash verdict program: %w: %s", err, cString(logBuf))
	}
	attach := struct {
		targetFD, attachFD, attachType, attachFlags uint32
	}{uint32(mapFD), uint32(progFD), unix.BPF_SK_SKB_VERDICT, 0}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		_ = unix.Close(progFD)
		_ = unix.Close(mapFD)
		return nil, fmt.Errorf("workload: attach the verdict program: %w", err)
	}
	return &splicer{mapFD: mapFD, progFD: progFD}, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// cookie is the kernel's socket cookie of c.
func cookie(c *net.TCPConn) (uint64, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var v uint64
	var serr error
	if err := raw.Control(func(fd uintptr) {
		v, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_COOKIE)
	}); err != nil {
		return 0, err
	}
	return v, serr
}

// put stores c in the sockhash under key (its peer's cookie).
func (s *splicer) put(key uint64, c *net.TCPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var uerr error
	err = raw.Control(func(fd uintptr) {
		value := uint32(fd)
		attr := struct {
			mapFD, _   uint32
			key, value uint64
			flags      uint64
		}{mapFD: uint32(s.mapFD), key: uint64(uintptr(unsafe.Pointer(&key))), value: uint64(uintptr(unsafe.Pointer(&value))), flags: unix.BPF_ANY}
		_, uerr = bpf(unix.BPF_MAP_UPDATE_ELEM, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(&key)
		runtime.KeepAlive(&value)
	})
	return errors.Join(err, uerr)
}

// splice hands the connection a ↔ b to the kernel. Each socket leaves the
// map by itself when it is closed.
func (s *splicer) splice(a, b *net.TCPConn) error {
	ca, err := cookie(a)
	if err != nil {
		return fmt.Errorf("workload: socket cookie: %w", err)
	}
	cb, err := cookie(b)
	if err != nil {
		return fmt.Errorf("workload: socket cookie: %w", err)
	}
	if err := s.put(ca, b); err != nil {
		return fmt.Errorf("workload: splice: %w", err)
	}
	if err := s.put(cb, a); err != nil {
		return fmt.Errorf("workload: splice: %w", err)
	}
	// Segments queued before a socket joined the map wait for its next
	// data-ready event to be redirected; setting SO_RCVLOWAT raises that
	// event now (tcp_set_rcvlowat), so they go at once and in order.
	for _, c := range []*net.TCPConn{a, b} {
		if raw, err := c.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1) })
		}
	}
	return nil
}

// spliceDrainMax bounds drained: a peer that stopped reading must not hold
// the relay's goroutines for ever.
const spliceDrainMax = 2 * time.Second

// drained waits, once src has ended its stream, until dst has taken into
// its send queue every byte src received: the kernel's redirect of src's
// last bytes runs from a worker (sk_psock_backlog) and the end of the
// stream, passed on by the caller, must not overtake it. Bytes the
// userspace copy carried count the same, since it wrote them to dst too.
func drained(dst, src net.Conn) {
	d, ok1 := dst.(*net.TCPConn)
	s, ok2 := src.(*net.TCPConn)
	if !ok1 || !ok2 {
		return
	}
	received, ok := tcpCounts(s, false)
	if !ok {
		return
	}
	for deadline := time.Now().Add(spliceDrainMax); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		// The end of src's stream counts 1 in its received bytes.
		if sent, ok := tcpCounts(d, true); !ok || sent+1 >= received {
			return
		}
	}
}

// tcpCounts is the bytes c has received, or (sent) the bytes taken into its
// send queue: acknowledged plus still queued.
func tcpCounts(c *net.TCPConn, sent bool) (uint64, bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n uint64
	ok := false
	_ = raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.SOL_TCP, unix.TCP_INFO)
		if err != nil {
			return
		}
		if !sent {
			n, ok = info.Bytes_received, true
			return
		}
		queued, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		if err != nil {
			return
		}
		n, ok = info.Bytes_acked+uint64(queued), true
	})
	return n, ok
}

// copySpliced copies what the kernel passes up from src to dst until src's
// stream ends, with read(2): a socket in the sockmap delivers what its
// verdict passes up to read only (splice(2) would miss it). A read failing
// with EPIPE is not src's end: it is the kernel reporting, on the socket
// whose segments it redirected, that a redirect failed after this relay
// had ended dst's stream itself (the end of src's stream is a segment too);
// the error is cleared by reading it, and the copy goes on.
func copySpliced(dst, src net.Conn) int64 {
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
		total += n
		if !errors.Is(err, unix.EPIPE) {
			return total
		}
	}
}
