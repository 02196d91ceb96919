# shellcheck shell=bash
# A fake Kubernetes API server for a test (test/tools/fake-apiserver): HTTPS
# on 127.0.0.1 with certificates made here, and a service-account directory
# (token, ca.crt) as a pod would see it. Source test/lib/tap.sh first.
#
#   fakeapi_start DIR   starts it; sets FAKEAPI_PORT, FAKEAPI_CTL, FAKEAPI_PID,
#                       FAKEAPI_SA (DIR/sa: token + ca.crt); returns 1 on failure
#   fakeapi_post PATH JSON   scripts it (control port), e.g. /nodes
#   fakeapi_token TOKEN      the token the server accepts from now on
#   fakeapi_kubeconfig FILE  writes a kubeconfig for it (the service
#                            account's CA and token file)

fakeapi_start() {
	local dir=$1 i
	mkdir -p "$dir/sa"
	(
		cd "$dir" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hostlane-test-ca" \
			-keyout ca.key -out ca.pem &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout srv.key -out srv.csr &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile srv.ext -out srv.pem
	) >"$dir/openssl.log" 2>&1 || return 1
	cp "$dir/ca.pem" "$dir/sa/ca.crt"
	echo "token-$$-$RANDOM" >"$dir/server-token"
	cp "$dir/server-token" "$dir/sa/token"
	echo default >"$dir/sa/namespace"
	python3 "$HOSTLANE_TOP/test/tools/fake-apiserver/fake_apiserver.py" --cert "$dir/srv.pem" \
		--key "$dir/srv.key" --token-file "$dir/server-token" --port-file "$dir/ports" \
		2>"$dir/server.log" &
	FAKEAPI_PID=$!
	on_exit "kill $FAKEAPI_PID; wait $FAKEAPI_PID"
	for i in $(seq 100); do
		[ -s "$dir/ports" ] && break
		kill -0 "$FAKEAPI_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	[ -s "$dir/ports" ] || return 1
	read -r FAKEAPI_PORT FAKEAPI_CTL <"$dir/ports"
	FAKEAPI_SA=$dir/sa
	FAKEAPI_DIR=$dir
}

fakeapi_post() {
	curl -sf -X POST --data "$2" "http://127.0.0.1:$FAKEAPI_CTL$1"
}

fakeapi_token() { echo "$1" >"$FAKEAPI_DIR/server-token"; }

fakeapi_kubeconfig() {
	cat >"$1" <<KC
apiVersion: v1
kind: Config
current-context: t
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$FAKEAPI_PORT", certificate-authority: "$FAKEAPI_SA/ca.crt"}
contexts:
- name: t
  context: {cluster: fake, user: u}
users:
- name: u
  user: {tokenFile: "$FAKEAPI_SA/token"}
KC
}
