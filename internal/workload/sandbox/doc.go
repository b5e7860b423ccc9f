// Package sandbox is what runs inside a workload that has a root
// filesystem of its own (an instance today; ECS tasks next), in its init:
// assembling that root from the mount trees the runtime hands over
// (root.go, trees.go), hardening the thread every guest process is forked
// from (harden.go, seccomp_*.go) and being PID 1 (pid1.go: reaping,
// running commands, stopping everything).
//
// The runtime side (IDMapped, Clone, SendTrees) makes the trees; the init
// side (ReceiveTrees, Root.Setup, NewSpawner, NewReaper) uses them. It must
// not know what a workload is for: the instance runtime adds cloud-init,
// the console and the status protocol around it.
package sandbox
