#!/usr/bin/env bash
# Synthesizes the control plane's RTL (fpga-ctl/rtl) with yosys and places
# and routes parts of it with nextpnr-ice40; writes the reports to
# $BUILD/rtl/synth/ and prints a summary (LUT/FF/BRAM, fmax). Slow (minutes):
# `make fpga` runs it, `make test` does not.
#   xilinx_top     hlf_top for UltraScale+ (synth_xilinx -family xcup):
#                  NQ=64, tables of 2^8 buckets (services 2^6), two ways,
#                  the request pipeline (4096 pods, 4096 endpoints)
#   ice40_table    one pods table (16-byte keys, 2^8 buckets) on an iCE40
#                  UP5K: placed, routed, fmax; ice40_table6 and _7 the
#                  same table with 2^6 and 2^7 buckets
#   ice40_qm       the queue manager with NQ=16 on an iCE40 HX8K
#   ice40_engine   the request pipeline (NQ 8, 64 pods, 64 endpoints) for an
#                  iCE40: synthesis only (it needs more logic cells than the
#                  largest iCE40, the HX8K, has: no placed fmax)
# The iCE40 runs wrap the module in a harness (fpga-ctl/rtl/synth/pnr_*.sv:
# inputs from a shift register on one pin, outputs folded into one) so a
# package fits it; the harness's shift register is counted in its FFs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
out=$BUILD/rtl/synth
R=fpga-ctl/rtl
mkdir -p "$out"

yosys -q -l "$out/xilinx_top.log" -p "read_verilog -sv -I$R $R/hlf_hash.sv $R/hlf_table.sv \
  $R/hlf_tables.sv $R/hlf_qm.sv $R/hlf_engine.sv $R/hlf_top.sv; synth_xilinx -family xcup -top hlf_top; \
  tee -q -o $out/xilinx_top.stat stat" >/dev/null 2>&1
for lg in 8 7 6; do
	s=ice40_table; [ $lg = 8 ] || s=ice40_table$lg
	yosys -q -l "$out/$s.log" -p "read_verilog -sv $R/hlf_hash.sv $R/hlf_table.sv \
	  $R/synth/pnr_table.sv; chparam -set LOG2 $lg pnr_table; synth_ice40 -top pnr_table -json $out/$s.json; \
	  tee -q -o $out/$s.stat stat" >/dev/null 2>&1
	nextpnr-ice40 --up5k --package sg48 --json "$out/$s.json" --freq 12 \
	  --report "$out/$s.pnr.json" >"$out/$s.pnr.log" 2>&1 || echo "$s: nextpnr failed (see $out/$s.pnr.log)"
done
yosys -q -l "$out/ice40_qm.log" -p "read_verilog -sv $R/hlf_qm.sv $R/synth/pnr_qm.sv; \
  synth_ice40 -top pnr_qm -json $out/ice40_qm.json; tee -q -o $out/ice40_qm.stat stat" >/dev/null 2>&1
nextpnr-ice40 --hx8k --package ct256 --json "$out/ice40_qm.json" --freq 12 \
  --report "$out/ice40_qm.pnr.json" >"$out/ice40_qm.pnr.log" 2>&1 || echo "ice40_qm: nextpnr failed (see $out/ice40_qm.pnr.log)"
yosys -q -l "$out/ice40_engine.log" -p "read_verilog -sv -I$R $R/hlf_hash.sv $R/hlf_engine.sv \
  $R/synth/pnr_engine.sv; synth_ice40 -top pnr_engine -json $out/ice40_engine.json; \
  tee -q -o $out/ice40_engine.stat stat" >/dev/null 2>&1

# The summary: cells by kind (of the whole design: the hierarchy's total
# when there is one), fmax from nextpnr.
for s in xilinx_top ice40_table ice40_table7 ice40_table6 ice40_qm ice40_engine; do
	[ -f "$out/$s.stat" ] || continue
	f=$out/$s.total
	if grep -q '=== design hierarchy ===' "$out/$s.stat"; then
		sed -n '/=== design hierarchy ===/,$p' "$out/$s.stat" >"$f"
	else
		cp "$out/$s.stat" "$f"
	fi
	luts=$(awk '/^ +(LUT[1-6]|SB_LUT4) /{n+=$2} END{print n+0}' "$f")
	ffs=$(awk '/^ +(FD[A-Z]+|SB_DFF[A-Z]*) /{n+=$2} END{print n+0}' "$f")
	bram=$(awk '/^ +(RAMB18E2|RAMB36E2|SB_RAM40_4K) /{printf "%s %s ", $2, $1}' "$f")
	lram=$(awk '/^ +(RAM64M8|RAM32M16|RAM64X1D) /{printf "%s %s ", $2, $1}' "$f")
	fmax=$(grep -oE "Max frequency for clock +'[^']*': [0-9.]+ MHz" "$out/$s.pnr.log" 2>/dev/null | tail -1 | grep -oE '[0-9.]+ MHz' || true)
	echo "$s: LUT $luts, FF $ffs, BRAM ${bram:-0} ${lram:+LUTRAM $lram}${fmax:+fmax $fmax}"
done
