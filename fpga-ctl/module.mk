# fpga-ctl: the control-plane backend interface (fpgactl.h) and its software
# backend (libfpgactl.a). Nothing links it yet: docs/monitor.md says what
# is built and docs/roadmap.md what is planned.
FCTL_SRCS := fpga-ctl/src/fctl.c
$(eval $(call inc,fpga-ctl,-Ifpga-ctl/include))
$(eval $(call inc,fpga-ctl/tests,-Itest/lib))
CPPCHECK_DIRS += fpga-ctl
$(BUILD)/lib/libfpgactl.a: $(call objs,$(FCTL_SRCS))
LIBS += $(BUILD)/lib/libfpgactl.a
$(BUILD)/test/test_fctl: $(call objs,fpga-ctl/tests/test_fctl.c) $(BUILD)/lib/libfpgactl.a
UNIT_TESTS += $(BUILD)/test/test_fctl
