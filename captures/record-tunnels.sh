#!/usr/bin/env bash
# Records the tunnel captures: one small HTTP exchange through each tunnel between two
# network namespaces, recorded on the underlay veth (what a capture on the wire between two
# tunnel endpoints sees).
#   sudo captures/record-tunnels.sh [OUT_DIR]
# Needs root (ip netns, tcpdump), curl and python3. Underlay: veth ua (192.168.77.1, in
# namespace A) <-> ub (192.168.77.2, in B); IPv6 is off in both namespaces but on the SIT
# device. In each tunnel B serves `GET /tunnel` on its inner address, port 8080; curl in A
# fetches it once from a fixed client port.
#   tunnel-vxlan.pcap   the kernel's VXLAN (vni 42, UDP 4789), inner 10.42.0.1 -> 10.42.0.2
#   tunnel-gre.pcap     IPv4 in GRE with key 42, inner 10.47.0.1 -> 10.47.0.2
#   tunnel-ipip.pcap    IPv4 in IPv4, inner 10.4.0.1 -> 10.4.0.2
#   tunnel-sit.pcap     IPv6 in IPv4 (6in4), inner fd00:41::1 -> fd00:41::2
#   tunnel-geneve.pcap  Ethernet in Geneve (vni 7, UDP 6081), inner 10.7.0.1 -> 10.7.0.2
# This machine's kernel has a VXLAN driver but none for GRE, IPIP, SIT or Geneve (nor PPP,
# so no PPPoE recording): those four are encapsulated by captures/tunnel.py, a user-space
# endpoint on a TUN/TAP device that wraps each packet as the kernel's driver would (raw IP
# socket for protocols 47, 4 and 41; a UDP socket for Geneve). Inner neighbours are static
# (no ARP inside the tunnels); the capture filter keeps only the underlay's IPv4 between
# the two endpoints.
set -euo pipefail

me=record-tunnels.sh
tools="ip tcpdump curl python3"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

PORT=8080
a=encap-tun-a-$$
b=encap-tun-b-$$
MAC_A=02:00:00:00:0a:01
MAC_B=02:00:00:00:0b:01

cat >"$tmp/fixture_server.py" <<'PY'
import socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

BODY = b"hello through the tunnel\n"

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response_only(200)
        self.send_header("Server", "layerscope-fixture")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(BODY)
        self.close_connection = True

    def log_message(self, fmt, *args):
        sys.stderr.write((fmt % args) + "\n")

