// SPDX-License-Identifier: Apache-2.0
//
// The control plane's device top: the BAR0 register file
// (fpga-ctl/include/fpgactl_abi.h, FPGACTL_REG_*) in front of the queue
// manager (hlf_qm) and the tables (hlf_tables). The BAR port is a simple
// 32-bit register port a PCIe shell's MMIO path drives: a write in one
// cycle, a read answered the next. The queue manager's turns go to the
// request pipeline (hlf_engine), which reaches host memory through the DMA
// port and shares the tables with the register file's table window (the
// pipeline first; the window's command waits).
module hlf_top #(
    parameter int NQ = 64,
    parameter int POD_LOG2 = 8,
    parameter int LSN_LOG2 = 8,
    parameter int PAIR_LOG2 = 8,
    parameter int SVC_LOG2 = 6,
    parameter int POL_LOG2 = 8,
    parameter int N_PODS = 4096,
    parameter int N_EPS = 4096,
    localparam int QW = $clog2(NQ)
) (
    input  logic          clk,
    input  logic          rst,
    // BAR0
    input  logic          bar_wvalid,
    input  logic [13:0]   bar_waddr,
    input  logic [31:0]   bar_wdata,
    input  logic          bar_rvalid,
    input  logic [13:0]   bar_raddr,
    output logic [31:0]   bar_rdata,     // the cycle after bar_rvalid
    // the request pipeline's DMA port (hlf_engine.sv describes it)
    output logic          dma_req_valid,
    input  logic          dma_req_ready,
    output logic          dma_req_we,
    output logic [63:0]   dma_req_addr,
    output logic [511:0]  dma_req_data,
    input  logic          dma_rsp_valid,
    input  logic          dma_rsp_err,
    input  logic [511:0]  dma_rsp_data
);
    localparam logic [31:0] ID = 32'h43464c48;       // FPGACTL_ID_MAGIC
    localparam logic [31:0] VERSION = 32'h00020000;  // FPGACTL_ABI_MAJOR << 16 | MINOR

    logic         run, reset_pulse, db_sticky;
    logic [255:0] seed;
    logic [63:0]  cnt_cycles, cnt_drops;
    // queue config staging and the per-queue config the pipeline reads
    logic [QW-1:0] qsel;
    logic [63:0]   st_rq, st_eq;
    logic [31:0]   st_sizes, st_pod, st_flags;
    logic [31:0]   q_rd_head, q_rd_tail, q_rd_prod, q_rd_state;
    // table window
    logic [2:0]   t_sel;
    logic [143:0] t_key;
    logic [175:0] t_val, t_res;
    logic         t_busy, t_way;
    logic [1:0]   t_status;

    wire srst = rst || reset_pulse;

    // ---- the queue manager ----
    logic        cfg_valid, cfg_enable, db_valid, db_drop;
    logic [15:0] db_q;
    logic [31:0] rd_head, rd_tail;
    logic [1:0]  rd_state;
    logic        qm_idle;
    // turns and their ends (queue manager <-> pipeline)
    logic          turn_valid, turn_ready, done_valid, done_park, done_stop;
    logic [1:0]    turn_kind;
    logic [QW-1:0] turn_q, done_q;
    logic [31:0]   turn_head, turn_tail, done_head;
    logic [3:0]    turn_rq_log2;

    hlf_qm #(.NQ(NQ)) u_qm (
        .clk, .rst(srst), .run, .cfg_valid, .cfg_enable, .cfg_q(qsel), .cfg_log2(st_sizes[3:0]),
        .db_valid, .db_q, .db_tail(bar_wdata), .db_drop,
        .turn_valid, .turn_ready, .turn_kind, .turn_q, .turn_head, .turn_tail,
        .turn_log2(turn_rq_log2), .done_valid, .done_q, .done_head, .done_park, .done_stop,
        .rd_q(qsel), .rd_head, .rd_tail, .rd_state, .idle(qm_idle));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_turn = |turn_rq_log2;   // the pipeline keeps the ring sizes itself
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- the tables ----
    logic t_go, t_ready, t_rsp;
    logic [1:0] t_rsp_status;
    logic t_rsp_way;
    logic [175:0] t_rsp_val;
    logic [1:0] t_op;

    // the pipeline's table requests come first; `t_eng` remembers whose
    // operation is in flight (one at a time) to route its answer
    logic         e_tv, t_eng, e_busy, e_clearing;
    logic [2:0]   e_tsel;
    logic [1:0]   e_top;
    logic [143:0] e_tkey;
    logic [175:0] e_tval;
    wire w_go = t_go && !e_tv;
    wire any_rsp;
    hlf_tables #(.POD_LOG2(POD_LOG2), .LSN_LOG2(LSN_LOG2), .PAIR_LOG2(PAIR_LOG2),
                 .SVC_LOG2(SVC_LOG2), .POL_LOG2(POL_LOG2)) u_tables (
        .clk, .rst, .seed, .clear(reset_pulse), .req_valid(e_tv || w_go), .req_ready(t_ready),
        .req_sel(e_tv ? e_tsel : t_sel), .req_op(e_tv ? e_top : t_op),
        .req_key(e_tv ? e_tkey : t_key), .req_val(e_tv ? e_tval : t_val),
        .rsp_valid(any_rsp), .rsp_status(t_rsp_status), .rsp_way(t_rsp_way), .rsp_val(t_rsp_val));
    always_ff @(posedge clk)
        if ((e_tv || w_go) && t_ready)
            t_eng <= e_tv;
    assign t_rsp = any_rsp && !t_eng;

    // ---- the request pipeline ----
    logic [63:0] c_reqs, c_events, c_dma_rd, c_dma_wr, c_errors, c_misses, c_edrops, c_busy;
    logic [31:0] e_rd_prod;
    hlf_engine #(.NQ(NQ), .N_PODS(N_PODS), .N_EPS(N_EPS)) u_eng (
        .clk, .rst(srst), .seed, .busy(e_busy), .clearing(e_clearing),
        .cfg_valid, .cfg_enable, .cfg_q(qsel), .cfg_rq(st_rq[63:8]), .cfg_eq(st_eq[63:8]),
        .cfg_rq_log2(st_sizes[3:0]), .cfg_eq_log2(st_sizes[11:8]), .cfg_pod(st_pod[11:0]),
        .turn_valid, .turn_ready, .turn_kind, .turn_q, .turn_head, .turn_tail,
        .done_valid, .done_q, .done_head, .done_park, .done_stop,
        .tbl_valid(e_tv), .tbl_ready(t_ready), .tbl_sel(e_tsel), .tbl_op(e_top), .tbl_key(e_tkey),
        .tbl_val(e_tval), .tbl_rsp(any_rsp && t_eng), .tbl_rsp_status(t_rsp_status),
        .tbl_rsp_val(t_rsp_val),
        .dma_req_valid, .dma_req_ready, .dma_req_we, .dma_req_addr, .dma_req_data,
        .dma_rsp_valid, .dma_rsp_err, .dma_rsp_data,
        .rd_q(qsel), .rd_prod(e_rd_prod), .cnt_reqs(c_reqs), .cnt_events(c_events),
        .cnt_dma_rd(c_dma_rd), .cnt_dma_wr(c_dma_wr), .cnt_errors(c_errors),
        .cnt_misses(c_misses), .cnt_drops(c_edrops), .cnt_busy(c_busy));
    wire [63:0] c_drops = cnt_drops + c_edrops;

    // ---- BAR writes ----
    wire wr = bar_wvalid;
    wire [13:0] wa = bar_waddr;
    wire is_db = wr && wa >= 14'h1000 && wa[2:0] == 3'd0;
    assign db_valid = is_db;
    assign db_q = {5'b0, 11'((wa - 14'h1000) >> 3)};
    assign cfg_valid = wr && wa == 14'h0a0 && (bar_wdata == 32'd1 || bar_wdata == 32'd2) &&
                       32'(qsel) < NQ;
    assign cfg_enable = bar_wdata == 32'd1;

    always_ff @(posedge clk) begin
        reset_pulse <= 1'b0;
        t_go <= 1'b0;
        if (rst) begin
            run <= 1'b0;
            seed <= '0;
            qsel <= '0;
            t_busy <= 1'b0;
            t_status <= 2'd0;
        end
        if (srst) begin
            db_sticky <= 1'b0;
            cnt_cycles <= '0;
            cnt_drops <= '0;
        end else begin
            cnt_cycles <= cnt_cycles + 1'b1;
            if (db_drop) begin
                db_sticky <= 1'b1;
                cnt_drops <= cnt_drops + 1'b1;
            end
        end
        if (!rst && wr) begin
            case (wa)
                14'h040: begin
                    run <= bar_wdata[0];
                    reset_pulse <= bar_wdata[1];
                end
                14'h080: qsel <= QW'(bar_wdata);
                14'h084: st_rq[31:0] <= bar_wdata;
                14'h088: st_rq[63:32] <= bar_wdata;
                14'h08c: st_eq[31:0] <= bar_wdata;
                14'h090: st_eq[63:32] <= bar_wdata;
                14'h094: st_sizes <= bar_wdata;
                14'h098: st_pod <= bar_wdata;
                14'h09c: st_flags <= bar_wdata;
                14'h0a0:
                    if (bar_wdata == 32'd3) begin
                        q_rd_head <= rd_head;
                        q_rd_tail <= rd_tail;
                        q_rd_prod <= e_rd_prod;
                        // FPGACTL_QS_ENABLED, _ADMIN (queue 0), _ERROR
                        q_rd_state <= {29'b0, rd_state[1], rd_state[0] && qsel == '0, rd_state[0]};
                    end
                14'h200: t_sel <= bar_wdata[2:0];
                14'h204:
                    if (!t_busy) begin
                        if (t_sel > 3'd4 || bar_wdata > 32'd2) begin
                            t_status <= 2'd3;
                        end else begin
                            t_op <= bar_wdata[1:0];
                            t_go <= 1'b1;
                            t_busy <= 1'b1;
                        end
                    end
                default: ;
            endcase
            if (wa >= 14'h060 && wa < 14'h080 && !run)
                seed[32 * wa[4:2] +: 32] <= bar_wdata;
            if (wa >= 14'h210 && wa < 14'h224)
                t_key[32 * ((wa - 14'h210) >> 2) +: 32] <= bar_wdata;
            if (wa >= 14'h240 && wa < 14'h258)
                t_val[32 * ((wa - 14'h240) >> 2) +: 32] <= bar_wdata;
        end
        // the table request waits for the tables (busy clearing after a reset)
        if (t_go && !(t_ready && !e_tv))
            t_go <= 1'b1;
        if (t_rsp) begin
            t_busy <= 1'b0;
            t_status <= t_rsp_status;
            t_way <= t_rsp_way;
            t_res <= t_rsp_val;
        end
    end

    // ---- BAR reads ----
    wire [13:0] ra = bar_raddr;
    always_ff @(posedge clk) begin
        if (bar_rvalid) begin
            bar_rdata <= 32'h0;
            case (ra)
                14'h000: bar_rdata <= ID;
                14'h004: bar_rdata <= VERSION;
                14'h008: bar_rdata <= NQ;
                14'h00c: bar_rdata <= POD_LOG2;
                14'h010: bar_rdata <= LSN_LOG2;
                14'h014: bar_rdata <= PAIR_LOG2;
                14'h018: bar_rdata <= SVC_LOG2;
                14'h01c: bar_rdata <= POL_LOG2;
                14'h020: bar_rdata <= N_EPS;
                14'h024: bar_rdata <= N_PODS;
                14'h040: bar_rdata <= {31'b0, run};
                14'h044: bar_rdata <= {29'b0, db_sticky, !t_ready || e_clearing, qm_idle && !e_busy};
                14'h080: bar_rdata <= 32'(qsel);
                14'h084: bar_rdata <= st_rq[31:0];
                14'h088: bar_rdata <= st_rq[63:32];
                14'h08c: bar_rdata <= st_eq[31:0];
                14'h090: bar_rdata <= st_eq[63:32];
                14'h094: bar_rdata <= st_sizes;
                14'h098: bar_rdata <= st_pod;
                14'h09c: bar_rdata <= st_flags;
                14'h0a4: bar_rdata <= q_rd_head;
                14'h0a8: bar_rdata <= q_rd_tail;
                14'h0ac: bar_rdata <= q_rd_prod;
                14'h0b0: bar_rdata <= q_rd_state;
                14'h100: bar_rdata <= cnt_cycles[31:0];
                14'h104: bar_rdata <= cnt_cycles[63:32];
                14'h108: bar_rdata <= c_busy[31:0];
                14'h10c: bar_rdata <= c_busy[63:32];
                14'h110: bar_rdata <= c_reqs[31:0];
                14'h114: bar_rdata <= c_reqs[63:32];
                14'h118: bar_rdata <= c_events[31:0];
                14'h11c: bar_rdata <= c_events[63:32];
                14'h120: bar_rdata <= c_dma_rd[31:0];
                14'h124: bar_rdata <= c_dma_rd[63:32];
                14'h128: bar_rdata <= c_dma_wr[31:0];
                14'h12c: bar_rdata <= c_dma_wr[63:32];
                14'h130: bar_rdata <= c_errors[31:0];
                14'h134: bar_rdata <= c_errors[63:32];
                14'h138: bar_rdata <= c_misses[31:0];
                14'h13c: bar_rdata <= c_misses[63:32];
                14'h140: bar_rdata <= c_drops[31:0];
                14'h144: bar_rdata <= c_drops[63:32];
                14'h200: bar_rdata <= 32'(t_sel);
                14'h208: bar_rdata <= {t_busy, 22'b0, t_way, 6'b0, t_status};
                default: ;
            endcase
            if (ra >= 14'h060 && ra < 14'h080)
                bar_rdata <= seed[32 * ra[4:2] +: 32];
            if (ra >= 14'h210 && ra < 14'h224)
                bar_rdata <= t_key[32 * ((ra - 14'h210) >> 2) +: 32];
            if (ra >= 14'h240 && ra < 14'h258)
                bar_rdata <= t_res[32 * ((ra - 14'h240) >> 2) +: 32];
        end
    end
endmodule
