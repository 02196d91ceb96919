# fpga-ctl: the connection-setup engine's ABI (fpgactl_abi.h), its API
# (fpgactl.h) and the software backend, the reference engine
# (libfpgactl.a). docs/fpga.md says what is built.
FPGACTL_SRCS := $(addprefix fpga-ctl/src/,api.c ring.c backend_sw.c engine.c sched.c table.c hash.c \
  backend_fpga.c map_vfio.c map_model.c)
$(eval $(call inc,fpga-ctl,-Ifpga-ctl/include -Ifpga-ctl/src))
$(eval $(call inc,fpga-ctl/tests,-Itest/lib))
CPPCHECK_DIRS += fpga-ctl
$(BUILD)/lib/libfpgactl.a: $(call objs,$(FPGACTL_SRCS))
LIBS += $(BUILD)/lib/libfpgactl.a
FCTL_RIG := $(call objs,fpga-ctl/tests/fctl_rig.c)
FCTL_MODEL_PROC := $(call objs,fpga-ctl/tests/fctl_model_proc.c)
$(foreach t,ring engine,$(eval \
  $(BUILD)/test/test_fpgactl_$(t): $(call objs,fpga-ctl/tests/test_fpgactl_$(t).c) $(FCTL_RIG) $(BUILD)/lib/libfpgactl.a))
UNIT_TESTS += $(BUILD)/test/test_fpgactl_ring $(BUILD)/test/test_fpgactl_engine
# the driver against the model: the model is built first
$(BUILD)/test/test_fpgactl_model: $(call objs,fpga-ctl/tests/test_fpgactl_model.c) $(FCTL_RIG) \
  $(FCTL_MODEL_PROC) $(BUILD)/lib/libfpgactl.a | $(BUILD)/bin/hostlane-fpga-model
UNIT_TESTS += $(BUILD)/test/test_fpgactl_model
# the vfio layer against a fake system call layer (white-box)
$(BUILD)/test/test_fpgactl_vfio: $(call objs,fpga-ctl/tests/test_fpgactl_vfio.c) $(BUILD)/lib/libfpgactl.a
UNIT_TESTS += $(BUILD)/test/test_fpgactl_vfio

# Fuzzers: the engine serving hostile request queues (white-box: every
# write it makes is checked) and a process reading a hostile event queue.
$(eval $(call inc,fpga-ctl/fuzz,-Ifpga-ctl/src))
$(BUILD)/fuzz/fuzz_fctl_requests: $(call fuzzobjs,$(FPGACTL_SRCS) fpga-ctl/fuzz/fuzz_fctl_requests.c)
$(BUILD)/fuzz/fuzz_fctl_events: $(call fuzzobjs,$(FPGACTL_SRCS) fpga-ctl/fuzz/fuzz_fctl_events.c)
FUZZERS += $(BUILD)/fuzz/fuzz_fctl_requests $(BUILD)/fuzz/fuzz_fctl_events

# The RTL (fpga-ctl/rtl): Verilator testbenches, each a differential test
# against the reference engine's C (linked from libfpgactl.a), built once
# into $(BUILD)/rtl/<name>/ and rebuilt only when a source changes.
RTL := fpga-ctl/rtl
RTL_INC := $(RTL)/hlf_engine_defs.svh $(RTL)/hlf_engine_seq.svh
VERILATOR ?= verilator
# rtl_tb(name, top module, sources, verilator flags): $(BUILD)/test/test_rtl_<name>
define rtl_tb
$(BUILD)/test/test_rtl_$(1): $(3) $(RTL_INC) $(BUILD)/lib/libfpgactl.a
	@mkdir -p $(BUILD)/rtl/$(1) $$(@D)
	$$(call msg,VERILATE,$$@)
	$(Q)$(VERILATOR) --cc --exe --build -j 2 -Wall -I$(RTL) --Mdir $(BUILD)/rtl/$(1) --top-module $(2) $(4) \
	  -CFLAGS "-I$(CURDIR)/fpga-ctl/include -I$(CURDIR)/fpga-ctl/src -O1 $(SANFLAGS)" \
	  -LDFLAGS "$(CURDIR)/$(BUILD)/lib/libfpgactl.a $(SANFLAGS)" -o tb \
	  $(foreach s,$(3),$(CURDIR)/$(s)) >$(BUILD)/rtl/$(1).log 2>&1 || { tail -n 30 $(BUILD)/rtl/$(1).log; false; }
	$(Q)cp $(BUILD)/rtl/$(1)/tb $$@
