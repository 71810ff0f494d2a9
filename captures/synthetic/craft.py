"""Helpers the make-*.py scripts beside this file share: the Internet checksum, an IPv4
header, a pcapng block (Python standard library only)."""
import struct


def csum(b: bytes) -> int:
    """RFC 1071's one's-complement sum."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto: int, payload: bytes, src=(10, 0, 0, 1), dst=(10, 0, 0, 2), ident=1, frag=0, total_len=None) -> bytes:
    """An IPv4 header (TTL 64, checksum computed) and its payload; `frag` is the flags and
    offset field, `total_len` overrides the length (0: segmentation offload)."""
    tl = 20 + len(payload) if total_len is None else total_len
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, frag, 64, proto, 0, bytes(src), bytes(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def block(kind: int, body: bytes) -> bytes:
    """A pcapng block: type, length, body padded to 4 bytes, length."""
    body += b"\0" * ((-len(body)) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
