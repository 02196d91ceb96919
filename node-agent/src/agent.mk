# hostlaned: the node agent daemon (endpoint.* belongs to the endpoint part,
# node-agent/k8s to the Kubernetes client; each is linked in when present).
AGENT_CORE_SRCS := node-agent/src/config.c node-agent/src/fastpath.c node-agent/src/log.c \
                   node-agent/src/proto.c node-agent/src/state.c
AGENT_SRCS := $(AGENT_CORE_SRCS) node-agent/src/loop.c node-agent/src/server.c \
              node-agent/src/metrics.c node-agent/src/main.c node-agent/src/devices.c
# vhost-user (libhlvsw, vswitch) and vf (libhlvf, node-agent/vf).
AGENT_DEV_LIBS := $(BUILD)/lib/libhlvsw.a $(BUILD)/lib/libhlvf.a
AGENT_LDLIBS := -lcjson -lmnl -lpthread
AGENT_DEFS :=

# The endpoint part (node-agent/ep/ep.mk) and the Kubernetes client
# (node-agent/k8s/k8s.mk) export what to link; both are included before us.
ifneq ($(HL_EP_SRCS),)
AGENT_SRCS += $(HL_EP_SRCS)
AGENT_DEFS += -DHL_HAVE_ENDPOINT
AGENT_EP_LIBS := $(BUILD)/lib/libshmq.a
endif
ifneq ($(HLK8S_LDLIBS),)
AGENT_DEFS += -DHL_HAVE_K8S
AGENT_K8S_LIBS := $(BUILD)/lib/libhlk8s.a
AGENT_LDLIBS += $(HLK8S_LDLIBS)
endif

$(call objs,node-agent/src/server.c node-agent/src/metrics.c node-agent/src/main.c): \
	CPPFLAGS += $(AGENT_DEFS) -Inode-agent/k8s
$(BUILD)/bin/hostlaned: $(call objs,$(AGENT_SRCS)) $(BUILD)/lib/libhlagent.a $(AGENT_K8S_LIBS) $(AGENT_EP_LIBS) \
	$(AGENT_DEV_LIBS)
$(BUILD)/bin/hostlaned: LDLIBS += $(AGENT_LDLIBS)
BINS += $(BUILD)/bin/hostlaned
INSTALL_BINS += $(BUILD)/bin/hostlaned

$(call objs,node-agent/src/tests/test_agent.c): CPPFLAGS += -Inode-agent/src
$(BUILD)/test/test_agent: $(call objs,node-agent/src/tests/test_agent.c $(AGENT_CORE_SRCS))
$(BUILD)/test/test_agent: LDLIBS += -lcjson -lpthread
UNIT_TESTS += $(BUILD)/test/test_agent

AGENT_FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,node-agent/fuzz/fuzz_agent_request.c \
	node-agent/src/proto.c node-agent/src/fastpath.c node-agent/src/log.c)
$(AGENT_FUZZ_OBJS): FUZZ_CFLAGS += -Inode-agent/src -Inode-agent/client
$(BUILD)/fuzz/fuzz_agent_request: $(AGENT_FUZZ_OBJS)
$(BUILD)/fuzz/fuzz_agent_request: LDLIBS += -lcjson -lpthread
FUZZERS += $(BUILD)/fuzz/fuzz_agent_request

CPPCHECK_DIRS += node-agent/src node-agent/fuzz
