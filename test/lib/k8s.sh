# shellcheck shell=bash
# The fake Kubernetes API server (test/lib/fakeapi.sh) set up for agent
# tests that make pods with cni.sh: in the run's directory, with a
# kubeconfig for the agent. Source test/lib/tap.sh, cni.sh and agent.sh
# first; call k8s_setup after cni_setup (needs python3 and openssl, else it
# returns 1 with K8S_WHY).
#
#   K8S_KUBECONFIG       the kubeconfig the agent takes (--kubeconfig)
#   K8S_CTL_PORT, K8S_PID  the server's control port and pid
#   k8s_fake KIND JSON   scripts the server (its control port), e.g. pods
#   k8s_pod NAME ANNOTATIONS-JSON   a pod of the run's namespace on the
#                        run's node (node-$CNI_RUN) with those annotations
#   k8s_rv KIND JSON     the same, printing the resourceVersion it got
#   k8s_policy_applied RV  bounded wait until the agent's NetworkPolicy
#                        table has every change up to RV (1 if not)
#   k8s_wait_pods N      bounded wait until the agent's NetworkPolicy view
#                        knows N pods (admission admits no fast-path
#                        connection of a pod it does not know)
# shellcheck source=test/lib/fakeapi.sh
. "$HOSTLANE_TOP/test/lib/fakeapi.sh"

k8s_setup() {
	K8S_WHY=
	if [ ! -f "$HOSTLANE_TOP/test/tools/fake-apiserver/fake_apiserver.py" ] ||
		! command -v openssl >/dev/null || ! command -v python3 >/dev/null; then
		K8S_WHY="needs test/tools/fake-apiserver, python3 and openssl"
		return 1
	fi
	if ! fakeapi_start "$CNI_TMP/k8s"; then
		K8S_WHY="fake API server did not start (see $CNI_TMP/k8s: openssl.log, server.log)"
		return 1
	fi
	K8S_PID=$FAKEAPI_PID K8S_CTL_PORT=$FAKEAPI_CTL K8S_KUBECONFIG=$CNI_TMP/k8s/kubeconfig
	fakeapi_kubeconfig "$K8S_KUBECONFIG"
}
k8s_fake() { fakeapi_post "/$1" "$2" >/dev/null; }
k8s_rv() { fakeapi_post "/$1" "$2" | jq -r .rv; }
k8s_policy_applied() {
	for _ in $(seq 400); do
		[ "$(ctl --json status | jq '.networkPolicy.resourceVersion // 0')" -ge "$1" ] && return 0
		sleep 0.025
	done
	return 1
}
k8s_pod() {
	k8s_fake pods "{\"namespace\":\"ns-$CNI_RUN\",\"name\":\"$1\",\"node\":\"node-$CNI_RUN\",\"annotations\":$2}"
}
k8s_wait_pods() {
	for _ in $(seq 200); do
		[ "$(ctl --json status | jq '.networkPolicy.pods // 0')" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
