# hlvf: SR-IOV VF pool and VF configuration (libhlvf.a), its CLI/test driver
# (hlvf), Check tests and fuzz harnesses. Its netlink is libhlnl
# (lib/netlink). The agent links $(BUILD)/lib/libhlvf.a and libhlnl.a with
# LDLIBS += $(HLVF_LDLIBS).
HLVF_SRCS   := node-agent/vf/pool.c node-agent/vf/record.c node-agent/vf/sysfs.c \
               node-agent/vf/nl.c node-agent/vf/pf.c node-agent/vf/attach.c \
               node-agent/vf/conf.c
HLVF_LDLIBS := $(HLNL_LDLIBS) -lcjson -lpthread
HLVF_DEPS   := $(BUILD)/lib/libhlvf.a $(BUILD)/lib/libhlnl.a $(BUILD)/lib/libhlutil.a
$(eval $(call inc,node-agent/vf,-Inode-agent/vf -Ilib/netlink -Ilib/util))
$(eval $(call inc,node-agent/vf/tests,-Itest/lib))

$(BUILD)/lib/libhlvf.a: $(call objs,$(HLVF_SRCS))
LIBS += $(BUILD)/lib/libhlvf.a

# hlvf: operator/debug CLI over the library; test/integration/vf-*.sh drive it.
$(BUILD)/bin/hlvf: $(call objs,node-agent/vf/hlvf_tool.c) $(HLVF_DEPS)
$(BUILD)/bin/hlvf: LDLIBS += $(HLVF_LDLIBS)
BINS += $(BUILD)/bin/hlvf

$(BUILD)/test/test_vf: $(call objs,node-agent/vf/tests/test_vf.c) $(HLVF_DEPS)
$(BUILD)/test/test_vf: LDLIBS += $(HLVF_LDLIBS)
$(BUILD)/test/test_vf_netlink: $(call objs,node-agent/vf/tests/test_vf_netlink.c) $(HLVF_DEPS)
$(BUILD)/test/test_vf_netlink: LDLIBS += $(HLVF_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_vf $(BUILD)/test/test_vf_netlink

# Fuzzers: the "vf" config parser, the persisted record decoder. (The PF's
# IFLA_VFINFO_LIST decoder is libhlnl's: lib/netlink/fuzz.)
HLVF_FUZZOBJS := $(call fuzzobjs,$(HLVF_SRCS) $(HLNL_SRCS) lib/util/fs.c)
$(BUILD)/fuzz/fuzz_vf_conf: $(BUILD)/fuzzobj/node-agent/vf/fuzz/fuzz_vf_conf.o $(HLVF_FUZZOBJS)
$(BUILD)/fuzz/fuzz_vf_record: $(BUILD)/fuzzobj/node-agent/vf/fuzz/fuzz_vf_record.o $(HLVF_FUZZOBJS)
$(BUILD)/fuzz/fuzz_vf_conf $(BUILD)/fuzz/fuzz_vf_record: LDLIBS += $(HLVF_LDLIBS)
FUZZERS += $(BUILD)/fuzz/fuzz_vf_conf $(BUILD)/fuzz/fuzz_vf_record

CPPCHECK_DIRS += node-agent/vf
