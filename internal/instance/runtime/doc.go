// Package runtime is minicloud's EC2 instance runtime ("netns"): it makes
// the instances the EC2 control plane records really run, without Docker
// or VMs, as isolated sets of processes on the host. It implements
// ec2.Runtime and follows the Controller contract of
// internal/service/ec2/runtime.go: level-triggered on the store's instance
// keys, reports quoting the spec's Generation, re-read and converge again
// on ErrStaleReport.
//
// # Reconciling
//
// Instances are reconciled on internal/reconcile, one key per instance
// (account, region, ID): an instance is never converged by two goroutines
// at once (everything done to it is serialized), while different instances
// converge in parallel without bound, so a slow boot holds up no other
// instance. An event during a converge makes it run once more after. What
// runs of an instance (its init, attached ENIs, mounted volumes, reboot and
// crash counters) is held between reconciles by its worker, made on the
// first reconcile and dropped once nothing of the instance runs. The
// instances are listed at Start and after a Reset or Resync event (the
// control plane's instances and every one the runtime still runs something
// for). A converge asks for its own retries (a launch within its retry
// window, a crash-looping guest, a failed boot or interface update);
// failing to read or report an instance is retried with the package's
// backoff (1 s doubling up to 10 s). An init that exits on its own enqueues
// its instance. A second controller on the same package, keyed by volume
// ID, collects the data of deleted EBS volumes (below).
//
// # An instance
//
//   - Network: the instance is a workload (internal/workload) placed on its
//     ENIs (workload.Runtime.Place: a network namespace named after the
//     instance, ethN with the ENI's MAC and private IP, the default route
//     via the subnet router, base+1), which returns once the network
//     controller has applied the security groups, NACLs, public IPs and
//     routes: no process of the instance starts before them.
//   - Containment: the instance is root of its own user namespace only: its
//     IDs 0…65535 are a range of the host's from 2^30 (workload.IDs), no
//     one on the host, so what the kernel lets the host's root do (read any
//     file, write sysctls, mount, load modules, change the clock) it does
//     not let the guest. With it come its own mount, PID, UTS, IPC and
//     cgroup namespaces (it sees no cgroup filesystem and cannot leave its
//     limits); its network namespace stays minicloud's, so the guest cannot
//     touch its interfaces, routes or the security groups' nftables tables
//     there (binding ports below 1024 and ICMP echo are allowed by that
//     namespace's sysctls). Every guest process is forked from one hardened
//     thread of the init (workload/sandbox): runc's default capability set,
//     a seccomp filter after the default container profile (no kernel
//     modules, keys, BPF, perf, kexec, swap, clock, reboot, new user
//     namespaces…), no_new_privs left off so the guest's sudo and su work;
//     /proc/kcore, keys, timer_list… are masked and /proc/sys, sysrq-trigger,
//     irq, bus and fs read-only; /sys is an empty read-only tmpfs; a pids
//     limit (4096) with the CPU and memory ones.
//   - Root filesystem: overlayfs of the image's read-only layers under
//     Config.Dir/<id>/upper, the root volume, kept across stop/start and
//     minicloud restarts, removed on terminate — unless the root volume is
//     not DeleteOnTermination: then it becomes Config.VolumesDir/<vol-id>,
//     the data of the now available volume (attached elsewhere, it shows
//     the old root's upper layer: the files the instance wrote or changed).
//     The init assembles it in its own user and mount namespaces from trees
//     the runtime hands it as descriptors (workload/sandbox): each layer and
//     the instance directory are idmapped mounts for the instance's user
//     namespace, so files the host keeps owned by root are the guest root's
//     and what the guest writes is kept owned by root on the host — a root
//     volume or an image reads the same in whichever instance, with
//     whichever ID range, mounts it. pivot_root then leaves the guest
//     nothing of the host's tree; no host path is ever looked up by the
//     init (it could not: it is no one on the host).
//   - Images (InstanceSpec.Image, ec2.ImageRoot): the built-in AMIs are one
//     operating system image built from the host's own installed Debian
//     packages (package hostimage: shell, coreutils, Python, curl, … and
//     their dependencies, system accounts with locked passwords, nothing of
//     the host that is not a package's file), once per machine, in
//     Config.OSImageCache (default /var/cache/minicloud/images); the
//     console shows the first build. A registered AMI whose ImageLocation
//     is a local directory uses that directory, read-only, as its lower
//     layer, live (changing it under running instances is undefined, as for
//     any overlayfs lower layer). A tarball (.tar, .tar.gz, .tgz; xz and
//     zstd fail the launch) is extracted on the first boot of that image
//     into Config.ImagesDir/<ami-id>/rootfs (default Dir/../images) through
//     os.Root (no entry lands outside it; modes, owners, symlinks and hard
//     links kept; device nodes, FIFOs and sockets skipped) and reused
//     after. A directory or tarball without /bin/sh is not a whole operating
//     system but a layer (an application and its files, as a baked AMI
//     holds them): it goes over the built-in image. A CreateImage AMI is
//     the source instance's root: on the first boot from it, the source's
//     root volume (Dir/<src>/upper, or VolumesDir/<vol-id> when it outlived
//     a terminate) is copied into ImagesDir/<ami-id>/layer (whiteouts and
//     opaque-directory xattrs included) and stacked over the source's own
//     image's layers. The copy is taken as-is, at that first boot, not at
//     CreateImage time, and never with a reboot or freeze: files the source
//     writes meanwhile may be torn, and its changes between CreateImage and
//     that boot are in the image; a source whose root volume is gone by
//     then fails the launch. ImagesDir/<ami-id>/source.json records the
//     image's source, so instances of a deregistered image still boot.
//     Nothing under ImagesDir is removed (DeregisterImage is not seen by the
//     runtime): delete it by hand when no instance uses the image. A launch
//     whose image cannot be prepared is reported terminated at once
//     (Server.InternalError) with the reason on the console. The instance
//     gets a fresh /proc (its PID namespace), a small /dev tmpfs (null,
//     zero, full, random, urandom, tty bind-mounted from the host, a private
//     devpts, /dev/shm, /dev/console → the console), and tmpfs /tmp and
//     /run.
//   - EBS data volumes: each volume's files live in Config.VolumesDir/
//     <vol-id>/ (default Config.Dir/../volumes), created on its first
//     attach; the volume's size is not enforced. An attached volume appears
//     inside the instance at /mnt/ebs/<device>, the attachment's device
//     name without /dev/ (AttachVolume --device /dev/sdf → /mnt/ebs/sdf,
//     xvdf → /mnt/ebs/xvdf), announced on the console ("EBS vol-… attached
//     at /mnt/ebs/sdf"). Mechanism: while the instance is booted,
//     Config.Dir/<id>/ebs is a bind mount of itself in its own shared peer
//     group, and the init gets it (recursively, as a slave) read-only at
//     /mnt/ebs before pivot_root; the runtime mounts an idmapped copy of a
//     volume's directory (for the instance's user namespace: its files are
//     the guest root's, kept owned by root on the host) at
//     Config.Dir/<id>/ebs/<device> on the host, which propagates into the
//     instance, and unmounts it (lazily) to detach, so hot attach and
//     detach never enter the instance's mount namespace. Volumes attached at
//     boot are mounted before the ebs mount is handed over (user data finds
//     them). The worker converges on the spec's volume list on
//     every event (level-triggered); halt (stop, reboot, minicloud
//     shutdown) unmounts everything. Data survives detach, stop and
//     attachment to another instance. A volume's directory is removed when
//     its record goes (DeleteVolume, DeleteOnTermination at terminate, or —
//     checked for every directory at Start and after a Reset or Resync
//     event — deleted while minicloud was down), never while it is mounted; the instance directory is never removed while
//     anything is mounted below it.
//   - /etc/hostname (ip-10-0-1-23), /etc/hosts and /etc/resolv.conf are
//     written into the root volume before every boot (through os.Root, so
//     the guest's symlinks cannot redirect the writes to the host). The
//     nameserver is the VPC CIDR's base + 2 (read back from the VPC
//     router), the Amazon-provided DNS address; nothing answers there until
//     minicloud has a VPC resolver.
//   - Processes: the init is a re-execution of Config.Binary (minicloud)
//     with argv[1] = "__minicloud-instance-init", which InitMain handles;
//     it assembles the root with package workload/sandbox. It is started
//     by the workload runtime (workload.Runtime.Start) inside the
//     instance's network namespace, with new user, mount, PID, UTS, IPC and
//     cgroup namespaces, setsid, and Pdeathsig SIGKILL tied to a thread that lives
//     as long as the init, so the init dies only when stopped or when
//     minicloud itself dies (then the next Start boots the instance
//     again). The init is PID 1 of the
//     instance: every guest process is in its PID namespace, and killing it
//     kills them all — a process tree never escapes its instance.
//   - The init first makes every descriptor it inherited beyond its own
//     (fds 3–7) close-on-exec: what minicloud's parent left open reaches
//     no guest process.
//   - The init waits on fd 3 for its configuration, which the runtime
//     writes once the init is in its cgroups (so nothing of the guest runs
//     outside them); it mounts the root, sets the hostname, reports "up" on
//     fd 4 (the runtime then reports running with the LaunchTime), runs
//     cloudinit.Boot (Exec forks and executes inside the instance; output
//     through a pipe, so background jobs that keep it open never hang the
//     boot), reports "booted" (Reachable: true), then reaps zombies as PID
//     1 until SIGTERM: it signals every process, gives them half of
//     Config.StopGrace, SIGKILLs the rest and exits. The runtime SIGKILLs
//     an init that has not exited after StopGrace.
//   - The agent (agentport.Executor, agent.go and agentguest.go): what the
//     SSM agent does for Session Manager and Run Command — run a process
//     in a running instance — the init does: the runtime sends the request
//     on the init's agent socket (fd 7, SOCK_SEQPACKET) with a socket of
//     the process's own; the init resolves the user in the guest's
//     /etc/passwd and /etc/group (ssm-user made on first use with useradd
//     -m and /etc/sudoers.d/ssm-agent-users, as the agent does), makes the
//     terminal on the guest's devpts (the slave through TIOCGPTPEER, owned
//     by the user) or three pipes, forks the process from the hardened
//     thread in a new session (sandbox.Reaper.Start) and sends back the
//     PID and the host's ends of the streams. So the process runs exactly
//     as the instance's own do — its namespaces, cgroups, root and
//     sandbox — and is handed nothing of the host. The runtime resizes the
//     terminal on its master; signals go to the init, which sends the exit
//     status back; the runtime closing the process's socket (Close, the
//     caller's context ending) has the init SIGKILL its process group. A
//     stopping instance ends them with the rest (SIGTERM, then its end).
//   - Guest-initiated shutdown: SIGUSR1, SIGUSR2 or SIGPWR to PID 1
//     (busybox halt/poweroff) powers off: reported stopped with
//     Client.InstanceInitiatedShutdown (the control plane applies the
//     shutdown behaviour). SIGTERM to PID 1 from inside (busybox reboot)
//     or an init crash is a reboot: the runtime boots it again.
//   - Console: a kernel-like banner ("Linux version …", "DMI: Amazon EC2
//     <type>"), the init's lines, then cloud-init's (stage banners, command
//     output, final message). The runtime reads the init's stdout/stderr
//     and reports new output every 250 ms (ConsoleOutput accumulates;
//     at most 64 KiB is buffered between reports, like AWS's console).
//   - cgroups (the workload runtime's): <prefix>-<id>, with vCPUs × 100 ms
//     of CPU per 100 ms and MemoryMiB of memory: v1 (cpu and memory
//     hierarchies) or v2 (one directory under /sys/fs/cgroup with cpu.max
//     and memory.max); removed when the instance stops. Without usable
//     cgroups instances run unlimited (logged).
//   - Metadata service: per VPC with running instances, 169.254.169.254/32
//     is added to the loopback of the VPC's router namespace and an
//     imds.Server listens there on port 80 (the socket is created inside
//     the namespace with vpcnet.InNamespace and stays there); instances
//     reach it through their default route. The handler finds the caller
//     by source address among that VPC's instances (private IPs are unique
//     within a VPC). The listener and address go when the VPC's last
//     instance stops. Each listener serves under imds.DefaultLimits
//     (connections and requests per instance, a cap per VPC, timeouts, the
//     process's descriptor budget for guests); health shows the limits and
//     what they refused under metadataService. With SetRoles (the server
//     hands it IAM's profiles and STS's sessions) each listener serves the
//     instance profile's role credentials; the instance's data is set
//     again at every reconcile of a running instance, so an association
//     changed through EC2 is served from the next one.
//
// # States
//
// pending: boot, report running (launch failures — typically a subnet the
// network controller has not built yet — are retried for 30 s, then
// reported terminated with Server.InternalError). running: keep it running
// (boot it again after a minicloud restart: cloud-init's semaphores live
// in the root volume, so user data and per-instance modules do not run
// again, per-boot ones do); a RebootRequests count above the last handled
// one restarts the init in the same network namespace. stopping/stopped:
// stop the processes, remove the cgroups, detach the ENIs and delete the
// namespace, unmount the data volumes, keep the root volume.
// shutting-down/terminated or forgotten: the same, and remove
// Config.Dir/<id> (the root volume per DeleteOnTermination, see above). Stop (minicloud shutting down)
// takes every instance down the same way as a stop but reports nothing
// and keeps the records running, so the next Start boots them again.
//
// # Metrics
//
// With Config.Metrics, every running instance's usage
// (workload.Runtime.Usage: its cgroup's CPU time, its namespace's
// interface counters) is read every interval and published as CloudWatch's
// AWS/EC2 metrics with dimension InstanceId (metrics.go): CPUUtilization in
// percent of its vCPUs, NetworkIn/Out, NetworkPacketsIn/Out, per period —
// a minute under detailed monitoring (InstanceSpec.DetailedMonitoring),
// five under basic — and the status checks every interval. Aggregates by
// ImageId, InstanceType or AutoScalingGroupName, EBS and CPU credit
// metrics are not published.
//
// # Limitations
//
// The isolation is a hardened container's, not a VM's: the guest shares
// the host's kernel, so a kernel bug reachable through the system calls
// the filter allows is a way out, as for any container. The guest cannot
// manage its own network (no iptables or nftables of its own, no address
// changes, no raw sockets beyond ICMP echo): on AWS a VM can, but here the
// namespace also holds the security groups. The built-in image holds the
// packages this host has installed, of the versions it has; a registered
// image must bring its own userland or be a layer over the built-in one.
// The volume size is not enforced; only the primary private IP of each ENI
// is configured. EBS volumes are directories, not block devices: no
// /dev/sdf, no mkfs, no size limit, and attachment states follow the
// control plane's clock, not the mount. A root volume detached from a
// stopped instance and attached elsewhere shows up empty (its data stays in
// the instance's upper layer); a root volume's data survives termination
// only when the spec, read while shutting down, says so (not after a
// minicloud crash between the terminate and the runtime seeing it). IMDS
// serves neither security group names nor IAM credentials, and
// AvailabilityZoneID stays empty. The security-group / NACL firewall must
// let instance traffic to 169.254.169.254 reach the router (AWS never
// filters it). Instances need a state directory on a filesystem that
// supports idmapped mounts (ext4, xfs, btrfs; tmpfs from Linux 6.3) and
// Linux 5.19 or later (overlayfs over idmapped layers).
package runtime
