#!/usr/bin/env bash
# The full test suite: installs what the tests need, then runs every Go test
# with the race detector. This is the command the README's quickstart gives
# and the one CI runs. Parallel tests run four at a time: most of their time
# is spent waiting for servers and instances to start, not on the CPU.
#
# As root (the data-plane tests need it) the tests run in a mount namespace
# of their own that starts from a machine on which minicloud never ran: an
# empty, unprepared directory of network namespaces (vpcnet.NamespaceDir,
# on a fresh tmpfs) and /run/netns not prepared by iproute2. So every run
# proves the first-use path, and a minicloud already running here is not
# disturbed. Afterwards the host must have no more links, routes, rules,
# nftables tables or network namespaces than before.
set -euo pipefail
cd "$(dirname "$0")/.."

# go_tests runs the module's tests, then those of the modules of their own
# under examples/ (minicloudtest used from outside, as a user's project
# would): ./... does not reach into another module.
go_tests() {
  local status=0
  # test/cli, the longest package (about ten minutes, go test's default
  # per-package limit: hence -timeout; CI bounds the whole run), starts at
  # once beside the others instead of after them.
  go test -race -count=1 -parallel 4 -timeout 30m ./test/cli/ &
  local cli=$!
  go test -race -count=1 -parallel 4 -timeout 30m $(go list ./... | grep -v '/test/cli$') || status=$?
  wait "$cli" || status=$?
  # -mod=mod: the example's go.mod follows the main module's dependencies
  # (it requires them through its replace), which grow with every service;
  # run `go mod tidy` there to record them.
  (cd examples/minicloudtest && go test -mod=mod -race -count=1 ./...) || status=$?
  return "$status"
}

if [ "${1:-}" = --in-fresh-mounts ]; then
  shift
  mkdir -p /run/minicloud
  mount -t tmpfs -o mode=0755,size=16m minicloud-test /run/minicloud
  while mountpoint -q /run/netns; do umount -l /run/netns; done
  before=$(scripts/host-objects.sh)
  status=0
  go_tests || status=$?
  after=$(scripts/host-objects.sh)
  if ! diff <(echo "$before") <(echo "$after") >/tmp/minicloud-test-leftovers.$$; then
    echo "the tests left these on the host (> new, < gone):" >&2
    cat /tmp/minicloud-test-leftovers.$$ >&2
    status=1
  fi
  rm -f /tmp/minicloud-test-leftovers.$$
  exit "$status"
fi

scripts/deps.sh
if [ "$(id -u)" -eq 0 ]; then
  exec unshare --mount --propagation private "$0" --in-fresh-mounts
fi
go_tests
