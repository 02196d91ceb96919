#!/usr/bin/env bash
# The image `make image` builds FROM scratch: the archive is what `podman
# load` and `ctr images import` read (docker-archive, tagged with VERSION);
# it holds the binaries and exactly the shared libraries they load: every
# library a binary needs is in it, every library in it is needed by one of
# them (readelf over the unpacked image), and there is no shell. Every
# binary runs in it: the agent, its CLI, the installer, the plugin (VERSION),
# and the DPDK switch up to its forwarding loop (so the mempool driver the
# EAL loads by dlopen is there too).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/image.sh"
image_setup
command -v jq >/dev/null || tap_skip_all "jq is not installed"
ver=$(cat "$HOSTLANE_TOP/VERSION")

tap_eq "the archive names the image for ctr import (RepoTags)" "[\"$IMG_REF\"]" \
	"$(tar -xOf "$IMG_TAR" manifest.json | jq -c '.[0].RepoTags')"
tap_eq "the tag is the project version" "localhost/hostlane:$ver" "$IMG_REF"
tap_eq "podman load lists it" "$IMG_REF" "$(pm images --format '{{.Repository}}:{{.Tag}}')"
tap_eq "entrypoint is the agent" '["/usr/bin/hostlaned"]' \
	"$(pm image inspect "$IMG_REF" --format '{{json .Config.Entrypoint}}')"

# The unpacked image: what is in it.
mnt=$(pm image mount "$IMG_REF" 2>&1) || { tap_fail "mount the image" "$mnt"; tap_done; exit 1; }
on_exit "pm image unmount '$IMG_REF'"
# (The musl build of the layer is a payload pods copy out, linked against
# musl's libc: the image's binaries do not load it.)
elfs=$(cd "$mnt" && find . -type f -not -path './usr/lib/hostlane/musl/*' \
	-exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print | sort)
needed=$(cd "$mnt" && for f in $elfs; do readelf -d "$f" 2>/dev/null |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
libs=$(cd "$mnt" && for f in $elfs; do
	s=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	[ -n "$s" ] && echo "$s $f"; done | sort)
interp=$(readelf -l "$mnt/usr/bin/hostlaned" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
missing=$(comm -23 <(echo "$needed") <(awk '{ print $1 }' <<<"$libs" | sort -u))
tap_eq "every library a binary needs is in the image" "" "$missing"
# Unneeded: a library no ELF of the image names, other than the loader, the
# DPDK drivers (dlopen()ed by the EAL from its plugin dir) and the
# container-side library the image carries for pods.
extra=$(awk '{ print $1, $2 }' <<<"$libs" | while read -r so f; do
	grep -qxF "$so" <<<"$needed" && continue
	# libhostlane.so is a payload: pods copy it out (examples/pod-shm.yaml).
	case $f in *"/dpdk/pmds-"* | ./usr/lib/hostlane/*) continue ;; esac
	[ "/${f#./}" = "$(readlink -f "$interp" | sed 's|^/lib|/usr/lib|')" ] && continue
	[ "$so" = "$(basename "$interp")" ] && continue
	echo "$f"
done)
tap_eq "every library in the image is needed by one of its binaries" "" "$extra"
ok "the mempool driver the switch's EAL loads is there" sh -c "ls '$mnt'/usr/lib/*/dpdk/pmds-*/librte_mempool_ring.so"
ok_not "no shell in the image" test -e "$mnt/bin/sh"
n=$(find "$mnt" -type f | wc -l)
ok "a small image ($n files, $(du -sk "$mnt" | cut -f1) KiB)" test "$n" -lt 120

run() { pm run --rm "${IMG_RUN[@]}" --network none "$@"; }
tap_eq "hostlaned runs in the image" "hostlaned $ver" \
	"$(run "$IMG_REF" --version 2>&1 | cut -d' ' -f1-2)"
ok "hostlanectl runs in the image" run --entrypoint /usr/bin/hostlanectl "$IMG_REF" help
ok "hostlane-install runs in the image" run --entrypoint /usr/bin/hostlane-install "$IMG_REF" --check
tap_eq "the plugin answers VERSION in the image" "1.0.0" \
	"$(run -e CNI_COMMAND=VERSION --entrypoint /usr/lib/cni/hostlane "$IMG_REF" </dev/null 2>&1 |
		jq -r '.supportedVersions | map(select(. == "1.0.0")) | .[0]' 2>&1)"
ok_not "no shell to run" run --entrypoint /bin/sh "$IMG_REF" -c true

# The switch to its forwarding loop (no hugepages: --no-huge).
name=vsw-$$
if pm run -d --name "$name" "${IMG_RUN[@]}" --network none --entrypoint /usr/bin/hostlane-vswitch \
	"$IMG_REF" --no-huge -m 64 --no-pci --file-prefix "hlimg$$" -- --ctl /tmp/ctl.sock >/dev/null 2>&1; then
	for _ in $(seq 100); do
		pm logs "$name" 2>&1 | grep -q 'vswitch: .*lcore' && break
		sleep 0.1
	done
	ok "the switch starts in the image (EAL, mbuf pool, control socket)" \
		sh -c "$(declare -f pm); IMG_TMP='$IMG_TMP'; pm logs '$name' 2>&1 | grep -q 'vswitch: .*lcore'"
	pm stop -t 5 "$name" >/dev/null 2>&1
else
	tap_fail "the switch starts in the image" "$(pm logs "$name" 2>&1 | tail -5)"
fi
tap_done
