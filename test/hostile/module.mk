# The hostile-pod tool the test/integration/hostile-*.sh suite drives: a
# pod process that speaks the pod protocol itself (lib/proto, shmq) and
# mounts the attacks docs/security.md lists. Not installed.
HOSTILE_SRCS := test/hostile/hostile.c test/hostile/hostile_ep.c test/hostile/hostile_mem.c test/hostile/hostile_direct.c
$(eval $(call inc,test/hostile,-Itest/hostile -Ilib/proto -Ishmq/include))
$(BUILD)/test/hostile: $(call objs,$(HOSTILE_SRCS)) $(BUILD)/lib/libhlproto.a $(BUILD)/lib/libshmq.a
BINS          += $(BUILD)/test/hostile
CPPCHECK_DIRS += test/hostile
