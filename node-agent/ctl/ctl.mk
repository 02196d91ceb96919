# hostlanectl: the agent's CLI.
$(eval $(call inc,node-agent/ctl,-Ilib/agent))
$(BUILD)/bin/hostlanectl: $(call objs,node-agent/ctl/hostlanectl.c) $(BUILD)/lib/libhlagent.a
$(BUILD)/bin/hostlanectl: LDLIBS += -lcjson
BINS += $(BUILD)/bin/hostlanectl
INSTALL_BINS += $(BUILD)/bin/hostlanectl
CPPCHECK_DIRS += node-agent/ctl
