// SPDX-License-Identifier: Apache-2.0
//
// A set-associative table in block RAM: 2^LOG2 buckets of two ways, the
// bucket chosen by the keyed hash of the key. The contract of
// fpga-ctl/src/table.c: a lookup finds the way holding the key; an insert
// updates that way, else takes the lowest free way, else refuses (FULL:
// never an eviction); a delete frees the way holding the key.
//
// One operation at a time, two cycles each: cycle 1 hashes the key and
// reads the bucket (both ways, one RAM each, read in parallel); cycle 2
// compares, answers and writes the way back. `clear` frees every entry, one
// bucket per cycle (busy meanwhile).
//
// Status: 0 OK, 1 NOT_FOUND (lookup, delete), 2 FULL (insert).
module hlf_table #(
    parameter int KEYBYTES = 4,
    parameter int VW = 16,        // value bits
    parameter int LOG2 = 8        // buckets
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic [255:0]          seed,
    input  logic                  clear,
    // request
    input  logic                  req_valid,
    output logic                  req_ready,
    input  logic [1:0]            req_op,     // 0 lookup, 1 insert, 2 delete
    input  logic [8*KEYBYTES-1:0] req_key,
    input  logic [VW-1:0]         req_val,
    // response (one cycle)
    output logic                  rsp_valid,
    output logic [1:0]            rsp_status,
    output logic                  rsp_way,
    output logic [VW-1:0]         rsp_val
);
    localparam int KW = 8 * KEYBYTES;
    localparam int EW = 1 + KW + VW;      // valid, key, value
    localparam int N = 1 << LOG2;

    logic [EW-1:0] way0 [N];
    logic [EW-1:0] way1 [N];
    logic [EW-1:0] rd0, rd1;

    /* verilator lint_off UNUSEDSIGNAL */
    logic [15:0] h;       // the bucket is its low LOG2 bits
    /* verilator lint_on UNUSEDSIGNAL */
    hlf_hash #(.KEYBYTES(KEYBYTES)) u_hash (.key(req_key), .seed(seed), .h(h));

    // stage 2 state
    logic            s2;
    logic [1:0]      s2_op;
    logic [KW-1:0]   s2_key;
    logic [VW-1:0]   s2_val;
    logic [LOG2-1:0] s2_idx;
    logic            clearing;
    logic [LOG2-1:0] clr_idx;

    assign req_ready = !s2 && !clearing && !clear && !rst;

    // block RAM reads: registered address, one read port per way
    always_ff @(posedge clk) begin
        if (req_valid && req_ready) begin
            rd0 <= way0[h[LOG2-1:0]];
            rd1 <= way1[h[LOG2-1:0]];
        end
    end

    logic hit0, hit1, free0, free1;
    assign hit0 = rd0[EW-1] && rd0[EW-2 -: KW] == s2_key;
    assign hit1 = rd1[EW-1] && rd1[EW-2 -: KW] == s2_key;
    assign free0 = !rd0[EW-1];
    assign free1 = !rd1[EW-1];

    // the write of stage 2 (or of the clear sweep)
    logic            we0, we1;
    logic [EW-1:0]   wd;
    logic [LOG2-1:0] widx;

    always_comb begin
        we0 = 1'b0;
        we1 = 1'b0;
        wd = {1'b1, s2_key, s2_val};
        widx = s2_idx;
        if (clearing) begin
            we0 = 1'b1;
            we1 = 1'b1;
            wd = '0;
            widx = clr_idx;
        end else if (s2 && s2_op == 2'd1) begin
            if (hit0)
                we0 = 1'b1;
            else if (hit1)
                we1 = 1'b1;
            else if (free0)
                we0 = 1'b1;
            else if (free1)
                we1 = 1'b1;
        end else if (s2 && s2_op == 2'd2) begin
            wd = '0;
            we0 = hit0;
            we1 = !hit0 && hit1;
        end
    end

    always_ff @(posedge clk) begin
        if (we0)
            way0[widx] <= wd;
        if (we1)
            way1[widx] <= wd;
    end

    always_ff @(posedge clk) begin
        rsp_valid <= 1'b0;
        if (rst) begin
            s2 <= 1'b0;
            clearing <= 1'b1;     // a reset clears the table
            clr_idx <= '0;
        end else if (clearing) begin
            clr_idx <= clr_idx + 1'b1;
            if (clr_idx == LOG2'(N - 1))
                clearing <= 1'b0;
        end else if (clear) begin
            clearing <= 1'b1;
            clr_idx <= '0;
            s2 <= 1'b0;
        end else if (s2) begin
            s2 <= 1'b0;
            rsp_valid <= 1'b1;
            rsp_way <= !hit0 && (hit1 || (s2_op == 2'd1 && !free0));
            rsp_val <= hit0 ? rd0[VW-1:0] : rd1[VW-1:0];
            case (s2_op)
                2'd1: rsp_status <= (hit0 || hit1 || free0 || free1) ? 2'd0 : 2'd2;
                default: rsp_status <= (hit0 || hit1) ? 2'd0 : 2'd1;
            endcase
            if (!hit0 && !hit1)
                rsp_val <= '0;
        end else if (req_valid && req_ready) begin
            s2 <= 1'b1;
            s2_op <= req_op;
            s2_key <= req_key;
            s2_val <= req_val;
            s2_idx <= h[LOG2-1:0];
        end
    end
endmodule
