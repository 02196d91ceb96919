#!/usr/bin/env python3
"""Small programs for test/integration/preload-programs.sh, each a real
user of what it names (Python's own socketserver and process calls):

  progs.py fork-server IP PORT N GO  socketserver.ForkingTCPServer: a child
                                   per connection echoes one line; after N
                                   connections prints "served N" and waits for
                                   the file GO before it exits
  progs.py spawn-server IP PORT N GO  echoes one line per connection and,
                                   between connections, starts a child in turn
                                   with subprocess.run (vfork+exec), os.system
                                   (posix_spawn), os.popen and os.posix_spawn;
                                   after N prints "served N spawned K" and waits
                                   for the file GO before it exits
  progs.py client IP PORT N        N connections one after the other: send a
                                   line, read it back, read end-of-stream;
                                   prints "answered A resets R eofs E other O"
"""
import os
import socket
import socketserver
import subprocess
import sys
import time


def fork_server(ip, port, n, go):
    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(self.rfile.readline())

    class Server(socketserver.ForkingTCPServer):
        allow_reuse_address = True
        request_queue_size = 128

    srv = Server((ip, port), Echo)
    print("ready", flush=True)
    for _ in range(n):
        srv.handle_request()
    srv.server_close()  # waits for the children
    print("served", n, flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)


def spawn(i):
    kind = i % 4
    if kind == 0:
        return subprocess.run(["true"]).returncode == 0
    if kind == 1:
        return os.system("true") == 0
    if kind == 2:
        with os.popen("echo popen") as f:
            return f.read() == "popen\n"
    pid = os.posix_spawn("/bin/true", ["true"], dict(os.environ))
    return os.waitpid(pid, 0)[1] == 0


def spawn_server(ip, port, n, go):
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((ip, port))
    lsn.listen(64)
    print("ready", flush=True)
    spawned = 0
    for i in range(n):
        c, _ = lsn.accept()
        f = c.makefile("rwb")
        f.write(f.readline())
        f.close()
        c.close()
        spawned += spawn(i)
    print("served", n, "spawned", spawned, flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)


def client(ip, port, n):
    ok = resets = eofs = other = 0
    for i in range(n):
        try:
            with socket.create_connection((ip, port)) as c:
                line = b"line %d\n" % i
                c.sendall(line)
                got = b""
                while not got.endswith(b"\n"):
                    d = c.recv(64)
                    if not d:
                        break
                    got += d
                tail = c.recv(64) if got == line else None
                if got == line and tail == b"":
                    ok += 1
                elif got != line and not got.endswith(b"\n"):
                    eofs += 1
                else:
                    other += 1
                if got != line or tail != b"":
                    print("connection", i, "got", got, "then", tail, file=sys.stderr)
        except ConnectionResetError:
            print("connection", i, "reset", file=sys.stderr)
            resets += 1
        except OSError as e:
            print("connection", i, e, file=sys.stderr)
            other += 1
    print("answered", ok, "resets", resets, "eofs", eofs, "other", other, flush=True)


def main():
    what, ip, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if what == "fork-server":
        fork_server(ip, port, n, sys.argv[5])
    elif what == "spawn-server":
        spawn_server(ip, port, n, sys.argv[5])
    elif what == "client":
        client(ip, port, n)
    else:
        sys.exit("usage: see the top of progs.py")


if __name__ == "__main__":
    main()
