# The transparent-socket test programs: sockcase, the socket-
# semantics suite driven by test/integration/preload-semantics.sh,
# connrate, the connect/accept/close loop of hack/bench.d/50-sockets.sh,
# manyconn, N concurrent request/response connections (58-conns.sh), and
# waitsrv (preload-agent-restart).
# Plain POSIX programs: they never link libhostlane; the tests LD_PRELOAD it.
$(BUILD)/test/sockcase: $(call objs,$(addprefix test/sockets/,sockcase.c sockcase_connect.c \
  sockcase_io.c sockcase_poll.c sockcase_proc.c sockcase_opt.c sockcase_fork.c \
  sockcase_sig.c sockcase_sigwait.c sockcase_close.c sockcase_oob.c))
$(BUILD)/test/sockcase: LDLIBS += -lpthread
$(BUILD)/test/connrate: $(call objs,test/sockets/connrate.c)
$(BUILD)/test/manyconn: $(call objs,test/sockets/manyconn.c)
# A server that only waits in select, pselect, ppoll or poll (preload-agent-restart).
$(BUILD)/test/waitsrv: $(call objs,test/sockets/waitsrv.c)
# Built by `make all` (the tests and the benchmark need them), not run as
# unit tests.
BINS          += $(BUILD)/test/sockcase $(BUILD)/test/connrate $(BUILD)/test/manyconn \
                 $(BUILD)/test/waitsrv
CPPCHECK_DIRS += test/sockets
