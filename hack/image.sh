#!/usr/bin/env bash
# Builds the hostlane OCI image FROM scratch with podman (no registry, no
# base image) and writes it as an archive that `podman load` and
# `ctr images import` accept (docker-archive).
#
# The root filesystem holds the listed binaries and exactly what they load:
# each ELF's shared libraries as resolved by the dynamic loader on this
# machine (ldd), the loader itself, an ld.so.cache for them, and the DPDK
# drivers the switch needs (EAL dlopen()s them, ldd cannot see it) with their
# own libraries.
#
# Usage: hack/image.sh OUT.tar NAME:TAG DIR=FILE...
#   DIR=FILE: copy FILE into the image under DIR (e.g. /usr/bin=build/bin/hostlaned)
# Environment: BUILD (scratch space under it), DPDK_DRIVERS (driver names,
# default mempool_ring).
set -eu
out=$1 ref=$2; shift 2
BUILD=${BUILD:-build}
DPDK_DRIVERS=${DPDK_DRIVERS:-mempool_ring}
work=$BUILD/image/work.$$
root=$work/rootfs
cleanup() {
	# podman may leave mounts under its private storage.
	awk -v t="$(realpath -m "$work")" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$root"/usr/lib "$root"/usr/lib64 "$root"/usr/bin "$root"/etc "$root"/tmp \
	"$root"/run "$root"/var/lib
chmod 1777 "$root"/tmp
ln -s ../run "$root"/var/run   # DPDK's runtime dir is /var/run/dpdk
# Debian 12 is merged-/usr: /lib and /lib64 are links, as on the build machine.
ln -s usr/lib "$root"/lib
ln -s usr/lib64 "$root"/lib64

declare -A copied=()
# copy_file SRC: SRC (resolved) into the same path in the image, /lib -> /usr/lib.
copy_file() {
	local src=$1 dst
	dst=$src
	case $dst in /lib/* | /lib64/*) dst=/usr$dst ;; esac
	[ -n "${copied[$dst]:-}" ] && return 0
	copied[$dst]=1
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
}
# copy_libs ELF: every library ELF needs, as the loader resolves it here.
copy_libs() {
	local lib
	# "libx.so.1 => /path (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
	# "statically linked" / "not a dynamic executable" print nothing useful.
	if ! ldd "$1" >/dev/null 2>&1; then
		return 0
	fi
	if ldd "$1" | grep -q 'not found'; then
		echo "image: $1 needs a library this machine lacks:" >&2
		ldd "$1" | grep 'not found' >&2
		exit 1
	fi
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		copy_file "$lib"
	done
}

for spec in "$@"; do
	dir=${spec%%=*} file=${spec#*=}
	mkdir -p "$root$dir"
	cp -L "$file" "$root$dir/"
	copy_libs "$file"
done

# DPDK drivers: the EAL loads every driver in its plugin dir at start.
pmd=$(pkg-config --variable=pmdsdir libdpdk 2>/dev/null || true)
[ -n "$pmd" ] || pmd=$(ls -d /usr/lib/*/dpdk/pmds-* 2>/dev/null | head -n1)
if [ -n "$pmd" ] && [ -d "$pmd" ]; then
	for d in $DPDK_DRIVERS; do
		f=$pmd/librte_$d.so
		[ -e "$f" ] || { echo "image: DPDK driver $d not found in $pmd" >&2; exit 1; }
		# The EAL scans the dir and loads *.so; one file per driver.
		copy_file "$(realpath "$f")"
		mv "$root$(realpath "$f")" "$root$pmd/librte_$d.so"
		copy_libs "$f"
	done
fi

# The loader's cache, so the libraries are found in their multiarch dirs.
for d in $(cd "$root" && find usr/lib usr/lib64 -name '*.so*' -printf '/%h\n' | sort -u); do
	echo "$d"
done >"$root"/etc/ld.so.conf
ldconfig -r "$root"

printf 'root:x:0:0:root:/:/usr/bin/false\n' >"$root"/etc/passwd
printf 'root:x:0:\n' >"$root"/etc/group
cp Containerfile "$work"/

# A private, throw-away podman storage: nothing lands in the machine's own.
pm=(podman --root "$work/storage" --runroot "$work/run" --tmpdir "$work/tmp" --storage-driver vfs)
mkdir -p "$work/tmp"
"${pm[@]}" build -q --timestamp 0 --network none -t "$ref" -f "$work/Containerfile" "$work" >/dev/null
rm -f "$out.tmp"
"${pm[@]}" save -q --format docker-archive -o "$out.tmp" "$ref"
mv "$out.tmp" "$out"
size=$(du -k "$out" | cut -f1)
echo "image: $ref -> $out (${size} KiB, $(find "$root" -type f | wc -l) files)"
