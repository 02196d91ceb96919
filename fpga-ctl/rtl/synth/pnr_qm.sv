// SPDX-License-Identifier: Apache-2.0
// Place-and-route harness (not part of the device): the queue manager
// (NQ=16) with its inputs from a shift register fed by one pin and its
// outputs folded into one pin.
module pnr_qm (
    input  logic clk,
    input  logic din,
    output logic dout
);
    localparam int IN = 3 + 1 + 4 + 4 + 1 + 16 + 32 + 1 + 4 + 32 + 3 + 4;
    logic [IN-1:0] sr;
    logic drop, tv, idle;
    logic [1:0] kind, rst_;
    logic [3:0] tq, tl;
    logic [31:0] th, tt, rh, rt;

    always_ff @(posedge clk) begin
        sr <= {sr[IN-2:0], din};
        dout <= ^{drop, tv, idle, kind, rst_, tq, tl, th, tt, rh, rt};
    end
    hlf_qm #(.NQ(16)) u (
        .clk, .rst(sr[0]), .run(sr[1]), .cfg_valid(sr[2]), .cfg_enable(sr[3]), .cfg_q(sr[7:4]),
        .cfg_log2(sr[11:8]), .db_valid(sr[12]), .db_q(sr[28:13]), .db_tail(sr[60:29]),
        .db_drop(drop), .turn_valid(tv), .turn_ready(sr[61]), .turn_kind(kind), .turn_q(tq),
        .turn_head(th), .turn_tail(tt), .turn_log2(tl), .done_valid(sr[62]), .done_q(sr[66:63]),
        .done_head(sr[98:67]), .done_park(sr[99]), .done_stop(sr[100]), .rd_q(sr[104:101]),
        .rd_head(rh), .rd_tail(rt), .rd_state(rst_), .idle(idle));
endmodule
