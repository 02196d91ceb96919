# The self-contained plugin: $(BUILD)/static/bin/hostlane, statically linked
# against musl (musl-gcc, Debian's musl-tools), so that it runs on any node
# with a Linux kernel whatever its libc (docs/cni-plugin.md). It is what
# `make install` puts into $(CNIDIR) and what the image carries.
#   cJSON   built from Debian's source package (bookworm, Debian's patches
#           applied), fetched once into $(BUILD)/static/ (hack/debian-src.sh)
#   libmnl  Debian has no static libmnl and its source is not reachable
#           from the build machines: cni-plugin/static/mnl.c implements the
#           part of its API that lib/netlink uses (test_hlnl_static and
#           test_hlnl_codec_static run lib/netlink's tests against it)
# $(BUILD)/bin/hostlane stays the glibc build the tests run (SAN=1 works on
# it); test/integration/cni-static.sh runs the static one in an empty root.
MUSL_CC     ?= musl-gcc
STATIC      := $(BUILD)/static
CJSON_POOL  := pool/main/c/cjson
CJSON_ORIG  := cjson_1.7.15.orig.tar.gz
CJSON_OSHA  := 5308fd4bd90cef7aa060558514de6a1a4a0819974a26e6ed13973c5f624c24b2
CJSON_DEB   := cjson_1.7.15-1+deb12u4.debian.tar.xz
CJSON_DSHA  := afd19a970966cf534ff1e9ec077d710a5e7e78eb4ec9b499c8bdc32e55da12cb

# (lib/netlink's module.mk is read after this one: its sources by wildcard.)
STATIC_NL   := $(sort $(wildcard lib/netlink/*.c))
STATIC_SRCS := cni-plugin/src/main.c $(CNI_SRCS) $(STATIC_NL) lib/agent/hlagent.c \
               lib/util/fs.c cni-plugin/static/mnl.c
STATIC_OBJS := $(patsubst %.c,$(STATIC)/obj/%.o,$(STATIC_SRCS)) $(STATIC)/obj/cJSON.o
# No sanitizers, no -fPIC: a plain static executable. The kernel's uapi
# headers (linux/, asm/) and libmnl's header come from the build machine
# through $(STATIC)/inc, beside musl's own headers.
STATIC_CFLAGS := $(CSTD) $(WARN) -O2 -fno-strict-aliasing -ffunction-sections -fdata-sections \
                 -Icni-plugin/src -Ilib/netlink -Ilib/agent -Ilib/util -I$(BUILD)/gen \
                 -isystem $(STATIC)/inc

$(STATIC)/src/cjson/cJSON.c: hack/debian-src.sh cni-plugin/static/static.mk
	$(call msg,FETCH,$(CJSON_ORIG))
	$(Q)hack/debian-src.sh $(STATIC)/src/cjson $(STATIC)/dl $(CJSON_POOL) \
	  $(CJSON_ORIG) $(CJSON_OSHA) $(CJSON_DEB) $(CJSON_DSHA)
	@touch $@

$(STATIC)/inc/.stamp: $(STATIC)/src/cjson/cJSON.c
	@rm -rf $(STATIC)/inc && mkdir -p $(STATIC)/inc/cjson
	@cp $(STATIC)/src/cjson/cJSON.h $(STATIC)/inc/cjson/
	@for d in linux asm-generic libmnl; do ln -s /usr/include/$$d $(STATIC)/inc/$$d; done
	@ln -s /usr/include/$$(gcc -print-multiarch)/asm $(STATIC)/inc/asm
	@touch $@

$(STATIC)/obj/cJSON.o: $(STATIC)/src/cjson/cJSON.c $(STATIC)/inc/.stamp
	@mkdir -p $(@D)
	$(call msg,MUSLCC,$<)
	$(Q)$(MUSL_CC) $(CSTD) -O2 -ffunction-sections -fdata-sections -c $< -o $@

$(STATIC)/obj/%.o: %.c $(STATIC)/inc/.stamp $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,MUSLCC,$<)
	$(Q)$(MUSL_CC) $(STATIC_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC)/bin/hostlane: $(STATIC_OBJS)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(MUSL_CC) -static -Wl,--gc-sections -s -o $@ $(STATIC_OBJS)

# lib/netlink's tests against the libmnl subset above (glibc build).
$(BUILD)/test/test_hlnl_static: $(call objs,lib/netlink/tests/test_hlnl.c $(STATIC_NL) \
                                cni-plugin/static/mnl.c)
$(BUILD)/test/test_hlnl_codec_static: $(call objs,lib/netlink/tests/test_hlnl_codec.c $(STATIC_NL) \
                                      cni-plugin/static/mnl.c)

BINS       += $(STATIC)/bin/hostlane
UNIT_TESTS += $(BUILD)/test/test_hlnl_static $(BUILD)/test/test_hlnl_codec_static
CPPCHECK_DIRS += cni-plugin/static
-include $(shell find $(STATIC)/obj -name '*.d' 2>/dev/null)
