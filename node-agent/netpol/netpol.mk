# hlnp (libhlnetpol.a): the Kubernetes objects NetworkPolicy admission
# needs (NetworkPolicy, Namespace, Pod) decoded from the API server's JSON
# into the monitor's admission model (monitor/include/hl_policy.h).
HLNP_SRCS := node-agent/netpol/policy.c node-agent/netpol/objects.c node-agent/netpol/store.c \
  node-agent/netpol/discovery.c
$(eval $(call inc,node-agent/netpol,-Inode-agent/netpol -Imonitor/include))
$(BUILD)/lib/libhlnetpol.a: $(call objs,$(HLNP_SRCS))
LIBS += $(BUILD)/lib/libhlnetpol.a

# The truth table: the decoder and the monitor's evaluator together.
$(eval $(call inc,node-agent/netpol/tests,-Imonitor/src -Itest/lib))
$(BUILD)/test/test_netpol: $(call objs,node-agent/netpol/tests/test_netpol.c \
  node-agent/netpol/tests/netpol_cases.c) $(BUILD)/lib/libhlnetpol.a $(BUILD)/lib/libhlmonitor.a
$(BUILD)/test/test_netpol: LDLIBS += -lcjson -lpthread
UNIT_TESTS += $(BUILD)/test/test_netpol
# Policy kinds not enforced: discovery decoders and the store's stand-ins.
$(BUILD)/test/test_netpol_discovery: $(call objs,node-agent/netpol/tests/test_netpol_discovery.c) \
  $(BUILD)/lib/libhlnetpol.a $(BUILD)/lib/libhlmonitor.a
$(BUILD)/test/test_netpol_discovery: LDLIBS += -lcjson -lpthread
UNIT_TESTS += $(BUILD)/test/test_netpol_discovery

# NetworkPolicy JSON from the API server is untrusted input.
$(eval $(call inc,node-agent/netpol/fuzz,-Imonitor/src))
$(BUILD)/fuzz/fuzz_netpol: $(call fuzzobjs,node-agent/netpol/fuzz/fuzz_netpol.c node-agent/netpol/policy.c node-agent/netpol/objects.c \
  monitor/src/policy.c monitor/src/policy_match.c)
$(BUILD)/fuzz/fuzz_netpol: LDLIBS += -lcjson
FUZZERS += $(BUILD)/fuzz/fuzz_netpol

CPPCHECK_DIRS += node-agent/netpol

# So are the discovery answers and lists that find unknown policy kinds.
$(BUILD)/fuzz/fuzz_netpol_discovery: $(call fuzzobjs,node-agent/netpol/fuzz/fuzz_netpol_discovery.c \
  node-agent/netpol/discovery.c)
$(BUILD)/fuzz/fuzz_netpol_discovery: LDLIBS += -lcjson
FUZZERS += $(BUILD)/fuzz/fuzz_netpol_discovery
