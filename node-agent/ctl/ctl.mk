# hostlanectl: the agent's CLI.
# inject and install-lib (inject.c) use lib/inject, as the webhook does.
$(eval $(call inc,node-agent/ctl,-Inode-agent/ctl -Ilib/agent -Ilib/inject -Ilib/util))
$(BUILD)/bin/hostlanectl: $(call objs,node-agent/ctl/hostlanectl.c node-agent/ctl/inject.c) \
  $(BUILD)/lib/libhlagent.a $(BUILD)/lib/libhlinject.a $(BUILD)/lib/libhlutil.a
$(BUILD)/bin/hostlanectl: LDLIBS += -lcjson $(INJECT_LDLIBS)
BINS += $(BUILD)/bin/hostlanectl
INSTALL_BINS += $(BUILD)/bin/hostlanectl
CPPCHECK_DIRS += node-agent/ctl
