# lib/netlink (libhlnl.a): rtnetlink the libmnl way (links, veths, bridges,
# addresses, routes, namespaces, netns moves, a PF's VF settings). Users:
# the plugin and the VF code. Link with LDLIBS += $(HLNL_LDLIBS).
HLNL_SRCS := $(addprefix lib/netlink/,hlnl.c link.c addr.c route.c vf.c)
HLNL_LDLIBS := -lmnl
$(eval $(call inc,lib/netlink,-Ilib/netlink))
$(BUILD)/lib/libhlnl.a: $(call objs,$(HLNL_SRCS))
LIBS += $(BUILD)/lib/libhlnl.a
CPPCHECK_DIRS += lib/netlink

# test_hlnl: the calls against the real kernel in private namespaces (root);
# test_hlnl_codec: the VF request bytes and the reply decoders on crafted
# messages (no root).
$(eval $(call inc,lib/netlink/tests,-Itest/lib))
$(BUILD)/test/test_hlnl: $(call objs,lib/netlink/tests/test_hlnl.c) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_hlnl: LDLIBS += $(HLNL_LDLIBS)
$(BUILD)/test/test_hlnl_codec: $(call objs,lib/netlink/tests/test_hlnl_codec.c) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_hlnl_codec: LDLIBS += $(HLNL_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_hlnl $(BUILD)/test/test_hlnl_codec

# Fuzzers: every reply a request can get, through hlnl_reply_run() and the
# callback of that request (link look-up and dump, address dump, the ack of
# changes and routes, the PF's IFLA_VFINFO_LIST).
HLNL_FUZZ := fuzz_hlnl_link fuzz_hlnl_addr fuzz_hlnl_ack fuzz_hlnl_vfinfo
HLNL_FUZZOBJS := $(call fuzzobjs,$(HLNL_SRCS))
$(foreach f,$(HLNL_FUZZ),$(eval $(BUILD)/fuzz/$(f): $(BUILD)/fuzzobj/lib/netlink/fuzz/$(f).o $(HLNL_FUZZOBJS)))
$(addprefix $(BUILD)/fuzz/,$(HLNL_FUZZ)): LDLIBS += $(HLNL_LDLIBS)
FUZZERS += $(addprefix $(BUILD)/fuzz/,$(HLNL_FUZZ))
