#!/usr/bin/env bash
# The software engine's capacity on one core (fpga-ctl/tests/fctl_bench.c):
# N client queues (1, 2, 8, 32), each with a server queue and a pair region
# of its own, their request rings pre-filled with CONNECT/CLOSE pairs; the
# engine serves them and the same core does the software side (events read,
# a SLOT_FREE and a POST per forwarded CLOSE through the admin queue).
# The counts are interleaved over ROUNDS (default 5): each round runs every
# N once; the median per N is printed (client requests/s = CONNECT + CLOSE;
# engine requests/s adds the admin queue's; client requests per second of
# the bench thread's CPU time: what one core gives when nothing else
# competes for it). No kernel column: the kernel
# has no request queue to compare with; the connect/accept/close rates of
# the kernel and hostlane are 50-sockets' connrate rows.
set -u
top=${HOSTLANE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
bench=$BUILD/bin/fctl-bench
ROUNDS=${ROUNDS:-5}
PAIRS=${ENGINE_PAIRS:-2048}
json=
for a in "$@"; do [ "$a" = --json ] && json=1; done
[ -x "$bench" ] || { echo "60-engine: $bench not built" >&2; exit 1; }
tmp=$(mktemp -d /tmp/hlbench-engine.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < ROUNDS; r++)); do
	for n in 1 2 8 32; do
		"$bench" "$n" "$PAIRS" 1 >>"$tmp/$n" || { echo "60-engine: fctl-bench $n failed" >&2; exit 1; }
	done
done
med() { sed -n "s/.* $2 \([0-9]*\).*/\1/p" "$tmp/$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
[ -n "$json" ] || printf '%-10s %18s %18s %22s\n' clients client_req/s engine_req/s client_req/cpu_s
for n in 1 2 8 32; do
	c=$(med "$n" client_req_per_s) e=$(med "$n" engine_req_per_s) u=$(med "$n" client_req_per_cpu_s)
	if [ -n "$json" ]; then
		printf '{"bench":"engine","clients":%s,"pairs":%s,"rounds":%s,"client_req_per_s":%s,"engine_req_per_s":%s,"client_req_per_cpu_s":%s}\n' \
			"$n" "$PAIRS" "$ROUNDS" "$c" "$e" "$u"
	else
		printf '%-10s %18s %18s %22s\n' "$n" "$c" "$e" "$u"
	fi
done
