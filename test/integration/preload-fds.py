# Fds per connection (test/integration/preload-direct.sh): server or client
# of N connections; the server registers each accepted connection in an
# epoll set (or not: "plain"), writes its fd count to FILE, then waits for
# the client to close. The client writes its count to FILE too.
#   preload-fds.py server HOST PORT N epoll|plain FILE
#   preload-fds.py client HOST PORT N FILE
import os, select, socket, sys, time

def nfds():
    return len(os.listdir("/proc/self/fd"))

mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == "server":
    reg, out = sys.argv[5], sys.argv[6]
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port)); l.listen(4096)
    print("ready", flush=True)
    ep = select.epoll()
    base = nfds()
    conns = []
    for _ in range(n):
        c, _ = l.accept()
        conns.append(c)
        if reg == "epoll":
            ep.register(c.fileno(), select.EPOLLIN)
    with open(out, "w") as f:
        f.write("%d %d\n" % (base, nfds()))
    # the client closes: every connection reads end-of-stream
    for c in conns:
        c.settimeout(30)
        c.recv(1)
        c.close()
else:
    out = sys.argv[5]
    base = nfds()
    conns = [socket.create_connection((host, port), timeout=30) for _ in range(n)]
    with open(out, "w") as f:
        f.write("%d %d\n" % (base, nfds()))
    while not os.path.exists(out + ".done"):
        time.sleep(0.02)
    for c in conns:
        c.close()
