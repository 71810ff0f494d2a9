#!/usr/bin/env python3
"""Writes fcs-header.pcap and fcs-header.pcapng: frames that end with their 4-byte FCS (a
correct CRC-32), said by the file's header rather than guessed.

Crafted (Python standard library only): Linux hands no FCS to a capture on lo or veth.
- fcs-header.pcap: pcap header `network` 0x24000001 (Ethernet; the "F" bit 0x04000000 and
  FCS len 2 × 16 bits in bits 28-31, draft-ietf-opsawg-pcap). Frames 10.0.0.1 → 10.0.0.2:
  1 UDP 40000 → 9 with 2 bytes (a 44-byte frame + FCS: shorter than Ethernet's minimum, so
    without the header's word tshark calls the 4 bytes a trailer, not an FCS);
  2 TCP 40001 → 80 PSH+ACK with 6 bytes and an IPv4 total length of 0 (segmentation
    offload: the length comes from the frame, so the FCS must not count as TCP data);
  3 ARP request for 10.0.0.2.
- fcs-header.pcapng: the same three frames on interface 0 (Ethernet, `if_fcslen` 32 bits),
  then on interface 1 (IEEE 802.11, `if_fcslen` 32) one data frame, LLC/SNAP, IPv4, UDP
  40002 → 9 with 2 bytes.
Usage: python3 make-fcs.py  (writes both beside this file)
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import block, csum, ipv4  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


SRC, DST = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport: int, dport: int, data: bytes) -> bytes:
    h = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, 5 << 4, 0x18, 502, 0, 0)
    c = csum(SRC + DST + struct.pack("!BBH", 0, 6, 20 + len(data)) + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def with_fcs(frame: bytes) -> bytes:
    return frame + struct.pack("<I", zlib.crc32(frame))


def eth_frames() -> list:
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + SRC + b"\0" * 6 + DST
    return [
        with_fcs(MAC_B + MAC_A + b"\x08\x00" + ipv4(17, udp(40000, 9, b"\x12\x34"))),
        with_fcs(MAC_B + MAC_A + b"\x08\x00" + ipv4(6, tcp(40001, 80, b"hello\n"), total_len=0)),
        with_fcs(b"\xff" * 6 + MAC_A + b"\x08\x06" + arp),
    ]


def wlan_frame() -> bytes:
    # Data frame, To DS: addr1 BSSID, addr2 source, addr3 destination; sequence 0.
    hdr = struct.pack("<BBH", 0x08, 0x01, 0) + MAC_B + MAC_A + MAC_B + struct.pack("<H", 0)
    snap = bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + b"\x08\x00"
    return with_fcs(hdr + snap + ipv4(17, udp(40002, 9, b"\x56\x78")))


def write_pcap(path: str) -> None:
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 0x24000001))
        for i, f in enumerate(eth_frames()):
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)


def write_pcapng(path: str) -> None:
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    fcslen = struct.pack("<HHB3x", 13, 1, 32) + struct.pack("<HH", 0, 0)
    out += block(1, struct.pack("<HHI", 1, 0, 65535) + fcslen)
    out += block(1, struct.pack("<HHI", 105, 0, 65535) + fcslen)
    frames = [(0, f) for f in eth_frames()] + [(1, wlan_frame())]
    for i, (iface, f) in enumerate(frames):
        ts = (1700000000 + i) * 1_000_000
        out += block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)
    with open(path, "wb") as o:
        o.write(out)


if __name__ == "__main__":
    write_pcap(os.path.join(HERE, "fcs-header.pcap"))
    write_pcapng(os.path.join(HERE, "fcs-header.pcapng"))
