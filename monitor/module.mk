# monitor (libhlmonitor.a): the software control plane hostlaned hosts on
# its loop: each shm pod's @hostlane endpoint, the pod protocol's requests,
# regions, slots and direct regions (docs/monitor.md). Public header:
# monitor/include/monitor.h.
MON_SRCS := $(addprefix monitor/src/,pod.c client.c request.c connect.c region.c stats.c quota.c netfilter.c \
              svcmap.c services.c admit.c grant.c policy.c policy_match.c cp.c cp_want.c cp_check.c)
MON_DEPS := $(BUILD)/lib/libhlproto.a $(BUILD)/lib/libhlutil.a $(BUILD)/lib/libshmq.a $(BUILD)/lib/libfpgactl.a
$(eval $(call inc,monitor,-Imonitor/include))
$(eval $(call inc,monitor/src,-Imonitor/src -Ilib/proto -Ilib/util -Ishmq/include -Ifpga-ctl/include))
$(BUILD)/lib/libhlmonitor.a: $(call objs,$(MON_SRCS))
LIBS += $(BUILD)/lib/libhlmonitor.a
CPPCHECK_DIRS += monitor

# White-box tests and the harness see the internals.
$(eval $(call inc,monitor/tests,-Imonitor/src -Ilib/proto -Ilib/util -Ishmq/include -Ifpga-ctl/include -Ifpga-ctl/tests -Itest/lib))
$(BUILD)/test/test_mon_quota: $(call objs,monitor/tests/test_mon_quota.c monitor/src/quota.c)
UNIT_TESTS += $(BUILD)/test/test_mon_quota
$(BUILD)/test/test_mon_svcmap: $(call objs,monitor/tests/test_mon_svcmap.c monitor/src/svcmap.c) \
  $(BUILD)/lib/libhlproto.a
UNIT_TESTS += $(BUILD)/test/test_mon_svcmap
# Grants against a monitor on a loop in the test's process (root: netns).
$(BUILD)/test/test_mon_grant: $(call objs,monitor/tests/test_mon_grant.c) $(BUILD)/lib/libhlmonitor.a \
  $(MON_DEPS)
$(BUILD)/test/test_mon_grant: LDLIBS += -lmnl
UNIT_TESTS += $(BUILD)/test/test_mon_grant
# The engine's tables against the monitor's view (root: netns), software
# and the device model.
$(BUILD)/test/test_mon_cp: $(call objs,monitor/tests/test_mon_cp.c) $(FCTL_MODEL_PROC) $(BUILD)/lib/libhlmonitor.a \
  $(MON_DEPS) | $(BUILD)/bin/hostlane-fpga-model
$(BUILD)/test/test_mon_cp: LDLIBS += -lmnl
UNIT_TESTS += $(BUILD)/test/test_mon_cp

# The harness test/integration/monitor.sh drives: a monitor on a loop,
# pods created and inspected through stdin.
$(BUILD)/test/mon-harness: $(call objs,monitor/tests/mon_harness.c monitor/tests/mon_harness_conn.c) $(BUILD)/lib/libhlmonitor.a \
  $(MON_DEPS)
$(BUILD)/test/mon-harness: LDLIBS += -lmnl
tests: $(BUILD)/test/mon-harness

# The stats-region reader reads memory a pod writes.
$(eval $(call inc,monitor/fuzz,-Imonitor/src -Ilib/proto -Ishmq/include -Ifpga-ctl/include))
$(BUILD)/fuzz/fuzz_mon_stats: $(call fuzzobjs,monitor/fuzz/fuzz_mon_stats.c monitor/src/stats.c \
  lib/proto/hl_codec.c)
FUZZERS += $(BUILD)/fuzz/fuzz_mon_stats

# The nftables dump reader reads names and values a pod chose.
$(BUILD)/fuzz/fuzz_mon_nft: $(call fuzzobjs,monitor/fuzz/fuzz_mon_nft.c monitor/src/netfilter.c)
$(BUILD)/fuzz/fuzz_mon_nft: LDLIBS += -lmnl
FUZZERS += $(BUILD)/fuzz/fuzz_mon_nft
