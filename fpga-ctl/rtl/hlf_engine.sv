// SPDX-License-Identifier: Apache-2.0
//
// The request pipeline: what the device does with a turn. The contract of
// fpga-ctl/src/engine.c (the requests) and sched.c (a turn's loop, event
// coalescing, back-pressure), step for step; the differential test
// (rtl/tb/tb_engine.cpp) holds it to the C over whole request streams.
//
// A turn from the queue manager: up to FPGACTL_BUDGET RQ entries read
// through the DMA port, each decoded and checked (unknown op, fields that
// must be zero, table writes and REQ_F_AS on a process queue, ranges),
// then served: table writes (pods, pod flags, pairs, slot frees, Services,
// endpoints, admission), LISTEN/UNLISTEN, CONNECT (source pod, Service
// map and endpoint, destination pod, listener, netfilter flags, admission,
// listener queue, pair and free slot), CLOSE (FWD), POST. Events go to the
// EQs through the DMA port; at the turn's end the RQ consumer line and the
// EQ producer lines it moved are written once each, as sched.c coalesces
// them. One request at a time (a sequencer, not yet a pipeline): the
// cycles per request are what the testbench measures.
//
// The DMA port (a PCIe DMA master sits behind it; the device model serves
// it from the memory the driver mapped): 64-byte lines at IOVAs.
//   request:  dma_req_valid/ready, dma_req_we (1 write, 0 read),
//             dma_req_addr (64-byte aligned), dma_req_data (writes)
//   response: reads only, in order, dma_rsp_valid with dma_rsp_data; a read
//             of memory nobody mapped answers dma_rsp_err and all ones.
//   Writes are posted (no response); one read is outstanding at a time.
// Byte i of a line is dma_*_data[8i+7:8i] (the host's little-endian order).
//
// Per-queue state kept here (LUT RAM today): ring addresses, EQ size, pod,
// enabled, the EQ producer index and the cached EQ consumer index.
module hlf_engine #(
    parameter int NQ = 64,
    parameter int N_PODS = 4096,      // a power of two
    parameter int N_EPS = 4096,
    localparam int QW = $clog2(NQ),
    localparam int PW = $clog2(N_PODS),
    localparam int EPW = $clog2(N_EPS)
) (
    input  logic          clk,
    input  logic          rst,
    input  logic [255:0]  seed,
    output logic          busy,          // clearing after reset, or in a turn
    output logic          clearing,
    // queue configuration (Q_CMD ENABLE / DISABLE with the staged values)
    input  logic          cfg_valid,
    input  logic          cfg_enable,
    input  logic [QW-1:0] cfg_q,
    input  logic [55:0]   cfg_rq,         // ring IOVAs >> 8
    input  logic [55:0]   cfg_eq,
    input  logic [3:0]    cfg_rq_log2,
    input  logic [3:0]    cfg_eq_log2,
    input  logic [11:0]   cfg_pod,
    // turns from the queue manager
    input  logic          turn_valid,
    output logic          turn_ready,
    input  logic [1:0]    turn_kind,
    input  logic [QW-1:0] turn_q,
    input  logic [31:0]   turn_head,
    input  logic [31:0]   turn_tail,
    output logic          done_valid,
    output logic [QW-1:0] done_q,
    output logic [31:0]   done_head,
    output logic          done_park,
    output logic          done_stop,
    // the tables (hlf_tables' request port)
    output logic          tbl_valid,
    input  logic          tbl_ready,
    output logic [2:0]    tbl_sel,
    output logic [1:0]    tbl_op,
    output logic [143:0]  tbl_key,
    output logic [175:0]  tbl_val,
    input  logic          tbl_rsp,
    input  logic [1:0]    tbl_rsp_status,
    input  logic [175:0]  tbl_rsp_val,
    // the DMA port
    output logic          dma_req_valid,
    input  logic          dma_req_ready,
    output logic          dma_req_we,
    output logic [63:0]   dma_req_addr,
    output logic [511:0]  dma_req_data,
    input  logic          dma_rsp_valid,
    input  logic          dma_rsp_err,
    input  logic [511:0]  dma_rsp_data,
    // read-back and counters (enum fpgactl_cnt: REQS, EVENTS, DMA_RD,
    // DMA_WR, ERRORS, MISSES, DROPS as counted here)
    input  logic [QW-1:0] rd_q,
    output logic [31:0]   rd_prod,
    output logic [63:0]   cnt_reqs,
    output logic [63:0]   cnt_events,
    output logic [63:0]   cnt_dma_rd,
    output logic [63:0]   cnt_dma_wr,
    output logic [63:0]   cnt_errors,
    output logic [63:0]   cnt_misses,
    output logic [63:0]   cnt_drops,
    output logic [63:0]   cnt_busy
);
    `include "hlf_engine_defs.svh"

    // ---- per-queue state ----
    logic [55:0]   q_rq [NQ];       // ring IOVA >> 8
    logic [55:0]   q_eq [NQ];
    logic [3:0]    q_rqlog [NQ];
    logic [3:0]    q_eqlog [NQ];
    logic [11:0]   q_pod [NQ];
    logic [31:0]   q_prod [NQ];
    logic [31:0]   q_cons [NQ];
    logic [NQ-1:0] q_en;
    // direct-indexed tables
    logic [3:0]    pod_flags [N_PODS];
    logic [144:0]  eps [N_EPS];     // local, port, address
    logic [144:0]  ep_rd;
    localparam int NCLR = N_PODS > N_EPS ? N_PODS : N_EPS;
    localparam int CW = $clog2(NCLR);
    logic [CW:0]   clr_idx;

    assign rd_prod = q_prod[rd_q];

    // ---- the turn ----
    state_t        st, ret, err_ret;
    logic [QW-1:0] tq;               // the queue served
    logic [1:0]    tkind;
    logic [31:0]   head, tail;
    logic [4:0]    n;                // requests served this turn
    logic          parked, stopped;
    logic          own_dirty, oth_valid, oth_dirty;
    logic [QW-1:0] oth;

    // ---- the request ----
    logic [511:0]  rl;
    wire [7:0]   r_op = rl[7:0];
    wire [7:0]   r_flags = rl[15:8];
    wire [15:0]  r_port = rl[31:16];
    wire [31:0]  r_tag = rl[63:32];
    wire [15:0]  r_lport = rl[79:64];
    wire [15:0]  r_qid = rl[95:80];
    wire [15:0]  r_pod = rl[111:96];
    wire [15:0]  r_aux = rl[127:112];
    wire [31:0]  r_val = rl[159:128];
    wire [31:0]  r_val2 = rl[191:160];
    wire [63:0]  r_rsvd = rl[255:192];
    wire [127:0] r_addr = rl[383:256];
    wire [127:0] r_src = rl[511:384];
    logic          as_mode;          // REQ_F_AS from the admin queue
    logic [QW-1:0] t;                // the queue the request acts for
    logic [11:0]   cpod;             // its pod
    wire [7:0]   p_flags = as_mode ? (r_flags & 8'h7f) : r_flags;
    wire [15:0]  p_qid = as_mode ? 16'h0 : r_qid;

    // fields that must be zero: bit set in `use` = the op uses the field
    function automatic logic uz(input logic [9:0] use_);
        uz = (use_[0] || p_flags == 8'h0) && (use_[1] || r_port == 16'h0) &&
             (use_[2] || r_lport == 16'h0) && (use_[3] || p_qid == 16'h0) &&
             (use_[4] || r_pod == 16'h0) && (use_[5] || r_aux == 16'h0) &&
             (use_[6] || r_val == 32'h0) && (use_[7] || r_val2 == 32'h0) &&
             r_rsvd == 64'h0 && (use_[8] || r_addr == 128'h0) && (use_[9] || r_src == 128'h0);
    endfunction

    // ---- sub-sequences: room check, event write, table operation ----
    logic [QW-1:0] room_q;
    logic [1:0]    room_need;
    logic          room_ok;
    logic [511:0]  ev;               // the event S_EMIT writes (of ev_kind)
    logic [2:0]    ev_kind;
    logic [31:0]   ev_status;
    logic [15:0]   ev_reason;
    logic [QW-1:0] ev_q, fl_q;
    logic [2:0]    tb_sel_r;
    logic [1:0]    tb_op_r;
    logic [143:0]  tb_key_r;
    logic [175:0]  tb_val_r;
    logic          tb_issued;
    logic [1:0]    tb_st;
    logic [175:0]  tb_rv;

    // ---- CONNECT's working state ----
    logic          svc_hit;
    logic [25:0]   svc_v;
    logic [127:0]  dst;
    logic [15:0]   dport;
    logic [11:0]   dpod;
    logic [175:0]  lsn_v;
    logic [63:0]   pair_v;
    logic [9:0]    lq;               // the listener's queue chosen

    // hashes (the same keyed Toeplitz hash as the tables)
    logic [15:0] h_src, h_rp;
    hlf_hash #(.KEYBYTES(16)) u_h16 (.key(r_src), .seed, .h(h_src));
    hlf_hash #(.KEYBYTES(18)) u_h18 (.key({r_lport, r_src}), .seed, .h(h_rp));

    // EQ geometry of the room check's queue
    wire [31:0] room_size = 32'd1 << q_eqlog[room_q];
    wire [31:0] room_used = q_prod[room_q] - q_cons[room_q];
    wire [31:0] room_used2 = q_prod[room_q] - dma_rsp_data[31:0];
    // a lying consumer index leaves no room
    wire room_fast = room_used <= room_size && room_size - room_used >= 32'(room_need);
    wire room_slow = room_used2 <= room_size && room_size - room_used2 >= 32'(room_need);

    // addresses
    function automatic logic [63:0] ent(input logic [55:0] base, input logic [31:0] idx,
                                        input logic [3:0] lg);
        logic [31:0] m;
        m = (32'd1 << lg) - 32'd1;
        ent = {base, 8'h0} + 64'd256 + {26'h0, idx & m, 6'h0};
    endfunction
    wire [63:0] ev_addr = ent(q_eq[ev_q], q_prod[ev_q], q_eqlog[ev_q]);

    // CONNECT: the listener's fields and the queue picked
    wire [2:0] l_n = lsn_v[173:171];
    wire [1:0] l_rr = lsn_v[175:174];
    function automatic logic [9:0] lsn_q(input logic [175:0] v, input logic [1:0] i);
        lsn_q = v[128 + 10 * i +: 10];
    endfunction
    /* verilator lint_off UNUSEDSIGNAL */
    wire [20:0] rp_prod = {5'h0, h_rp} * {18'h0, l_n};
    wire [1:0]  rp_i = rp_prod[17:16];
    wire [20:0] af_prod = {5'h0, h_src} * {16'h0, svc_v[20:16]};
    wire [3:0]  af_i = af_prod[19:16];
    /* verilator lint_on UNUSEDSIGNAL */
    wire [4:0]  pair_slot = ctz32(pair_v[63:32]);

    wire [3:0] nf = pod_flags[dpod[PW-1:0]];
    wire [3:0] pf = pod_flags[cpod[PW-1:0]];

    // the event this state writes, and the DMA request it issues
    always_comb begin
        dma_req_valid = 1'b0;
        dma_req_we = 1'b0;
        dma_req_addr = 64'h0;
        dma_req_data = 512'h0;
        case (st)
            S_RD: begin
                dma_req_valid = 1'b1;
                dma_req_addr = ent(q_rq[tq], head, q_rqlog[tq]);
            end
            S_ROOM: if (!room_fast) begin
                dma_req_valid = 1'b1;
                dma_req_addr = {q_eq[room_q], 8'h80};
            end
            S_EMIT: begin
                dma_req_valid = 1'b1;
                dma_req_we = 1'b1;
                dma_req_addr = ev_addr;
                dma_req_data = ev;
            end
            S_EMITF, S_END_OWN, S_END_OTH: begin
                dma_req_valid = 1'b1;
                dma_req_we = 1'b1;
                dma_req_addr = {q_eq[fl_q], 8'h40};
                dma_req_data = {480'h0, q_prod[fl_q]};
            end
            S_END_CONS: begin
                dma_req_valid = 1'b1;
                dma_req_we = 1'b1;
                dma_req_addr = {q_rq[tq], 8'h80};
                dma_req_data = {480'h0, head};
            end
            default: ;
        endcase
    end

    assign tbl_valid = st == S_TBL && !tb_issued;
    assign tbl_sel = tb_sel_r;
    assign tbl_op = tb_op_r;
    assign tbl_key = tb_key_r;
    assign tbl_val = tb_val_r;
    assign turn_ready = st == S_IDLE;
    assign busy = st != S_IDLE;
    assign clearing = st == S_CLEAR;

    `include "hlf_engine_seq.svh"
endmodule
