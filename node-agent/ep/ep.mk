# The per-pod shm endpoint (owned by the endpoint/libhostlane engineer).
# The agent links $(call objs,$(HL_EP_SRCS)) into hostlaned, plus
# $(BUILD)/lib/libshmq.a. The sources need the pod-protocol codec from
# libhostlane/src and the shmq header; the include paths are set per object.
HL_EP_SRCS := node-agent/src/endpoint.c node-agent/src/ep_quota.c libhostlane/src/hl_codec.c
HL_EP_OBJS := $(call objs,$(HL_EP_SRCS))
$(HL_EP_OBJS): CPPFLAGS += -Inode-agent/src -Ilibhostlane/include -Ilibhostlane/src -Ishmq/include
CPPCHECK_DIRS += node-agent/ep

# Unit tests (Check): the protocol codec and the quota arithmetic.
$(BUILD)/obj/node-agent/ep/tests/%.o: CPPFLAGS += -Inode-agent/src -Ilibhostlane/include -Ilibhostlane/src -Ishmq/include
$(BUILD)/test/test_ep_proto: $(call objs,node-agent/ep/tests/test_ep_proto.c libhostlane/src/hl_codec.c)
$(BUILD)/test/test_ep_quota: $(call objs,node-agent/ep/tests/test_ep_quota.c node-agent/src/ep_quota.c)
UNIT_TESTS += $(BUILD)/test/test_ep_proto $(BUILD)/test/test_ep_quota

# The endpoint harness the integration tests drive (test/integration/agent-endpoint.sh):
# an hl_ep_node on a loop, endpoints created and inspected through stdin.
$(BUILD)/test/ep-harness: $(call objs,node-agent/ep/tests/ep_harness.c node-agent/src/loop.c) \
  $(HL_EP_OBJS) $(BUILD)/lib/libshmq.a
$(BUILD)/obj/node-agent/src/loop.o: CPPFLAGS += -Inode-agent/src
tests: $(BUILD)/test/ep-harness

# Fuzzer for the endpoint's request parser.
$(BUILD)/fuzzobj/libhostlane/src/hl_codec.o $(BUILD)/fuzzobj/node-agent/ep/fuzz/%.o: \
  FUZZ_CFLAGS += -Ilibhostlane/include -Ilibhostlane/src
$(BUILD)/fuzz/fuzz_ep_request: $(BUILD)/fuzzobj/node-agent/ep/fuzz/fuzz_ep_request.o \
  $(BUILD)/fuzzobj/libhostlane/src/hl_codec.o
FUZZERS += $(BUILD)/fuzz/fuzz_ep_request
