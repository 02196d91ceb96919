# libhostlane: the pod-side library (native API; issue 5 adds the LD_PRELOAD
# layer to the same .so). The .so carries its own copy of shmq (hidden), so a
# pod needs nothing else; the .a needs libshmq.a next to it.
HL_LIB_SRCS := libhostlane/src/hostlane.c libhostlane/src/hl_codec.c
HL_LIB_OBJS := $(call objs,$(HL_LIB_SRCS))
CPPFLAGS += -Ilibhostlane/include
CPPCHECK_DIRS += libhostlane
$(BUILD)/obj/libhostlane/%.o: CPPFLAGS += -DHL_BUILDING -Ilibhostlane/src -Ishmq/include

$(BUILD)/lib/libhostlane.a: $(HL_LIB_OBJS)
# The LD_PRELOAD layer (docs/preload.md) is in the .so only.
HL_PL_SRCS := libhostlane/src/pl_libc.c libhostlane/src/pl_fdtab.c libhostlane/src/pl_addr.c \
  libhostlane/src/pl_epset.c libhostlane/src/pl_ctl.c libhostlane/src/pl_sock.c libhostlane/src/pl_region.c \
  libhostlane/src/pl_stats.c libhostlane/src/pl_poll.c libhostlane/src/pl_exec.c libhostlane/src/pl_exec_state.c \
  libhostlane/src/pl_direct_blk.c libhostlane/src/pl_port.c
$(BUILD)/lib/libhostlane.so: $(HL_LIB_OBJS) $(call objs,$(HL_PL_SRCS)) $(BUILD)/lib/libshmq.a \
  libhostlane/libhostlane.map
$(BUILD)/lib/libhostlane.so: VERSION_SCRIPT := libhostlane/libhostlane.map
$(BUILD)/lib/libhostlane.so: LDLIBS += -ldl -lpthread

# Unit tests of the layer's pure logic: fd table, holders, addresses, epoll
# bookkeeping (no interposition: the objects are linked directly).
$(BUILD)/test/test_preload_logic: $(call objs,libhostlane/tests/test_preload_logic.c \
  libhostlane/src/pl_fdtab.c libhostlane/src/pl_addr.c libhostlane/src/pl_epset.c \
  libhostlane/src/pl_stats.c libhostlane/src/pl_port.c)
$(BUILD)/test/test_preload_logic: LDLIBS += -lpthread
$(BUILD)/obj/libhostlane/tests/%.o: CPPFLAGS += -Ilibhostlane/src -Ishmq/include
UNIT_TESTS += $(BUILD)/test/test_preload_logic
# The exec handover state parser.
$(BUILD)/test/test_preload_exec: $(call objs,libhostlane/tests/test_preload_exec.c \
  libhostlane/src/pl_exec_state.c)
UNIT_TESTS += $(BUILD)/test/test_preload_exec
LIBS += $(BUILD)/lib/libhostlane.a $(BUILD)/lib/libhostlane.so

INSTALL_LIBS += $(BUILD)/lib/libhostlane.a $(BUILD)/lib/libhostlane.so

# Fuzzer: the parser of the exec handover state (input from another image).
$(BUILD)/fuzzobj/libhostlane/%.o: FUZZ_CFLAGS += -Ilibhostlane/include -Ilibhostlane/src -Ishmq/include
$(BUILD)/fuzz/fuzz_pl_exec_state: $(patsubst %.c,$(BUILD)/fuzzobj/%.o,libhostlane/src/pl_exec_state.c \
  libhostlane/fuzz/fuzz_pl_exec_state.c)
FUZZERS += $(BUILD)/fuzz/fuzz_pl_exec_state
# Fuzzer: a direct region's control block (memory shared with a peer).
$(BUILD)/fuzz/fuzz_pl_direct_blk: $(patsubst %.c,$(BUILD)/fuzzobj/%.o,libhostlane/src/pl_direct_blk.c \
  libhostlane/fuzz/fuzz_pl_direct_blk.c)
FUZZERS += $(BUILD)/fuzz/fuzz_pl_direct_blk
INSTALL_HEADERS += libhostlane/include/hostlane.h libhostlane/include/hostlane_proto.h

# Example: moves data between two pods through the handed-out queues.
$(BUILD)/bin/hostlane-example: $(call objs,libhostlane/example/hostlane_example.c) \
  $(BUILD)/lib/libhostlane.a $(BUILD)/lib/libshmq.a
BINS += $(BUILD)/bin/hostlane-example
INSTALL_BINS += $(BUILD)/bin/hostlane-example
