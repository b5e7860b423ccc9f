package workload

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// Limits are a workload's resources, enforced by its cgroups.
type Limits struct {
	// VCPUs allows VCPUs × 100 ms of CPU time per 100 ms; 0 is unlimited.
	VCPUs int32
	// MilliCPUs, when set, replaces VCPUs in thousandths of a CPU (a
	// fraction of one: Aurora Serverless v2's capacities).
	MilliCPUs int64
	// MemoryMiB caps memory; 0 is unlimited.
	MemoryMiB int64
	// Pids caps the processes and threads; 0 is unlimited.
	Pids int
}

// IsZero reports whether no limit is set (no cgroup is made then).
func (l Limits) IsZero() bool { return l == Limits{} }

// StopStep is one step of stopping a process: send Signal, then wait up to
// Wait for the exit before the next step.
type StopStep struct {
	Signal syscall.Signal
	// Group sends the signal to the process group (the command must have
	// one of its own: Setpgid or Setsid).
	Group bool
	Wait  time.Duration
}

// DefaultStop is SIGTERM, ten seconds, SIGKILL.
var DefaultStop = []StopStep{{Signal: syscall.SIGTERM, Wait: 10 * time.Second}, {Signal: syscall.SIGKILL}}

// ProcessSpec is one process of a workload.
type ProcessSpec struct {
	// Workload names the process's cgroups ("<CgroupPrefix>-<Workload>").
	Workload string
	// Cmd is the command, prepared by the caller: binary, arguments,
	// environment, inherited files, credentials, clone flags. Start gives it
	// a parent-death signal (SIGKILL) unless it has one: a workload never
	// outlives a minicloud that dies.
	Cmd *exec.Cmd
	// NS is the path of the network namespace to start it in (a
	// Placement's NS); "" keeps minicloud's own.
	NS string
	// Limits are applied through cgroups right after the start; the zero
	// value makes none. A command that must not run a moment outside its
	// limits waits for a go-ahead the caller gives after Start returns (an
	// instance's init waits for its configuration).
	Limits Limits
	// Measured puts the process in a cgroup of its workload even without
	// limits, so that Runtime.Usage can read what it uses (CloudWatch's
	// metrics of a database server, which the class does not limit).
	Measured bool
	// Stop is how Process.Stop ends it; after the last step Stop waits for
	// the exit however long it takes. Empty means DefaultStop.
	Stop []StopStep
	// OnExit, if set, is called once in a goroutine of its own when the
	// process exits without Stop having been called: its owner reconciles
	// it again (restart, failover, report).
	OnExit func(err error)
	// Users, when set, starts the process as root of a new user namespace
	// (and cgroup namespace) mapping IDs 0…Users.Size-1 to the host's
	// Users.Base…: root inside is nobody on the host (see IDs).
	Users *IDRange
}

// cgrouped reports whether the process gets a cgroup: limits, or usage to
// read.
func (s *ProcessSpec) cgrouped() bool { return s.Measured || !s.Limits.IsZero() }

// Process is a started process of a workload.
type Process struct {
	r        *Runtime
	spec     ProcessSpec
	pid      int
	done     chan struct{}
	err      error // valid once done is closed
	stopping atomic.Bool
	stopOnce sync.Once
}