class Server(HTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET

Server((sys.argv[2], int(sys.argv[1])), Handler).serve_forever()
PY

ip netns add "$a"
ip netns add "$b"
trap 'cleanup; ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true' EXIT
in_a() { ip netns exec "$a" "$@"; }
in_b() { ip netns exec "$b" "$@"; }
for ns in "$a" "$b"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$ns" ip link set lo up
done
ip link add ua netns "$a" type veth peer name ub netns "$b"
in_a ip addr add 192.168.77.1/24 dev ua
in_b ip addr add 192.168.77.2/24 dev ub
in_a ip link set ua up
in_b ip link set ub up
# Static underlay neighbours: no ARP in the recordings.
in_a ip neigh replace 192.168.77.2 lladdr "$(in_b cat /sys/class/net/ub/address)" dev ua nud permanent
in_b ip neigh replace 192.168.77.1 lladdr "$(in_a cat /sys/class/net/ua/address)" dev ub nud permanent

# record NAME INNER_SERVER_ADDR CLIENT_PORT: the HTTP exchange through the tunnel set up.
record() {
  local name=$1 server=$2 cport=$3 url i
  start_server "http-$name" ip netns exec "$b" python3 "$tmp/fixture_server.py" "$PORT" "$server"
  for i in $(seq 1 51); do
    if in_b ss -Hlnt "sport = :$PORT" | grep -q .; then break; fi
    if [[ $i == 51 ]]; then
      echo "$me: the $name server does not listen:" >&2
      cat "$tmp/http-$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  local file="$out/tunnel-$name.pcap" log="$tmp/$name.tcpdump.log"
  rm -f "$file"
  ip netns exec "$a" tcpdump -i ua -w "$file" -U -s 0 -B 32768 -n --immediate-mode \
    "ip and host 192.168.77.1 and host 192.168.77.2" 2>"$log" &
  local tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  for i in $(seq 1 50); do
    if grep -q 'listening on' "$log"; then sleep 0.3; break; fi
    sleep 0.1
  done
  if [[ $server == *:* ]]; then url="http://[$server]:$PORT/tunnel"; else url="http://$server:$PORT/tunnel"; fi
  in_a curl -sS --local-port "$cport" -o /dev/null -w "$name: %{http_code} %{size_download} bytes\n" "$url"
  sleep 1.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  chown --reference="$out" "$file"
  grep -E 'captured|dropped by kernel' "$log" | sed 's/^/    /' >&2
  stop_server
}

# tunnel_py MODE DEV ARG: the user-space endpoints in A and B, with inner addresses.
tunnel_py() {
  local mode=$1 dev=$2 arg=$3
  start_server "$mode-a" ip netns exec "$a" python3 "$here/tunnel.py" "$mode" "$dev" 192.168.77.1 192.168.77.2 $arg
  start_server "$mode-b" ip netns exec "$b" python3 "$here/tunnel.py" "$mode" "$dev" 192.168.77.2 192.168.77.1 $arg
  for i in $(seq 1 50); do
    if in_a ip link show "$dev" >/dev/null 2>&1 && in_b ip link show "$dev" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$me: $dev did not appear" >&2
  exit 1
}

# VXLAN: the kernel's driver.
in_a ip link add vx42 address "$MAC_A" type vxlan id 42 local 192.168.77.1 remote 192.168.77.2 dstport 4789 dev ua
in_b ip link add vx42 address "$MAC_B" type vxlan id 42 local 192.168.77.2 remote 192.168.77.1 dstport 4789 dev ub
in_a ip addr add 10.42.0.1/24 dev vx42
in_b ip addr add 10.42.0.2/24 dev vx42
in_a ip link set vx42 up
in_b ip link set vx42 up
in_a ip neigh replace 10.42.0.2 lladdr "$MAC_B" dev vx42 nud permanent
in_b ip neigh replace 10.42.0.1 lladdr "$MAC_A" dev vx42 nud permanent
record vxlan 10.42.0.2 41042

# GRE (key 42), IPIP, SIT: user-space endpoints on TUN devices.
setup_tun() {
  local dev=$1 addr_a=$2 addr_b=$3 plen=$4
  for side in a b; do
    local ns=$a addr=$addr_a peer=$addr_b
    if [[ $side == b ]]; then ns=$b addr=$addr_b peer=$addr_a; fi
    if [[ $addr == *:* ]]; then
      ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=0"
      ip netns exec "$ns" ip addr add "$addr/$plen" dev "$dev" nodad
    else
      ip netns exec "$ns" ip addr add "$addr/$plen" dev "$dev"
    fi
    ip netns exec "$ns" ip link set "$dev" mtu 1400 up
  done
}
tunnel_py gre gre42 42
setup_tun gre42 10.47.0.1 10.47.0.2 24
record gre 10.47.0.2 41047
stop_tunnels() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
stop_tunnels

tunnel_py ipip ipip0 ""
setup_tun ipip0 10.4.0.1 10.4.0.2 24
record ipip 10.4.0.2 41004
stop_tunnels

tunnel_py sit sit0 ""
setup_tun sit0 fd00:41::1 fd00:41::2 64
record sit fd00:41::2 41041
stop_tunnels

# Geneve: Ethernet frames on TAP devices with fixed addresses.
tunnel_py geneve gnv7 7
in_a ip link set gnv7 address "$MAC_A"
in_b ip link set gnv7 address "$MAC_B"
setup_tun gnv7 10.7.0.1 10.7.0.2 24
in_a ip neigh replace 10.7.0.2 lladdr "$MAC_B" dev gnv7 nud permanent
in_b ip neigh replace 10.7.0.1 lladdr "$MAC_A" dev gnv7 nud permanent
record geneve 10.7.0.2 41007
stop_tunnels
