# hostlane — top-level, non-recursive build.
#
# Each component adds itself through a `module.mk` fragment (see the
# wildcard include below) that appends to BINS, LIBS, UNIT_TESTS, FUZZERS,
# BENCHES and INSTALL_* lists with the helpers defined here. Everything lands
# in $(BUILD)/: bin/, lib/, obj/, test/, fuzz/.
#
#   make            build everything           make test    build + run all tests
#   make bench      run benchmarks             make demo    end-to-end demo
#   make install    DESTDIR=… PREFIX=…         make deps    install build/test deps
#   make fuzz       long fuzz runs             make check   cppcheck static analysis
#   make image      the OCI image archive      make clean
#   make fpga       RTL testbenches + synthesis reports (docs/fpga.md)
#   SAN=1           ASan+UBSan build           V=1          show full commands

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CNIDIR  ?= /usr/lib/cni
CC      ?= gcc
FUZZCC  ?= clang
SAN     ?= 0
V       ?= 0

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

OPT      ?= -O2
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wno-missing-field-initializers \
            -Wundef -Wpointer-arith
# The plugin and the agent run as root on untrusted input.
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2
CSTD     := -std=c11 -D_GNU_SOURCE
ifeq ($(SAN),1)
OPT      := -O1
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
endif
CFLAGS   ?=
CFLAGS   += $(CSTD) $(WARN) $(HARDEN) $(OPT) -g -fPIC -fvisibility=hidden -MMD -MP $(SANFLAGS)
LDFLAGS  += $(SANFLAGS) -Wl,-z,relro,-z,now
# No global include path: each component names its own and its
# dependencies' public headers per object (see `inc` below), so an include
# the wrong way across components does not compile.
CPPFLAGS ?=

# Lists the modules append to.
BINS :=
LIBS :=
UNIT_TESTS :=
FUZZERS :=
INSTALL_BINS :=
INSTALL_LIBS :=
INSTALL_HEADERS :=
INSTALL_CNI :=
# What goes into the image: DIR=FILE (FILE copied into DIR, with the shared
# libraries it loads; see hack/image.sh).
IMAGE_FILES :=

.DEFAULT_GOAL := all

# Rebuild everything when the flags change (SAN=1 vs not): objects depend on a
# stamp whose content is the flags.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS)
$(shell mkdir -p $(BUILD); \
  [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || \
  printf '%s' '$(FLAGS_NOW)' > $(FLAGS_STAMP))

# objs(SRCS): object files for C sources; fuzzobjs(SRCS): the same built
# for libFuzzer.
objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
fuzzobjs = $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(1))

# $(eval $(call inc,DIR,FLAGS)): objects of sources under DIR, in both
# builds, are compiled with FLAGS (their include paths). Pattern-specific,
# so they apply to those objects alone, whoever links them.
define inc
$(BUILD)/obj/$(1)/%.o: CPPFLAGS += $(2)
$(BUILD)/fuzzobj/$(1)/%.o: CPPFLAGS += $(2)
endef

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Fuzz objects are built with clang and libFuzzer instrumentation, separately
# (the include paths come from the same `inc` rules as the plain build).
FUZZ_CFLAGS = $(CSTD) -Wall -Wextra -Werror -Wno-unused-command-line-argument \
              -g -O1 -fsanitize=fuzzer-no-link,address,undefined
$(BUILD)/fuzzobj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$<)
	$(Q)$(FUZZCC) $(FUZZ_CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

# Link rules. Per-target LDLIBS are set as target-specific variables.
# (`comma` because a literal comma inside $(if ...) splits its arguments.)
comma := ,
$(BUILD)/bin/%:
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/test/%:
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

# A shared library's soname carries its ABI major (target-specific SONAME,
# e.g. libshmq.so.1); the build tree keeps the plain name for the tests.
$(BUILD)/lib/%.so:
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-z,defs -Wl,-soname,$(or $(SONAME),$(notdir $@)) \
	  $(if $(VERSION_SCRIPT),-Wl$(comma)--version-script=$(VERSION_SCRIPT)) \
	  -o $@ $(filter %.o %.a,$^) $(LDLIBS)

$(BUILD)/fuzz/%:
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(FUZZCC) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.o %.a,$^) $(LDLIBS)

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

