#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# 50 ADDs at once (background jobs) on one bridge that does not exist yet,
# then 50 DELs at once: all succeed, every pod gets a distinct address, and
# afterwards no veth, no allocation and no cache file is left.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup
N=${CNI_PARALLEL_PODS:-50}
out=$CNI_TMP/par
mkdir -p "$out"

for i in $(seq 1 "$N"); do cni_netns_add "$(cni_pod "$i")" || break; done
tap_eq "$N pods created" "$N" "$(ip netns list | grep -c "^hlt-$CNI_RUN-")"

run_all() { # COMMAND
	local i pids=()
	for i in $(seq 1 "$N"); do
		(
			cni_run "$1" "ctr-$CNI_RUN-$i" "$(cni_pod "$i")"
			echo "$CNI_RC" >"$out/$1.$i.rc"
			printf '%s' "$CNI_STDOUT" >"$out/$1.$i.out"
			printf '%s' "$CNI_STDERR" >"$out/$1.$i.err"
		) &
		pids+=($!)
	done
	wait "${pids[@]}"
}
failed() { # COMMAND: the pods whose call did not exit 0, with their stdout
	local i
	for i in $(seq 1 "$N"); do
		[ "$(cat "$out/$1.$i.rc" 2>/dev/null)" = 0 ] ||
			echo "pod $i: rc $(cat "$out/$1.$i.rc" 2>/dev/null) $(cat "$out/$1.$i.out" 2>/dev/null)"
	done
}

run_all ADD
tap_eq "$N parallel ADDs all succeed" "" "$(failed ADD | head -5)"
ips=$(for i in $(seq 1 "$N"); do jq -r '.ips[0].address' "$out/ADD.$i.out" 2>/dev/null; done | sort)
tap_eq "$N distinct addresses in the results" "$N" "$(grep -c . <<<"$(sort -u <<<"$ips")")"
tap_eq "$N allocations in host-local" "$N" "$(cni_allocations | wc -l)"
tap_eq "$N host veths on the bridge" "$N" "$(cni_bridge_ports "$CNI_BR" | wc -l)"
applied=0
for i in $(seq 1 "$N"); do
	a=$(jq -r '.ips[0].address' "$out/ADD.$i.out" 2>/dev/null)
	[ -n "$a" ] && [ "$(cni_pod_addr "$(cni_pod "$i")" eth0)" = "$a" ] && applied=$((applied + 1))
done
tap_eq "every pod carries its own result's address" "$N" "$applied"

run_all DEL
tap_eq "$N parallel DELs all succeed" "" "$(failed DEL | head -5)"
tap_eq "no host veth left" "" "$(cni_leaked_links)"
tap_eq "no allocation left" "" "$(cni_allocations)"
tap_eq "no cache file left" "" "$(cni_cache_files)"
tap_done
