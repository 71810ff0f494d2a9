#!/usr/bin/env bash
# Records the two benchmark captures as real traffic between two network namespaces:
#   K = HTTP/1.1 keep-alive load (wrk → nginx), S = HTTP/1.0 one request per connection
#   (ab → nginx) with a narrowed client port range so 4-tuples are reused.
# The traffic never leaves the veth pair created here (10.77.0.1 ↔ 10.77.0.2), MTU 1500,
# offloads off, so the capture holds wire-sized segments.
#
# Usage: sudo bench/make-captures.sh [quick|full]     (default: quick)
#   full : K ≈ 64k requests on 50 connections (~800k packets),
#          S ≈ 70k connections over a 30k-port range (~1.6M packets)
#   quick: K ≈ 8k requests, S ≈ 9k connections over a 4k-port range
# Env overrides: BENCH_DIR (default /tmp/layerscope-bench), K_REQUESTS, K_CONNS, S_CONNS,
#   S_CONCURRENCY, S_PORTS, K_BODY_BYTES, S_BODY_BYTES.
# Needs root, iproute2, ethtool, tcpdump, nginx, wrk, ab (apt-get install -y nginx wrk
# apache2-utils ethtool tcpdump). Output: $BENCH_DIR/K.pcap, $BENCH_DIR/S.pcap (+ cut S files).
set -euo pipefail

MODE=${1:-quick}
BENCH_DIR=${BENCH_DIR:-/tmp/layerscope-bench}
case "$MODE" in
full)  K_REQUESTS=${K_REQUESTS:-64000}; S_CONNS=${S_CONNS:-70000}; S_PORTS=${S_PORTS:-30000} ;;
quick) K_REQUESTS=${K_REQUESTS:-8000};  S_CONNS=${S_CONNS:-9000};  S_PORTS=${S_PORTS:-4000} ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
K_CONNS=${K_CONNS:-50}
S_CONCURRENCY=${S_CONCURRENCY:-20}
# Response bodies: K ~10 full-size segments (~12.5 packets per keep-alive request),
# S ~7 segments (~23 packets per connection with handshake and teardown).
K_BODY_BYTES=${K_BODY_BYTES:-14000}
S_BODY_BYTES=${S_BODY_BYTES:-10000}

SRV_NS=ls-bench-srv CLI_NS=ls-bench-cli
SRV_IF=lsb-s0 CLI_IF=lsb-c0
SRV_IP=10.77.0.1 CLI_IP=10.77.0.2

for t in ip ethtool tcpdump nginx wrk ab capinfos; do
  command -v "$t" >/dev/null || { echo "missing: $t" >&2; exit 1; }
done
mkdir -p "$BENCH_DIR/nginx/www" "$BENCH_DIR/nginx/tmp"

NGINX_PID="$BENCH_DIR/nginx/nginx.pid"
TCPDUMP_PID=""
cleanup() {
  [ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null || true
  [ -f "$NGINX_PID" ] && kill "$(cat "$NGINX_PID")" 2>/dev/null || true
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns del "$CLI_NS" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

# --- namespaces and the veth pair (the only link the traffic can use) ---
ip netns add "$SRV_NS"
ip netns add "$CLI_NS"
ip link add "$SRV_IF" netns "$SRV_NS" type veth peer name "$CLI_IF" netns "$CLI_NS"
for pair in "$SRV_NS $SRV_IF $SRV_IP" "$CLI_NS $CLI_IF $CLI_IP"; do
  set -- $pair
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" mtu 1500
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$1" link set "$2" up
  ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
done
ip netns exec "$CLI_NS" sysctl -qw net.ipv4.ip_local_port_range="20000 $((20000 + S_PORTS - 1))"

# --- nginx serving one static body ---
head -c "$K_BODY_BYTES" /dev/zero | tr '\0' 'k' > "$BENCH_DIR/nginx/www/k.bin"
head -c "$S_BODY_BYTES" /dev/zero | tr '\0' 's' > "$BENCH_DIR/nginx/www/s.bin"
cat > "$BENCH_DIR/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $NGINX_PID;
error_log $BENCH_DIR/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BENCH_DIR/nginx/tmp;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen $SRV_IP:80 backlog=4096;
    root $BENCH_DIR/nginx/www;
  }
}
CONF
ip netns exec "$SRV_NS" nginx -c "$BENCH_DIR/nginx/nginx.conf"
sleep 0.5

record() { # name, command...
  local name=$1; shift
  local out="$BENCH_DIR/$name.pcap"
  ip netns exec "$SRV_NS" tcpdump -i "$SRV_IF" -s 0 -B 131072 -w "$out" 'tcp port 80' \
    2> "$BENCH_DIR/$name.tcpdump.log" &
  TCPDUMP_PID=$!
  sleep 1
  ip netns exec "$CLI_NS" "$@" > "$BENCH_DIR/$name.client.log" 2>&1
  sleep 1
  kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
  grep -E 'captured|dropped' "$BENCH_DIR/$name.tcpdump.log" | sed "s/^/$name: /"
}

# K: wrk (HTTP/1.1 keep-alive), one thread, exits after K_REQUESTS responses (wrk's own
# thread:stop() leaves the process sleeping until -d runs out).
cat > "$BENCH_DIR/stop-after.lua" <<LUA
local done_ = 0
function response(status, headers, body)
  done_ = done_ + 1
  if done_ >= $K_REQUESTS then os.exit(0) end
end
LUA
record K wrk -t1 -c"$K_CONNS" -d600s --timeout 10s -s "$BENCH_DIR/stop-after.lua" \
  "http://$SRV_IP/k.bin"

# S: ab (HTTP/1.0, one request per connection, server closes).
record S ab -q -n "$S_CONNS" -c "$S_CONCURRENCY" -r "http://$SRV_IP/s.bin"

capinfos -c -M "$BENCH_DIR/K.pcap" "$BENCH_DIR/S.pcap"
echo "captures in $BENCH_DIR (mode $MODE, bodies K $K_BODY_BYTES, S $S_BODY_BYTES bytes)"
