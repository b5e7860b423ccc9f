// Package agentport is what an instance's SSM agent does for the services
// that need it (Session Manager's shells and port forwarding, Run Command):
// run a process inside a running instance, as the instance's own processes
// run. minicloud plays the agent: the instance runtime implements Executor
// by having the instance's init fork the process (from the hardened thread
// every guest process comes from, in the instance's namespaces, cgroups
// and root), never by starting it on the host.
//
// It must not know sessions, documents or commands: those are the
// services'.
package agentport

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Target names an instance.
type Target struct {
	Account, Region, InstanceID string
}

// WindowSize is a terminal's size in characters.
type WindowSize struct {
	Rows, Cols uint16
}

// Users the agent knows.
const (
	// Root is the guest's root (also what an empty Spec.User means).
	Root = "root"
	// SSMUser is the account Session Manager runs shells as by default:
	// made on first use (useradd -m) with a sudoers entry
	// (/etc/sudoers.d/ssm-agent-users: NOPASSWD:ALL), as the agent does.
	SSMUser = "ssm-user"
)

// Spec is a process to run.
type Spec struct {
	// Argv is the command; Argv[0] is looked up in the PATH of Env (the
	// usual system directories without one) inside the instance.
	Argv []string
	// Env adds to (and overrides) the user's HOME, USER, LOGNAME, SHELL
	// and PATH.
	Env []string
	// Dir is the working directory; empty: the user's home, else /.
	Dir string
	// User is the guest user the process runs as, with its primary and
	// supplementary groups from the guest's /etc/group: empty or Root,
	// SSMUser (created on first use), or any user of the guest's
	// /etc/passwd (ErrNoUser otherwise).
	User string
	// TTY, when set, gives the process a new session with a terminal of
	// that size (made inside the instance, on its own devpts) as its
	// controlling terminal and standard streams; nil gives it three pipes.
	TTY *WindowSize
}

// Process is a process started by Exec.
type Process interface {
	// Stdin writes to the process: the terminal's input (where ^C is an
	// interrupt for its foreground job) or the stdin pipe (Close sends
	// EOF).
	Stdin() io.WriteCloser
	// Stdout reads the terminal's output, or the stdout pipe.
	Stdout() io.Reader
	// Stderr reads the stderr pipe; nil with a terminal.
	Stderr() io.Reader
	// Resize sets the terminal's size (its foreground job gets SIGWINCH);
	// an error without a terminal.
	Resize(WindowSize) error
	// Signal sends sig to the process's process group.
	Signal(sig syscall.Signal) error
	// Wait waits for the process to exit and returns its exit status
	// (128+n when signal n ended it); an error when the instance stopped
	// or the exit could not be learnt. It may be called more than once.
	Wait() (int, error)
	// Close kills the process group (unless it has exited) and releases
	// the streams.
	Close() error
}

// Executor runs processes in instances; the instance runtime implements
// it. Exec returns once the process has started; ctx ending kills it (its
// process group), as Close does.
type Executor interface {
	Exec(ctx context.Context, t Target, spec Spec) (Process, error)
}

// Dialer opens connections from inside running instances, as the agent's
// port forwarding does: the socket is in the instance's network namespace,
// so the connection leaves from its address, by its routes, through its
// security groups and NACLs. The instance runtime implements it.
type Dialer interface {
	Dial(ctx context.Context, t Target, network, address string) (net.Conn, error)
}

// Agent is both: what Session Manager needs of an instance.
type Agent interface {
	Executor
	Dialer
}

var (
	// ErrNotRunning is Exec's answer for an instance that is not running
	// here (unknown, stopped, booting, or an instance runtime that runs
	// nothing).
	ErrNotRunning = errors.New("agentport: the instance is not running")
	// ErrNoUser is Exec's answer for a user the guest does not have.
	ErrNoUser = errors.New("agentport: no such user in the instance")
)

// TerminalReader reads a terminal's master side: EIO, which Linux answers
// once no process holds the terminal any more, is its end (io.EOF).
func TerminalReader(master io.Reader) io.Reader { return terminalReader{master} }

type terminalReader struct{ r io.Reader }

func (t terminalReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if errors.Is(err, syscall.EIO) {
		err = io.EOF
	}
	return n, err
}
