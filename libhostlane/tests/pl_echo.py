#!/usr/bin/env python3
# Helper of test/integration/preload-smoke.sh: a plain socket program (run
# under LD_PRELOAD or not).
#   pl_echo.py server PORT N    accept N connections (one at a time), echo
#                               each until EOF; readiness via select()
#   pl_echo.py client IP PORT BYTES   send BYTES pseudo-random bytes, read
#                               them back, print "ok <sha256>" if equal
import hashlib, os, select, socket, sys

def server(port, n):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    print("listening", flush=True)
    for _ in range(n):
        select.select([ls], [], [])
        c, peer = ls.accept()
        while True:
            select.select([c], [], [])
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
        c.close()
    ls.close()

def client(ip, port, nbytes):
    data = os.urandom(nbytes)
    c = socket.create_connection((ip, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()
    sent = 0
    while sent < len(data):
        sent += c.send(data[sent:sent + 100000])
        while True:
            r, _, _ = select.select([c], [], [], 0)
            if not r:
                break
            got += c.recv(1 << 20)
    c.shutdown(socket.SHUT_WR)
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        got += d
    c.close()
    if bytes(got) != data:
        print("mismatch", len(got), len(data))
        sys.exit(1)
    print("ok", hashlib.sha256(data).hexdigest())

if sys.argv[1] == "server":
    server(int(sys.argv[2]), int(sys.argv[3]))
else:
    client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
