// Package apionly is the EC2 instance runtime of API-only mode ("api-only"):
// with the data plane off — by --data-plane off, or because the host cannot
// run it under --data-plane auto — it completes AWS's instance state
// machine with nothing running, so that SDK waiters, IaC tools and test
// suites that wait for running, stopped or terminated return, and says
// unmistakably that nothing runs.
//
// It implements ec2.Runtime on the Controller contract of
// internal/service/ec2/runtime.go, as the real runtime
// (internal/instance/runtime) does: level-triggered on the store's instance
// keys (internal/reconcile, one key per instance), every report quoting the
// Generation of the spec it acted on, re-read and converge again on
// ErrStaleReport. Each transitional state is left Config.Delay after the
// runtime first saw that generation of the instance (a short pause, so
// that a Describe right after RunInstances sees pending as on AWS, while a
// waiter's first poll sees running):
//
//	pending        report running, with the console's API-only notice
//	running        report Reachable (status checks ok/passed) once Delay
//	               has passed; a RebootRequests count above the last one
//	               handled appends a reboot notice to the console
//	stopping       report stopped
//	shutting-down  report terminated
//	stopped, terminated, forgotten: nothing; the runtime forgets the key
//
// What it does not do: boot anything, run user data, serve the metadata
// service, publish AWS/EC2 metrics, answer on the instance's addresses or
// mount its volumes. The marker is the console output
// (GetConsoleOutput: "minicloud API-only mode: this instance is recorded
// as running, but nothing runs it (…)") and /_minicloud/health's
// "instances" entry (runtime "api-only", with the reason the data plane is
// off). What it keeps in memory (when it first saw each generation, the
// reboots handled) is lost on restart, which costs at most one more Delay.
package apionly
