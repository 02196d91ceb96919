// SPDX-License-Identifier: Apache-2.0
// The testbench's top: a small table (4-byte keys, 8 buckets: collisions
// and full buckets happen) and the hash over the longest key (18 bytes).
module tb_table_top (
    input  logic         clk,
    input  logic         rst,
    input  logic [255:0] seed,
    input  logic         clear,
    input  logic         req_valid,
    output logic         req_ready,
    input  logic [1:0]   req_op,
    input  logic [31:0]  req_key,
    input  logic [15:0]  req_val,
    output logic         rsp_valid,
    output logic [1:0]   rsp_status,
    output logic         rsp_way,
    output logic [15:0]  rsp_val,
    input  logic [143:0] hkey,
    output logic [15:0]  hout
);
    hlf_table #(.KEYBYTES(4), .VW(16), .LOG2(3)) u_tbl (.*);
    hlf_hash #(.KEYBYTES(18)) u_hash (.key(hkey), .seed(seed), .h(hout));
endmodule
