#!/usr/bin/env bash
# Re-records layerscope's own loopback captures into the directory of this script (or $1).
#   sudo captures/record.sh [OUT_DIR]
# Needs root (tcpdump opens a raw socket on lo / any), tcpdump, curl, dig and python3.
# All traffic goes to 127.0.0.1 or ::1 only. Each capture filters on its own test port, so
# nothing else that happens on lo leaks in. Re-recording changes timestamps, ISNs, DNS ids and
# possibly client ports: the committed .pcap files are the reference the tests use.
set -euo pipefail

me=record.sh
tools="tcpdump curl dig python3 ss"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"

# Fixed ports. 8080 and 8088 are ports tshark decodes as HTTP by default, 53 as DNS.
HTTP11_PORT=8080
HTTP10_PORT=8088
CLOSED_PORT=8099
DNS_PORT=53

# HTTP/1.1 keep-alive server: fixed bodies with Content-Length, no Date header.
# Usage: python3 - PORT BIND_ADDR FAMILY(4|6)
cat >"$tmp/http11.py" <<'PY'
import socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

BODIES = {
    "/a": b"hello from layerscope\n",
    "/b": b"".join(b"line %04d of the layerscope 3 KB fixture body.......\n" % i
                   for i in range(55))[:3000],
}
NOT_FOUND = b"404 not found\n"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = BODIES.get(self.path)
        code = 200 if body is not None else 404
        if body is None:
            body = NOT_FOUND
        self.send_response_only(code)
        self.send_header("Server", "layerscope-fixture")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write((fmt % args) + "\n")

class Server(HTTPServer):
    address_family = socket.AF_INET6 if sys.argv[3] == "6" else socket.AF_INET

Server((sys.argv[2], int(sys.argv[1])), Handler).serve_forever()
PY

# Tiny DNS responder: A www.example.test -> 192.0.2.10, NXDOMAIN for any other name.
# Usage: python3 - PORT
cat >"$tmp/dns.py" <<'PY'
import socket, struct, sys

NAME = "www.example.test"
ADDR = bytes([192, 0, 2, 10])

def qname(msg, off):
    labels = []
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the end")
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        if n & 0xC0:
            raise ValueError("compressed question name")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    msg, peer = sock.recvfrom(4096)
    if len(msg) < 12:
        continue
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        continue
    try:
        name, off = qname(msg, 12)
    except ValueError:
        continue
    if off + 4 > len(msg):
        continue
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    rd = flags & 0x0100
    known = name.lower().rstrip(".") == NAME
    rcode = 0 if known else 3
    answers = b""
    if known and qtype == 1 and qclass == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ADDR
    ancount = 1 if answers else 0
    # QR=1, AA=1, RD copied, RA=0
    rflags = 0x8000 | 0x0400 | rd | rcode
    sock.sendto(struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0) + question + answers, peer)
    sys.stderr.write("%s %d -> rcode %d, %d answer(s)\n" % (name, qtype, rcode, ancount))
PY

curl_opts=(-s -o /dev/null --max-time 5 --connect-timeout 3)

# 1. HTTP/1.1 keep-alive: one connection, three GETs (small 200, 3000-byte 200, 404).
echo "http11-keepalive.pcap" >&2
assert_free t "$HTTP11_PORT"
start_server http11 python3 "$tmp/http11.py" "$HTTP11_PORT" 127.0.0.1 4
wait_listen t "$HTTP11_PORT"
capture_start "$out/http11-keepalive.pcap" lo "tcp port $HTTP11_PORT and host 127.0.0.1"
curl "${curl_opts[@]}" --local-port 40001-40020 \
  -w '    %{http_code} %{size_download} bytes, new connections %{num_connects}\n' \
  "http://127.0.0.1:$HTTP11_PORT/a" -o /dev/null \
  "http://127.0.0.1:$HTTP11_PORT/b" -o /dev/null \
  "http://127.0.0.1:$HTTP11_PORT/missing" >&2 || true
capture_stop
stop_server

