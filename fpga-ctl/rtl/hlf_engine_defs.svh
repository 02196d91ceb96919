// SPDX-License-Identifier: Apache-2.0
//
// hlf_engine's constants (fpgactl_abi.h's, and Linux errnos as the
// negative statuses of completions), its sequencer's states and the event
// layout (struct fpgactl_evt). Included inside the module.

// ops
localparam logic [7:0] OP_NOP = 8'h00, OP_LISTEN = 8'h01, OP_UNLISTEN = 8'h02,
    OP_CONNECT = 8'h03, OP_CLOSE = 8'h04, OP_POD_SET = 8'h41, OP_POD_FLAGS = 8'h42,
    OP_PAIR_SET = 8'h43, OP_SLOT_FREE = 8'h44, OP_SVC_SET = 8'h45, OP_EP_SET = 8'h46,
    OP_POL_SET = 8'h47, OP_POST = 8'h48;
// event types
localparam logic [7:0] EVT_CPL = 8'd1, EVT_ACCEPT = 8'd2, EVT_MISS = 8'd3, EVT_FWD = 8'd4,
    EVT_ERROR = 8'd5;
// reasons
localparam logic [15:0] R_BAD_OP = 16'd1, R_BAD_FIELD = 16'd2, R_NOT_ADMIN = 16'd3,
    R_BAD_QUEUE = 16'd4, R_BAD_SRC = 16'd5, R_NO_POD = 16'd6, R_NO_LISTENER = 16'd7,
    R_NETFILTER = 16'd8, R_POLICY = 16'd9, R_SVC_EMPTY = 16'd10, R_SVC_REMOTE = 16'd11,
    R_BUSY = 16'd12, R_NO_REGION = 16'd13, R_REGION_FULL = 16'd14, R_SW_BUSY = 16'd15,
    R_IN_USE = 16'd16, R_NO_ENTRY = 16'd17, R_TABLE_FULL = 16'd18, R_GROUP_FULL = 16'd19,
    R_DOORBELL = 16'd20, R_DMA = 16'd21;
// statuses: -errno
localparam logic [31:0] E_PERM = -32'sd1, E_NOENT = -32'sd2, E_FAULT = -32'sd14,
    E_AGAIN = -32'sd11, E_INVAL = -32'sd22, E_NOSPC = -32'sd28, E_OPNOTSUPP = -32'sd95,
    E_ADDRINUSE = -32'sd98, E_ADDRNOTAVAIL = -32'sd99, E_NOBUFS = -32'sd105,
    E_CONNREFUSED = -32'sd111, E_HOSTUNREACH = -32'sd113;
// flags
localparam logic [7:0] F_AS = 8'h80, LSN_SHARED = 8'h02,
    LSN_REUSEPORT = 8'h04;
localparam logic [3:0] POD_NF_IN = 4'h1, POD_NF_OUT = 4'h2, POD_POL_IN = 4'h4,
    POD_POL_OUT = 4'h8;
// fields an op may use (engine.c's U_*)
localparam logic [9:0] U_FLAGS = 10'h001, U_PORT = 10'h002, U_LPORT = 10'h004,
    U_QID = 10'h008, U_POD = 10'h010, U_AUX = 10'h020, U_VAL = 10'h040, U_VAL2 = 10'h080,
    U_ADDR = 10'h100, U_SRC = 10'h200;
// table selects and commands (hlf_tables)
localparam logic [2:0] T_POD = 3'd0, T_LSN = 3'd1, T_PAIR = 3'd2, T_SVC = 3'd3, T_POL = 3'd4;
localparam logic [1:0] TC_LOOKUP = 2'd0, TC_INSERT = 2'd1, TC_DELETE = 2'd2;
localparam logic [127:0] V4ANY = 128'h0000_0000_ffff_0000_0000_0000_0000_0000;

// the kinds of event the engine writes
localparam logic [2:0] EK_CPL = 3'd0, EK_POST = 3'd1, EK_FWD = 3'd2, EK_MISS = 3'd3,
    EK_ACCEPT = 3'd4, EK_CCPL = 3'd5, EK_ERROR = 3'd6;

typedef enum logic [5:0] {
    S_CLEAR, S_IDLE, S_LOOP, S_RD, S_RDW, S_SV0, S_AS_R, S_PROC,
    S_ROOM, S_ROOMW, S_EMIT, S_EMITF, S_TBL, S_TBLW,
    S_ERR, S_ERR_R, S_NEXT, S_OK, S_TW_R, S_TD_R,
    S_L_R, S_U_R, S_CL_R, S_SF_R, S_PO_R,
    C_SRC_R, C_SVC_R, C_EP, C_EP_R, C_DPOD_R, C_LSN_R, C_POL1_R, C_POL2_R, C_PICK,
    C_PAIR_R, C_MISS_R, C_ROOM_R, C_WLSN, C_WSVC, C_EMIT_A, C_EMIT_C,
    S_END, S_END_CONS, S_END_OWN, S_END_OTH, S_DONE
} state_t;

// struct fpgactl_evt as a 64-byte line
function automatic logic [511:0] evt(input logic [7:0] typ, input logic [7:0] op,
                                     input logic [7:0] flags, input logic [31:0] tag,
                                     input logic [31:0] status, input logic [15:0] reason,
                                     input logic [15:0] queue, input logic [31:0] region,
                                     input logic [15:0] slot, input logic [15:0] aux,
                                     input logic [15:0] port, input logic [15:0] lport,
                                     input logic [127:0] addr, input logic [127:0] peer);
    evt = {peer, addr, 32'h0, lport, port, aux, slot, region, queue, reason, status, tag,
           8'h0, flags, op, typ};
endfunction

// the lowest set bit of a non-zero word
function automatic logic [4:0] ctz32(input logic [31:0] w);
    ctz32 = 5'd0;
    for (int i = 31; i >= 0; i--)
        if (w[i])
            ctz32 = 5'(i);
endfunction

// whether a listener bound to `bound` (LSN_V6ONLY: v6only) is reached at `a` (engine.c reaches())
function automatic logic reaches(input logic [127:0] bound, input logic v6only,
                                 input logic [127:0] a);
    logic v4;
    v4 = a[95:0] == V4ANY[95:0];
    if (bound == 128'h0)
        reaches = !v4 || !v6only;
    else if (bound == V4ANY)
        reaches = v4;
    else
        reaches = bound == a;
endfunction
