#!/usr/bin/env python3
"""Writes gre-source-route.pcap: one frame, IPv4 in GRE version 0 with RFC 1701's routing
field (crafted with the Python standard library: no stack here sends source-routed GRE).

Ethernet, IPv4 198.51.100.1 → 198.51.100.2 protocol 47, GRE flags 0xc000 (checksum and
routing present), protocol 0x0800, checksum 0xbeef (not computed), offset 12 (the second
source route entry); an IP source route entry (family 0x0800, SRE offset 4, length 8:
192.0.2.1, 192.0.2.2), an ASN source route entry (family 0xc200, offset 0, length 4: AS 65000,
65001), the null entry; then IPv4 10.0.0.1 → 10.0.0.2, UDP 40000 → 9 with 2 bytes.
Usage: python3 make-gre-source-route.py  (writes gre-source-route.pcap beside this file)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import ipv4  # noqa: E402



inner = ipv4(17, struct.pack("!HHHH", 40000, 9, 10, 0) + b"\x12\x34")
gre = struct.pack("!HHHH", 0xC000, 0x0800, 0xBEEF, 12)
gre += struct.pack("!HBB", 0x0800, 4, 8) + bytes([192, 0, 2, 1, 192, 0, 2, 2])
gre += struct.pack("!HBB", 0xC200, 0, 4) + struct.pack("!HH", 65000, 65001)
gre += struct.pack("!HBB", 0, 0, 0)
outer = ipv4(47, gre + inner, (198, 51, 100, 1), (198, 51, 100, 2))
frame = bytes.fromhex("020000000002020000000001") + b"\x08\x00" + outer
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gre-source-route.pcap")
with open(path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    out.write(struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
