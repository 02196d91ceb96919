# lib/netlink (libhlnl.a): rtnetlink the libmnl way (links, veths, bridges,
# addresses, routes, namespaces). Users: the plugin and the VF code.
HLNL_SRCS := lib/netlink/hlnl.c
HLNL_LDLIBS := -lmnl
$(eval $(call inc,lib/netlink,-Ilib/netlink))
$(BUILD)/lib/libhlnl.a: $(call objs,$(HLNL_SRCS))
LIBS += $(BUILD)/lib/libhlnl.a
CPPCHECK_DIRS += lib/netlink

$(eval $(call inc,lib/netlink/tests,-Itest/lib))
$(BUILD)/test/test_hlnl: $(call objs,lib/netlink/tests/test_hlnl.c) $(BUILD)/lib/libhlnl.a
$(BUILD)/test/test_hlnl: LDLIBS += $(HLNL_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_hlnl
