#!/usr/bin/env bash
# Builds the AWS session-manager-plugin (the program `aws ssm start-session`
# runs, both CLI v1 and v2, to speak Session Manager's data channel) from
# its source on the Go module proxy, never a prebuilt download, and installs
# it where the AWS CLIs find it: on the PATH.
#
#   scripts/session-manager-plugin.sh [DEST]
#
# DEST defaults to /usr/local/bin/session-manager-plugin when that directory
# is writable (root), else $(go env GOPATH)/bin/session-manager-plugin. The
# module in scripts/session-manager-plugin/ pins the plugin's pseudo-version
# and its dependencies (the plugin's repository has no go.mod) and replaces
# the one dependency the proxy no longer serves (twinj/uuid's pre-1.0 API)
# with a small local module. Re-running it is cheap (Go's build cache) and
# installs only when the binary changed.
set -euo pipefail
cd "$(dirname "$0")/session-manager-plugin"

dest=${1:-}
if [ -z "$dest" ]; then
  if [ -w /usr/local/bin ]; then
    dest=/usr/local/bin/session-manager-plugin
  else
    dest=$(go env GOPATH)/bin/session-manager-plugin
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# GOFLAGS from the environment (-mod=vendor, say) would not fit this module.
GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/session-manager-plugin" \
  github.com/aws/session-manager-plugin/src/sessionmanagerplugin-main
if ! cmp -s "$tmp/session-manager-plugin" "$dest" 2>/dev/null; then
  mkdir -p "$(dirname "$dest")"
  install -m 0755 "$tmp/session-manager-plugin" "$dest"
  echo "installed $dest ($("$dest" --version))" >&2
fi
