# What the image holds (make image; hack/image.sh): the agent, its CLI (also
# the step an injected pod's init container runs), the switch, the plugin,
# the installer the init container runs, the admission webhook, and the
# container-side library pods copy from it.
IMAGE_FILES += /usr/bin=$(BUILD)/bin/hostlaned /usr/bin=$(BUILD)/bin/hostlanectl \
               /usr/bin=$(BUILD)/bin/hostlane-install /usr/bin=$(BUILD)/bin/hostlane-webhook /usr/bin=$(BUILD)/bin/hostlane-vswitch /usr/bin=$(BUILD)/bin/hostlane-vswctl \
               /usr/lib/cni=$(BUILD)/static/bin/hostlane \
               /usr/lib/hostlane=$(BUILD)/lib/libhostlane.so /usr/lib/hostlane/musl=$(BUILD)/musl/lib/libhostlane.so
