// SPDX-License-Identifier: Apache-2.0
//
// The queue manager: per-queue state (the RQ tail a doorbell set, the head
// the engine reached, enabled/error, ring size) and the run FIFO of
// queues with work. The contract of fpga-ctl/src/sched.c:
//   * a doorbell records the new tail and puts the queue at the back of
//     the FIFO unless it is there already: one FIFO entry however many
//     doorbells and entries (doorbell batching); a doorbell for a queue
//     number >= NQ is dropped (db_drop);
//   * with `run` set, the queue at the front becomes a turn: kind SERVE for
//     the engine (up to its budget), or the queue is refused without the
//     engine touching its ring: BAD_QUEUE (not enabled, or stopped) or
//     DOORBELL (a tail more than a ring ahead of the head: the queue stops);
//   * the engine ends a SERVE turn with the new head; the queue goes back to
//     the FIFO if work is left and it was neither parked (event queue full)
//     nor stopped.
// State lives in arrays indexed by queue (LUT RAM or block RAM); the FIFO
// holds each queue at most once, so NQ entries never overflow. A turn's
// end and a doorbell in the same cycle both push, the turn's first.
module hlf_qm #(
    parameter int NQ = 64,
    localparam int QW = $clog2(NQ)
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          run,
    // queue configuration (Q_CMD ENABLE / DISABLE)
    input  logic          cfg_valid,
    input  logic          cfg_enable,     // 1 enable (indices 0), 0 disable
    input  logic [QW-1:0] cfg_q,
    input  logic [3:0]    cfg_log2,       // RQ entries = 1 << cfg_log2
    // doorbells
    input  logic          db_valid,
    input  logic [15:0]   db_q,
    input  logic [31:0]   db_tail,
    output logic          db_drop,        // this doorbell is dropped (queue >= NQ)
    // turns to the engine
    output logic          turn_valid,
    input  logic          turn_ready,
    output logic [1:0]    turn_kind,      // 0 SERVE, 1 BAD_QUEUE, 2 DOORBELL
    output logic [QW-1:0] turn_q,
    output logic [31:0]   turn_head,
    output logic [31:0]   turn_tail,
    output logic [3:0]    turn_log2,
    // the end of a SERVE turn
    input  logic          done_valid,
    input  logic [QW-1:0] done_q,
    input  logic [31:0]   done_head,
    input  logic          done_park,      // the event queue was full
    input  logic          done_stop,      // a DMA fault: the queue stops
    // queue state read-back (Q_CMD READ)
    input  logic [QW-1:0] rd_q,
    output logic [31:0]   rd_head,
    output logic [31:0]   rd_tail,
    output logic [1:0]    rd_state,       // bit 0 enabled, bit 1 error
    output logic          idle
);
    logic [31:0]   head [NQ];
    logic [31:0]   tail [NQ];
    logic [3:0]    lg [NQ];
    logic [NQ-1:0] en, err, sched;
    logic [QW-1:0] fifo [NQ];
    logic [QW:0]   f_head, f_tail;   // one bit more than an index: full vs empty

    wire [QW-1:0] fq = fifo[f_head[QW-1:0]];
    wire [31:0]   fdist = tail[fq] - head[fq];
    wire [31:0]   fsize = 32'd1 << lg[fq];

    assign idle = f_head == f_tail;
    assign turn_valid = run && !idle;
    assign turn_q = fq;
    assign turn_head = head[fq];
    assign turn_tail = tail[fq];
    assign turn_log2 = lg[fq];
    assign turn_kind = (!en[fq] || err[fq]) ? 2'd1 : (fdist > fsize) ? 2'd2 : 2'd0;
    assign rd_head = head[rd_q];
    assign rd_tail = tail[rd_q];
    assign rd_state = {err[rd_q], en[rd_q]};

    wire db_ok = db_valid && db_q < 16'(NQ);
    wire [QW-1:0] dbq = db_q[QW-1:0];
    assign db_drop = db_valid && !db_ok;
    wire take = turn_valid && turn_ready;
    // what a turn's end pushes back
    wire done_push = done_valid && !done_park && !done_stop && !err[done_q] &&
                     done_head != tail[done_q] && !sched[done_q];
    // a doorbell pushes unless its queue is queued, or the same cycle's
    // turn end queues it; the queue a turn takes is no longer queued
    wire db_push = db_ok && !(sched[dbq] && !(take && fq == dbq)) &&
                   !(done_push && done_q == dbq);

    always_ff @(posedge clk) begin
        if (rst) begin
            en <= '0;
            err <= '0;
            sched <= '0;
            f_head <= '0;
            f_tail <= '0;
        end else begin
            if (take) begin
                f_head <= f_head + 1'b1;
                sched[fq] <= 1'b0;
                if (turn_kind == 2'd2)
                    err[fq] <= 1'b1;
            end
            if (done_valid) begin
                head[done_q] <= done_head;
                if (done_stop)
                    err[done_q] <= 1'b1;
            end
            if (done_push) begin
                fifo[f_tail[QW-1:0]] <= done_q;
                sched[done_q] <= 1'b1;
            end
            if (db_ok)
                tail[dbq] <= db_tail;
            if (db_push) begin
                fifo[done_push ? f_tail[QW-1:0] + 1'b1 : f_tail[QW-1:0]] <= dbq;
                sched[dbq] <= 1'b1;
            end
            f_tail <= f_tail + {{QW{1'b0}}, done_push} + {{QW{1'b0}}, db_push};
            if (cfg_valid) begin
                en[cfg_q] <= cfg_enable;
                err[cfg_q] <= 1'b0;
                if (cfg_enable) begin
                    head[cfg_q] <= '0;
                    tail[cfg_q] <= '0;
                    lg[cfg_q] <= cfg_log2;
                end
            end
        end
    end
endmodule
