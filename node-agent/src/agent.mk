# hostlaned: the node agent daemon. It hosts the monitor (monitor/) on its
# loop and links the Kubernetes client (node-agent/k8s), the VF pool
# (node-agent/vf) and the switch's client and supervisor (vswitch/).
AGENT_CORE_SRCS := $(addprefix node-agent/src/,config.c cp_config.c fastpath.c log.c proto.c state.c)
AGENT_SRCS := $(AGENT_CORE_SRCS) $(addprefix node-agent/src/,server.c pods.c cni_ops.c query.c \
              reconcile.c metrics.c metrics_http.c main.c devices.c noderes.c hugepages.c vsw_external.c kube.c netpol.c \
              netpol_unknown.c ctlplane.c)
AGENT_LIBS := $(BUILD)/lib/libhlnetpol.a $(BUILD)/lib/libhlmonitor.a $(BUILD)/lib/libfpgactl.a $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlvsw.a \
              $(BUILD)/lib/libhlvf.a $(BUILD)/lib/libhlnl.a $(BUILD)/lib/libhlproto.a \
              $(BUILD)/lib/libhlutil.a $(BUILD)/lib/libshmq.a
AGENT_LDLIBS := $(HLK8S_LDLIBS) -lcjson -lmnl -lpthread
$(eval $(call inc,node-agent/src,-Inode-agent/src -Imonitor/include -Ifpga-ctl/include -Inode-agent/k8s -Inode-agent/netpol \
  -Inode-agent/vf -Ivswitch -Ilib/agent -Ilib/util -Ishmq/include))

$(BUILD)/bin/hostlaned: $(call objs,$(AGENT_SRCS)) $(AGENT_LIBS)
$(BUILD)/bin/hostlaned: LDLIBS += $(AGENT_LDLIBS)
BINS += $(BUILD)/bin/hostlaned
INSTALL_BINS += $(BUILD)/bin/hostlaned

$(eval $(call inc,node-agent/src/tests,-Itest/lib))
$(BUILD)/test/test_agent: $(call objs,node-agent/src/tests/test_agent.c $(AGENT_CORE_SRCS)) \
  $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_agent: LDLIBS += -lcjson -lpthread
UNIT_TESTS += $(BUILD)/test/test_agent

# The agent protocol's request parser reads what any local client sends.
$(eval $(call inc,node-agent/fuzz,-Inode-agent/src -Ilib/agent -Ilib/util))
$(BUILD)/fuzz/fuzz_agent_request: $(call fuzzobjs,node-agent/fuzz/fuzz_agent_request.c \
  node-agent/src/proto.c node-agent/src/fastpath.c node-agent/src/log.c)
$(BUILD)/fuzz/fuzz_agent_request: LDLIBS += -lcjson -lpthread
FUZZERS += $(BUILD)/fuzz/fuzz_agent_request

CPPCHECK_DIRS += node-agent/src node-agent/fuzz
