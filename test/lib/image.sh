# shellcheck shell=bash
# The hostlane image for a test: loaded from the archive `make image` wrote
# (built here first if missing) into a podman storage private to the run.
# Source test/lib/tap.sh first, then call image_setup.
#
#   IMG_REF     the image's name:tag (localhost/hostlane:<VERSION>)
#   IMG_TMP     the run's temp dir (removed on exit)
#   pm ARGS     podman with the private storage
#   IMG_RUN     options every `pm run` needs here (runc, ulimits)

image_setup() {
	need_root
	command -v podman >/dev/null || tap_skip_all "podman is not installed (hack/deps.sh installs it)"
	command -v runc >/dev/null || tap_skip_all "runc is not installed (hack/deps.sh installs it)"
	local ver
	ver=$(cat "$HOSTLANE_TOP/VERSION")
	IMG_TAR=${IMAGE_TAR:-$BUILD/image/hostlane-$ver.tar}
	IMG_REF=${IMAGE_REF:-localhost/hostlane:$ver}
	case $IMG_TAR in /*) ;; *) IMG_TAR=$HOSTLANE_TOP/$IMG_TAR ;; esac
	if [ ! -s "$IMG_TAR" ]; then
		# make test builds it; a test run alone builds it here.
		make -C "$HOSTLANE_TOP" -s BUILD="$BUILD" image >/dev/null 2>&1 || {
			tap_fail "the image builds (make image)" "$(make -C "$HOSTLANE_TOP" BUILD="$BUILD" image 2>&1 | tail -n 20)"
			tap_done; exit 1
		}
	fi
	IMG_TMP=$(mktemp -d "/tmp/hlimg-$$.XXXXXX")
	mkdir -p "$IMG_TMP/tmp"
	on_exit image_cleanup
	IMG_RUN=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
	if ! out=$(pm load -q -i "$IMG_TAR" 2>&1); then
		tap_fail "podman load accepts the archive" "$out"
		tap_done; exit 1
	fi
}

pm() {
	podman --root "$IMG_TMP/root" --runroot "$IMG_TMP/runroot" --tmpdir "$IMG_TMP/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}

image_cleanup() {
	pm rm -a -f -t 0 >/dev/null 2>&1
	awk -v t="$IMG_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$IMG_TMP"
}
