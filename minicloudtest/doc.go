// Package minicloudtest starts minicloud inside a Go test: the Go
// equivalent of moto's decorator or LocalStack's test container, with no
// Docker and a start measured in milliseconds.
//
//	func TestUpload(t *testing.T) {
//		t.Parallel()
//		mc := minicloudtest.New(t)
//		client := ec2.NewFromConfig(mc.Config)
//		…
//	}
//
// Each [New] is a minicloud of its own, in the test's process: its state in
// memory, its HTTP API and DNS server on free loopback ports, its host
// objects (network namespaces, links, nftables tables, cgroups) under a
// prefix of its own, and, with the data plane, a public range of its own.
// So parallel tests, and test binaries of several packages running at once,
// never see each other's resources. [Cloud.Config] is an aws.Config for
// aws-sdk-go-v2 (region, static credentials, BaseEndpoint); [Cloud.DNSAddr]
// answers Route 53's public hosted zones (and RDS's endpoint names); the
// test's cleanup stops everything the minicloud started.
//
// The data plane (VPCs that are real networks, instances that are real
// processes, load balancers that proxy) is on when the test runs as root on
// Linux and the host allows it, and off otherwise, when the API still works
// whole in minicloud's API-only mode (instances go through AWS's states —
// running, stopped, terminated — with nothing running, and their console
// output says so): New logs which, and [Cloud.DataPlane]
// says why. [WithoutDataPlane] turns it off. RDS's DB instances are real
// servers of the host's PostgreSQL or MariaDB either way, reached from the
// test at [Cloud.DBAddress].
//
// An instance's init is the test binary itself, re-executed inside the
// instance: this package's init function handles that run (and exits) before
// any test starts, so a test package needs no TestMain of its own for it.
// For the same reason (namespace work on threads that are then let go) it
// keeps the main goroutine on the main thread.
//
// Outside a test (a TestMain sharing one minicloud across a package, a
// program), [Start] returns a Cloud that [Cloud.Close] stops.
package minicloudtest
