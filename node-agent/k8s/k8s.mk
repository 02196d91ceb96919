# hlk8s: the node agent's Kubernetes client (libhlk8s.a), its tests, fuzz
# harnesses, and the C driver of the fake-API-server integration test.
HLK8S_PARSERS := $(addprefix node-agent/k8s/,object.c pod.c service.c endpointslice.c raw.c kinds.c \
                 cache.c kubeconfig.c)
HLK8S_SRCS    := $(addprefix node-agent/k8s/,client.c informer.c informer_watch.c get.c health.c \
                 patch.c) $(HLK8S_PARSERS)
# What a user of libhlk8s.a links with (the agent: LDLIBS += $(HLK8S_LDLIBS)).
HLK8S_LDLIBS  := -lcurl -lcjson -lyaml -lpthread
$(eval $(call inc,node-agent/k8s,-Inode-agent/k8s -Ilib/util))
$(eval $(call inc,node-agent/k8s/tests,-Itest/lib))

$(BUILD)/lib/libhlk8s.a: $(call objs,$(HLK8S_SRCS))
LIBS += $(BUILD)/lib/libhlk8s.a

$(BUILD)/test/test_hlk8s_parse: $(call objs,node-agent/k8s/tests/test_hlk8s_parse.c) $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_hlk8s_parse: LDLIBS += $(HLK8S_LDLIBS)
$(BUILD)/test/test_hlk8s_kubeconfig: $(call objs,node-agent/k8s/tests/test_hlk8s_kubeconfig.c) $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_hlk8s_kubeconfig: LDLIBS += $(HLK8S_LDLIBS)
$(BUILD)/test/test_hlk8s_objects: $(call objs,node-agent/k8s/tests/test_hlk8s_objects.c) $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_hlk8s_objects: LDLIBS += $(HLK8S_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_hlk8s_parse $(BUILD)/test/test_hlk8s_kubeconfig \
  $(BUILD)/test/test_hlk8s_objects

# Driver of test/integration/agent-k8s.sh (not a Check suite: the script runs
# it once per scenario against test/tools/fake-apiserver). Built by `make tests`.
$(BUILD)/test/hlk8s-itest: $(call objs,$(addprefix node-agent/k8s/tests/,hlk8s_itest.c itest_watch.c \
  itest_auth.c itest_faults.c itest_kinds.c)) $(BUILD)/lib/libhlk8s.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/hlk8s-itest: LDLIBS += $(HLK8S_LDLIBS)
tests: $(BUILD)/test/hlk8s-itest

$(BUILD)/fuzz/fuzz_k8s_event: $(call fuzzobjs,node-agent/k8s/fuzz/fuzz_k8s_event.c $(HLK8S_PARSERS))
$(BUILD)/fuzz/fuzz_k8s_event: LDLIBS += -lcjson -lyaml
$(BUILD)/fuzz/fuzz_k8s_kubeconfig: $(call fuzzobjs,node-agent/k8s/fuzz/fuzz_k8s_kubeconfig.c $(HLK8S_PARSERS))
$(BUILD)/fuzz/fuzz_k8s_kubeconfig: LDLIBS += -lcjson -lyaml
FUZZERS += $(BUILD)/fuzz/fuzz_k8s_event $(BUILD)/fuzz/fuzz_k8s_kubeconfig

CPPCHECK_DIRS += node-agent/k8s
