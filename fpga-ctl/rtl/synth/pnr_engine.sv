// SPDX-License-Identifier: Apache-2.0
// Place-and-route harness (not part of the device): the request pipeline
// (hlf_engine, NQ 8, 64 pods, 64 endpoints) with its inputs from a shift
// register fed by one pin and its outputs folded into one pin, so that a
// package fits it and every path is register to register.
module pnr_engine (
    input  logic clk,
    input  logic din,
    output logic dout
);
    localparam int IN = 1 + 256 + 2 + 3 + 56 + 56 + 4 + 4 + 12 + 1 + 2 + 3 + 32 + 32 + 1 + 1 + 2
                        + 176 + 1 + 1 + 1 + 512 + 3;
    logic [IN-1:0] sr;
    logic busy, clearing, turn_ready, done_valid, done_park, done_stop, tbl_valid;
    logic [2:0] done_q, tbl_sel;
    logic [31:0] done_head, rd_prod;
    logic [1:0] tbl_op;
    logic [143:0] tbl_key;
    logic [175:0] tbl_val;
    logic dma_req_valid, dma_req_we;
    logic [63:0] dma_req_addr;
    logic [511:0] dma_req_data;
    logic [63:0] c0, c1, c2, c3, c4, c5, c6, c7;

    always_ff @(posedge clk) begin
        sr <= {sr[IN-2:0], din};
        dout <= ^{busy, clearing, turn_ready, done_valid, done_park, done_stop, tbl_valid, done_q,
                  tbl_sel, done_head, rd_prod, tbl_op, tbl_key, tbl_val, dma_req_valid, dma_req_we,
                  dma_req_addr, dma_req_data, c0, c1, c2, c3, c4, c5, c6, c7};
    end
    hlf_engine #(.NQ(8), .N_PODS(64), .N_EPS(64)) u (
        .clk, .rst(sr[0]), .seed(sr[256:1]), .busy, .clearing,
        .cfg_valid(sr[257]), .cfg_enable(sr[258]), .cfg_q(sr[261:259]), .cfg_rq(sr[317:262]),
        .cfg_eq(sr[373:318]), .cfg_rq_log2(sr[377:374]), .cfg_eq_log2(sr[381:378]),
        .cfg_pod(sr[393:382]), .turn_valid(sr[394]), .turn_ready, .turn_kind(sr[396:395]),
        .turn_q(sr[399:397]), .turn_head(sr[431:400]), .turn_tail(sr[463:432]),
        .done_valid, .done_q, .done_head, .done_park, .done_stop,
        .tbl_valid, .tbl_ready(sr[464]), .tbl_sel, .tbl_op, .tbl_key, .tbl_val,
        .tbl_rsp(sr[465]), .tbl_rsp_status(sr[467:466]), .tbl_rsp_val(sr[643:468]),
        .dma_req_valid, .dma_req_ready(sr[644]), .dma_req_we, .dma_req_addr, .dma_req_data,
        .dma_rsp_valid(sr[645]), .dma_rsp_err(sr[646]), .dma_rsp_data(sr[1158:647]),
        .rd_q(sr[1161:1159]), .rd_prod, .cnt_reqs(c0), .cnt_events(c1), .cnt_dma_rd(c2),
        .cnt_dma_wr(c3), .cnt_errors(c4), .cnt_misses(c5), .cnt_drops(c6), .cnt_busy(c7));
endmodule
