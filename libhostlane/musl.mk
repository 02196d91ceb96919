# The musl build of the LD_PRELOAD layer: $(BUILD)/musl/lib/libhostlane.so,
# the same sources built with musl-gcc (Debian's musl-tools) and linked
# against musl's libc, for the app images whose programs are musl-linked
# (Alpine). The injected init container lays both builds out so that one
# LD_PRELOAD value loads the right one (lib/inject/libdir.c,
# docs/kubernetes.md). The kernel's uapi headers come from the build
# machine (musl's own headers have none). Also built here with musl:
# ping-pong, a plain socket program the tests run as an unmodified
# musl-linked client and server.
MUSL_CC   ?= musl-gcc
MUSL      := $(BUILD)/musl
MUSL_SRCS := $(HL_LIB_SRCS) $(HL_PL_SRCS) $(sort $(wildcard shmq/src/*.c)) lib/proto/hl_codec.c
MUSL_OBJS := $(patsubst %.c,$(MUSL)/obj/%.o,$(MUSL_SRCS))
MUSL_CFLAGS := $(CSTD) $(WARN) -O2 -g -fPIC -fvisibility=hidden -DHL_BUILDING -DSHMQ_BUILDING \
               -Ilibhostlane/include -Ilibhostlane/src -Ilib/proto -Ishmq/include -Ishmq/src \
               -isystem $(MUSL)/inc

$(MUSL)/inc/.stamp:
	@rm -rf $(MUSL)/inc && mkdir -p $(MUSL)/inc
	@for d in linux asm-generic; do ln -s /usr/include/$$d $(MUSL)/inc/$$d; done
	@ln -s /usr/include/$$(gcc -print-multiarch)/asm $(MUSL)/inc/asm
	@touch $@

$(MUSL)/obj/%.o: %.c $(MUSL)/inc/.stamp $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,MUSLCC,$<)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -MMD -MP -c $< -o $@

$(MUSL)/lib/libhostlane.so: $(MUSL_OBJS) libhostlane/libhostlane.map
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(MUSL_CC) -shared -Wl,-z,defs,-z,relro,-z,now -Wl,-soname,libhostlane.so.1 \
	  -Wl,--version-script=libhostlane/libhostlane.map -o $@ $(MUSL_OBJS)

$(MUSL)/bin/ping-pong: $(MUSL)/obj/test/tools/ping-pong.o
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(MUSL_CC) -Wl,-z,relro,-z,now -o $@ $<

LIBS += $(MUSL)/lib/libhostlane.so
BINS += $(MUSL)/bin/ping-pong
-include $(shell find $(MUSL)/obj -name '*.d' 2>/dev/null)
