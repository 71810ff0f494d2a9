#!/usr/bin/env python3
"""A user-space tunnel endpoint for record-tunnels.sh, for the encapsulations this machine's
kernel has no driver for (it has VXLAN; not ip_gre, ipip, sit or geneve). Packets the local
TCP/IP stack routes into a TUN (or TAP) device are wrapped as the kernel's own tunnel driver
would wrap them and sent to the peer over the underlay; what arrives from the peer is
unwrapped and written back to the device.

    tunnel.py gre    DEV LOCAL REMOTE KEY   IPv4 in GRE (RFC 2890 key), IP protocol 47
    tunnel.py ipip   DEV LOCAL REMOTE       IPv4 in IPv4, IP protocol 4
    tunnel.py sit    DEV LOCAL REMOTE       IPv6 in IPv4 (6in4), IP protocol 41
    tunnel.py geneve DEV LOCAL REMOTE VNI   Ethernet in Geneve (RFC 8926), UDP port 6081

Only TCP (and, for Geneve, ARP) is forwarded, so link-local chatter (IPv6 router
solicitations, MLD) stays out of the recordings.
"""
import fcntl, os, select, socket, struct, sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
GENEVE_PORT = 6081


def open_device(name, tap):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = (IFF_TAP if tap else IFF_TUN) | IFF_NO_PI
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def is_tcp(ip):
    if not ip:
        return False
    if ip[0] >> 4 == 4:
        return len(ip) >= 20 and ip[9] == 6
    if ip[0] >> 4 == 6:
        return len(ip) >= 40 and ip[6] == 6
    return False


def main():
    mode, dev, local, remote = sys.argv[1:5]
    arg = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    tap = mode == "geneve"
    fd = open_device(dev, tap)
    if mode == "geneve":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((local, GENEVE_PORT))
    else:
        proto = {"gre": 47, "ipip": 4, "sit": 41}[mode]
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
        sock.bind((local, 0))
    print(f"tunnel.py {mode} {dev}: {local} -> {remote}", flush=True)
    while True:
        ready, _, _ = select.select([fd, sock], [], [])
        if fd in ready:
            pkt = os.read(fd, 65535)
            if mode == "geneve":
                ether_type = pkt[12:14] if len(pkt) >= 14 else b""
                if ether_type == b"\x08\x06" or (ether_type == b"\x08\x00" and is_tcp(pkt[14:])):
                    # version 0, no options, protocol 0x6558 (Ethernet), VNI, reserved
                    hdr = struct.pack("!BBHI", 0, 0, 0x6558, arg << 8)
                    sock.sendto(hdr + pkt, (remote, GENEVE_PORT))
            elif is_tcp(pkt):
                if mode == "gre":
                    # key present (0x2000), version 0, protocol IPv4, the key
                    pkt = struct.pack("!HHI", 0x2000, 0x0800, arg) + pkt
                sock.sendto(pkt, (remote, 0))
        if sock in ready:
            data, peer = sock.recvfrom(65535)
            if peer[0] != remote:
                continue
            if mode == "geneve":
                opt_len = (data[0] & 0x3F) * 4
                os.write(fd, data[8 + opt_len:])
                continue
            inner = data[(data[0] & 0x0F) * 4:]
            if mode == "gre":
                if inner[:4] != b"\x20\x00\x08\x00" or struct.unpack("!I", inner[4:8])[0] != arg:
                    continue
                inner = inner[8:]
            os.write(fd, inner)


if __name__ == "__main__":
    main()
