#!/usr/bin/env bash
# The full test suite: installs what the tests need, then runs every Go test
# with the race detector. This is the command the README's quickstart gives
# and the one CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
go test -race -count=1 ./...