# soname_of(LIB): the soname a module gave LIB (SONAME_<file name>).
soname_of = $(or $(SONAME_$(notdir $(1))),$(notdir $(1)))

# The components.
include $(sort $(wildcard */module.mk))

all: $(LIBS) $(BINS)

# The OCI image, FROM scratch, tagged with the project version (VERSION);
# IMAGE names it (the manifests use the same name: kustomize `images:` or
# `make image IMAGE=registry.example/hostlane` to change it).
VERSION   := $(shell cat VERSION)
IMAGE     ?= localhost/hostlane
IMAGE_TAG ?= $(VERSION)
IMAGE_TAR := $(BUILD)/image/hostlane-$(IMAGE_TAG).tar
$(IMAGE_TAR): $(foreach f,$(IMAGE_FILES),$(lastword $(subst =, ,$(f)))) hack/image.sh Containerfile VERSION
	@mkdir -p $(@D)
	$(call msg,IMAGE,$(IMAGE):$(IMAGE_TAG))
	$(Q)BUILD=$(BUILD) hack/image.sh $@ $(IMAGE):$(IMAGE_TAG) $(IMAGE_FILES) >/dev/null
# Like test, it installs what is missing first (podman, musl-tools).
image:
	@hack/deps.sh
	+@$(SUBMAKE) $(IMAGE_TAR)
tests: $(UNIT_TESTS)
fuzzers: $(FUZZERS)

deps:
	@hack/deps.sh

# test, bench and demo first install what is missing (hack/deps.sh: apt-get
# and hugepages), then build in a sub-make (so the build sees the freshly
# installed libraries), then run. make test ends with
# "N passed, N failed, N skipped".
SUBMAKE = $(MAKE) --no-print-directory BUILD=$(BUILD) SAN=$(SAN) V=$(V)

test:
	@hack/deps.sh
	+@$(SUBMAKE) all tests fuzzers $(IMAGE_TAR)
	@BUILD=$(BUILD) SAN=$(SAN) IMAGE_TAR=$(IMAGE_TAR) IMAGE_REF=$(IMAGE):$(IMAGE_TAG) hack/run-tests.sh $(UNIT_TESTS)

bench:
	@hack/deps.sh
	+@$(SUBMAKE) all
	@BUILD=$(BUILD) hack/bench.sh $(BENCH_ARGS)

demo:
	@hack/deps.sh
	+@$(SUBMAKE) all
	@BUILD=$(BUILD) hack/demo.sh

fuzz: fuzzers
	@BUILD=$(BUILD) FUZZ_SECONDS=$${FUZZ_SECONDS:-300} test/fuzz/run.sh

check:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem \
	  $(foreach d,$(wildcard */include lib/*/),-I$(d)) $(CPPCHECK_DIRS)

# Installs what users run: the daemons and CLIs, the plugin, libhostlane
# (for LD_PRELOAD and the native API) and libshmq with their headers. A
# shared library goes in under its soname, with the plain name as a link.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/hostlane
	$(if $(INSTALL_BINS),install -m 0755 $(INSTALL_BINS) $(DESTDIR)$(PREFIX)/bin/)
	$(foreach l,$(INSTALL_LIBS),$(if $(filter %.so,$(l)),\
	  install -m 0755 $(l) $(DESTDIR)$(PREFIX)/lib/$(call soname_of,$(l)) && \
	  ln -sf $(call soname_of,$(l)) $(DESTDIR)$(PREFIX)/lib/$(notdir $(l)),\
	  install -m 0644 $(l) $(DESTDIR)$(PREFIX)/lib/);)
	$(if $(INSTALL_HEADERS),install -m 0644 $(INSTALL_HEADERS) $(DESTDIR)$(PREFIX)/include/hostlane/)
	$(if $(INSTALL_CNI),install -d $(DESTDIR)$(CNIDIR) && install -m 0755 $(INSTALL_CNI) $(DESTDIR)$(CNIDIR)/)

clean:
	rm -rf $(BUILD)

.PHONY: all tests fuzzers deps test bench demo fuzz check install clean image

-include $(shell find $(BUILD)/obj $(BUILD)/fuzzobj -name '*.d' 2>/dev/null)
