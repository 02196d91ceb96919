#!/usr/bin/env bash
# shellcheck disable=SC2034 # CNI_UNSET and friends are read by test/lib/cni.sh
# VERSION output and the result shape for every supported cniVersion:
# 0.3.0/0.3.1/0.4.0 carry ips[].version, 1.0.0/1.1.0 do not; every result is
# in the version the config asked for.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/cni.sh"
cni_setup

CNI_UNSET=(CNI_CONTAINERID CNI_NETNS CNI_IFNAME)
cni_exec hostlane VERSION "" "" "" '{"cniVersion": "1.1.0"}'
cni_ok_rc "VERSION succeeds with only CNI_COMMAND set"
tap_eq "VERSION answers with a cniVersion it supports" true \
	"$(jq '.cniVersion as $v | .supportedVersions | index($v) != null' <<<"$CNI_STDOUT")"
tap_eq "VERSION lists the supported versions" '0.3.0 0.3.1 0.4.0 1.0.0 1.1.0' \
	"$(jq -r '.supportedVersions | sort | join(" ")' <<<"$CNI_STDOUT")"
cni_exec hostlane VERSION "" "" "" '{"cniVersion": "0.4.0"}'
cni_ok_rc "VERSION asked in 0.4.0 answers"
tap_eq "... listing 1.1.0" true "$(jq '.supportedVersions | index("1.1.0") != null' <<<"$CNI_STDOUT")"
CNI_UNSET=()

pa=$(cni_pod a)
cni_netns_add "$pa"
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	cid=ctr-$CNI_RUN-${v//./}
	conf=$(CNI_VERSION=$v cni_conf)
	cni_add "$cid" "$pa" eth0 "$conf"
	cni_ok_rc "$v: ADD"
	res=$CNI_STDOUT
	tap_eq "$v: result cniVersion" "$v" "$(jq -r .cniVersion <<<"$res")"
	tap_eq "$v: pod interface in the result" "/var/run/netns/$pa" \
		"$(jq -r '.interfaces[] | select(.name == "eth0") | .sandbox' <<<"$res")"
	tap_eq "$v: one IPv4 address with a gateway" "1 $CNI_PFX.1" \
		"$(jq -r '"\(.ips | length) \(.ips[0].gateway)"' <<<"$res")"
	case $v in
	0.*) tap_eq "$v: ips[].version is \"4\"" 4 "$(jq -r '.ips[0].version' <<<"$res")" ;;
	*) tap_eq "$v: ips[] has no version key" false "$(jq '.ips[0] | has("version")' <<<"$res")" ;;
	esac
	tap_eq "$v: ips[].interface points into interfaces" eth0 \
		"$(jq -r '.interfaces[.ips[0].interface].name // "none"' <<<"$res")"
	if [ "$v" != 0.3.0 ] && [ "$v" != 0.3.1 ]; then
		cni_run CHECK "$cid" "$pa" eth0 "$(cni_with_prev "$conf" "$res")"
		cni_ok_rc "$v: CHECK with the result as prevResult"
	fi
	cni_del "$cid" "$pa" eth0 "$(cni_with_prev "$conf" "$res")"
	cni_ok_rc "$v: DEL"
done
tap_eq "no host veth left" "" "$(cni_leaked_links)"
tap_eq "no IP allocation left" "" "$(cni_allocations)"
tap_done
