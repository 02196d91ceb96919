#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Logs inotify events of directories, one "EVENT name" line each, until
killed: how a test sees whether a file was written in place (CREATE,
MODIFY, CLOSE_WRITE on its name) or renamed in whole (MOVED_TO).

usage: inotify-log.py OUT DIR...
"""
import ctypes
import os
import struct
import sys

NAMES = {0x2: "MODIFY", 0x8: "CLOSE_WRITE", 0x40: "MOVED_FROM", 0x80: "MOVED_TO",
         0x100: "CREATE", 0x200: "DELETE", 0x4: "ATTRIB"}
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0:
    sys.exit("inotify_init failed")
wds = {}
for d in sys.argv[2:]:
    wd = libc.inotify_add_watch(fd, d.encode(), sum(NAMES))
    if wd < 0:
        sys.exit("inotify_add_watch %s failed" % d)
    wds[wd] = os.path.basename(d.rstrip("/"))
with open(sys.argv[1], "a", buffering=1) as out:
    out.write("READY\n")
    while True:
        buf = os.read(fd, 65536)
        i = 0
        while i < len(buf):
            wd, mask, _, n = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode(errors="replace")
            i += 16 + n
            for bit, ev in NAMES.items():
                if mask & bit:
                    out.write("%s %s/%s\n" % (ev, wds.get(wd, "?"), name))
