#!/usr/bin/env bash
# Reserves 2 MiB hugepages (HUGEPAGES, default 512 = 1 GiB) if fewer are
# reserved, and mounts hugetlbfs on /dev/hugepages if nothing is there.
# Never lowers an existing reservation. Quiet unless it changes something.
set -eu
want=${HUGEPAGES:-512}
[ "$(id -u)" = 0 ] || { echo "hugepages: not root, leaving as is" >&2; exit 0; }
f=/proc/sys/vm/nr_hugepages
have=$(cat "$f")
if [ "$have" -lt "$want" ]; then
	echo "$want" >"$f" 2>/dev/null || true
	echo "hugepages: reserved $(cat "$f") x 2 MiB (asked for $want)"
fi
if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs none /dev/hugepages 2>/dev/null && echo "hugepages: mounted /dev/hugepages" || true
fi