# 2. HTTP/1.0: python3 -m http.server, two requests, two connections, server closes each.
echo "http10-close.pcap" >&2
mkdir -p "$tmp/www"
printf 'index of the layerscope HTTP/1.0 fixture\n' >"$tmp/www/index.txt"
printf 'second file\n' >"$tmp/www/second.txt"
assert_free t "$HTTP10_PORT"
start_server http10 python3 -m http.server "$HTTP10_PORT" --bind 127.0.0.1 --directory "$tmp/www"
wait_listen t "$HTTP10_PORT"
capture_start "$out/http10-close.pcap" lo "tcp port $HTTP10_PORT and host 127.0.0.1"
# --ignore-content-length makes curl read until the server's FIN before it closes. Without it
# curl closes as soon as Content-Length bytes arrived and its FIN crosses the server's FIN on
# the wire (a simultaneous close), which is not what this capture is meant to show.
# Separate client port ranges: the client side does not enter TIME-WAIT here, so one shared
# range would reuse the same 4-tuple for the second connection.
for req in index.txt:40021-40030 second.txt:40031-40040; do
  curl "${curl_opts[@]}" --http1.0 --ignore-content-length --local-port "${req#*:}" \
    -w "    %{http_code} %{size_download} bytes\n" "http://127.0.0.1:$HTTP10_PORT/${req%%:*}" >&2 || true
done
capture_stop
stop_server

# 3. Connect to a closed port: SYN, then RST+ACK.
echo "refused.pcap" >&2
assert_free t "$CLOSED_PORT"
capture_start "$out/refused.pcap" lo "tcp port $CLOSED_PORT and host 127.0.0.1"
curl "${curl_opts[@]}" --local-port 40041-40060 "http://127.0.0.1:$CLOSED_PORT/" \
  && { echo "record.sh: connect to $CLOSED_PORT unexpectedly worked" >&2; exit 1; } \
  || echo "    curl exit $? (7 = connection refused)" >&2
capture_stop

# 4. DNS over UDP: one A query answered, one NXDOMAIN.
echo "dns-udp.pcap (port $DNS_PORT)" >&2
assert_free u "$DNS_PORT"
start_server dns python3 "$tmp/dns.py" "$DNS_PORT"
wait_listen u "$DNS_PORT"
capture_start "$out/dns-udp.pcap" lo "udp port $DNS_PORT and host 127.0.0.1"
dig_opts=(@127.0.0.1 -p "$DNS_PORT" +tries=1 +time=2 +nocookie)
dig "${dig_opts[@]}" www.example.test A +short | sed 's/^/    /' >&2 || true
dig "${dig_opts[@]}" nosuch.example.test A | grep -E 'status:' | sed 's/^/   /' >&2 || true
capture_stop
stop_server

# 5. HTTP/1.1 over IPv6 loopback: one request.
echo "ipv6-http.pcap" >&2
assert_free t "$HTTP11_PORT"
start_server http11v6 python3 "$tmp/http11.py" "$HTTP11_PORT" ::1 6
wait_listen t "$HTTP11_PORT"
capture_start "$out/ipv6-http.pcap" lo "tcp port $HTTP11_PORT and host ::1"
curl "${curl_opts[@]}" -g --local-port 40061-40080 \
  -w '    %{http_code} %{size_download} bytes\n' "http://[::1]:$HTTP11_PORT/a" >&2 || true
capture_stop
stop_server

# 6. Linux cooked v2 (link type 276): one HTTP/1.1 exchange captured on "any".
if tcpdump -i any -L 2>&1 | grep LINUX_SLL2 >/dev/null; then
  echo "linux-sll2.pcap" >&2
  assert_free t "$HTTP11_PORT"
  start_server http11sll python3 "$tmp/http11.py" "$HTTP11_PORT" 127.0.0.1 4
  wait_listen t "$HTTP11_PORT"
  capture_start "$out/linux-sll2.pcap" any "tcp port $HTTP11_PORT and host 127.0.0.1" -y LINUX_SLL2
  curl "${curl_opts[@]}" --local-port 40081-40100 \
    -w '    %{http_code} %{size_download} bytes\n' "http://127.0.0.1:$HTTP11_PORT/a" >&2 || true
  capture_stop
  stop_server
else
  echo "linux-sll2.pcap skipped: tcpdump -i any has no LINUX_SLL2 here" >&2
fi

echo "done: $(ls "$out"/*.pcap | wc -l) captures in $out" >&2
