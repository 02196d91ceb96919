# webhook/: hostlane-webhook, the mutating admission webhook (HTTPS with
# libmicrohttpd + GnuTLS) that puts the LD_PRELOAD layer into pods
# annotated hostlane.io/fastpath: shm. The mutation is lib/inject's, shared
# with hostlanectl inject.
WEBHOOK_SRCS := $(addprefix webhook/,main.c server.c settings.c)
$(eval $(call inc,webhook,-Iwebhook -Ilib/inject -Ilib/util))
$(BUILD)/bin/hostlane-webhook: $(call objs,$(WEBHOOK_SRCS)) $(BUILD)/lib/libhlinject.a $(BUILD)/lib/libhlutil.a
$(BUILD)/bin/hostlane-webhook: LDLIBS += -lmicrohttpd $(INJECT_LDLIBS) -lpthread
BINS += $(BUILD)/bin/hostlane-webhook
INSTALL_BINS += $(BUILD)/bin/hostlane-webhook
CPPCHECK_DIRS += webhook
