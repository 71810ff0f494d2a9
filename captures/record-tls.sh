#!/usr/bin/env bash
# Records layerscope's TLS loopback captures into the directory of this script (or $1):
#   tls12.pcap  one HTTPS GET over TLS 1.2 (curl --tls-max 1.2)
#   tls13.pcap  one HTTPS GET over TLS 1.3
#   sudo captures/record-tls.sh [OUT_DIR]
# Needs root (tcpdump opens a raw socket on lo), tcpdump, openssl, curl and ss. All traffic
# goes to 127.0.0.1 only; each capture filters on its own test port. The server certificate is
# a throwaway self-signed one (CN layerscope.test, 1 day) made in a temp dir and deleted on
# exit. Re-recording changes timestamps, ISNs, randoms, keys and the certificate: the committed
# .pcap files are the reference the tests use.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "record-tls.sh: needs root (tcpdump must open lo); run it with sudo" >&2
  exit 1
fi
for tool in tcpdump curl openssl ss; do
  command -v "$tool" >/dev/null || { echo "record-tls.sh: $tool not found" >&2; exit 1; }
done

out=${1:-$(cd "$(dirname "$0")" && pwd)}
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Fixed ports (not 443: the point is detection by content, on any port).
TLS12_PORT=8443
TLS13_PORT=8444
NAME=layerscope.test

# wait_listen PORT: poll the socket table (never connect: that would be traffic).
wait_listen() {
  local port=$1 i
  for i in $(seq 1 50); do
    if ss -Hlnt "sport = :$port" | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "record-tls.sh: nothing listening on tcp port $port after 5 s" >&2
  exit 1
}

assert_free() {
  if ss -Hlnt "sport = :$1" | grep -q .; then
    echo "record-tls.sh: tcp port $1 is already in use:" >&2
    ss -Hlntp "sport = :$1" >&2
    exit 1
  fi
}

start_server() {
  local name=$1; shift
  "$@" >"$tmp/$name.log" 2>&1 </dev/null &
  server_pid=$!
  pids+=("$server_pid")
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# capture_start FILE FILTER: starts tcpdump on lo, waits until it listens. -B 32768: in
# immediate mode the default ring holds only a few packets of snaplen (see record.sh).
capture_start() {
  local file=$1 filter=$2 i
  rm -f "$file"
  capture_file=$file
  tcpdump_log="$tmp/$(basename "$file").tcpdump.log"
  : >"$tcpdump_log"
  tcpdump -i lo -w "$file" -U -s 0 -B 32768 -n --immediate-mode "$filter" 2>"$tcpdump_log" &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  for i in $(seq 1 50); do
    if grep -q 'listening on' "$tcpdump_log"; then sleep 0.3; return 0; fi
    sleep 0.1
  done
  echo "record-tls.sh: tcpdump did not start:" >&2
  cat "$tcpdump_log" >&2
  exit 1
}

# capture_stop: lets the last segments arrive, SIGINT, then checks nothing was lost.
capture_stop() {
  sleep 1.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  chown --reference="$out" "$capture_file"
  grep -E 'captured|received|dropped' "$tcpdump_log" | sed 's/^/    /' >&2
  if grep -qE '^0 packets captured' "$tcpdump_log"; then
    echo "record-tls.sh: $capture_file is empty" >&2
    exit 1
  fi
  if grep -qE '^[1-9][0-9]* packets? dropped by kernel' "$tcpdump_log"; then
    echo "record-tls.sh: kernel dropped packets, re-run" >&2
    exit 1
  fi
}

# Throwaway self-signed certificate (RSA 2048, CN layerscope.test, valid 1 day).
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=$NAME" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

curl_opts=(-sk -o /dev/null --max-time 5 --connect-timeout 3)

# record FILE PORT SERVER_FLAG CURL_FLAG LOCAL_PORTS
record() {
  local file=$1 port=$2 sflag=$3 cflag=$4 lports=$5
  echo "$(basename "$file") (port $port)" >&2
  assert_free "$port"
  # -www: answers GET with an HTML status page. -naccept 1: one connection, then exit.
  # -alpn http/1.1: the server picks ALPN http/1.1 (in the clear in TLS 1.2 only).
  start_server "s_server_$port" openssl s_server -accept "127.0.0.1:$port" \
    -cert "$tmp/cert.pem" -key "$tmp/key.pem" "$sflag" -alpn http/1.1 -www -naccept 1
  wait_listen "$port"
  capture_start "$file" "tcp port $port and host 127.0.0.1"
  # --resolve: SNI layerscope.test without DNS; curl offers ALPN h2 and http/1.1.
  # shellcheck disable=SC2086 # $cflag is one or two words on purpose
  curl "${curl_opts[@]}" $cflag --local-port "$lports" \
    --resolve "$NAME:$port:127.0.0.1" -w '    %{http_code} %{size_download} bytes\n' \
    "https://$NAME:$port/" >&2 || true
  capture_stop
  stop_server
}

record "$out/tls12.pcap" "$TLS12_PORT" -tls1_2 "--tls-max 1.2" 40101-40120
record "$out/tls13.pcap" "$TLS13_PORT" -tls1_3 "--tlsv1.3" 40121-40140

echo "done: tls12.pcap, tls13.pcap in $out" >&2
