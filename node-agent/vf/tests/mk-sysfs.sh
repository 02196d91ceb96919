#!/bin/sh
# Builds a fake sysfs tree with the layout real sysfs has for an SR-IOV PF and
# its VFs (real directories and relative symlinks), for hlvf's tests.
#
#   mk-sysfs.sh ROOT PF BUS VFSPEC...
#
# PF is the PF netdev name, BUS two hex digits (PF at 0000:BUS:00.0, VF N at
# 0000:BUS:(2+N/8).(N%8)). VFSPEC per VF, in order: DRIVER:NETDEV (a kernel
# VF whose netdev is NETDEV), DRIVER (no netdev, e.g. vfio-pci) or "-"
# (no driver bound). Can be run once per PF on the same ROOT.
set -eu
root=$1 pf=$2 bus=$3
shift 3
up=pci0000:00/0000:00:03.0
pfpci=0000:$bus:00.0
pfdir=$root/devices/$up/$pfpci
mkdir -p "$pfdir/net/$pf" "$root/class/net" "$root/bus/pci/devices" "$root/bus/pci/drivers"
ln -sfn "../../../$pfpci" "$pfdir/net/$pf/device"
ln -sfn "../../devices/$up/$pfpci/net/$pf" "$root/class/net/$pf"
echo $# >"$pfdir/sriov_numvfs"
echo 64 >"$pfdir/sriov_totalvfs"
n=0
for spec in "$@"; do
	vfpci=$(printf '0000:%s:%02x.%d' "$bus" $((2 + n / 8)) $((n % 8)))
	vfdir=$root/devices/$up/$vfpci
	mkdir -p "$vfdir"
	ln -sfn "../$vfpci" "$pfdir/virtfn$n"
	ln -sfn "../../../devices/$up/$vfpci" "$root/bus/pci/devices/$vfpci"
	ln -sfn "../$pfpci" "$vfdir/physfn"
	drv=${spec%%:*}
	if [ "$drv" != - ]; then
		mkdir -p "$root/bus/pci/drivers/$drv"
		ln -sfn "../../../../bus/pci/drivers/$drv" "$vfdir/driver"
	fi
	case $spec in *:*) mkdir -p "$vfdir/net/${spec#*:}" ;; esac
	n=$((n + 1))
done
