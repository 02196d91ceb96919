# Test helpers: small C programs the integration tests, the benchmarks and
# the demo drive. Not installed.

# cni-bench: times CNI ADD/DEL calls (fork to exit) for hack/bench.d/10-cni.sh.
$(BUILD)/bin/cni-bench: $(call objs,test/tools/cni-bench.c)
BINS          += $(BUILD)/bin/cni-bench
CPPCHECK_DIRS += test/tools

# ping-pong: a plain TCP client/server (Redis's PING line); its musl build
# ($(BUILD)/musl/bin/ping-pong, libhostlane/musl.mk) is the unmodified
# musl-linked program of the preload and injection tests.
$(BUILD)/bin/ping-pong: $(call objs,test/tools/ping-pong.c)
BINS += $(BUILD)/bin/ping-pong
