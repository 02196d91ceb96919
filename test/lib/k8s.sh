# shellcheck shell=bash
# A local fake Kubernetes API server (test/tools/fake-apiserver) for agent
# tests: TLS with a throw-away CA, a bearer token, a kubeconfig. Source
# test/lib/tap.sh, cni.sh and agent.sh first; call k8s_setup after
# cni_setup (needs python3 and openssl, else it returns 1 with K8S_WHY).
#
#   K8S_KUBECONFIG       the kubeconfig the agent takes (--kubeconfig)
#   k8s_pod NAME ANNOTATIONS-JSON   a pod of the run's namespace on the
#                        run's node (node-$CNI_RUN) with those annotations
k8s_setup() {
	local srv=$HOSTLANE_TOP/test/tools/fake-apiserver/fake_apiserver.py d=$CNI_TMP/k8s
	K8S_WHY=
	if [ ! -f "$srv" ] || ! command -v openssl >/dev/null || ! command -v python3 >/dev/null; then
		K8S_WHY="needs test/tools/fake-apiserver, python3 and openssl"
		return 1
	fi
	mkdir -p "$d"
	if ! (cd "$d" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hl-ca" -keyout ca.key -out ca.pem &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout srv.key -out srv.csr &&
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.pem) \
		>"$d/openssl.log" 2>&1; then
		K8S_WHY="test certificates: $(tail -1 "$d/openssl.log")"
		return 1
	fi
	echo "tok-$CNI_RUN" >"$d/token"
	python3 "$srv" --cert "$d/srv.pem" --key "$d/srv.key" --token-file "$d/token" --port-file "$d/ports" \
		2>"$d/server.log" &
	K8S_PID=$!
	on_exit "kill $K8S_PID; wait $K8S_PID"
	for _ in $(seq 100); do [ -s "$d/ports" ] && break; sleep 0.1; done
	read -r K8S_API_PORT K8S_CTL_PORT <"$d/ports" || { K8S_WHY="fake API server: $(cat "$d/server.log")"; return 1; }
	K8S_KUBECONFIG=$d/kubeconfig
	cat >"$K8S_KUBECONFIG" <<KC
apiVersion: v1
kind: Config
current-context: t
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$K8S_API_PORT
    certificate-authority: $d/ca.pem
contexts:
- name: t
  context: {cluster: fake, user: u}
users:
- name: u
  user:
    token: tok-$CNI_RUN
KC
}
k8s_fake() { curl -sf -X POST -d "$2" "http://127.0.0.1:$K8S_CTL_PORT/$1" >/dev/null; }
k8s_pod() {
	k8s_fake pods "{\"namespace\":\"ns-$CNI_RUN\",\"name\":\"$1\",\"node\":\"node-$CNI_RUN\",\"annotations\":$2}"
}
