// Package cloudinit owns what cloud-init does when a minicloud instance
// boots: it reads the instance's user data and acts on it inside the
// instance's root filesystem, following cloud-init's conventions closely
// enough that user data written for EC2 behaves the same on minicloud.
//
// The instance runtime calls Boot.Run on every boot of an instance, after
// the root filesystem is mounted and before the instance counts as
// reachable. The package never enters a namespace or chroot itself: it
// touches files only under Boot.Root (through os.Root, so neither ".." nor
// symlinks in the image lead outside it) and runs commands only through
// Boot.Exec, which the runtime implements by running them inside the
// instance (its mount, network and PID namespaces, chrooted to Root). That
// split keeps this package testable without privileges.
//
// What is followed, and where cloud-init's behaviour comes from:
//
//   - User data formats: gzip-compressed data, "#!" scripts,
//     "#cloud-config", "#include"/"#include-once" (file:// from the
//     instance's root; other URLs through Boot.Fetch, else they fail as an
//     offline fetch does), "#cloud-boothook", MIME multipart (nested,
//     base64 and quoted-printable parts, text/x-shellscript,
//     text/x-shellscript-per-{boot,instance,once}, text/cloud-config,
//     text/x-include-url, text/cloud-boothook, gzip parts). Anything else
//     is logged as cloud-init logs it ("Unhandled non-multipart
//     (text/x-not-multipart) userdata: …") and ignored.
//   - The /var/lib/cloud layout: instances/<id>/{scripts,sem,boothooks,
//     data}, the instance symlink, data/instance-id and
//     previous-instance-id, scripts/per-{boot,instance,once},
//     user-data.txt, cloud-config.txt, boot-finished.
//   - Stages and frequencies, in cloud-init's module order: init-local;
//     init (user data consumed, boothooks, bootcmd every boot, write_files
//     once per instance); modules:config (runcmd written to
//     instances/<id>/scripts/runcmd once per instance); modules:final
//     (packages, deferred write_files, scripts/per-once once ever,
//     per-boot every boot, per-instance and the user scripts — part-NNN and
//     runcmd, in lexical order — once per instance). A module's semaphore
//     is written before it runs, so a failed module is not retried on the
//     next boot, as in cloud-init.
//   - Console output: the banner lines of each stage, the final message,
//     every command's stdout and stderr, and WARNING lines in cloud-init's
//     log format. The same bytes are appended to
//     /var/log/cloud-init-output.log inside the instance. A failing command
//     never stops the boot.
//
// Deviations: packages cannot be installed (instances are offline); the
// module logs the failure cloud-init logs when the mirrors are
// unreachable, plus one line saying why. Part handlers, upstart jobs,
// jinja templates and cloud-config-archive are not supported (logged as
// unhandled). The instance symlink is relative (instances/<id>) rather
// than absolute, which resolves the same inside the instance and cannot
// lead a host-side reader into the host's own /var/lib/cloud.
package cloudinit
