#!/usr/bin/env python3
"""DNS over TLS (RFC 7858) on loopback for record-dot.sh, with Python's ssl module only.

  dot.py server PORT CERT KEY
  dot.py client PORT KEYLOG

The server answers each query on the connection (2-byte length prefix, as DNS over TCP):
www.example.test A 192.0.2.10, www.example.test AAAA 2001:db8::10, anything else NXDOMAIN.
The client opens one TLS 1.3 connection with ALPN "dot", sends three queries one after
another (www.example.test A, www.example.test AAAA, nosuch.example.test A), writes the TLS
secrets to KEYLOG (NSS format, ssl's keylog_filename) and prints one line per answer:
id, name, type, rcode, answer count, tab-separated."""

import socket
import ssl
import struct
import sys


def name_bytes(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def query(qid, name, qtype):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name_bytes(name) + struct.pack(">HH", qtype, 1)


def read_msg(f):
    n = f.read(2)
    if len(n) < 2:
        return None
    (length,) = struct.unpack(">H", n)
    return f.read(length)


def answer(q):
    qid, _flags = struct.unpack(">HH", q[:4])
    end = q.index(b"\0", 12) + 5
    question = q[12:end]
    labels, i = [], 0
    while question[i]:
        labels.append(question[i + 1 : i + 1 + question[i]].decode())
        i += 1 + question[i]
    name = ".".join(labels)
    (qtype,) = struct.unpack(">H", question[i + 1 : i + 3])
    rr = b""
    if name == "www.example.test" and qtype == 1:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 10])
    elif name == "www.example.test" and qtype == 28:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 300, 16) + bytes.fromhex("20010db8000000000000000000000010")
    rcode = 0 if rr or name == "www.example.test" else 3
    header = struct.pack(">HHHHHH", qid, 0x8500 | rcode, 1, 1 if rr else 0, 0, 0)
    return header + question + rr


def server(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["dot"])
    with socket.create_server(("127.0.0.1", port)) as s:
        while True:
            conn, _ = s.accept()
            with ctx.wrap_socket(conn, server_side=True) as t:
                f = t.makefile("rb")
                while (q := read_msg(f)) is not None:
                    a = answer(q)
                    t.sendall(struct.pack(">H", len(a)) + a)


def client(port, keylog):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["dot"])
    ctx.keylog_filename = keylog
    with socket.create_connection(("127.0.0.1", port)) as s, ctx.wrap_socket(s, server_hostname="dns.layerscope.test") as t:
        f = t.makefile("rb")
        for qid, name, qtype in ((0x1001, "www.example.test", 1), (0x1002, "www.example.test", 28), (0x1003, "nosuch.example.test", 1)):
            q = query(qid, name, qtype)
            t.sendall(struct.pack(">H", len(q)) + q)
            a = read_msg(f)
            rid, flags, _qd, an = struct.unpack(">HHHH", a[:8])
            print(f"{rid}\t{name}\t{qtype}\t{flags & 15}\t{an}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        client(int(sys.argv[2]), sys.argv[3])
