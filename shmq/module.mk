# shmq: shared-memory SPSC rings (libshmq), its tests, bench and fuzzer.
SHMQ_SRCS := $(addprefix shmq/src/,ring.c ring_msg.c ring_stream.c ring_grow.c ring_poll.c notify.c region.c fault.c)
SHMQ_OBJS := $(call objs,$(SHMQ_SRCS))
CPPCHECK_DIRS += shmq

# shmq sees its own headers and nothing else (integration/zz-quality proves it).
$(eval $(call inc,shmq,-Ishmq/include))
$(eval $(call inc,shmq/src,-DSHMQ_BUILDING -Ishmq/src))

$(BUILD)/lib/libshmq.a: $(SHMQ_OBJS)
$(BUILD)/lib/libshmq.so: $(SHMQ_OBJS) shmq/libshmq.map
$(BUILD)/lib/libshmq.so: VERSION_SCRIPT := shmq/libshmq.map
$(BUILD)/lib/libshmq.so: SONAME := libshmq.so.1
SONAME_libshmq.so := libshmq.so.1
LIBS += $(BUILD)/lib/libshmq.a $(BUILD)/lib/libshmq.so
INSTALL_LIBS += $(BUILD)/lib/libshmq.a $(BUILD)/lib/libshmq.so
INSTALL_HEADERS += shmq/include/shmq.h shmq/include/shmq_abi.h

# Unit tests (Check): one binary per concern, sharing a small helper.
SHMQ_TESTS := func twoproc hostile sleep death ends fault grow grow_hostile
SHMQ_TESTLIB := $(call objs,shmq/tests/shmq_testlib.c)
# (before the rule with the library: link order)
$(BUILD)/test/test_shmq_grow $(BUILD)/test/test_shmq_grow_hostile: $(call objs,shmq/tests/shmq_testgrow.c)
$(foreach t,$(SHMQ_TESTS),$(eval \
  $(BUILD)/test/test_shmq_$(t): $(call objs,shmq/tests/test_shmq_$(t).c) $(SHMQ_TESTLIB) $(BUILD)/lib/libshmq.a))
UNIT_TESTS += $(foreach t,$(SHMQ_TESTS),$(BUILD)/test/test_shmq_$(t))

# Benchmark.
$(BUILD)/bin/shmq-bench: $(call objs,$(addprefix shmq/bench/,shmq_bench.c bench_util.c bench_setup.c \
  bench_loop.c)) $(BUILD)/lib/libshmq.a
$(BUILD)/bin/shmq-bench: LDLIBS += -lm
BINS += $(BUILD)/bin/shmq-bench

# Fuzzer: the library is rebuilt with the fuzz flags.
$(eval $(call inc,shmq/fuzz,-Ishmq/src -DSHMQ_BUILDING))
$(BUILD)/fuzz/fuzz_shmq_ring: $(call fuzzobjs,$(SHMQ_SRCS) shmq/fuzz/fuzz_shmq_ring.c)
FUZZERS += $(BUILD)/fuzz/fuzz_shmq_ring
$(BUILD)/fuzz/fuzz_shmq_grow: $(call fuzzobjs,$(SHMQ_SRCS) shmq/fuzz/fuzz_shmq_grow.c)
FUZZERS += $(BUILD)/fuzz/fuzz_shmq_grow

# White-box tests see the private header (to print ring state on failure).
$(eval $(call inc,shmq/tests,-Ishmq/src -Itest/lib))
$(eval $(call inc,shmq/bench,-Itest/lib))
