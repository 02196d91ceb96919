# lib/: code with two or more users, one small library per folder, each
# with its own module.mk.
include $(sort $(wildcard lib/*/module.mk))
