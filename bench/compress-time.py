#!/usr/bin/env python3
"""Writes a copy of a classic pcap file with its timestamps compressed FACTOR times (default
10): each record's time becomes first + (time - first) / FACTOR, packets and their order
unchanged. The same connections then open and close FACTOR times faster, as on a busier
server: with S (bench/make-captures.sh) and FACTOR 10, every connection closes within the
flow table's linger window of the ones before it, so peak memory shows what closed
connections cost.

Usage: bench/compress-time.py IN.pcap OUT.pcap [FACTOR]
   e.g. bench/compress-time.py /tmp/layerscope-bench/S.pcap /tmp/layerscope-bench/S10.pcap
Classic pcap only (µs or ns resolution, either byte order), as tcpdump writes it.
"""
import struct
import sys

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    factor = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    if factor < 1:
        print("FACTOR must be a positive integer", file=sys.stderr)
        return 2
    with open(src, "rb") as f, open(dst, "wb") as out:
        header = f.read(24)
        if len(header) < 24 or header[:4] not in MAGICS:
            print(f"{src}: not a classic pcap file", file=sys.stderr)
            return 1
        endian, per_sec = MAGICS[header[:4]]
        rec = struct.Struct(endian + "IIII")
        out.write(header)
        first = None
        records = 0
        while True:
            head = f.read(16)
            if len(head) < 16:
                break
            secs, frac, incl, orig = rec.unpack(head)
            data = f.read(incl)
            if len(data) < incl:
                break
            t = secs * per_sec + frac
            if first is None:
                first = t
            t = first + (t - first) // factor
            out.write(rec.pack(t // per_sec, t % per_sec, incl, orig))
            out.write(data)
            records += 1
    print(f"{dst}: {records} records, timestamps compressed {factor}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
