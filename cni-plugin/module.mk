# hostlane CNI plugin (build/bin/hostlane) and its netlink library
# (build/lib/libhlnl.a, reused by the node agent and the VF code).
HLNL_SRCS    := cni-plugin/netlink/hlnl.c
CNI_CORE_SRCS := cni-plugin/src/errlog.c cni-plugin/src/env.c cni-plugin/src/result.c \
                cni-plugin/src/conf.c cni-plugin/src/cache.c
CNI_SRCS     := $(CNI_CORE_SRCS) cni-plugin/src/ipam.c cni-plugin/src/cmd_common.c \
                cni-plugin/src/cmd_add.c cni-plugin/src/cmd_del.c cni-plugin/src/cmd_check.c \
                cni-plugin/src/dispatch.c
CNI_SRCS     += cni-plugin/src/agent.c node-agent/client/hlagent.c # the agent client (node-agent/client)
CPPFLAGS     += -Icni-plugin/netlink

$(BUILD)/lib/libhlnl.a: $(call objs,$(HLNL_SRCS))

$(BUILD)/bin/hostlane: $(call objs,cni-plugin/src/main.c $(CNI_SRCS)) $(BUILD)/lib/libhlnl.a
$(BUILD)/bin/hostlane: LDLIBS += -lcjson -lmnl

CNI_TEST_LIBS := -lcjson -lmnl
$(BUILD)/test/test_cni_config: $(call objs,cni-plugin/tests/test_cni_config.c $(CNI_SRCS)) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_cni_config: LDLIBS += $(CNI_TEST_LIBS)
$(BUILD)/test/test_cni_result: $(call objs,cni-plugin/tests/test_cni_result.c $(CNI_SRCS)) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_cni_result: LDLIBS += $(CNI_TEST_LIBS)
$(BUILD)/test/test_cni_env: $(call objs,cni-plugin/tests/test_cni_env.c $(CNI_SRCS)) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_cni_env: LDLIBS += $(CNI_TEST_LIBS)
$(BUILD)/test/test_cni_cache: $(call objs,cni-plugin/tests/test_cni_cache.c $(CNI_SRCS)) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_cni_cache: LDLIBS += $(CNI_TEST_LIBS)
$(BUILD)/test/test_hlnl: $(call objs,cni-plugin/tests/test_hlnl.c) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_hlnl: LDLIBS += -lmnl

$(BUILD)/fuzz/fuzz_cni_config: $(patsubst %.c,$(BUILD)/fuzzobj/%.o,cni-plugin/fuzz/fuzz_cni_config.c $(CNI_CORE_SRCS))
$(BUILD)/fuzz/fuzz_cni_config: LDLIBS += -lcjson

LIBS       += $(BUILD)/lib/libhlnl.a
BINS       += $(BUILD)/bin/hostlane
UNIT_TESTS += $(BUILD)/test/test_cni_config $(BUILD)/test/test_cni_result \
              $(BUILD)/test/test_cni_env $(BUILD)/test/test_cni_cache $(BUILD)/test/test_hlnl
FUZZERS    += $(BUILD)/fuzz/fuzz_cni_config
INSTALL_CNI += $(BUILD)/bin/hostlane
CPPCHECK_DIRS += cni-plugin

# The installer (hostlane-install).
include cni-plugin/install/install.mk

# hostlane-conf-check: network configs through the plugin's own parser
# (test/integration/k8s-manifests.sh).
$(BUILD)/test/hostlane-conf-check: $(call objs,cni-plugin/tests/conf_check.c $(CNI_CORE_SRCS))
$(BUILD)/test/hostlane-conf-check: LDLIBS += -lcjson
tests: $(BUILD)/test/hostlane-conf-check
