# libhostlane: the pod-side library — the native API (hostlane.h) and the
# LD_PRELOAD layer (docs/preload.md), one .so. The .so carries its own
# copies of shmq and of the pod-protocol codec (hidden), so a pod needs
# nothing else; the .a needs libshmq.a and libhlproto.a next to it.
HL_LIB_SRCS := libhostlane/src/hostlane.c
HL_LIB_OBJS := $(call objs,$(HL_LIB_SRCS))
CPPCHECK_DIRS += libhostlane
$(eval $(call inc,libhostlane,-Ilibhostlane/include))
$(eval $(call inc,libhostlane/src,-DHL_BUILDING -Ilibhostlane/src -Ilib/proto -Ishmq/include))

$(BUILD)/lib/libhostlane.a: $(HL_LIB_OBJS)
# The LD_PRELOAD layer is in the .so only.
HL_PL_SRCS := $(addprefix libhostlane/src/,pl_libc.c pl_fdtab.c pl_addr.c pl_epset.c pl_ctl.c \
  pl_sock.c pl_spare.c pl_listen.c pl_connect.c pl_data.c pl_fdops.c pl_opt.c pl_ready.c \
  pl_region.c pl_direct.c pl_stats.c pl_poll.c pl_epoll.c pl_spin.c \
  pl_exec.c pl_exec_calls.c pl_exec_restore.c pl_exec_state.c pl_direct_blk.c pl_port.c pl_fork.c \
  pl_wait.c pl_urgent.c pl_fault.c pl_signal.c pl_svc.c pl_share.c)
# The glibc build holds to an old symbol baseline (GLIBC_2.17 at most: it
# loads into old app images too): the calls that would need newer versions
# go through pl_glibc_compat.c (--wrap), and libdl/libpthread are named
# (they held dlsym and the pthread functions before glibc 2.34).
HL_GLIBC_WRAP := dlsym pthread_once pthread_mutex_trylock pthread_rwlock_init \
  pthread_rwlock_rdlock pthread_rwlock_tryrdlock pthread_rwlock_wrlock pthread_rwlock_unlock pthread_key_create \
  pthread_setspecific pthread_sigmask memfd_create fstat
$(BUILD)/lib/libhostlane.so: $(HL_LIB_OBJS) $(call objs,$(HL_PL_SRCS) libhostlane/src/pl_glibc_compat.c) \
  $(BUILD)/lib/libhlproto.a $(BUILD)/lib/libshmq.a libhostlane/libhostlane.map
$(BUILD)/lib/libhostlane.so: VERSION_SCRIPT := libhostlane/libhostlane.map
$(BUILD)/lib/libhostlane.so: SONAME := libhostlane.so.1
$(BUILD)/lib/libhostlane.so: LDLIBS += $(foreach f,$(HL_GLIBC_WRAP),-Wl,--wrap=$(f)) \
  -Wl,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--as-needed
SONAME_libhostlane.so := libhostlane.so.1
LIBS += $(BUILD)/lib/libhostlane.a $(BUILD)/lib/libhostlane.so
INSTALL_LIBS += $(BUILD)/lib/libhostlane.so
INSTALL_HEADERS += libhostlane/include/hostlane.h

# Unit tests of the layer's pure logic: fd table, holders, addresses, epoll
# bookkeeping (no interposition: the objects are linked directly).
$(eval $(call inc,libhostlane/tests,-Ilibhostlane/src -Ilib/proto -Ishmq/include -Itest/lib))
$(BUILD)/test/test_preload_logic: $(call objs,libhostlane/tests/test_preload_logic.c \
  $(addprefix libhostlane/src/,pl_fdtab.c pl_addr.c pl_epset.c pl_stats.c pl_port.c))
$(BUILD)/test/test_preload_logic: LDLIBS += -lpthread
UNIT_TESTS += $(BUILD)/test/test_preload_logic
# The adaptive spin's decisions (pl_spin.h).
$(BUILD)/test/test_preload_spin: $(call objs,libhostlane/tests/test_preload_spin.c libhostlane/src/pl_spin.c)
UNIT_TESTS += $(BUILD)/test/test_preload_spin
# The program's signal actions through the layer's handler (pl_signal.c),
# against libc's own functions.
$(BUILD)/test/test_preload_signal: $(call objs,libhostlane/tests/test_preload_signal.c \
  libhostlane/src/pl_signal.c libhostlane/src/pl_spin.c) $(BUILD)/lib/libshmq.a
$(BUILD)/test/test_preload_signal: LDLIBS += -ldl -lpthread
UNIT_TESTS += $(BUILD)/test/test_preload_signal
# The exec handover state parser.
$(BUILD)/test/test_preload_exec: $(call objs,libhostlane/tests/test_preload_exec.c \
  libhostlane/src/pl_exec_state.c)
UNIT_TESTS += $(BUILD)/test/test_preload_exec

# Fuzzers: the parser of the exec handover state (input from another image)
# and a direct region's control block (memory shared with a peer).
$(eval $(call inc,libhostlane/fuzz,-Ilibhostlane/src -Ilib/proto -Ishmq/include))
$(BUILD)/fuzz/fuzz_pl_exec_state: $(call fuzzobjs,libhostlane/src/pl_exec_state.c \
  libhostlane/fuzz/fuzz_pl_exec_state.c)
$(BUILD)/fuzz/fuzz_pl_direct_blk: $(call fuzzobjs,libhostlane/src/pl_direct_blk.c \
  libhostlane/fuzz/fuzz_pl_direct_blk.c)
FUZZERS += $(BUILD)/fuzz/fuzz_pl_exec_state $(BUILD)/fuzz/fuzz_pl_direct_blk

# Example: moves data between two pods through the handed-out queues (the
# native API; built for the tests and docs, not installed).
$(BUILD)/bin/hostlane-example: $(call objs,libhostlane/example/hostlane_example.c) \
  $(BUILD)/lib/libhostlane.a $(BUILD)/lib/libhlproto.a $(BUILD)/lib/libshmq.a
BINS += $(BUILD)/bin/hostlane-example
include libhostlane/musl.mk
