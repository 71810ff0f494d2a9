#!/usr/bin/env python3
"""Writes a pcap of N TCP connections left open, to measure memory per tracked connection
(BENCHMARKS.md "Memory per tracked connection"):

    bench/open-conns.py N OUT.pcap            # SYN, SYN-ACK, ACK and a GET with no response
    bench/open-conns.py N OUT.pcap --no-data  # the handshake only

then `/usr/bin/time -v layerscope read OUT.pcap --view conns --format json > /dev/null`
(peak RSS for N = 100,000 minus N = 1,000, over 99,000). Clients 10.x.y.z, server 10.0.0.1:80,
one packet a microsecond. Generated traffic, made only for this measurement.
"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def pkt(src, dst, sp, dp, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    with_data = "--no-data" not in sys.argv[3:]
    req = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
    server = b"\x0a\x00\x00\x01"
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 0
        for i in range(n):
            c = bytes([10, 1 + (i >> 16) % 200, (i >> 8) & 255, i & 255])
            sp, j, k = 1024 + (i % 60000), 1000, 5000
            pkts = [
                pkt(c, server, sp, 80, j, 0, 0x02),
                pkt(server, c, 80, sp, k, j + 1, 0x12),
                pkt(c, server, sp, 80, j + 1, k + 1, 0x10),
            ]
            if with_data:
                pkts.append(pkt(c, server, sp, 80, j + 1, k + 1, 0x18, req))
            for p in pkts:
                t += 1
                f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(p), len(p)))
                f.write(p)


if __name__ == "__main__":
    main()
