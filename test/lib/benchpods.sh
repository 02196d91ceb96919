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
# Source it at the top level after test/lib/bench.sh: the declare'd
# tables of k8s.sh would be local to a function that sourced it.
# shellcheck source=test/lib/k8s.sh
. "$top/test/lib/k8s.sh"

pin() { command -v taskset >/dev/null && echo "taskset -c $1"; }

bench_k8s_pods() {
	bench_need "$@" build/test/connrate
	connrate=$BUILD/test/connrate
	pods_pre_agent() {
		k8s_setup || bail "$K8S_WHY"
		PODS_AGENT_ARGS=(--kubeconfig "$K8S_KUBECONFIG")
	}
	bench_pods
	[ "$hl_ok" = 1 ] || bail "$hl_why"
	ip_c=$(pod_ip cli) ns=ns-$CNI_RUN node=node-$CNI_RUN
}
