// Package workload is minicloud's one runtime for whatever really runs on
// a VPC: EC2 instances and RDS servers (primaries, Multi-AZ standbys, read
// replicas) today; load balancer nodes, ECS tasks and cache nodes next.
// Services decide *what* runs and when (their controllers); this package
// owns *how* a workload is put on the network and supervised, so that every
// kind gets the same placement, limits, supervision and clean-up.
//
// A workload is made of:
//
//   - A placement (Place, Unplace): a named network namespace of its own
//     (vpcnet's, named by the workload) with its ENIs attached — ethN with
//     the ENI's MAC and private IP, the default route via the subnet's
//     router — and the network controller's pass awaited (Config.Sync)
//     before Place returns, so no process of the workload runs a moment
//     without its security groups. A subnet the controller has not built
//     yet is waited for once (a pass), then reported.
//   - Processes (Start): a command the caller prepares — a host binary run
//     as a user (database servers), or an init that assembles a root
//     filesystem from layers (instances; package sandbox), root of a user
//     namespace of its own mapped to a range of the host's IDs that is no
//     one on the host (ProcessSpec.Users, IDs) — started inside
//     the placement's namespace from an OS thread that lives as long as the
//     process (its parent-death signal is tied to that thread, and no other
//     goroutine ever runs in the namespace), forked into its cgroups with
//     the workload's CPU, memory and process-count limits (CPU and memory
//     changed while it runs by SetLimits; v2: clone into
//     the cgroup; v1: the forking thread joins the cgroups for the fork),
//     so nothing it starts runs unlimited even for an instant; stopped by
//     a sequence of signals and waits, its exit reported once
//     (ProcessSpec.OnExit) so that the owning controller reconciles it
//     again: restarts are the controller's decision, made level-triggered
//     from desired state. When the process ends — stopped or on its own —
//     whatever it left in its cgroups is killed and the cgroups removed,
//     as a VM's power-off leaves nothing running; only the newest process
//     of a name owns its cgroups, so ending an old one never touches a
//     new one.
//   - Optionally a loopback port from the host (Forward): 127.0.0.1:port
//     on the host proxied to an address inside the namespace, for
//     developers' clients; ports come from one allocator per process
//     (Ports), so controllers and tests running side by side never pick the
//     same one.
//
// Everything the runtime makes on the host is named after the workload and
// the runtime's prefixes and is removed by Unplace and Process.Stop; vpcnet
// Cleanup and CleanupCgroups remove what a crash left.
//
// It must not know any service's records: callers translate their desired
// state (an EC2 instance spec, an RDS record) into placements and process
// specs.
package workload
