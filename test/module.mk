# Test-side build fragments: each folder under test/ that builds something
# (e.g. test/tools/) has its own module.mk.
include $(sort $(wildcard test/*/module.mk))
include test/sockets/sockets.mk

# Shared helpers of the C tests (test/lib/hl_check.h).
$(eval $(call inc,test,-Itest/lib))
