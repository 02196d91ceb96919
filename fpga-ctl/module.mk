# fpga-ctl: the connection-setup engine's ABI (fpgactl_abi.h), its API
# (fpgactl.h) and the software backend, the reference engine
# (libfpgactl.a). docs/fpga.md says what is built.
FPGACTL_SRCS := $(addprefix fpga-ctl/src/,api.c ring.c backend_sw.c engine.c sched.c table.c hash.c)
$(eval $(call inc,fpga-ctl,-Ifpga-ctl/include -Ifpga-ctl/src))
$(eval $(call inc,fpga-ctl/tests,-Itest/lib))
CPPCHECK_DIRS += fpga-ctl
$(BUILD)/lib/libfpgactl.a: $(call objs,$(FPGACTL_SRCS))
LIBS += $(BUILD)/lib/libfpgactl.a
FCTL_RIG := $(call objs,fpga-ctl/tests/fctl_rig.c)
$(foreach t,ring engine,$(eval \
  $(BUILD)/test/test_fpgactl_$(t): $(call objs,fpga-ctl/tests/test_fpgactl_$(t).c) $(FCTL_RIG) $(BUILD)/lib/libfpgactl.a))
UNIT_TESTS += $(BUILD)/test/test_fpgactl_ring $(BUILD)/test/test_fpgactl_engine

# Fuzzers: the engine serving hostile request queues (white-box: every
# write it makes is checked) and a process reading a hostile event queue.
$(eval $(call inc,fpga-ctl/fuzz,-Ifpga-ctl/src))
$(BUILD)/fuzz/fuzz_fctl_requests: $(call fuzzobjs,$(FPGACTL_SRCS) fpga-ctl/fuzz/fuzz_fctl_requests.c)
$(BUILD)/fuzz/fuzz_fctl_events: $(call fuzzobjs,$(FPGACTL_SRCS) fpga-ctl/fuzz/fuzz_fctl_events.c)
FUZZERS += $(BUILD)/fuzz/fuzz_fctl_requests $(BUILD)/fuzz/fuzz_fctl_events
