# fpga-ctl: the control-plane backend interface (fpgactl.h) and its software
# backend (libfpgactl.a). Nothing links it yet: docs/monitor.md says what
# is built and docs/roadmap.md what is planned.
FPGACTL_SRCS := fpga-ctl/src/fpgactl.c
$(eval $(call inc,fpga-ctl,-Ifpga-ctl/include))
$(eval $(call inc,fpga-ctl/tests,-Itest/lib))
CPPCHECK_DIRS += fpga-ctl
$(BUILD)/lib/libfpgactl.a: $(call objs,$(FPGACTL_SRCS))
LIBS += $(BUILD)/lib/libfpgactl.a
$(BUILD)/test/test_fpgactl: $(call objs,fpga-ctl/tests/test_fpgactl.c) $(BUILD)/lib/libfpgactl.a
UNIT_TESTS += $(BUILD)/test/test_fpgactl
