#!/usr/bin/env python3
"""Writes link-types.pcapng: one frame of each link type and encapsulation that no capture in
../shared carries, to check each against tshark (crafted with the Python standard library;
each frame ends in IPv4 10.0.0.1 → 10.0.0.2, UDP 40000 → 9 with 2 bytes, unless said):

 1 PPI (192): an 8-byte PPI header, 802.11 data (To DS), LLC/SNAP, IPv4, UDP
 2 Prism (119): a 144-byte Prism header, then the same 802.11 frame
 3 AVS (163): a 64-byte AVS v1 header, then the same 802.11 frame
 4 IP over InfiniBand (242): 40 bytes of addresses (zero), ether type 0x0800, reserved, IPv4,
   UDP (tcpdump's and tshark's 44-byte header)
 5 Ethernet with tags 0x9100 (vlan 100) and 0x8100 (vlan 200), IPv4, UDP
 6 Ethernet with tag 0x9200 (vlan 300), IPv4, UDP
 7 Ethernet, MPLS multicast (0x8848, label 1000, bottom), IPv4, UDP
 8 Ethernet, MPLS (label 16, then label 17 bottom), a pseudowire control word, Ethernet, IPv4
   UDP
 9 Ethernet, PPPoE discovery (PADI, a Service-Name tag)
10 Ethernet, IPv4, GRE transparent Ethernet bridging (0x6558), Ethernet, IPv4, UDP
11 Ethernet, IPv4, ESP (SPI 0x1000, sequence 1, 16 bytes of cipher text)
12 link type 147 (USER0): 16 bytes no decoder reads
Usage: python3 make-link-types.py  (writes link-types.pcapng beside this file)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import block, ipv4  # noqa: E402



UDP_IP = ipv4(17, struct.pack("!HHHH", 40000, 9, 10, 0) + b"\x12\x34")
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def eth(ether_type: int, payload: bytes) -> bytes:
    return MAC_B + MAC_A + struct.pack("!H", ether_type) + payload


def wlan() -> bytes:
    hdr = struct.pack("<BBH", 0x08, 0x01, 0) + MAC_B + MAC_A + MAC_B + struct.pack("<H", 0)
    return hdr + bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + b"\x08\x00" + UDP_IP


def prism() -> bytes:
    h = struct.pack("<II", 0x44, 144) + b"wlan0".ljust(16, b"\0")
    for did in range(10):
        h += struct.pack("<IHHI", 0x1041 + did, 0, 4, 0)
    return h


def avs() -> bytes:
    # Version 1, length 64, then mactime, hosttime, phytype, channel, datarate, antenna,
    # priority, ssi_type, ssi_signal, ssi_noise, preamble, encoding (all zero here).
    return struct.pack(">II", 0x80211001, 64) + b"\0" * 56


def frames() -> list:
    mpls = lambda label, bottom: struct.pack("!I", (label << 12) | (0x100 if bottom else 0) | 64)
    padi = struct.pack("!BBHH", 0x11, 0x09, 0, 4) + struct.pack("!HH", 0x0101, 0)
    return [
        (192, struct.pack("<BBHI", 0, 0, 8, 105) + wlan()),
        (119, prism() + wlan()),
        (163, avs() + wlan()),
        (242, b"\0" * 40 + struct.pack("!HH", 0x0800, 0) + UDP_IP),
        (1, eth(0x9100, struct.pack("!HH", 100, 0x8100) + struct.pack("!HH", 200, 0x0800) + UDP_IP)),
        (1, eth(0x9200, struct.pack("!HH", 300, 0x0800) + UDP_IP)),
        (1, eth(0x8848, mpls(1000, True) + UDP_IP)),
        (1, eth(0x8847, mpls(16, False) + mpls(17, True) + b"\0\0\0\0" + eth(0x0800, UDP_IP))),
        (1, eth(0x8863, padi)),
        (1, eth(0x0800, ipv4(47, struct.pack("!HH", 0, 0x6558) + eth(0x0800, UDP_IP), (198, 51, 100, 1), (198, 51, 100, 2)))),
        (1, eth(0x0800, ipv4(50, struct.pack("!II", 0x1000, 1) + bytes(range(16))))),
        (147, bytes(range(16))),
    ]


def main() -> None:
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    links = []
    for link, _ in frames():
        if link not in links:
            links.append(link)
            out += block(1, struct.pack("<HHI", link, 0, 65535))
    for i, (link, f) in enumerate(frames()):
        ts = (1700000000 + i) * 1_000_000
        out += block(6, struct.pack("<IIIII", links.index(link), ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "link-types.pcapng")
    with open(path, "wb") as o:
        o.write(out)


if __name__ == "__main__":
    main()
