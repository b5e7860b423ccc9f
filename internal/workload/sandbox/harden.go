package sandbox

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A workload's processes run with no more than a container runtime gives a
// container, inside the workload's user namespace (where its root is root
// only over the workload's own namespaces, never the host's):
//
//   - capabilities: the bounding set is runc's default (keptCaps) — no
//     CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME,
//     CAP_SYS_BOOT, CAP_SYS_PTRACE… — so root in the guest chowns, binds
//     low ports, runs sudo, but mounts nothing and changes no kernel state;
//   - seccomp: the system calls a container runtime's default profile
//     refuses (blocked: kernel modules, keys, BPF, perf, kexec, swap,
//     clocks, accounting, open_by_handle_at…) answer EPERM, a new user
//     namespace (clone/unshare with CLONE_NEWUSER) too, and clone3 answers
//     ENOSYS so that glibc falls back to clone, whose flags the filter can
//     read;
//   - no_new_privs is left off: the guest's own sudo and su (setuid root
//     inside the namespace) work, as on an instance.
//
// The limits are taken by one OS thread of the init (Spawner), from which
// every process of the guest is forked: the init's other threads — its own
// code, reaping and stopping — keep their namespace capabilities, and no
// guest process can act on them (ptrace and /proc/1's private files need
// capabilities the guest lacks).

// keptCaps are the capabilities a guest process may have (runc's default).
var keptCaps = map[int]bool{
	unix.CAP_CHOWN: true, unix.CAP_DAC_OVERRIDE: true, unix.CAP_FSETID: true, unix.CAP_FOWNER: true,
	unix.CAP_MKNOD: true, unix.CAP_NET_RAW: true, unix.CAP_SETGID: true, unix.CAP_SETUID: true,
	unix.CAP_SETFCAP: true, unix.CAP_SETPCAP: true, unix.CAP_NET_BIND_SERVICE: true,
	unix.CAP_SYS_CHROOT: true, unix.CAP_KILL: true, unix.CAP_AUDIT_WRITE: true,
}

// Spawner runs functions — forks of guest processes — on one hardened OS
// thread.
type Spawner struct {
	reqs chan func()
}

// NewSpawner starts the hardened thread: it drops the capabilities outside
// keptCaps from its bounding set and installs the seccomp filter, then
// serves Do. The thread is never given back to Go.
func NewSpawner() (*Spawner, error) {
	s := &Spawner{reqs: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := hardenThread(); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for fn := range s.reqs {
			fn()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// Do runs fn on the hardened thread and returns when it has.
func (s *Spawner) Do(fn func()) {
	done := make(chan struct{})
	s.reqs <- func() { fn(); close(done) }
	<-done
}

func hardenThread() error {
	last := lastCap()
	for c := 0; c <= last; c++ {
		if keptCaps[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("sandbox: drop capability %d from the bounding set: %w", c, err)
		}
	}
	prog := seccompFilter()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// Without no_new_privs, installing a filter needs CAP_SYS_ADMIN in the
	// thread's user namespace, which the init has (it is its root).
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return fmt.Errorf("sandbox: install the seccomp filter: %w", errno)
	}
	return nil
}

// lastCap is the highest capability the kernel knows.
func lastCap() int {
	b, err := readFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// seccompFilter is the classic BPF program: refuse blockedSyscalls with
// EPERM, clone and unshare with CLONE_NEWUSER with EPERM, clone3 with
// ENOSYS, any other architecture's calls (and x32's) with EPERM, allow the
// rest.
func seccompFilter() []unix.SockFilter {
	const (
		ldw  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
		// Offsets in struct seccomp_data.
		offNr   = 0
		offArch = 4
		offArg0 = 16 // low 32 bits of args[0] on little-endian machines
	)
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	var p []unix.SockFilter
	add := func(code uint16, jt, jf uint8, k uint32) {
		p = append(p, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
	}
	add(ldw, 0, 0, offArch)
	add(jeq, 1, 0, auditArch)
	add(ret, 0, 0, eperm)
	add(ldw, 0, 0, offNr)
	if x32Bit != 0 {
		add(jge, 0, 1, x32Bit)
		add(ret, 0, 0, eperm)
	}
	for _, nr := range blockedSyscalls {
		add(jeq, 0, 1, uint32(nr))
		add(ret, 0, 0, eperm)
	}
	add(jeq, 0, 1, uint32(unix.SYS_CLONE3))
	add(ret, 0, 0, enosys)
	for _, nr := range []int{unix.SYS_CLONE, unix.SYS_UNSHARE} {
		// if nr: load the flags; CLONE_NEWUSER → EPERM, else allow.
		add(jeq, 0, 4, uint32(nr))
		add(ldw, 0, 0, offArg0)
		add(jset, 0, 1, unix.CLONE_NEWUSER)
		add(ret, 0, 0, eperm)
		add(ret, 0, 0, allow)
	}
	add(ret, 0, 0, allow)
	return p
}

// readFile reads a small file without os (which the hardened thread does
// not need).
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := make([]byte, 64)
	n, err := unix.Read(fd, b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}
