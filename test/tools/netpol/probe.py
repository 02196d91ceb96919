#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Servers and probers of the NetworkPolicy test.

  probe.py server NAME IP         listen on IP:80 and IP:81; every accepted
                                  connection gets NAME and is closed
  probe.py probe IP:PORT:NAME...  for each line ROUND read on stdin:
                                  connect to each target in turn (2 s bound)
                                  and print "ROUND " and a string of 1 (NAME
                                  came back) or . (one per target); exit at
                                  the end of stdin
"""
import selectors
import socket
import sys


def server(name, ip):
    sel = selectors.DefaultSelector()
    for port in (80, 81):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                c, _ = key.fileobj.accept()
            except OSError:
                continue
            try:
                c.sendall(name.encode())
            except OSError:
                pass
            c.close()


def probe_once(targets):
    out = []
    for t in targets:
        ip, port, name = t.split(":")
        ok = False
        try:
            c = socket.create_connection((ip, int(port)), timeout=2)
            data = b""
            while True:
                d = c.recv(64)
                if not d:
                    break
                data += d
            c.close()
            ok = data == name.encode()
        except OSError:
            pass
        out.append("1" if ok else ".")
    return "".join(out)


def probe(targets):
    for line in sys.stdin:
        print(line.strip(), probe_once(targets), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        probe(sys.argv[2:])
