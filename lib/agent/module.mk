# lib/agent (libhlagent.a): the client of the agent protocol (hlagent.h:
# requests, replies, CNI error codes). Users: the plugin and hostlanectl.
HLAGENT_SRCS := lib/agent/hlagent.c
HLAGENT_LDLIBS := -lcjson
$(eval $(call inc,lib/agent,-Ilib/agent))
$(BUILD)/lib/libhlagent.a: $(call objs,$(HLAGENT_SRCS))
LIBS += $(BUILD)/lib/libhlagent.a
CPPCHECK_DIRS += lib/agent
