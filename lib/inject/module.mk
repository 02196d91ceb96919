# lib/inject (libhlinject.a): puts the LD_PRELOAD layer into pods that ask
# for the shm fast path (hlinject.h): the mutation, its JSONPatch, the
# admission webhook's AdmissionReview answer, a reader and writer of YAML
# and JSON manifests, and the library directory a pod's init container
# lays out. Users: the webhook (webhook/) and hostlanectl.
INJECT_SRCS := $(addprefix lib/inject/,inject.c network.c object.c review.c manifest.c manifest_write.c \
  libdir.c)
INJECT_LDLIBS := -lcjson -lyaml -lm
$(eval $(call inc,lib/inject,-Ilib/inject -Ilib/util))
$(BUILD)/lib/libhlinject.a: $(call objs,$(INJECT_SRCS))
LIBS += $(BUILD)/lib/libhlinject.a
CPPCHECK_DIRS += lib/inject

$(eval $(call inc,lib/inject/tests,-Itest/lib))
$(BUILD)/test/test_inject: $(call objs,lib/inject/tests/test_inject.c lib/inject/tests/test_manifest.c lib/inject/tests/test_libdir.c) \
  $(BUILD)/lib/libhlinject.a $(BUILD)/lib/libhlutil.a
$(BUILD)/test/test_inject: LDLIBS += $(INJECT_LDLIBS)
UNIT_TESTS += $(BUILD)/test/test_inject

# Untrusted input: the webhook's request body (anyone who reaches its port),
# the manifests hostlanectl inject reads.
$(BUILD)/fuzz/fuzz_inject_review: $(call fuzzobjs,lib/inject/fuzz/fuzz_inject_review.c $(INJECT_SRCS) \
  lib/util/buf.c lib/util/fs.c lib/util/quantity.c)
$(BUILD)/fuzz/fuzz_inject_review: LDLIBS += $(INJECT_LDLIBS)
$(BUILD)/fuzz/fuzz_inject_manifest: $(call fuzzobjs,lib/inject/fuzz/fuzz_inject_manifest.c $(INJECT_SRCS) \
  lib/util/buf.c lib/util/fs.c lib/util/quantity.c)
$(BUILD)/fuzz/fuzz_inject_manifest: LDLIBS += $(INJECT_LDLIBS)
FUZZERS += $(BUILD)/fuzz/fuzz_inject_review $(BUILD)/fuzz/fuzz_inject_manifest
