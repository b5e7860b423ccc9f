package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/instance/cloudinit"
	"github.com/minicloud/minicloud/internal/workload/sandbox"
)

// initArg is argv[1] of a re-executed minicloud that is an instance's init.
const initArg = "__minicloud-instance-init"

// initConfig is what the runtime hands the init on fd 3; the mount trees
// of its root come on fd 5 (sandbox.SendTrees).
type initConfig struct {
	InstanceID string
	Hostname   string
	UserData   []byte
	// Root says how many image layers the trees hold, and where the ebs
	// tree goes.
	Root     sandbox.Root
	Layers   string   // the layers, for the console: "the built-in image", "…"
	EBSLines []string // console lines of the volumes attached at boot
	BootTime time.Time
	Grace    time.Duration // for the instance's processes after SIGTERM
}

// InitMain runs an instance's init when this process was started as one
// (argv[1] is the init marker): it never returns then, and exits with the
// init's status. Otherwise it returns false at once. Call it first thing in
// main (and in TestMain of tests that boot instances):
//
//	if runtime.InitMain() { return }
func InitMain() (handled bool) {
	if len(os.Args) < 2 || os.Args[1] != initArg {
		return false
	}
	os.Exit(runInit())
	return true
}

// initProc is PID 1 of an instance.
type initProc struct {
	cfg    initConfig
	status *os.File
	out    io.Writer
}

func (p *initProc) logf(format string, args ...any) {
	el := time.Since(p.cfg.BootTime).Seconds()
	fmt.Fprintf(p.out, "[%12.6f] %s\n", el, fmt.Sprintf(format, args...))
}

func (p *initProc) report(s string) { _, _ = io.WriteString(p.status, s+"\n") }

func runInit() int {
	// fds 3 (configuration), 4 (status), 5 (trees), 6 (this binary) and
	// 7 (the agent socket) must not leak into the guest.
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	syscall.CloseOnExec(5)
	syscall.Close(6) // the binary it was started from
	syscall.CloseOnExec(7)
	// Nor may anything minicloud inherited from whoever started it (a
	// shell's descriptors that are not close-on-exec pass through every
	// exec): no guest process gets a descriptor the init does not hand it.
	_ = unix.CloseRange(8, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	ctl, status := os.NewFile(3, "init-config"), os.NewFile(4, "init-status")
	p := &initProc{status: status, out: os.Stdout, cfg: initConfig{BootTime: time.Now()}}
	// Subscribe before anything can send them.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPWR)
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)

	// The runtime writes the configuration once the init is in its
	// cgroups, so nothing of the guest runs outside them.
	data, err := io.ReadAll(ctl)
	ctl.Close()
	if err == nil {
		err = json.Unmarshal(data, &p.cfg)
	}
	if err != nil {
		p.report("error read init configuration: " + err.Error())
		return 1
	}
	trees, err := sandbox.ReceiveTrees(os.NewFile(5, "init-trees"), p.cfg.Root)
	if err != nil {
		p.logf("minicloud-init: %v", err)
		p.report("error mount root: " + err.Error())
		return 1
	}
	console, ebsErrs, err := p.cfg.Root.Setup(trees)
	if err != nil {
		p.logf("minicloud-init: cannot mount the root filesystem: %v", err)
		p.report("error mount root: " + err.Error())
		return 1
	}
	// What the guest writes to /dev/console is the console's, as on EC2's
	// serial console.
	go func() { _, _ = io.Copy(p.out, console) }()
	p.logf("VFS: Mounted root (overlay filesystem): %s read-only, the root volume as upper layer.", p.cfg.Layers)
	// Every process of the guest is forked from the hardened thread.
	spawner, err := sandbox.NewSpawner()
	if err != nil {
		p.logf("minicloud-init: %v", err)
		p.report("error harden: " + err.Error())
		return 1
	}
	_, shErr := os.Stat("/bin/sh")
	if shErr != nil {
		p.logf("minicloud-init: no /bin/sh in the image: cloud-init and the user data cannot run (%v)", shErr)
	}
	for _, err := range ebsErrs {
		p.logf("minicloud-init: EBS volumes will not be visible: %v", err)
	}
	for _, l := range p.cfg.EBSLines {
		p.logf("%s", l)
	}
	if p.cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(p.cfg.Hostname)); err != nil {
			p.logf("minicloud-init: sethostname: %v", err)
		}
	}
	p.logf("Run minicloud-init as init process")
	p.report("up")

	rp := sandbox.NewReaper(spawner)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-chld:
			case <-t.C:
			}
			rp.Reap()
		}
	}()
	// The agent serves processes from now on (agentguest.go): the root is
	// the guest's and the hardened thread is there.
	if agent, err := fdConn(7); err != nil {
		p.logf("minicloud-init: agent socket: %v", err)
	} else {
		a := &guestAgent{rp: rp, logf: p.logf}
		go a.serve(agent)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if shErr != nil {
			return // never "booted": the instance's status checks fail
		}
		b := cloudinit.Boot{Root: "/", InstanceID: p.cfg.InstanceID, UserData: p.cfg.UserData,
			Console: p.out, Exec: rp.Exec, BootTime: p.cfg.BootTime}
		if err := b.Run(ctx); err != nil && ctx.Err() == nil {
			p.logf("minicloud-init: cloud-init: %v", err)
		}
		if ctx.Err() == nil {
			p.report("booted")
		}
	}()

	sig := <-sigc
	cancel()
	poweroff := sig != syscall.SIGTERM && sig != syscall.SIGINT
	p.logf("minicloud-init: received %s; stopping all processes", sig)
	sandbox.StopAll(p.cfg.Grace, rp)
	rp.Reap()
	if poweroff {
		p.report("poweroff")
		p.logf("reboot: Power down")
	} else {
		p.logf("reboot: Restarting system")
	}
	return 0
}
