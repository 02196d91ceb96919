#!/usr/bin/env bash
# Unpacks a Debian source package into a directory, with Debian's patches
# applied (debian/patches/series), from Debian's archive: the tarballs are
# downloaded once into a cache dir and checked against the pinned sha256
# (from the bookworm Sources index) before use.
#
# Usage: hack/debian-src.sh OUTDIR CACHEDIR POOLDIR ORIG SHA256 DEBIAN SHA256
#   e.g. build/static/src/cjson build/static/dl pool/main/c/cjson \
#        cjson_1.7.15.orig.tar.gz 5308fd4b... cjson_1.7.15-1+deb12u4.debian.tar.xz afd19a97...
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
out=$1 cache=$2 pool=$3
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"
fetch() { # FILE SHA256
	local f=$cache/$1
	if [ ! -s "$f" ] || ! echo "$2  $f" | sha256sum -c --status; then
		curl -fsSL --retry 3 -o "$f.part" "$mirror/$pool/$1" ||
			{ echo "debian-src: cannot download $mirror/$pool/$1" >&2; exit 1; }
		mv "$f.part" "$f"
	fi
	echo "$2  $f" | sha256sum -c --status ||
		{ echo "debian-src: $1: sha256 mismatch (expected $2)" >&2; rm -f "$f"; exit 1; }
}
fetch "$4" "$5"
fetch "$6" "$7"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
tar -xf "$cache/$4" -C "$out.tmp" --strip-components=1
tar -xf "$cache/$6" -C "$out.tmp"
if [ -f "$out.tmp/debian/patches/series" ]; then
	grep -v '^\s*\(#\|$\)' "$out.tmp/debian/patches/series" | while read -r p _; do
		patch -d "$out.tmp" -p1 -s <"$out.tmp/debian/patches/$p"
	done
fi
rm -rf "$out"
mv "$out.tmp" "$out"
