# libhlagent.a: the agent protocol client (CNI plugin, hostlanectl).
HLAGENT_SRCS := node-agent/client/hlagent.c
CPPFLAGS += -Inode-agent/client
$(BUILD)/lib/libhlagent.a: $(call objs,$(HLAGENT_SRCS))
LIBS += $(BUILD)/lib/libhlagent.a
CPPCHECK_DIRS += node-agent/client
