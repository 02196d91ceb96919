// SPDX-License-Identifier: Apache-2.0
//
// hlf_engine's sequencer: one state per step of engine.c/sched.c. Three
// sub-sequences are called with a return state: S_ROOM (eng_eq_room: the
// cached consumer index, re-read through the DMA port when it says too
// little), S_EMIT (eng_emit: the event line, and the previous other
// queue's producer line when the events move to a third queue) and S_TBL
// (one hlf_tables operation). S_ERR is error_event(). Included inside the
// module.

// after the consumer line (own: the own producer line still to come)
task automatic end_flush(input logic own);
    if (own && own_dirty) begin
        fl_q <= tq;
        st <= S_END_OWN;
    end else if (oth_valid && oth_dirty) begin
        fl_q <= oth;
        st <= S_END_OTH;
    end else begin
        st <= S_DONE;
    end
endtask

// the event line of ev_kind
always_comb begin
    case (ev_kind)
    EK_POST: ev = evt(EVT_CPL, r_lport[7:0], 8'h0, r_tag, ev_status, ev_reason, 16'h0, 32'h0, 16'h0,
                      16'h0, 16'h0, 16'h0, 128'h0, 128'h0);
    EK_FWD: ev = evt(EVT_FWD, r_op, p_flags, r_tag, 32'h0, 16'h0, t16, r_val, r_aux, 16'h0, 16'h0,
                     16'h0, 128'h0, 128'h0);
    EK_MISS: ev = evt(EVT_MISS, r_op, 8'h0, r_tag, 32'h0, ev_reason, t16, 32'h0, 16'h0, {6'h0, lq},
                      r_port, r_lport, r_addr, r_src);
    EK_ACCEPT: ev = evt(EVT_ACCEPT, 8'h0, 8'h0, 32'h0, 32'h0, 16'h0, t16, pair_v[31:0],
                        {11'h0, pair_slot}, 16'h0, dport, r_lport, dst, r_src);
    EK_CCPL: ev = evt(EVT_CPL, r_op, 8'h0, r_tag, 32'h0, 16'h0, {6'h0, lq}, pair_v[31:0],
                      {11'h0, pair_slot}, 16'h0, 16'h0, 16'h0, r_addr, dst);
    EK_ERROR: ev = evt(EVT_ERROR, 8'h0, 8'h0, 32'h0, ev_status, ev_reason, 16'(tq), 32'h0, 16'h0,
                       16'h0, 16'h0, 16'h0, 128'h0, 128'h0);
    default: ev = evt(EVT_CPL, r_op, 8'h0, r_tag, ev_status, ev_reason, 16'h0, 32'h0, 16'h0, 16'h0,
                      16'h0, 16'h0, 128'h0, 128'h0);
    endcase
end

logic [31:0] err_status;
logic [15:0] err_reason, miss_reason;
wire [16:0] ep_sum = {1'b0, svc_v[15:0]} + {13'h0, svc_v[25] ? af_i : svc_v[24:21]};
/* verilator lint_off UNUSEDSIGNAL */
wire [16:0] ep_idx = ep_sum >= 17'(N_EPS) ? ep_sum - 17'(N_EPS) : ep_sum;
/* verilator lint_on UNUSEDSIGNAL */
wire [9:0]  pick = lsn_v[170] ? lsn_q(lsn_v, rp_i) : lsn_q(lsn_v, l_rr);
wire        qid_ok = 32'(r_qid) < NQ && q_en[r_qid[QW-1:0]];
wire [9:0]  t10 = 10'(t);
wire [15:0] t16 = 16'(t);
wire [15:0] cpod16 = {4'h0, cpod};
wire [15:0] dpod16 = {4'h0, dpod};
// the listener after LISTEN joins t to it, after UNLISTEN takes t out
logic [175:0] l_join, l_leave;
logic [2:0]   l_at;       // t's position (4: not a member)
always_comb begin
    logic [9:0] qs [4];
    logic [2:0] nn;
    for (int j = 0; j < 4; j++)
        qs[j] = lsn_q(tb_rv, 2'(j));
    nn = tb_rv[173:171];
    l_at = 3'd4;
    for (int j = 3; j >= 0; j--)
        if (3'(j) < nn && qs[j] == t10)
            l_at = 3'(j);
    l_join = tb_rv;
    l_join[128 + 10 * nn[1:0] +: 10] = t10;
    l_join[173:171] = nn + 3'd1;
    l_leave = tb_rv;
    for (int j = 0; j < 4; j++)
        if (3'(j) >= l_at)
            l_leave[128 + 10 * j +: 10] = j + 1 < 4 && 3'(j + 1) < nn ? qs[j + 1] : 10'h0;
    l_leave[173:171] = nn - 3'd1;
    if ({1'b0, tb_rv[175:174]} >= nn - 3'd1)
        l_leave[175:174] = 2'd0;
end
wire [2:0] l_rr1 = {1'b0, l_rr} + 3'd1;
wire [4:0] s_rr1 = {1'b0, svc_v[24:21]} + 5'd1;

task automatic call_tbl(input logic [2:0] sel, input logic [1:0] op, input logic [143:0] key,
                        input logic [175:0] val, input state_t r);
    tb_sel_r <= sel;
    tb_op_r <= op;
    tb_key_r <= key;
    tb_val_r <= val;
    tb_issued <= 1'b0;
    ret <= r;
    st <= S_TBL;
endtask

task automatic call_room(input logic [QW-1:0] q, input logic [1:0] need, input state_t r);
    room_q <= q;
    room_need <= need;
    ret <= r;
    st <= S_ROOM;
endtask

// an event of kind k (EK_*: its fields come from the request and the
// working registers; status and reason from here) to queue q
task automatic call_emit(input logic [QW-1:0] q, input logic [2:0] k, input logic [31:0] status,
                         input logic [15:0] reason, input state_t r);
    ev_q <= q;
    ev_kind <= k;
    ev_status <= status;
    ev_reason <= reason;
    ret <= r;
    st <= S_EMIT;
endtask

// a completion of the request to queue q (eng_cpl), then the next request
task automatic cpl(input logic [QW-1:0] q, input logic [31:0] status, input logic [15:0] reason);
    call_emit(q, EK_CPL, status, reason, S_NEXT);
endtask

task automatic error_event(input logic [31:0] status, input logic [15:0] reason);
    err_status <= status;
    err_reason <= reason;
    err_ret <= S_END;
    st <= S_ERR;
endtask

always_ff @(posedge clk) begin
    if (rst) begin
        st <= S_CLEAR;
        clr_idx <= '0;
        q_en <= '0;
        tb_issued <= 1'b0;
        as_mode <= 1'b0;
        cnt_reqs <= '0;
        cnt_events <= '0;
        cnt_dma_rd <= '0;
        cnt_dma_wr <= '0;
        cnt_errors <= '0;
        cnt_misses <= '0;
        cnt_drops <= '0;
        cnt_busy <= '0;
    end else begin
        if (st != S_IDLE && st != S_CLEAR)
            cnt_busy <= cnt_busy + 1'b1;
        if (cfg_valid) begin
            q_en[cfg_q] <= cfg_enable;
            if (cfg_enable) begin
                q_rq[cfg_q] <= cfg_rq;
                q_eq[cfg_q] <= cfg_eq;
                q_rqlog[cfg_q] <= cfg_rq_log2;
                q_eqlog[cfg_q] <= cfg_eq_log2;
                q_pod[cfg_q] <= cfg_pod;
                q_prod[cfg_q] <= '0;
                q_cons[cfg_q] <= '0;
            end
        end
        case (st)
        S_CLEAR: begin
            if (clr_idx < (CW+1)'(N_PODS))
                pod_flags[clr_idx[PW-1:0]] <= '0;
            if (clr_idx < (CW+1)'(N_EPS))
                eps[clr_idx[EPW-1:0]] <= '0;
            clr_idx <= clr_idx + 1'b1;
            if (clr_idx == (CW+1)'(NCLR - 1))
                st <= S_IDLE;
        end
        S_IDLE: if (turn_valid) begin
            tq <= turn_q;
            tkind <= turn_kind;
            head <= turn_head;
            tail <= turn_tail;
            n <= '0;
            parked <= 1'b0;
            stopped <= 1'b0;
            own_dirty <= 1'b0;
            oth_valid <= 1'b0;
            oth_dirty <= 1'b0;
            as_mode <= 1'b0;
            case (turn_kind)
                2'd0: st <= S_LOOP;
                2'd1: error_event(E_INVAL, R_BAD_QUEUE);
                default: error_event(E_INVAL, R_DOORBELL);
            endcase
        end
        S_LOOP: st <= head != tail && n < 5'd16 ? S_RD : S_END;
        S_RD: if (dma_req_ready) begin
            cnt_dma_rd <= cnt_dma_rd + 1'b1;
            st <= S_RDW;
        end
        S_RDW: if (dma_rsp_valid) begin
            if (dma_rsp_err) begin
                stopped <= 1'b1;
                error_event(E_FAULT, R_DMA);
            end else begin
                rl <= dma_rsp_data;
                call_room(tq, 2'd1, S_SV0);
            end
        end
        // ---- eng_serve ----
        S_SV0: begin
            t <= tq;
            cpod <= q_pod[tq];
            if (!room_ok) begin
                parked <= 1'b1;
                st <= S_END;
            end else if (r_op >= 8'h40) begin
                if (tq != '0)
                    cpl(tq, E_PERM, R_NOT_ADMIN);
                else
                    case (r_op)
                    OP_POD_SET:
                        if (!(uz(U_FLAGS | U_POD | U_ADDR) && r_flags <= 8'd1 && 32'(r_pod) < N_PODS))
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else if (r_flags[0])
                            call_tbl(T_POD, TC_DELETE, {16'h0, r_addr}, '0, S_TD_R);
                        else
                            call_tbl(T_POD, TC_INSERT, {16'h0, r_addr}, {164'h0, r_pod[11:0]}, S_TW_R);
                    OP_POD_FLAGS:
                        if (!(uz(U_POD | U_VAL2) && 32'(r_pod) < N_PODS && r_val2[31:4] == '0)) begin
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        end else begin
                            pod_flags[r_pod[PW-1:0]] <= r_val2[3:0];
                            cpl(tq, 32'h0, 16'h0);
                        end
                    OP_PAIR_SET:
                        if (!(uz(U_FLAGS | U_QID | U_AUX | U_VAL | U_VAL2) && r_flags <= 8'd1) ||
                            32'(r_qid) >= NQ || 32'(r_aux) >= NQ)
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else if (r_flags[0])
                            call_tbl(T_PAIR, TC_DELETE, {112'h0, r_aux, r_qid}, '0, S_TD_R);
                        else
                            call_tbl(T_PAIR, TC_INSERT, {112'h0, r_aux, r_qid},
                                     {112'h0, r_val2, r_val}, S_TW_R);
                    OP_SLOT_FREE:
                        if (!(uz(U_QID | U_AUX | U_VAL | U_LPORT) && r_lport < 16'd32) ||
                            32'(r_qid) >= NQ || 32'(r_aux) >= NQ)
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else
                            call_tbl(T_PAIR, TC_LOOKUP, {112'h0, r_aux, r_qid}, '0, S_SF_R);
                    OP_SVC_SET:
                        if (!(uz(U_FLAGS | U_PORT | U_AUX | U_VAL | U_ADDR) && r_port != 16'h0 &&
                              (r_flags & 8'hfc) == 8'h0 && r_val <= 32'd16 && 32'(r_aux) < N_EPS &&
                              32'(r_aux) + r_val <= N_EPS))
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else if (r_flags[0])
                            call_tbl(T_SVC, TC_DELETE, {r_port, r_addr}, '0, S_TD_R);
                        else
                            call_tbl(T_SVC, TC_INSERT, {r_port, r_addr},
                                     {150'h0, r_flags[1], 4'h0, r_val[4:0], r_aux}, S_TW_R);
                    OP_EP_SET:
                        if (!(uz(U_FLAGS | U_PORT | U_AUX | U_ADDR) && (r_flags & 8'hfd) == 8'h0 &&
                              32'(r_aux) < N_EPS)) begin
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        end else begin
                            eps[r_aux[EPW-1:0]] <= {r_flags[1], r_port, r_addr};
                            cpl(tq, 32'h0, 16'h0);
                        end
                    OP_POL_SET:
                        if (!(uz(U_FLAGS | U_POD | U_AUX | U_PORT | U_VAL2) && r_flags <= 8'd1 &&
                              32'(r_pod) < N_PODS && 32'(r_aux) < N_PODS && r_val2 <= 32'd1))
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else if (r_flags[0])
                            call_tbl(T_POL, TC_DELETE, {96'h0, r_port, r_aux, r_pod}, '0, S_TD_R);
                        else
                            call_tbl(T_POL, TC_INSERT, {96'h0, r_port, r_aux, r_pod},
                                     {175'h0, r_val2[0]}, S_TW_R);
                    OP_POST:
                        if (!(uz(U_QID | U_VAL | U_AUX | U_LPORT) && r_lport <= 16'hff &&
                              r_aux <= R_DMA && !($signed(r_val) > 0) && !($signed(r_val) < -4095) &&
                              ((r_val == 32'h0) == (r_aux == 16'h0))))
                            cpl(tq, E_INVAL, R_BAD_FIELD);
                        else if (!qid_ok)
                            cpl(tq, E_INVAL, R_BAD_QUEUE);
                        else
                            call_room(r_qid[QW-1:0], 2'd2, S_PO_R);
                    default: cpl(tq, E_OPNOTSUPP, R_BAD_OP);
                    endcase
            end else if ((r_flags & F_AS) != 8'h0) begin
                if (tq != '0) begin
                    cpl(tq, E_PERM, R_NOT_ADMIN);
                end else if (!qid_ok) begin
                    cpl(tq, E_INVAL, R_BAD_QUEUE);
                end else begin
                    t <= r_qid[QW-1:0];
                    cpod <= q_pod[r_qid[QW-1:0]];
                    as_mode <= 1'b1;
                    if (r_qid[QW-1:0] != tq)
                        call_room(r_qid[QW-1:0], 2'd1, S_AS_R);
                    else
                        st <= S_PROC;
                end
            end else begin
                st <= S_PROC;
            end
        end
        S_AS_R: if (!room_ok) cpl(tq, E_AGAIN, R_BUSY); else st <= S_PROC;
        S_PO_R:
            if (!room_ok)
                cpl(tq, E_AGAIN, R_BUSY);
            else
                call_emit(r_qid[QW-1:0], EK_POST, r_val, r_aux, S_OK);
        S_SF_R:
            if (tb_st != 2'd0 || tb_rv[31:0] != r_val)
                cpl(t, E_NOENT, R_NO_ENTRY);
            else
                call_tbl(T_PAIR, TC_INSERT, tb_key_r,
                         {112'h0, tb_rv[63:32] | (32'd1 << r_lport[4:0]), tb_rv[31:0]}, S_TW_R);
        S_TD_R: if (tb_st != 2'd0) cpl(t, E_NOENT, R_NO_ENTRY); else cpl(t, 32'h0, 16'h0);
        S_TW_R: if (tb_st == 2'd2) cpl(t, E_NOSPC, R_TABLE_FULL); else cpl(t, 32'h0, 16'h0);
        S_OK: cpl(t, 32'h0, 16'h0);
        // ---- process ops (engine.c process_op) ----
        S_PROC:
            case (r_op)
            OP_NOP:
                if (uz(10'h0))
                    cpl(t, 32'h0, 16'h0);
                else
                    cpl(t, E_INVAL, R_BAD_FIELD);
            OP_LISTEN:
                if (!(uz(U_FLAGS | U_PORT | U_ADDR) && r_port != 16'h0 && (p_flags & 8'hf8) == 8'h0 &&
                      !(p_flags[1] && p_flags[2])))
                    cpl(t, E_INVAL, R_BAD_FIELD);
                else
                    call_tbl(T_LSN, TC_LOOKUP, {112'h0, r_port, cpod16}, '0, S_L_R);
            OP_UNLISTEN:
                if (!(uz(U_PORT) && r_port != 16'h0))
                    cpl(t, E_INVAL, R_BAD_FIELD);
                else
                    call_tbl(T_LSN, TC_LOOKUP, {112'h0, r_port, cpod16}, '0, S_U_R);
            OP_CONNECT:
                if (!(uz(U_PORT | U_LPORT | U_ADDR | U_SRC) && r_port != 16'h0))
                    cpl(t, E_INVAL, R_BAD_FIELD);
                else
                    call_tbl(T_POD, TC_LOOKUP, {16'h0, r_src}, '0, C_SRC_R);
            OP_CLOSE:
                if (!(uz(U_FLAGS | U_VAL | U_AUX) && p_flags <= 8'd1 && r_aux < 16'd32))
                    cpl(t, E_INVAL, R_BAD_FIELD);
                else
                    call_room('0, 2'd2, S_CL_R);
            default: cpl(t, E_OPNOTSUPP, R_BAD_OP);
            endcase
        S_CL_R:
            if (!room_ok)
                cpl(t, E_AGAIN, R_SW_BUSY);
            else
                call_emit('0, EK_FWD, 32'h0, 16'h0, S_NEXT);
        S_L_R:
            if (tb_st != 2'd0)
                call_tbl(T_LSN, TC_INSERT, tb_key_r,
                         {2'd0, 3'd1, p_flags[2:0], 30'h0, t10, r_addr}, S_TW_R);
            else if ((p_flags & (LSN_SHARED | LSN_REUSEPORT)) == 8'h0 ||
                     tb_rv[170:168] != p_flags[2:0] || tb_rv[127:0] != r_addr || l_at != 3'd4)
                cpl(t, E_ADDRINUSE, R_IN_USE);
            else if (tb_rv[173:171] >= 3'd4)
                cpl(t, E_NOBUFS, R_GROUP_FULL);
            else
                call_tbl(T_LSN, TC_INSERT, tb_key_r, l_join, S_TW_R);
        S_U_R:
            if (tb_st != 2'd0 || l_at == 3'd4)
                cpl(t, E_NOENT, R_NO_ENTRY);
            else if (tb_rv[173:171] == 3'd1)
                call_tbl(T_LSN, TC_DELETE, tb_key_r, '0, S_TW_R);
            else
                call_tbl(T_LSN, TC_INSERT, tb_key_r, l_leave, S_TW_R);
        // ---- CONNECT (engine.c connect_op) ----
        C_SRC_R:
            if (tb_st != 2'd0 || tb_rv[11:0] != cpod)
                cpl(t, E_ADDRNOTAVAIL, R_BAD_SRC);
            else
                call_tbl(T_SVC, TC_LOOKUP, {r_port, r_addr}, '0, C_SVC_R);
        C_SVC_R: begin
            svc_hit <= tb_st == 2'd0;
            svc_v <= tb_rv[25:0];
            if (tb_st == 2'd0 && tb_rv[20:16] == 5'h0) begin
                cpl(t, E_CONNREFUSED, R_SVC_EMPTY);
            end else if (tb_st == 2'd0) begin
                st <= C_EP;
            end else begin
                dst <= r_addr;
                dport <= r_port;
                call_tbl(T_POD, TC_LOOKUP, {16'h0, r_addr}, '0, C_DPOD_R);
            end
        end
        C_EP: begin
            ep_rd <= eps[ep_idx[EPW-1:0]];
            st <= C_EP_R;
        end
        C_EP_R:
            if (!ep_rd[144]) begin
                cpl(t, E_HOSTUNREACH, R_SVC_REMOTE);
            end else begin
                dst <= ep_rd[127:0];
                dport <= ep_rd[143:128];
                call_tbl(T_POD, TC_LOOKUP, {16'h0, ep_rd[127:0]}, '0, C_DPOD_R);
            end
        C_DPOD_R:
            if (tb_st != 2'd0) begin
                cpl(t, E_HOSTUNREACH, R_NO_POD);
            end else begin
                dpod <= tb_rv[11:0];
                call_tbl(T_LSN, TC_LOOKUP, {112'h0, dport, 4'h0, tb_rv[11:0]}, '0, C_LSN_R);
            end
        C_LSN_R: begin
            lsn_v <= tb_rv;
            if (tb_st != 2'd0 || !reaches(tb_rv[127:0], tb_rv[168], dst))
                cpl(t, E_CONNREFUSED, R_NO_LISTENER);
            else if ((nf & POD_NF_IN) != 4'h0 || (pf & POD_NF_OUT) != 4'h0)
                cpl(t, E_HOSTUNREACH, R_NETFILTER);
            else if ((nf & POD_POL_IN) != 4'h0 || (pf & POD_POL_OUT) != 4'h0)
                call_tbl(T_POL, TC_LOOKUP, {96'h0, dport, dpod16, cpod16}, '0, C_POL1_R);
            else
                st <= C_PICK;
        end
        C_POL1_R:
            if (tb_st != 2'd0)
                call_tbl(T_POL, TC_LOOKUP, {96'h0, 16'h0, dpod16, cpod16}, '0, C_POL2_R);
            else if (!tb_rv[0])
                cpl(t, E_HOSTUNREACH, R_POLICY);
            else
                st <= C_PICK;
        C_POL2_R:
            if (tb_st != 2'd0 || !tb_rv[0])
                cpl(t, E_HOSTUNREACH, R_POLICY);
            else
                st <= C_PICK;
        C_PICK: begin
            lq <= pick;
            if (32'(pick) >= NQ || !q_en[pick[QW-1:0]])
                cpl(t, E_CONNREFUSED, R_NO_LISTENER);
            else
                call_tbl(T_PAIR, TC_LOOKUP, {112'h0, 6'h0, pick, t16}, '0, C_PAIR_R);
        end
        C_PAIR_R: begin
            pair_v <= tb_rv[63:0];
            miss_reason <= tb_st == 2'd0 ? R_REGION_FULL : R_NO_REGION;
            if (tb_st != 2'd0 || tb_rv[63:32] == 32'h0)
                call_room('0, 2'd2, C_MISS_R);
            else
                call_room(lq[QW-1:0], 2'd2, C_ROOM_R);
        end
        C_MISS_R:
            if (!room_ok)
                cpl(t, E_AGAIN, R_SW_BUSY);
            else
                call_emit('0, EK_MISS, 32'h0, miss_reason, S_NEXT);
        C_ROOM_R:
            if (!room_ok)
                cpl(t, E_AGAIN, R_BUSY);
            else
                call_tbl(T_PAIR, TC_INSERT, {112'h0, 6'h0, lq, t16},
                         {112'h0, pair_v[63:32] & ~(32'd1 << pair_slot), pair_v[31:0]}, C_WLSN);
        C_WLSN:
            if (!lsn_v[170]) begin
                call_tbl(T_LSN, TC_INSERT, {112'h0, dport, dpod16},
                         {l_rr1 >= l_n ? 2'd0 : l_rr1[1:0], lsn_v[173:0]}, C_WSVC);
            end else begin
                st <= C_WSVC;
            end
        C_WSVC:
            if (svc_hit && !svc_v[25])
                call_tbl(T_SVC, TC_INSERT, {r_port, r_addr},
                         {150'h0, svc_v[25], s_rr1 >= svc_v[20:16] ? 4'h0 : s_rr1[3:0],
                          svc_v[20:0]}, C_EMIT_A);
            else
                st <= C_EMIT_A;
        C_EMIT_A:
            call_emit(lq[QW-1:0], EK_ACCEPT, 32'h0, 16'h0, C_EMIT_C);
        C_EMIT_C:
            call_emit(t, EK_CCPL, 32'h0, 16'h0, S_NEXT);
        S_NEXT: begin
            head <= head + 1'b1;
            n <= n + 1'b1;
            cnt_reqs <= cnt_reqs + 1'b1;
            as_mode <= 1'b0;
            st <= S_LOOP;
        end
        // ---- sub-sequences ----
        S_ROOM:
            if (room_fast) begin
                room_ok <= 1'b1;
                st <= ret;
            end else if (dma_req_ready) begin
                cnt_dma_rd <= cnt_dma_rd + 1'b1;
                st <= S_ROOMW;
            end
        S_ROOMW: if (dma_rsp_valid) begin
            q_cons[room_q] <= dma_rsp_data[31:0];
            room_ok <= room_slow;
            st <= ret;
        end
        S_EMIT: if (dma_req_ready) begin
            q_prod[ev_q] <= q_prod[ev_q] + 1'b1;
            cnt_dma_wr <= cnt_dma_wr + 1'b1;
            cnt_events <= cnt_events + 1'b1;
            if (ev[7:0] == EVT_MISS)
                cnt_misses <= cnt_misses + 1'b1;
            if (ev[95] || ev[7:0] == EVT_ERROR)
                cnt_errors <= cnt_errors + 1'b1;
            st <= ret;
            if (ev_q == tq) begin
                own_dirty <= 1'b1;
            end else begin
                if (oth_valid && oth != ev_q && oth_dirty) begin
                    fl_q <= oth;
                    st <= S_EMITF;
                end
                oth <= ev_q;
                oth_valid <= 1'b1;
                oth_dirty <= 1'b1;
            end
        end
        S_EMITF: if (dma_req_ready) begin
            cnt_dma_wr <= cnt_dma_wr + 1'b1;
            st <= ret;
        end
        S_TBL: if (tbl_ready) begin
            tb_issued <= 1'b1;
            st <= S_TBLW;
        end
        S_TBLW: if (tbl_rsp) begin
            tb_st <= tbl_rsp_status;
            tb_rv <= tbl_rsp_val;
            st <= ret;
        end
        // error_event(): to the admin queue, dropped and counted when it is
        // not there or full
        S_ERR:
            if (!q_en[0]) begin
                cnt_drops <= cnt_drops + 1'b1;
                st <= err_ret;
            end else begin
                call_room('0, 2'd2, S_ERR_R);
            end
        S_ERR_R:
            if (!room_ok) begin
                cnt_drops <= cnt_drops + 1'b1;
                st <= err_ret;
            end else begin
                call_emit('0, EK_ERROR, err_status, err_reason, err_ret);
            end
        // ---- the turn's end: the RQ consumer line, then the producer
        // lines the turn moved, once each ----
        S_END:
            if (n != 5'd0)
                st <= S_END_CONS;
            else
                end_flush(1'b1);
        S_END_CONS: if (dma_req_ready) begin
            cnt_dma_wr <= cnt_dma_wr + 1'b1;
            end_flush(1'b1);
        end
        S_END_OWN: if (dma_req_ready) begin
            cnt_dma_wr <= cnt_dma_wr + 1'b1;
            end_flush(1'b0);
        end
        S_END_OTH: if (dma_req_ready) begin
            cnt_dma_wr <= cnt_dma_wr + 1'b1;
            st <= S_DONE;
        end
        S_DONE: st <= S_IDLE;
        default: st <= S_IDLE;
        endcase
    end
end


assign done_valid = st == S_DONE && tkind == 2'd0;
assign done_q = tq;
assign done_head = head;
assign done_park = parked;
assign done_stop = stopped;
