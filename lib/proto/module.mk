# lib/proto (libhlproto.a): the pod protocol between pod processes and the
# monitor (hostlane_proto.h), the shared-memory layouts of the stats region
# (hostlane_stats.h) and of a direct region's control block
# (hostlane_direct.h), each its own ABI, and the codec both ends use.
# Users: libhostlane and the monitor.
PROTO_SRCS := lib/proto/hl_codec.c
$(eval $(call inc,lib/proto,-Ilib/proto))
$(BUILD)/lib/libhlproto.a: $(call objs,$(PROTO_SRCS))
LIBS += $(BUILD)/lib/libhlproto.a
CPPCHECK_DIRS += lib/proto

$(eval $(call inc,lib/proto/tests,-Itest/lib))
$(BUILD)/test/test_proto: $(call objs,lib/proto/tests/test_proto.c) $(BUILD)/lib/libhlproto.a
UNIT_TESTS += $(BUILD)/test/test_proto

# The request parser sees what any pod process sends.
$(BUILD)/fuzz/fuzz_proto_request: $(call fuzzobjs,lib/proto/fuzz/fuzz_proto_request.c $(PROTO_SRCS))
FUZZERS += $(BUILD)/fuzz/fuzz_proto_request
