#!/usr/bin/env python3
"""Writes quic-initial.pcap: a QUIC v1 flow on 127.0.0.1 built byte by byte (no QUIC stack
on the build machine records one on loopback). Four UDP datagrams 127.0.0.1:50123 <->
127.0.0.1:443, 1 ms apart from 2026-01-01T00:00:00Z:

1. client Initial (long header 0xc3, version 1, DCID 8394c8f03e515708 as in RFC 9001 A.2,
   SCID 0a0b0c0d, no token, Length 1162), padded to a 1200-byte UDP payload;
2. server Initial (0xc1, DCID 0a0b0c0d, SCID 11223344, no token, Length 100);
3. client 1-RTT short header (0x41, DCID 11223344) with 40 bytes;
4. server 1-RTT short header (0x41, DCID 0a0b0c0d) with 60 bytes.

The protected payloads are zero bytes: nothing past the header is meant to decrypt.
Usage: python3 make-quic-initial.py [OUT]  (default: quic-initial.pcap beside this file)
"""
import os
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src_port: int, dst_port: int, payload: bytes) -> bytes:
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", src_port, dst_port, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return b"\0" * 12 + b"\x08\x00" + ip + udp


def long_header(first: int, dcid: bytes, scid: bytes, length: int) -> bytes:
    # Length as a 2-byte variable-length integer (RFC 9000 §16), then that many bytes.
    return (bytes([first]) + struct.pack("!I", 1) + bytes([len(dcid)]) + dcid
            + bytes([len(scid)]) + scid + b"\x00" + struct.pack("!H", 0x4000 | length)
            + b"\0" * length)


CLIENT_CID = bytes.fromhex("0a0b0c0d")
SERVER_CID = bytes.fromhex("11223344")
client_initial = long_header(0xC3, bytes.fromhex("8394c8f03e515708"), CLIENT_CID, 1162)
client_initial += b"\0" * (1200 - len(client_initial))
packets = [
    (50123, 443, client_initial),
    (443, 50123, long_header(0xC1, CLIENT_CID, SERVER_CID, 100)),
    (50123, 443, b"\x41" + SERVER_CID + b"\0" * 40),
    (443, 50123, b"\x41" + CLIENT_CID + b"\0" * 60),
]

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "quic-initial.pcap")
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for i, (sp, dp, payload) in enumerate(packets):
        data = frame(sp, dp, payload)
        f.write(struct.pack("<IIII", 1767225600, (i + 1) * 1000, len(data), len(data)))
        f.write(data)
