# The node agent: each part has its own fragment in a subfolder.
include $(sort $(wildcard node-agent/*/*.mk))