UNIT_TESTS += $(BUILD)/test/test_rtl_$(1)
endef
$(eval $(call rtl_tb,table,tb_table_top,$(RTL)/hlf_hash.sv $(RTL)/hlf_table.sv $(RTL)/tb/tb_table_top.sv $(RTL)/tb/tb_table.cpp))
$(eval $(call rtl_tb,qm,hlf_qm,$(RTL)/hlf_qm.sv $(RTL)/tb/tb_qm.cpp,-GNQ=8))
RTL_SRCS := $(addprefix $(RTL)/,hlf_hash.sv hlf_table.sv hlf_tables.sv hlf_qm.sv hlf_engine.sv hlf_top.sv)
$(eval $(call rtl_tb,top,hlf_top,$(RTL_SRCS) $(RTL)/tb/tb_top.cpp,-GNQ=8 -GPOD_LOG2=3 -GLSN_LOG2=3 -GPAIR_LOG2=3 -GSVC_LOG2=2 -GPOL_LOG2=3))
# whole request streams through hlf_top (the request pipeline) and the
# reference engine: identical memory, counters and queue state
RTL_ENG_GEOM := -GNQ=8 -GPOD_LOG2=4 -GLSN_LOG2=4 -GPAIR_LOG2=5 -GSVC_LOG2=2 -GPOL_LOG2=3 -GN_EPS=64
$(eval $(call rtl_tb,engine,hlf_top,$(RTL_SRCS) $(RTL)/tb/tb_engine.cpp,$(RTL_ENG_GEOM)))

# make check lints the RTL (Verilator, every warning on); make fpga builds
# the RTL testbenches and synthesizes (hack/fpga-synth.sh: yosys, and
# nextpnr-ice40 for a placed and routed fmax), reports in $(BUILD)/rtl/synth/.
fpga-lint:
	$(VERILATOR) --lint-only -Wall -I$(RTL) --top-module hlf_top $(RTL_SRCS)
check: fpga-lint
# (10^6 requests through test_rtl_engine, with the requests/s projected at
# the placed-and-routed iCE40 fmax of the pods table: the pipeline itself
# is too large for an iCE40 to place, and its table lookups are its
# slowest path there).
fpga: $(filter $(BUILD)/test/test_rtl_%,$(UNIT_TESTS))
	BUILD=$(BUILD) hack/fpga-synth.sh
	$(BUILD)/test/test_rtl_engine 1000000 $$(grep -oE "Max frequency for clock +'[^']*': [0-9.]+ MHz" \
	  $(BUILD)/rtl/synth/ice40_table.pnr.log 2>/dev/null | tail -1 | grep -oE '[0-9.]+ MHz' | cut -d' ' -f1)
.PHONY: fpga-lint fpga

# The device model: hlf_top with its default geometry behind a unix socket.
$(BUILD)/bin/hostlane-fpga-model: $(RTL_SRCS) $(RTL_INC) fpga-ctl/model/hlf_model.cpp fpga-ctl/src/model_proto.h
	@mkdir -p $(BUILD)/rtl/model $(@D)
	$(call msg,VERILATE,$@)
	$(Q)$(VERILATOR) --cc --exe --build -j 2 -Wall -I$(RTL) --Mdir $(BUILD)/rtl/model --top-module hlf_top \
	  -CFLAGS "-I$(CURDIR)/fpga-ctl/include -I$(CURDIR)/fpga-ctl/src -O1 $(SANFLAGS)" \
	  -LDFLAGS "-lm $(SANFLAGS)" -o model $(foreach s,$(RTL_SRCS) fpga-ctl/model/hlf_model.cpp,$(CURDIR)/$(s)) \
	  >$(BUILD)/rtl/model.log 2>&1 || { tail -n 30 $(BUILD)/rtl/model.log; false; }
	$(Q)cp $(BUILD)/rtl/model/model $@
BINS += $(BUILD)/bin/hostlane-fpga-model

# fctl-bench: the software engine's capacity on one core (hack/bench.d/60-engine.sh).
$(BUILD)/bin/fctl-bench: $(call objs,fpga-ctl/tests/fctl_bench.c) $(BUILD)/lib/libfpgactl.a
BINS += $(BUILD)/bin/fctl-bench
