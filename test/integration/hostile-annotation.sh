#!/usr/bin/env bash
# Hostile pods, the hugepages annotation (docs/security.md): one pod's
# `hostlane.io/hugepages: 1Gi` once reserved the whole node pool and the
# next shm pod's ADD failed. The agent caps the annotation
# (hugepages.maxQuota): the greedy ADD is refused naming the cap, one at the
# cap is taken, and the next pod still gets its default quota.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
. "$(dirname "$0")/../lib/agent.sh"
. "$(dirname "$0")/../lib/k8s.sh"
cni_setup
agent_setup
k8s_setup || tap_skip_all "$K8S_WHY"
n=0
# try NAME: ADD (fast path from the annotation) and report "fastpath quotaMi"
# or the error code; the pod stays until the end.
try() {
	local ns cid
	n=$((n + 1)); ns=$(cni_pod "q$n"); cid=cid-q$n-$CNI_RUN
	cni_netns_add "$ns"
	CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns-$CNI_RUN;K8S_POD_NAME=$1")
	cni_add "$cid" "$ns" eth0 "$(agent_conf none)"
	CNI_EXTRA_ENV=()
	TRY_OUT=$CNI_STDOUT
	if [ "$CNI_RC" = 0 ]; then
		on_exit "cni_del $cid $ns eth0 '$(agent_conf none)'"
		TRY=$(agent_pods --arg c "$cid" '.[] | select(.containerID == $c) | "\(.fastpath) \(.quotaBytes / 1048576)"')
	else
		TRY="error $(jq -r .code <<<"$CNI_STDOUT")"
	fi
}
# A node pool the greedy annotation would take whole.
printf '{"k8sTimeoutMs": 1000, "hugepages": {"pool": "1Gi", "defaultQuota": "16Mi", "maxQuota": "64Mi"}}' \
	>"$AG_DIR/agent.json"
agent_start --config "$AG_DIR/agent.json" --kubeconfig "$K8S_KUBECONFIG"
k8s_pod greedy '{"hostlane.io/fastpath":"shm","hostlane.io/hugepages":"1Gi"}'
k8s_pod capped '{"hostlane.io/fastpath":"shm","hostlane.io/hugepages":"64Mi"}'
k8s_pod plain '{"hostlane.io/fastpath":"shm"}'
try greedy
tap_eq "an annotation above hugepages.maxQuota is refused (error 7)" "error 7" "$TRY"
grep -q maxQuota <<<"$TRY_OUT" && tap_ok "the refusal names maxQuota" || tap_fail "the refusal names maxQuota" "$TRY_OUT"
try capped
tap_eq "an annotation at the cap is taken" "shm 64" "$TRY"
try plain
tap_eq "the next shm pod gets its default quota" "shm 16" "$TRY"
tap_done
