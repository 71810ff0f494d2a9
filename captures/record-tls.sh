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

me=record-tls.sh
tools="tcpdump curl openssl ss"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"

# Fixed ports (not 443: the point is detection by content, on any port).
TLS12_PORT=8443
TLS13_PORT=8444
NAME=layerscope.test

# Throwaway self-signed certificate (RSA 2048, CN layerscope.test, valid 1 day).
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=$NAME" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

curl_opts=(-sk -o /dev/null --max-time 5 --connect-timeout 3)

# record FILE PORT SERVER_FLAG CURL_FLAG LOCAL_PORTS
record() {
  local file=$1 port=$2 sflag=$3 cflag=$4 lports=$5
  echo "$(basename "$file") (port $port)" >&2
  assert_free t "$port"
  # -www: answers GET with an HTML status page. -naccept 1: one connection, then exit.
  # -alpn http/1.1: the server picks ALPN http/1.1 (in the clear in TLS 1.2 only).
  start_server "s_server_$port" openssl s_server -accept "127.0.0.1:$port" \
    -cert "$tmp/cert.pem" -key "$tmp/key.pem" "$sflag" -alpn http/1.1 -www -naccept 1
  wait_listen t "$port"
  capture_start "$file" lo "tcp port $port and host 127.0.0.1"
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
