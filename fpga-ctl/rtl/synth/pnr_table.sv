// SPDX-License-Identifier: Apache-2.0
// Place-and-route harness (not part of the device): one pods table
// (16-byte keys, 12-bit values, 2^LOG2 buckets) with its inputs from a shift
// register fed by one pin and its outputs folded into one pin, so that a
// small package fits it and every path is register to register.
module pnr_table #(
    parameter int LOG2 = 8
) (
    input  logic clk,
    input  logic din,
    output logic dout
);
    localparam int IN = 256 + 1 + 1 + 2 + 128 + 12 + 1;
    logic [IN-1:0] sr;
    logic rdy, vld, way;
    logic [1:0] st;
    logic [11:0] val;

    always_ff @(posedge clk) begin
        sr <= {sr[IN-2:0], din};
        dout <= ^{rdy, vld, way, st, val};
    end
    hlf_table #(.KEYBYTES(16), .VW(12), .LOG2(LOG2)) u (
        .clk, .rst(sr[0]), .seed(sr[256:1]), .clear(sr[257]), .req_valid(sr[258]),
        .req_ready(rdy), .req_op(sr[260:259]), .req_key(sr[388:261]), .req_val(sr[400:389]),
        .rsp_valid(vld), .rsp_status(st), .rsp_way(way), .rsp_val(val));
endmodule
