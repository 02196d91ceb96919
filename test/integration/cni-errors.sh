#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# Every error path of hostlane that can be triggered from outside: the spec's
# error JSON on stdout (cniVersion, code, msg), a non-zero exit, the right
# code (1 version, 4 environment naming the variable, 6 decode, 7 config),
# and nothing left behind by a refused ADD.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

pa=$(cni_pod a)
cni_netns_add "$pa"
cid=ctr-$CNI_RUN

cni_exec hostlane ADD "$cid" "$pa" eth0 '{"cniVersion": "1.1.0", "name": '
cni_err_code "truncated JSON -> 6 (decode failure)" 6
ok "error JSON carries a msg" test -n "$(jq -r '.msg // empty' <<<"$CNI_STDOUT")"
ok "error JSON carries a cniVersion" test -n "$(jq -r '.cniVersion // empty' <<<"$CNI_STDOUT")"
ok "error leaves the exit status non-zero" test "$CNI_RC" != 0
cni_exec hostlane ADD "$cid" "$pa" eth0 'not json at all'
cni_err_code "garbage stdin -> 6" 6
cni_exec hostlane ADD "$cid" "$pa" eth0 ''
cni_err_code "empty stdin -> 6" 6

cni_add "$cid" "$pa" eth0 "$(cni_conf '.cniVersion = "9.9.9"')"
cni_err_code "unknown cniVersion 9.9.9 -> 1" 1
cni_add "$cid" "$pa" eth0 "$(cni_conf '.cniVersion = "0.2.0"')"
cni_err_code "unsupported old cniVersion 0.2.0 -> 1" 1

CNI_UNSET=(CNI_IFNAME)
cni_add "$cid" "$pa"
cni_err_code "ADD without CNI_IFNAME -> 4 naming it" 4 CNI_IFNAME
CNI_UNSET=(CNI_NETNS)
cni_add "$cid" ""
cni_err_code "ADD without CNI_NETNS -> 4 naming it" 4 CNI_NETNS
CNI_UNSET=(CNI_CONTAINERID)
cni_add "$cid" "$pa"
cni_err_code "ADD without CNI_CONTAINERID -> 4 naming it" 4 CNI_CONTAINERID
CNI_UNSET=(CNI_COMMAND)
cni_add "$cid" "$pa"
cni_err_code "no CNI_COMMAND -> 4 naming it" 4 CNI_COMMAND
CNI_UNSET=(CNI_IFNAME)
cni_del "$cid" "$pa"
cni_err_code "DEL without CNI_IFNAME -> 4 naming it" 4 CNI_IFNAME
CNI_UNSET=()
cni_run FROB "$cid" "$pa"
cni_err_code "unknown CNI_COMMAND -> 4 naming it" 4 CNI_COMMAND

for bad in 'bad id!' '-leading-dash' 'a/b' 'x y' 'ümlaut'; do
	cni_add "$bad" "$pa"
	cni_err_code "CNI_CONTAINERID '$bad' (charset) -> 4 naming it" 4 CNI_CONTAINERID
done
for bad in eth0123456789abc 'a/b' 'a:b' 'a b' "$(printf 'a\tb')" . ..; do
	cni_add "$cid" "$pa" "$bad"
	cni_err_code "CNI_IFNAME '$bad' -> 4 naming it" 4 CNI_IFNAME
done
cni_add "$cid" "$pa" eth012345678901
cni_ok_rc "CNI_IFNAME of exactly 15 chars is accepted"
cni_del "$cid" "$pa" eth012345678901
cni_ok_rc "DEL of the 15-char ifname"

cni_add "$cid" "$pa" eth0 "$(cni_conf '.fastpath = "warp"')"
cni_err_code "unknown fastpath -> 7 (invalid config)" 7
cni_add "$cid" "$pa" eth0 "$(cni_conf 'del(.name)')"
cni_err_code "missing network name -> 7" 7
cni_add "$cid" "$pa" eth0 "$(cni_conf '.mtu = "big"')"
cni_err_code "mtu of the wrong type -> 7" 7
cni_add "$cid" "$pa" eth0 "$(cni_conf 'del(.ipam)')"
cni_err_code "standalone without ipam -> 7" 7

# ipMasq is optional in the issue: either it works, or it is refused as an
# unsupported field (code 2) that names it.
cni_add "$cid" "$pa" eth0 "$(cni_conf '.ipMasq = true')"
if [ "$CNI_RC" = 0 ]; then
	cni_del "$cid" "$pa" eth0 "$(cni_conf '.ipMasq = true')"
	cni_ok_rc "ipMasq is supported: ADD and DEL succeed"
else
	cni_err_code "ipMasq refused as unsupported field -> 2 naming it" 2 ipMasq
fi

# Logging: with logFile (in the log directory the runtime's environment
# names) and logLevel debug the log goes to the file.
log=$CNI_TMP/log/hostlane.log
lconf=$(cni_conf '. + {logFile: $f, logLevel: "debug"}' --arg f "$log")
CNI_EXTRA_ENV=("HOSTLANE_CNI_LOG_DIR=$CNI_TMP/log")
cni_add "$cid" "$pa" eth0 "$lconf"
cni_ok_rc "ADD with logFile and logLevel debug"
ok "logFile received the debug log" test -s "$log"
cni_del "$cid" "$pa" eth0 "$lconf"
cni_ok_rc "DEL with logFile"
CNI_EXTRA_ENV=()
cni_add "$cid" "$pa" eth0 "$(cni_conf '.logLevel = "chatty"')"
cni_err_code "unknown logLevel -> 7" 7

ok_not "refused ADDs left no eth0 in the pod" ip -n "$pa" link show dev eth0
tap_eq "refused ADDs left no host veth" "" "$(cni_leaked_links)"
tap_eq "refused ADDs left no IP allocation" "" "$(cni_allocations)"
tap_eq "refused ADDs left no cache file" "" "$(cni_cache_files)"
tap_done
