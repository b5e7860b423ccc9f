package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minicloud/minicloud/internal/lazyregexp"
	"github.com/minicloud/minicloud/internal/mountinfo"
	"github.com/minicloud/minicloud/internal/reconcile"
	"github.com/minicloud/minicloud/internal/service/ec2"
	"github.com/minicloud/minicloud/internal/workload/sandbox"
)

// EBS data volumes (see doc.go): VolumesDir/<vol-id> holds a volume's
// files; while the volume is attached to a booted instance it is
// bind-mounted at Dir/<instance-id>/ebs/<device>, below a shared mount that
// the instance's init bind-mounted (as a slave) at /mnt/ebs, so mounts and
// unmounts made on the host side propagate into the running instance.

// ebsMountRoot is where data volumes appear inside an instance.
const ebsMountRoot = "/mnt/ebs"

func ebsDir(dir string) string { return filepath.Join(dir, "ebs") }

var deviceRE = lazyregexp.New(`^[a-z][a-z0-9]{0,15}$`)

// ebsDevice is the name of the mount point of a volume attached as device
// (/dev/sdf → sdf, xvdf → xvdf); "" for a name that cannot be one.
func ebsDevice(device string) string {
	d := strings.TrimPrefix(device, "/dev/")
	if !deviceRE.MatchString(d) {
		return ""
	}
	return d
}

// volumeDir is VolumesDir/<vol-id>; "" for an ID that cannot name a directory.
func (r *Runtime) volumeDir(id string) string {
	if !strings.HasPrefix(id, "vol-") || strings.ContainsAny(id, "/\\") || id != filepath.Clean(id) {
		return ""
	}
	return filepath.Join(r.cfg.VolumesDir, id)
}

// mountPoints lists the mount points of this process's mount namespace at
// or below dir, deepest (and most recently mounted) first.
func mountPoints(dir string) ([]string, error) {
	ms, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
			out = append(out, m.Point)
		}
	}
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return out, nil
}

// unmountAll lazily unmounts everything at or below dir (the unmounts
// propagate into the instance); it fails if something is left.
func unmountAll(dir string) error {
	for range 16 {
		mps, err := mountPoints(dir)
		if err != nil {
			return err
		}
		if len(mps) == 0 {
			return nil
		}
		for _, mp := range mps {
			if err := unix.Unmount(mp, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
	}
	return fmt.Errorf("mounts left under %s", dir)
}

// CleanupMounts unmounts the EBS mounts that a runtime with Config.Dir dir
// left on the host when its process died without halting its instances
// (Dir/<id>/ebs and the volumes bound below it), for `minicloud cleanup`.
// It touches nothing outside dir/*/ebs and removes no data: the mount
// points that end up empty are removed, volume directories are not.
func CleanupMounts(dir string) error {
	if p, err := filepath.EvalSymlinks(dir); err == nil {
		dir = p // mountinfo lists real paths, as the runtime mounted them
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("instance runtime: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "i-") {
			continue
		}
		eb := ebsDir(filepath.Join(dir, e.Name()))
		if err := unmountAll(eb); err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", e.Name(), err))
			continue
		}
		mps, _ := os.ReadDir(eb)
		for _, m := range mps {
			_ = os.Remove(filepath.Join(eb, m.Name())) // only if empty
		}
	}
	return errors.Join(errs...)
}

// ebsPrepare makes Dir/<id>/ebs a shared mount (its own peer group) with
// nothing below it, for the volumes (ebsSync mounts them once the init's
// user namespace exists).
func (w *worker) ebsPrepare() error {
	dir := ebsDir(w.r.instanceDir(w.key.id))
	if err := w.ebsRelease(); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", dir, err)
	}
	for _, fl := range []uintptr{unix.MS_PRIVATE, unix.MS_SHARED} {
		if err := unix.Mount("", dir, "", fl, ""); err != nil {
			_ = unmountAll(dir)
			return fmt.Errorf("make %s shared: %w", dir, err)
		}
	}
	w.ebsUp = true
	return nil
}

// ebsRelease unmounts the instance's volumes and its ebs mount, and
// removes the (empty) mount points.
func (w *worker) ebsRelease() error {
	dir := ebsDir(w.r.instanceDir(w.key.id))
	w.ebsUp = false
	clear(w.mounted)
	if err := unmountAll(dir); err != nil {
		return err
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			_ = os.Remove(filepath.Join(dir, e.Name())) // only if empty
		}
	}
	return nil
}