// Start starts spec.Cmd inside spec.NS, from an OS thread locked for the
// process's whole life: the child inherits that thread's network
// namespace, and its parent-death signal follows the thread, not minicloud,
// so the thread must live as long as the child. A thread that entered a
// namespace is never given back to Go (it ends with its goroutine), so no
// other goroutine ever runs in the workload's namespace.
func (r *Runtime) Start(spec ProcessSpec) (*Process, error) {
	cmd := spec.Cmd
	if cmd == nil {
		return nil, errors.New("workload: no command")
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if u := spec.Users; u != nil {
		a := cmd.SysProcAttr
		a.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWCGROUP
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: u.Base, Size: u.Size}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: u.Base, Size: u.Size}}
		// The guest's own su and sudo change groups.
		a.GidMappingsEnableSetgroups = true
		// The process is minicloud's root (0) until it becomes the
		// namespace's, which the host sees as Base.
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if len(spec.Stop) == 0 {
		spec.Stop = DefaultStop
	}
	p := &Process{r: r, spec: spec, done: make(chan struct{})}
	if spec.cgrouped() {
		name := r.cgroupName(spec.Workload)
		r.cgMu.Lock()
		r.cgOwner[name] = p
		err := r.cg.setup(name, spec.Limits, 0)
		r.cgMu.Unlock()
		if err != nil {
			r.log.Warn("cgroup limits not applied", "workload", spec.Workload, "err", err)
		}
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// A thread that entered a namespace, or whose cgroups could not
		// be restored, never runs other goroutines: it ends with this one.
		tainted := spec.NS != ""
		defer func() {
			if !tainted {
				runtime.UnlockOSThread()
			}
		}()
		var err error
		if spec.NS != "" {
			var h netns.NsHandle
			if h, err = netns.GetFromPath(spec.NS); err == nil {
				err = netns.Set(h)
				h.Close()
			}
			if err != nil {
				err = fmt.Errorf("enter %s: %w", spec.NS, err)
			}
		}
		if err == nil {
			undo := noUndo
			if spec.cgrouped() {
				var cgErr error
				if undo, cgErr = r.cg.forkInto(r.cgroupName(spec.Workload), cmd.SysProcAttr); cgErr != nil {
					r.log.Warn("process not forked into its cgroups; moved in after its start", "workload", spec.Workload, "err", cgErr)
				}
			}
			err = cmd.Start()
			if uerr := undo(); uerr != nil {
				tainted = true
				r.log.Error("thread left in a workload's cgroups; it ends with the process", "workload", spec.Workload, "err", uerr)
			}
		}
		started <- err
		if err != nil {
			return
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		if spec.cgrouped() {
			p.releaseCgroups()
		}
		return nil, fmt.Errorf("workload %s: start %s: %w", spec.Workload, cmd.Path, err)
	}
	p.pid = cmd.Process.Pid
	if spec.cgrouped() {
		// Already in them since its fork; the write also covers a fork
		// that could not be placed (the warning said so).
		name := r.cgroupName(spec.Workload)
		r.cgMu.Lock()
		err := r.cg.setup(name, spec.Limits, p.pid)
		r.cgMu.Unlock()
		if err != nil {
			r.log.Warn("cgroup limits not applied", "workload", spec.Workload, "err", err)
		}
	}
	go func() {
		<-p.done
		// A workload whose process ended is over, as a VM whose init
		// exited: what it left running goes with its cgroups. (Stop does
		// the same; the owner check makes the second a no-op.)
		if spec.cgrouped() {
			p.releaseCgroups()
		}
		if !p.stopping.Load() && spec.OnExit != nil {
			spec.OnExit(p.err)
		}
	}()
	return p, nil
}

// Pid is the process's PID in minicloud's PID namespace.
func (p *Process) Pid() int { return p.pid }

// Done is closed once the process has exited and was reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (exec.Cmd.Wait's error); valid after Done.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stopping reports whether Stop has been called.
func (p *Process) Stopping() bool { return p.stopping.Load() }

// Signal sends sig to the process (not its group).
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return syscall.Kill(p.pid, sig)
}

// Stop ends the process with its stop steps and waits for it, then ends
// what it left running in its cgroups and removes them. It is idempotent and safe to call after an exit; OnExit is
// not called for a stopped process.
func (p *Process) Stop() {
	p.stopping.Store(true)
	p.stopOnce.Do(func() {
		for _, st := range p.spec.Stop {
			if p.Exited() {
				break
			}
			target := p.pid
			if st.Group {
				target = -p.pid
			}
			_ = syscall.Kill(target, st.Signal)
			if st.Wait > 0 {
				t := time.NewTimer(st.Wait)
				select {
				case <-p.done:
				case <-t.C:
					p.r.log.Warn("process did not stop in time", "workload", p.spec.Workload, "signal", st.Signal, "waited", st.Wait)
				}
				t.Stop()
			}
		}
		<-p.done
		if p.spec.cgrouped() {
			p.releaseCgroups()
		}
	})
	<-p.done
}

// releaseCgroups ends the processes the stopped process left in its
// cgroups and removes them, unless a newer process of the same name owns
// them now.
func (p *Process) releaseCgroups() {
	r, name := p.r, p.r.cgroupName(p.spec.Workload)
	r.cgMu.Lock()
	defer r.cgMu.Unlock()
	if r.cgOwner[name] != p {
		return
	}
	delete(r.cgOwner, name)
	if err := r.cg.killAll(name, 5*time.Second); err != nil {
		r.log.Warn("end the processes left in a cgroup", "workload", p.spec.Workload, "err", err)
	}
	if err := r.cg.remove(name); err != nil {
		r.log.Warn("remove cgroup", "workload", p.spec.Workload, "err", err)
	}
}
