#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from classic pcap files (never committed: corpus/ is ignored).

usage: fuzz/seed-corpus.py CAPTURE... [--expressions tests/filter-data/expected.tsv]
"""
import hashlib, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
LINK_INDEX = {1: 0, 101: 3, 113: 4, 276: 5, 0: 6, 228: 7}


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def frames(data):
    """(link, frame bytes) of a classic pcap file; nothing for pcapng or damage."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        if len(frame) < caplen:
            return
        yield link, frame
        off += 16 + caplen


def http_ops(frame_list):
    """http_splits input: TCP payloads on port 80 (Ethernet/IPv4) as data ops."""
    out = bytearray()
    for i, (link, f) in enumerate(frame_list):
        if link != 1 or len(f) < 34 or f[12:14] != b"\x08\x00":
            continue
        ihl = (f[14] & 15) * 4
        if f[23] != 6:
            continue
        t = 14 + ihl
        if len(f) < t + 20:
            continue
        sport, dport = struct.unpack(">HH", f[t:t + 4])
        doff = (f[t + 12] >> 4) * 4
        payload = f[t + doff:]
        if not payload or 80 not in (sport, dport):
            continue
        to_client = 1 if sport == 80 else 0
        step = 7 + (i % 200)
        for k in range(0, len(payload), step):
            chunk = payload[k:k + step]
            out += bytes([(6 << 1) | to_client, len(chunk)]) + chunk
    return bytes(out)


def main():
    args = sys.argv[1:]
    exprs = None
    if "--expressions" in args:
        i = args.index("--expressions")
        exprs = args[i + 1]
        del args[i:i + 2]
    for path in args:
        data = open(path, "rb").read()
        if len(data) <= 1 << 20:
            put("capture_reader", data)
        fl = list(frames(data))
        seq = bytearray()
        for n, (link, f) in enumerate(fl):
            if n < 40:
                put("decoder", struct.pack("<H", link) + f)
            if link in LINK_INDEX and len(seq) < 1 << 16:
                seq += bytes([LINK_INDEX[link]]) + struct.pack("<H", len(f)) + bytes([1]) + f
        if seq:
            put("pipeline", bytes(seq))
        ops = http_ops(fl)
        if ops:
            put("http_splits", ops[:1 << 16])
    if exprs:
        for line in open(exprs):
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                put("filter_parser", parts[1].encode())


if __name__ == "__main__":
    main()
