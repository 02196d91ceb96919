# lib/util (libhlutil.a): file-system helpers (hl_util.h: mkdir -p, whole
# writes, atomic file replacement, flock), quantities of bytes, a growing
# buffer, and the agent's event loop (hl_loop.h). Users: the plugin, the
# agent, the VF code, the monitor, the Kubernetes client, lib/inject, the webhook.
UTIL_SRCS := lib/util/buf.c lib/util/fs.c lib/util/loop.c lib/util/quantity.c
$(eval $(call inc,lib/util,-Ilib/util))
$(BUILD)/lib/libhlutil.a: $(call objs,$(UTIL_SRCS))
LIBS += $(BUILD)/lib/libhlutil.a
CPPCHECK_DIRS += lib/util

$(eval $(call inc,lib/util/tests,-Itest/lib))
$(BUILD)/test/test_util: $(call objs,lib/util/tests/test_util.c) $(BUILD)/lib/libhlutil.a
UNIT_TESTS += $(BUILD)/test/test_util
