# hlvf: SR-IOV VF pool and VF configuration (libhlvf.a), its CLI/test driver
# (hlvf), Check tests and fuzz harnesses. The agent links $(BUILD)/lib/libhlvf.a
# with LDLIBS += $(HLVF_LDLIBS).
HLVF_SRCS   := node-agent/vf/pool.c node-agent/vf/record.c node-agent/vf/sysfs.c \
               node-agent/vf/link.c node-agent/vf/pf.c node-agent/vf/attach.c \
               node-agent/vf/conf.c
HLVF_LDLIBS := -lmnl -lcjson -lpthread
$(eval $(call inc,node-agent/vf,-Inode-agent/vf -Ilib/util))
$(eval $(call inc,node-agent/vf/tests,-Itest/lib))

$(BUILD)/lib/libhlvf.a: $(call objs,$(HLVF_SRCS))
LIBS += $(BUILD)/lib/libhlvf.a

# hlvf: operator/debug CLI over the library; test/integration/vf-*.sh drive it.
$(BUILD)/bin/hlvf: $(call objs,node-agent/vf/hlvf_tool.c) $(BUILD)/lib/libhlvf.a $(BUILD)/lib/libhlutil.a
$(BUILD)/bin/hlvf: LDLIBS += $(HLVF_LDLIBS)
BINS += $(BUILD)/bin/hlvf

$(BUILD)/test/test_vf: $(call objs,node-agent/vf/tests/test_vf.c) \
  $(BUILD)/lib/libhlvf.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_vf: LDLIBS += $(HLVF_LDLIBS)
$(BUILD)/test/test_vf_netlink: $(call objs,node-agent/vf/tests/test_vf_netlink.c) $(BUILD)/lib/libhlvf.a \
  $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_vf_netlink: LDLIBS += $(HLVF_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_vf $(BUILD)/test/test_vf_netlink

# Fuzzers: the PF's IFLA_VFINFO_LIST decoder, the "vf" config parser, the
# persisted record decoder.
HLVF_FUZZOBJS := $(call fuzzobjs,$(HLVF_SRCS) lib/util/fs.c)
$(BUILD)/fuzz/fuzz_vf_pfinfo: $(BUILD)/fuzzobj/node-agent/vf/fuzz/fuzz_vf_pfinfo.o $(HLVF_FUZZOBJS)
$(BUILD)/fuzz/fuzz_vf_conf: $(BUILD)/fuzzobj/node-agent/vf/fuzz/fuzz_vf_conf.o $(HLVF_FUZZOBJS)
$(BUILD)/fuzz/fuzz_vf_record: $(BUILD)/fuzzobj/node-agent/vf/fuzz/fuzz_vf_record.o $(HLVF_FUZZOBJS)
$(BUILD)/fuzz/fuzz_vf_pfinfo $(BUILD)/fuzz/fuzz_vf_conf $(BUILD)/fuzz/fuzz_vf_record: LDLIBS += $(HLVF_LDLIBS)
FUZZERS += $(BUILD)/fuzz/fuzz_vf_pfinfo $(BUILD)/fuzz/fuzz_vf_conf $(BUILD)/fuzz/fuzz_vf_record

CPPCHECK_DIRS += node-agent/vf
