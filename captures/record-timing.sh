#!/usr/bin/env bash
# Records captures/timing-tbf.pcap: the ground truth for the timing breakdown (conn.timing).
#   sudo captures/record-timing.sh [OUT_DIR]
# Needs root (ip netns, tc, tcpdump), curl and python3. Everything happens inside a fresh
# network namespace on its own loopback (127.0.0.1 only): its MTU is set to 1500 and GSO to
# one segment (so the capture shows wire-sized segments), and it is shaped with
#   tc qdisc add dev lo root tbf rate 4mbit burst 10kb latency 200ms
# A small HTTP server waits SERVER_WAIT_MS = 300 ms after each request, then sends a
# BODY_BYTES = 300000-byte body; curl fetches it once. tcpdump keeps 128 bytes of each
# packet (headers and the start of the HTTP heads; the body is not needed).
# The test (tests/integration/own_captures.rs, timing_breakdown_of_the_shaped_recording)
# expects: server_ms 300 ± 5, transfer_ms consistent with 300000 bytes at 4 Mbit/s.
set -euo pipefail

me=record-timing.sh
tools="ip tc tcpdump curl python3"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"

PORT=8080
RATE=4mbit
SERVER_WAIT_MS=300
BODY_BYTES=300000
ns=layerscope-timing-$$
file="$out/timing-tbf.pcap"

cat >"$tmp/slow.py" <<'PY'
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

WAIT_S = int(sys.argv[2]) / 1000.0
BODY = (b"0123456789abcdef" * (int(sys.argv[3]) // 16 + 1))[: int(sys.argv[3])]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(WAIT_S)
        head = (b"HTTP/1.1 200 OK\r\nServer: layerscope-timing\r\n"
                b"Content-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\n\r\n" % len(BODY))
        # Head and body in one write: the first response byte leaves right after the wait.
        self.wfile.write(head + BODY)

    def log_message(self, fmt, *args):
        sys.stderr.write((fmt % args) + "\n")

HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY

ip netns add "$ns"
trap 'cleanup; ip netns del "$ns" 2>/dev/null || true' EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up mtu 1500
in_ns ip link set lo gso_max_segs 1
in_ns tc qdisc add dev lo root tbf rate "$RATE" burst 10kb latency 200ms

start_server slow ip netns exec "$ns" python3 "$tmp/slow.py" "$PORT" "$SERVER_WAIT_MS" "$BODY_BYTES"
for i in $(seq 1 50); do
  if in_ns ss -Hlnt "sport = :$PORT" | grep -q .; then break; fi
  sleep 0.1
done

rm -f "$file"
log="$tmp/tcpdump.log"
ip netns exec "$ns" tcpdump -i lo -w "$file" -U -s 128 -B 32768 -n --immediate-mode \
  "tcp port $PORT" 2>"$log" &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for i in $(seq 1 50); do
  if grep -q 'listening on' "$log"; then sleep 0.3; break; fi
  sleep 0.1
done

in_ns curl -sS -o /dev/null -w 'curl: %{http_code} %{size_download} bytes, first byte %{time_starttransfer} s, total %{time_total} s\n' \
  "http://127.0.0.1:$PORT/slow"

sleep 1.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
stop_server
chown --reference="$out" "$file"
grep -E 'captured|received|dropped' "$log" | sed 's/^/    /' >&2
echo "$me: wrote $file" >&2
