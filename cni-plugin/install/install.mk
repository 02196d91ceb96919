# hostlane-install: the installer the DaemonSet's init and keeper containers
# run (build/bin/hostlane-install), its unit test and fuzz harness.
HLI_SRCS := cni-plugin/install/config.c cni-plugin/install/conflist.c \
            cni-plugin/install/files.c cni-plugin/install/modes.c
HLI_PARSERS := cni-plugin/install/config.c cni-plugin/install/conflist.c
# (cni-plugin's include dirs apply here too: lib/netlink, lib/util.)
$(eval $(call inc,cni-plugin/install,-Inode-agent/k8s))
$(eval $(call inc,cni-plugin/install/tests,-Itest/lib))
$(BUILD)/bin/hostlane-install: $(call objs,cni-plugin/install/main.c $(HLI_SRCS)) \
                               $(BUILD)/lib/libhlnl.a $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlutil.a
$(BUILD)/bin/hostlane-install: LDLIBS += -lcurl -lcjson -lyaml -lpthread -lmnl

$(BUILD)/test/test_install: $(call objs,cni-plugin/install/tests/test_install.c $(HLI_SRCS)) \
                            $(BUILD)/lib/libhlnl.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_install: LDLIBS += -lcjson -lmnl

$(BUILD)/fuzz/fuzz_install_conf: $(call fuzzobjs,cni-plugin/install/fuzz/fuzz_install_conf.c $(HLI_PARSERS))
$(BUILD)/fuzz/fuzz_install_conf: LDLIBS += -lcjson

BINS       += $(BUILD)/bin/hostlane-install
UNIT_TESTS += $(BUILD)/test/test_install
FUZZERS    += $(BUILD)/fuzz/fuzz_install_conf
INSTALL_BINS += $(BUILD)/bin/hostlane-install
