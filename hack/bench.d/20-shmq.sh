#!/usr/bin/env bash
# shmq acceptance set: 64 B stream, 64 B ping-pong, 64 KiB stream, every
# transport, on two pinned cores (SHMQ_BENCH_CPUS, default 0,1). Extra
# arguments (e.g. --json, --seconds 3) go to shmq-bench.
set -u
BUILD=${BUILD:-build}
bench=$BUILD/bin/shmq-bench
[ -x "$bench" ] || { echo "20-shmq: $bench not built" >&2; exit 1; }
cpus=${SHMQ_BENCH_CPUS:-0,1}
rc=0
"$bench" --cpus "$cpus" --mode stream --msg-size 64 "$@" || rc=1
"$bench" --cpus "$cpus" --mode pingpong --msg-size 64 "$@" || rc=1
"$bench" --cpus "$cpus" --mode stream --msg-size 65536 "$@" || rc=1
exit $rc
