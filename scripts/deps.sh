#!/usr/bin/env bash
# Installs what minicloud's test suite needs beyond Go: one Go module that no
# build downloads, the session-manager-plugin (built from source), and
# Debian's packages.
# Run as root (CI does); as another user it prints what to install instead.
#
#   github.com/aws/aws-sdk-go (Go module, any user) the AWS API models that
#           the check of the generated code (internal/codec/codegen) and the
#           codec's conformance tests read from the module cache. go.mod pins
#           it but nothing builds it, so go test alone never downloads it.
#   session-manager-plugin (built by scripts/session-manager-plugin.sh from
#           the Go module proxy, installed on the PATH) what `aws ssm
#           start-session` runs; the Session Manager tests drive it.
#   awscli  AWS CLI v2 at /usr/bin/aws, used beside the machine's AWS CLI v1
#           by the CLI smoke test (test/cli).
#   bind9-dnsutils  dig, the DNS client of the Route 53 CLI smoke test.
#   postgresql-15  the PostgreSQL server RDS instances run (internal/service/rds).
#   mariadb-server  the MariaDB server (mariadbd, mariadb-install-db) RDS for
#           MariaDB instances run (internal/service/rds); minicloud starts its
#           own servers and needs no mariadb service (Debian may start one).
#   mariadb-client  mariadb, the MySQL client of the aurora-mysql CLI test
#           (test/cli; mariadb-server depends on it, so this is a check).
#   mariadb-backup  mariadb-backup, of the same version as mariadb-server: the
#           online copies behind RDS for MariaDB's snapshots and backups.
#   nftables  nft, with which scripts/host-objects.sh lists the host's
#           nftables tables before and after the suite (minicloud itself
#           programs nftables over netlink and needs no nft).
#   sudo    for the built-in AMIs (package hostimage takes the host's
#           packages): Session Manager's ssm-user runs `sudo` in instances.
#   busybox-static  a static /bin/busybox, the userland of the tiny root
#           filesystems the image tests build (internal/instance/runtime,
#           test/dataplane).
set -euo pipefail
cd "$(dirname "$0")/.."

go mod download github.com/aws/aws-sdk-go
scripts/session-manager-plugin.sh

need=()
/usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2' || need+=(awscli)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/bin/sudo ] || need+=(sudo)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v nft >/dev/null || need+=(nftables)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql-15)
{ [ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/mariadb-install-db ]; } || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
[ -x /usr/bin/mariadb-backup ] || need+=(mariadb-backup)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "minicloud tests need these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
