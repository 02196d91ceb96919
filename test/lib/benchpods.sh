# shellcheck shell=bash
# The set-up the Kubernetes benchmarks share (hack/bench.d/55-services.sh,
# 56-netpol.sh): two shm pods, srv and cli, the agent following a fake API
# server (test/lib/k8s.sh). Call bench_env (test/lib/bench.sh) first, then:
#
#   bench_k8s_pods TOOL...  checks root, the TOOLs and connrate (else
#                        bail), makes the pods; sets connrate, ip_s, ip_c,
#                        ns, node, tmp, SRV_CPU, CLI_CPU; the report goes to
#                        fd 3, everything else to stderr
#   pin CPU              "taskset -c CPU" when taskset is there
# Sourced here, at the top level: their declare'd tables (the pods, the
# cleanups) would be local to a function that sourced them.
# shellcheck source=test/lib/tap.sh
. "$top/test/lib/tap.sh"
# shellcheck source=test/lib/pods.sh
. "$top/test/lib/pods.sh"
# shellcheck source=test/lib/k8s.sh
. "$top/test/lib/k8s.sh"

pin() { command -v taskset >/dev/null && echo "taskset -c $1"; }

bench_k8s_pods() {
	local p ncpu
	[ "$(id -u)" = 0 ] || bail "needs root (network namespaces)"
	for p in "$@"; do
		command -v "$p" >/dev/null || bail "$p missing (make deps)"
	done
	connrate=$BUILD/test/connrate
	[ -x "$connrate" ] || bail "$connrate not built"
	exec 3>&1 1>&2
	pods_pre_agent() {
		k8s_setup || bail "$K8S_WHY"
		PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
	}
	pods_setup >/dev/null
	pod_create srv && pod_create cli || bail "cannot create the pods (see stderr)"
	preload_ready || bail "$PRELOAD_WHY"
	ip_s=$(pod_ip srv) ip_c=$(pod_ip cli) ns=ns-$CNI_RUN node=node-$CNI_RUN
	tmp=$CNI_TMP
	ncpu=$(nproc)
	SRV_CPU=$((ncpu > 1 ? ncpu - 1 : 0)) CLI_CPU=0
}
