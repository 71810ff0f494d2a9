#!/usr/bin/env python3
"""Seeds fuzz/corpus/wire/ with hostile nesting (never committed: corpus/ is ignored).

GRE in GRE 400 deep, 3,000 VLAN tags, an MPLS stack with no bottom, lying PPPoE, Geneve and
GTP-U lengths, VXLAN in VXLAN, NFLOG with a bad TLV, radiotap/802.11/LLC, GRE with source
routes (RFC 1701) ended and endless, radiotap with a trailing FCS, VXLAN-GPE, DNS from the VXLAN port. Byte 0 picks the
link type (index into the target's LINKS: 0 = Ethernet, 4 = raw IP, 10 = radiotap,
15 = NFLOG).

usage: fuzz/wire-seeds.py
"""
import hashlib, os, struct

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "wire")
os.makedirs(CORPUS, exist_ok=True)


def put(data):
    with open(os.path.join(CORPUS, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def eth(t):
    return bytes(range(12)) + struct.pack(">H", t)


def ipv4(proto, payload):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return h + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


TCP = struct.pack(">HHIIBBHHH", 1234, 80, 7, 0, 0x50, 2, 65535, 0, 0)
inner = ipv4(6, TCP)

# GRE in GRE, 400 deep
p = inner
for _ in range(400):
    p = ipv4(47, b"\x00\x00\x08\x00" + p)
put(b"\x00" + eth(0x0800) + p)
# 3,000 VLAN tags
put(b"\x00" + eth(0x8100) + b"\x00\x01\x81\x00" * 3000)
# MPLS with no bottom of stack
put(b"\x00" + eth(0x8847) + b"\x00\x01\x00\x40" * 200)
# PPPoE claiming 60000 bytes
put(b"\x00" + eth(0x8864) + b"\x11\x00\x00\x01\xea\x60\x00\x21" + inner)
# Geneve announcing 252 option bytes
put(b"\x00" + eth(0x0800) + ipv4(17, udp(5000, 6081, b"\x3f\x00\x65\x58\x00\x00\x01\x00" + b"\x00" * 16)))
# GTP-U with an endless extension chain and a lying length
gtp = b"\x34\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x85" + b"\x01\x00\x00\x85" * 40
put(b"\x00" + eth(0x0800) + ipv4(17, udp(2152, 2152, gtp)))
# VXLAN in VXLAN in VXLAN
p = eth(0x0800) + inner
for _ in range(3):
    p = eth(0x0800) + ipv4(17, udp(40000, 4789, b"\x08\x00\x00\x00\x00\x00\x2a\x00" + p))
put(b"\x00" + p)
# raw IPv6 with destination options, GRE, ERSPAN III
v6 = struct.pack(">IHBB", 0x60000000, 8 + 4 + 12 + 14, 60, 64) + bytes(32)
put(b"\x04" + v6 + b"\x2f\x00\x01\x04\x00\x00\x00\x00" + b"\x00\x00\x22\xeb" + b"\x20" + bytes(11) + eth(0x0800))
# NFLOG with a TLV length of 0
put(b"\x0f" + b"\x02\x00\x00\x01" + b"\x00\x00\x09\x00" + inner)
# radiotap, 802.11 data, LLC/SNAP, IPv4
put(b"\x0a" + b"\x00\x00\x08\x00\x00\x00\x00\x00" + b"\x08\x02" + bytes(22) + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + inner)
# GRE with RFC 1701 source routes: one entry, the null entry, IPv4; and a list with no end
sre = b"\x08\x00\x00\x08" + bytes([10, 0, 0, 1, 10, 0, 0, 2]) + b"\x00\x00\x00\x00"
put(b"\x00" + eth(0x0800) + ipv4(47, b"\x40\x00\x08\x00" + bytes(4) + sre + inner))
put(b"\x00" + eth(0x0800) + ipv4(47, b"\x40\x00\x08\x00" + bytes(4) + b"\x08\x00\x00\x00" * 100))
# radiotap saying "FCS at end" (flags field behind two present words and a TSFT), 802.11
# data, LLC/SNAP, IPv4, then the FCS; and one too short to hold the FCS it announces
rt = b"\x00\x00\x1c\x00" + struct.pack("<II", 0x80000003, 0) + bytes(4) + bytes(8) + b"\x10\x00\x00\x00"
put(b"\x0a" + rt + b"\x08\x02" + bytes(22) + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + inner + b"\xde\xad\xbe\xef")
put(b"\x0a" + rt + b"\x08")
# VXLAN-GPE naming IPv4 inside, and a DNS query from port 4789 (not VXLAN)
put(b"\x00" + eth(0x0800) + ipv4(17, udp(40000, 4789, b"\x0c\x00\x00\x01\x00\x00\x2a\x00" + inner)))
put(b"\x00" + eth(0x0800) + ipv4(17, udp(4789, 53, b"\x08\x00\x01\x00\x00\x01" + bytes(6))))
# PPI (link index 12) with an 802.11-common field saying "FCS present", 802.11 data, FCS
common = bytes(8) + b"\x01\x00" + bytes(10)
ppi = b"\x00\x00\x20\x00\x69\x00\x00\x00" + b"\x02\x00\x14\x00" + common
put(b"\x0c" + ppi + b"\x08\x02" + bytes(22) + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + inner + b"\xde\xad\xbe\xef")
print("seeded", CORPUS)

# A first fragment (UDP 53 → 53, more fragments) that never completes, and an IPv6 one (fragment
# header, TCP); an Ethernet frame with a 4-byte FCS the header announces (index 17).
frag = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 36, 9, 0x2000, 64, 17, 0, bytes([10, 0, 0, 1]),
                   bytes([10, 0, 0, 2])) + udp(53, 53, bytes(8))
put(b"\x00" + eth(0x0800) + frag)
v6f = struct.pack(">IHBB", 0x60000000, 8 + 20, 44, 64) + bytes(32) + b"\x06\x00\x00\x01\x00\x00\x00\x07" + TCP
put(b"\x00" + eth(0x86DD) + v6f)
put(b"\x11" + eth(0x0800) + inner + b"\xde\xad\xbe\xef")
