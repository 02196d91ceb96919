# vswitch: the vhost-user L2 switch (DPDK) and its control client.
#   build/bin/hostlane-vswitch   the switch process (needs libdpdk)
#   build/lib/libhlvsw.a         hl_vsw_* client/supervisor for the agent (no DPDK)
#   build/bin/hostlane-vswctl    CLI over libhlvsw
VSW_DIR      := vswitch
VSW_LIB_SRCS := $(VSW_DIR)/vsw_client.c $(VSW_DIR)/vsw_names.c \
                $(VSW_DIR)/vsw_supervisor.c $(VSW_DIR)/vsw_adopt.c \
                $(VSW_DIR)/vsw_sup_ports.c $(VSW_DIR)/vsw_backoff.c \
                $(VSW_DIR)/vsw_pidfile.c $(VSW_DIR)/vsw_proto.c
VSW_SW_SRCS  := $(VSW_DIR)/vsw_main.c $(VSW_DIR)/vswitch.c $(VSW_DIR)/vsw_fwd.c $(VSW_DIR)/vsw_ctl.c \
                $(VSW_DIR)/vsw_mac.c $(VSW_DIR)/vsw_pidfile.c $(VSW_DIR)/vsw_proto.c
HLVSW_LDLIBS := -lcjson
$(eval $(call inc,$(VSW_DIR),-I$(VSW_DIR)))
$(eval $(call inc,$(VSW_DIR)/tests,-Itest/lib))

$(BUILD)/lib/libhlvsw.a: $(call objs,$(VSW_LIB_SRCS))
$(BUILD)/bin/hostlane-vswctl: $(call objs,$(VSW_DIR)/vswctl.c) $(BUILD)/lib/libhlvsw.a
$(BUILD)/bin/hostlane-vswctl: LDLIBS += $(HLVSW_LDLIBS)
LIBS         += $(BUILD)/lib/libhlvsw.a
BINS         += $(BUILD)/bin/hostlane-vswctl
INSTALL_BINS += $(BUILD)/bin/hostlane-vswctl

$(BUILD)/test/test_vsw: $(call objs,$(VSW_DIR)/tests/test_vsw.c $(VSW_DIR)/vsw_mac.c) \
                        $(BUILD)/lib/libhlvsw.a
$(BUILD)/test/test_vsw: LDLIBS += $(HLVSW_LDLIBS)
UNIT_TESTS   += $(BUILD)/test/test_vsw

$(BUILD)/test/test_vsw_life: $(call objs,$(VSW_DIR)/tests/test_vsw_life.c) $(BUILD)/lib/libhlvsw.a
$(BUILD)/test/test_vsw_life: LDLIBS += $(HLVSW_LDLIBS)
UNIT_TESTS   += $(BUILD)/test/test_vsw_life

$(BUILD)/fuzz/fuzz_vsw_ctl: $(call fuzzobjs,$(VSW_DIR)/fuzz/fuzz_vsw_ctl.c $(VSW_DIR)/vsw_proto.c \
                              $(VSW_DIR)/vsw_pidfile.c)
FUZZERS      += $(BUILD)/fuzz/fuzz_vsw_ctl
CPPCHECK_DIRS += $(VSW_DIR)

# The switch needs DPDK; without it the rest still builds.
VSW_DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
VSW_DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)
ifneq ($(VSW_DPDK_LIBS),)
# DPDK headers as system headers: our -W flags are for our code.
$(call objs,$(VSW_DIR)/vswitch.c $(VSW_DIR)/vsw_fwd.c $(VSW_DIR)/vsw_main.c): CFLAGS += $(patsubst -I%,-isystem %,$(VSW_DPDK_CFLAGS))
$(BUILD)/bin/hostlane-vswitch: $(call objs,$(VSW_SW_SRCS))
$(BUILD)/bin/hostlane-vswitch: LDLIBS += $(VSW_DPDK_LIBS) -lpthread
BINS         += $(BUILD)/bin/hostlane-vswitch
INSTALL_BINS += $(BUILD)/bin/hostlane-vswitch
endif