// ebsSync converges the volumes mounted below the instance's ebs mount on
// spec's data volumes, each an idmapped mount for the instance's user
// namespace (its files owned by root on the host are root's in the guest,
// whichever instance it was attached to before); v, the running instance,
// gets console lines. It returns the lines of the volumes it attached.
func (w *worker) ebsSync(spec *ec2.InstanceSpec, v *vm) []string {
	if !w.ebsUp || v == nil || v.userns == nil {
		return nil
	}
	if w.mounted == nil {
		w.mounted = map[string]string{}
	}
	dir := ebsDir(w.r.instanceDir(w.key.id))
	want := map[string]string{} // device → volume
	for _, vs := range spec.Volumes {
		if vs.Root {
			continue
		}
		dev := ebsDevice(vs.DeviceName)
		if dev == "" || w.r.volumeDir(vs.VolumeID) == "" {
			w.log.Warn("cannot mount volume", "volume", vs.VolumeID, "device", vs.DeviceName)
			continue
		}
		want[dev] = vs.VolumeID
	}
	var lines []string
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		lines = append(lines, line)
		if v != nil {
			fmt.Fprintf(&v.con, "[%12.6f] %s\n", time.Since(v.bootTime).Seconds(), line)
		}
	}
	for dev, vol := range w.mounted {
		if want[dev] == vol {
			continue
		}
		mp := filepath.Join(dir, dev)
		if err := unmountAll(mp); err != nil {
			w.log.Warn("detach volume", "volume", vol, "err", err)
			continue
		}
		_ = os.Remove(mp)
		delete(w.mounted, dev)
		w.log.Info("volume detached", "volume", vol, "device", dev)
		say("EBS %s detached from %s/%s", vol, ebsMountRoot, dev)
	}
	devs := make([]string, 0, len(want))
	for dev := range want {
		devs = append(devs, dev)
	}
	slices.Sort(devs)
	for _, dev := range devs {
		vol := want[dev]
		if w.mounted[dev] == vol {
			continue
		}
		src := w.r.volumeDir(vol)
		if err := os.MkdirAll(w.r.cfg.VolumesDir, 0o700); err != nil {
			w.log.Warn("attach volume", "volume", vol, "err", err)
			continue
		}
		if err := os.Mkdir(src, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			w.log.Warn("attach volume", "volume", vol, "err", err)
			continue
		}
		mp := filepath.Join(dir, dev)
		if fi, err := os.Lstat(mp); err == nil && !fi.IsDir() {
			_ = os.Remove(mp) // never mount through a symlink
		}
		if err := os.Mkdir(mp, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			w.log.Warn("attach volume", "volume", vol, "err", err)
			continue
		}
		if fi, err := os.Lstat(mp); err != nil || !fi.IsDir() {
			w.log.Warn("attach volume: bad mount point", "volume", vol, "at", mp)
			continue
		}
		tree, err := sandbox.IDMapped(src, v.userns, false)
		if err == nil {
			err = unix.MoveMount(int(tree.Fd()), "", unix.AT_FDCWD, mp, unix.MOVE_MOUNT_F_EMPTY_PATH)
			tree.Close()
		}
		if err != nil {
			w.log.Warn("attach volume", "volume", vol, "err", err)
			_ = os.Remove(mp)
			continue
		}
		w.mounted[dev] = vol
		w.log.Info("volume attached", "volume", vol, "device", dev)
		say("EBS %s attached at %s/%s", vol, ebsMountRoot, dev)
	}
	return lines
}

// destroyVolumes is terminate's part for volumes: the root volume's data
// (the overlay's upper layer) becomes VolumesDir/<vol-id> when it is not
// DeleteOnTermination; data volumes that are DeleteOnTermination go.
func (w *worker) destroyVolumes(spec *ec2.InstanceSpec) {
	if spec == nil {
		return
	}
	for _, vs := range spec.Volumes {
		dst := w.r.volumeDir(vs.VolumeID)
		if dst == "" {
			continue
		}
		switch {
		case vs.Root && !vs.DeleteOnTermination:
			src := upperDir(w.r.instanceDir(w.key.id))
			if _, err := os.Stat(src); err != nil {
				continue
			}
			if _, err := os.Lstat(dst); err == nil {
				w.log.Warn("keep root volume: its directory exists", "volume", vs.VolumeID)
				continue
			}
			err := os.MkdirAll(w.r.cfg.VolumesDir, 0o700)
			if err == nil {
				err = os.Rename(src, dst)
			}
			if err != nil {
				w.log.Warn("keep root volume", "volume", vs.VolumeID, "err", err)
			} else {
				w.log.Info("root volume kept (DeleteOnTermination false)", "volume", vs.VolumeID)
			}
		case !vs.Root && vs.DeleteOnTermination:
			w.r.removeVolume(vs.VolumeID)
		}
	}
}

// removeVolume deletes a volume's data unless it is mounted somewhere.
func (r *Runtime) removeVolume(id string) {
	dir := r.volumeDir(id)
	if dir == "" {
		return
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return
	}
	mps, err := mountPoints(r.cfg.Dir)
	if err != nil {
		r.log.Warn("remove volume", "volume", id, "err", err)
		return
	}
	for _, mp := range mps {
		if mi, err := os.Stat(mp); err == nil && os.SameFile(fi, mi) {
			r.log.Warn("volume deleted while mounted; its data stays until it is unmounted", "volume", id, "at", mp)
			return
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		r.log.Warn("remove volume", "volume", id, "err", err)
		return
	}
	r.log.Info("volume data removed", "volume", id)
}

// volumeGone maps a volume record's deletion to its ID: only a deletion
// can make a volume's data garbage (a Resync lists every directory).
func volumeGone(o reconcile.Object) []string {
	if id, ok := ec2.VolumeKey(o.StoreKey()); ok && o.Deleted {
		return []string{id}
	}
	return nil
}

// volumeDirs lists the volumes that have data: at Start and after a
// Reset or Resync, every one is checked (deleted while minicloud was down,
// or a wiped store).
func (r *Runtime) volumeDirs(context.Context) ([]string, error) {
	ents, err := os.ReadDir(r.cfg.VolumesDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volume data: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "vol-") {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// reconcileVolume removes the data of a volume that has no record any
// more.
func (r *Runtime) reconcileVolume(ctx context.Context, id string) (reconcile.Result, error) {
	dir := r.volumeDir(id)
	if dir == "" {
		return reconcile.Result{}, nil
	}
	if _, err := os.Lstat(dir); err != nil {
		return reconcile.Result{}, nil
	}
	found, err := r.ctl.VolumeExists(ctx, id)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("look volume %s up: %w", id, err)
	}
	if !found {
		r.removeVolume(id)
	}
	return reconcile.Result{}, nil
}
