#!/usr/bin/env bash
# Lists the host objects the tests could leave behind, one per line, in a
# stable order: links, routes and rules of every table, nftables tables,
# the files in minicloud's namespace directory, and the network namespaces
# processes are in. scripts/test.sh compares the list before and after.
set -uo pipefail
ip -o link show | awk -F': ' '{print "link " $2}' | sed 's/@.*//' | sort
ip route show table all | sed 's/^/route4 /' | sort
ip -6 route show table all | sed 's/^/route6 /' | sort
ip rule show | sed 's/^/rule4 /' | sort
ip -6 rule show | sed 's/^/rule6 /' | sort
nft list tables | sed 's/^/nft /' | sort
ls -A /run/minicloud/netns 2>/dev/null | sed 's/^/netns /' | sort
lsns -t net -n -o NS | sed 's/^/netns-in-use /' | sort -u
