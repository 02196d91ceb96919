# cni-plugin: the CNI binary (build/bin/hostlane). Links the shared netlink
# library (lib/netlink), the agent client (lib/agent) and lib/util.
CNI_CORE_SRCS := $(addprefix cni-plugin/src/,errlog.c env.c result.c conf.c cache.c)
CNI_SRCS      := $(CNI_CORE_SRCS) $(addprefix cni-plugin/src/,ipam.c cmd_common.c cmd_add.c \
                 cmd_del.c cmd_check.c dispatch.c agent.c)
CNI_LIBS      := $(BUILD)/lib/libhlagent.a $(BUILD)/lib/libhlnl.a $(BUILD)/lib/libhlutil.a
CNI_LDLIBS    := -lcjson -lmnl
$(eval $(call inc,cni-plugin,-Icni-plugin/src -Ilib/netlink -Ilib/agent -Ilib/util))
$(eval $(call inc,cni-plugin/tests,-Itest/lib))

$(BUILD)/bin/hostlane: $(call objs,cni-plugin/src/main.c $(CNI_SRCS)) $(CNI_LIBS)
$(BUILD)/bin/hostlane: LDLIBS += $(CNI_LDLIBS)

CNI_TESTS := config result env cache
$(foreach t,$(CNI_TESTS),$(eval \
  $(BUILD)/test/test_cni_$(t): $(call objs,cni-plugin/tests/test_cni_$(t).c $(CNI_SRCS)) $(CNI_LIBS)))
$(foreach t,$(CNI_TESTS),$(eval $(BUILD)/test/test_cni_$(t): LDLIBS += $(CNI_LDLIBS)))

# The network config parser reads whatever a config writer put there.
$(BUILD)/fuzz/fuzz_cni_config: $(call fuzzobjs,cni-plugin/fuzz/fuzz_cni_config.c $(CNI_CORE_SRCS) \
  lib/util/fs.c)
$(BUILD)/fuzz/fuzz_cni_config: LDLIBS += -lcjson

BINS       += $(BUILD)/bin/hostlane
UNIT_TESTS += $(foreach t,$(CNI_TESTS),$(BUILD)/test/test_cni_$(t))
FUZZERS    += $(BUILD)/fuzz/fuzz_cni_config
INSTALL_CNI += $(BUILD)/static/bin/hostlane
CPPCHECK_DIRS += cni-plugin

# The self-contained (static) plugin.
include cni-plugin/static/static.mk

# The installer (hostlane-install).
include cni-plugin/install/install.mk

# hostlane-conf-check: network configs through the plugin's own parser
# (test/integration/k8s-manifests.sh).
$(BUILD)/test/hostlane-conf-check: $(call objs,cni-plugin/tests/conf_check.c $(CNI_CORE_SRCS)) $(BUILD)/lib/libhlutil.a
$(BUILD)/test/hostlane-conf-check: LDLIBS += -lcjson
tests: $(BUILD)/test/hostlane-conf-check
