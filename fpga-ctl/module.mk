# fpga-ctl: the control-plane backend interface the monitor uses, and its
# software backend (the FPGA backend and device model are a later issue).
FCTL_SRCS := fpga-ctl/src/fctl.c
CPPFLAGS += -Ifpga-ctl/include
CPPCHECK_DIRS += fpga-ctl
$(BUILD)/lib/libfpgactl.a: $(call objs,$(FCTL_SRCS))
LIBS += $(BUILD)/lib/libfpgactl.a
INSTALL_LIBS += $(BUILD)/lib/libfpgactl.a
INSTALL_HEADERS += fpga-ctl/include/fpgactl.h fpga-ctl/include/fpgactl_abi.h
$(BUILD)/test/test_fctl: $(call objs,fpga-ctl/tests/test_fctl.c) $(BUILD)/lib/libfpgactl.a
UNIT_TESTS += $(BUILD)/test/test_fctl
