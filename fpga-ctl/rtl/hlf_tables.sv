// SPDX-License-Identifier: Apache-2.0
//
// The engine's five hashed tables, each an hlf_table sized by its LOG2
// parameter, behind one request port (the register file's table window;
// the pipeline's lookups are to join it): SEL picks the table. Keys and
// values are the reference engine's (fpga-ctl/src/engine.h):
//   0 pods       key address (16 B)              value pod id (12 bits)
//   1 listeners  key pod, port (le16 each)       value addr 128, q[4] 4x10,
//                                                flags 3, n 3, rr 2 (176)
//   2 pairs      key queue, queue (le16 each)    value region 32, free 32
//   3 services   key address, port (18 B)        value base 16, n 5, rr 4,
//                                                flags 1 (26)
//   4 admission  key pod, pod, port (6 B)        value verdict (1)
// Keys are bytes 0.. of `key` (byte 0 at key[7:0]); values are right-aligned.
module hlf_tables #(
    parameter int POD_LOG2 = 8,
    parameter int LSN_LOG2 = 8,
    parameter int PAIR_LOG2 = 8,
    parameter int SVC_LOG2 = 6,
    parameter int POL_LOG2 = 8
) (
    input  logic         clk,
    input  logic         rst,
    input  logic [255:0] seed,
    input  logic         clear,
    input  logic         req_valid,
    output logic         req_ready,
    input  logic [2:0]   req_sel,
    input  logic [1:0]   req_op,
    input  logic [143:0] req_key,
    input  logic [175:0] req_val,
    output logic         rsp_valid,
    output logic [1:0]   rsp_status,
    output logic         rsp_way,
    output logic [175:0] rsp_val
);
    logic [4:0] rdy, vld, way;
    logic [1:0] st [5];
    logic [11:0]  v_pod;
    logic [175:0] v_lsn;
    logic [63:0]  v_pair;
    logic [25:0]  v_svc;
    logic         v_pol;

    wire [4:0] go = req_valid ? 5'(1) << req_sel : 5'b0;
    assign req_ready = &rdy;

    hlf_table #(.KEYBYTES(16), .VW(12), .LOG2(POD_LOG2)) u_pod (
        .clk, .rst, .seed, .clear, .req_valid(go[0]), .req_ready(rdy[0]), .req_op,
        .req_key(req_key[127:0]), .req_val(req_val[11:0]),
        .rsp_valid(vld[0]), .rsp_status(st[0]), .rsp_way(way[0]), .rsp_val(v_pod));
    hlf_table #(.KEYBYTES(4), .VW(176), .LOG2(LSN_LOG2)) u_lsn (
        .clk, .rst, .seed, .clear, .req_valid(go[1]), .req_ready(rdy[1]), .req_op,
        .req_key(req_key[31:0]), .req_val(req_val),
        .rsp_valid(vld[1]), .rsp_status(st[1]), .rsp_way(way[1]), .rsp_val(v_lsn));
    hlf_table #(.KEYBYTES(4), .VW(64), .LOG2(PAIR_LOG2)) u_pair (
        .clk, .rst, .seed, .clear, .req_valid(go[2]), .req_ready(rdy[2]), .req_op,
        .req_key(req_key[31:0]), .req_val(req_val[63:0]),
        .rsp_valid(vld[2]), .rsp_status(st[2]), .rsp_way(way[2]), .rsp_val(v_pair));
    hlf_table #(.KEYBYTES(18), .VW(26), .LOG2(SVC_LOG2)) u_svc (
        .clk, .rst, .seed, .clear, .req_valid(go[3]), .req_ready(rdy[3]), .req_op,
        .req_key(req_key), .req_val(req_val[25:0]),
        .rsp_valid(vld[3]), .rsp_status(st[3]), .rsp_way(way[3]), .rsp_val(v_svc));
    hlf_table #(.KEYBYTES(6), .VW(1), .LOG2(POL_LOG2)) u_pol (
        .clk, .rst, .seed, .clear, .req_valid(go[4]), .req_ready(rdy[4]), .req_op,
        .req_key(req_key[47:0]), .req_val(req_val[0:0]),
        .rsp_valid(vld[4]), .rsp_status(st[4]), .rsp_way(way[4]), .rsp_val(v_pol));

    always_comb begin
        rsp_valid = |vld;
        rsp_status = 2'd0;
        rsp_way = 1'b0;
        rsp_val = '0;
        for (int i = 0; i < 5; i++)
            if (vld[i]) begin
                rsp_status = st[i];
                rsp_way = way[i];
            end
        if (vld[0]) rsp_val = 176'(v_pod);
        if (vld[1]) rsp_val = v_lsn;
        if (vld[2]) rsp_val = 176'(v_pair);
        if (vld[3]) rsp_val = 176'(v_svc);
        if (vld[4]) rsp_val = 176'(v_pol);
    end
endmodule
