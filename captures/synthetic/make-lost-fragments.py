#!/usr/bin/env python3
"""Writes lost-fragments.pcap: IP datagrams sent in fragments, some of which never arrive.

Crafted (Python standard library only), not recorded: the kernel does not lose fragments on
request. Frames (Ethernet, 10.9.0.1 → 10.9.0.2 / fd00:9::1 → fd00:9::2, one second apart):
  1     IPv4 UDP DNS query (id 0x1234, www.example.test TXT, EDNS padding to 120 bytes),
        first fragment of 2 (offset 0, 64 bytes of the UDP datagram); the second is lost
  2-3   IPv4 UDP DNS query id 0x1235, both fragments: reassembled at frame 3
  4     IPv4 TCP 40000 → 80 PSH+ACK with 100 bytes of HTTP, first fragment (offset 0, 48
        bytes: the 20-byte TCP header and 28 bytes of data); the second is lost
  5     IPv6 UDP 5353 → 5353, first fragment (fragment header, offset 0, 64 bytes); lost rest
  6     IPv4 UDP, a middle fragment (offset 64, more fragments) of id 0x0007 whose first and
        last fragments are lost: never decodable past IP
  7     IPv4 UDP first fragment whose first 8 bytes are only 4 (a datagram cut inside its
        UDP header): too short for any transport header
Usage: python3 make-lost-fragments.py lost-fragments.pcap
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import craft  # noqa: E402
from craft import csum  # noqa: E402


SRC4, DST4 = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])
SRC6 = bytes.fromhex("fd000009000000000000000000000001")
DST6 = bytes.fromhex("fd000009000000000000000000000002")


def eth(ether_type: int, payload: bytes) -> bytes:
    return bytes.fromhex("020000000902") + bytes.fromhex("020000000901") + struct.pack("!H", ether_type) + payload


def ipv4(ident: int, proto: int, offset: int, more: bool, payload: bytes) -> bytes:
    flags = (0x2000 if more else 0) | (offset // 8)
    return eth(0x0800, craft.ipv4(proto, payload, SRC4, DST4, ident=ident, frag=flags))


def ipv6_frag(ident: int, proto: int, offset: int, more: bool, payload: bytes) -> bytes:
    frag = struct.pack("!BBHI", proto, 0, offset | (1 if more else 0), ident)
    h = struct.pack("!IHBB16s16s", 0x60000000, len(frag) + len(payload), 44, 64, SRC6, DST6)
    return eth(0x86DD, h + frag + payload)


def udp(sport: int, dport: int, data: bytes, pseudo: bytes) -> bytes:
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = csum(pseudo + struct.pack("!BBH", 0, 17, 8 + len(data)) + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def dns_query(ident: int) -> bytes:
    name = b"".join(bytes([len(p)]) + p for p in b"www.example.test".split(b".")) + b"\0"
    q = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 1) + name + struct.pack("!HH", 16, 1)
    pad = 120 - len(q) - 11 - 4
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 4 + pad) + struct.pack("!HH", 12, pad) + b"\0" * pad
    return q + opt


def tcp(sport: int, dport: int, seq: int, ack: int, data: bytes) -> bytes:
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, 0x18, 502, 0, 0)
    c = csum(SRC4 + DST4 + struct.pack("!BBH", 0, 6, 20 + len(data)) + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def main() -> None:
    frames = []
    d1 = udp(53001, 53, dns_query(0x1234), SRC4 + DST4)
    frames.append(ipv4(0x0001, 17, 0, True, d1[:64]))
    d2 = udp(53002, 53, dns_query(0x1235), SRC4 + DST4)
    frames.append(ipv4(0x0002, 17, 0, True, d2[:64]))
    frames.append(ipv4(0x0002, 17, 64, False, d2[64:]))
    body = b"GET /lost-fragment HTTP/1.1\r\nHost: example.test\r\n" + b"X" * 50 + b"\r\n\r\n"
    body = body[:100]
    t = tcp(40000, 80, 1000, 2000, body)
    frames.append(ipv4(0x0003, 6, 0, True, t[:48]))
    pseudo6 = SRC6 + DST6
    u6 = struct.pack("!HHHH", 5353, 5353, 8 + 120, 0) + b"\xab" * 120
    frames.append(ipv6_frag(0x00000004, 17, 0, True, u6[:64]))
    frames.append(ipv4(0x0007, 17, 64, True, b"\xcd" * 64))
    frames.append(ipv4(0x0008, 17, 0, True, b"\x13\x88\x13"))
    out = open(sys.argv[1], "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for i, f in enumerate(frames):
        out.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)


if __name__ == "__main__":
    main()
