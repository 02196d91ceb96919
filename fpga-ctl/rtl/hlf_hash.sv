// SPDX-License-Identifier: Apache-2.0
//
// The tables' bucket hash: a Toeplitz hash of a key of KEYBYTES bytes
// under a 256-bit secret (the SEED registers). Key bit i (byte i/8, bit
// i%8; byte 0 at key[7:0]) set XORs in seed bits i..i+15. The same
// function as fpga-ctl/src/hash.c (eng_hash), bit for bit: an AND-XOR
// tree, combinational; the table registers its output.
module hlf_hash #(
    parameter int KEYBYTES = 4
) (
    input  logic [8*KEYBYTES-1:0] key,
    input  logic [255:0]          seed,
    output logic [15:0]           h
);
    always_comb begin
        h = 16'h0;
        for (int i = 0; i < 8 * KEYBYTES; i++)
            if (key[i])
                h = h ^ seed[i +: 16];
    end
endmodule
