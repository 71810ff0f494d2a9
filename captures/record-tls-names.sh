#!/usr/bin/env bash
# Records tls-names.pcap into the directory of this script (or $1): two HTTPS GETs over
# TLS 1.2 (certificate in the clear) to one server whose certificate has subject CN
# layerscope.test and a subjectAltName of the single dNSName *.layerscope.test:
#   1. SNI www.layerscope.test  (client port 40141): the SAN's wildcard covers it
#   2. SNI layerscope.test      (client port 40142): only the CN names it, and a certificate
#      with a SAN is matched against the SAN alone (RFC 2818 §3.1), so it does not match
# (ssl.log `sni_matches_cert` T, then F, as Zeek's x509_check_cert_hostname decides).
#   sudo captures/record-tls-names.sh [OUT_DIR]
# Needs root (tcpdump on lo), tcpdump, openssl (1.1.1 or later, for -addext), curl and ss.
# All traffic goes to 127.0.0.1:8446 only. The certificate is a throwaway self-signed one
# (1 day) made in a temp dir and deleted on exit.
set -euo pipefail

me=record-tls-names.sh
tools="tcpdump curl openssl ss"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"

PORT=8446
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=layerscope.test" -days 1 \
  -addext "subjectAltName=DNS:*.layerscope.test" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

file="$out/tls-names.pcap"
assert_free t "$PORT"
# -naccept 2: two connections, then exit.
start_server "s_server_$PORT" openssl s_server -accept "127.0.0.1:$PORT" \
  -cert "$tmp/cert.pem" -key "$tmp/key.pem" -tls1_2 -www -naccept 2
wait_listen t "$PORT"
capture_start "$file" lo "tcp port $PORT and host 127.0.0.1"
lport=40141
for name in www.layerscope.test layerscope.test; do
  # --resolve: the SNI without DNS.
  curl -sk -o /dev/null --max-time 5 --connect-timeout 3 --tls-max 1.2 --local-port "$lport" \
    --resolve "$name:$PORT:127.0.0.1" -w "    $name %{http_code} %{size_download} bytes\n" \
    "https://$name:$PORT/" >&2 || true
  lport=$((lport + 1))
done
capture_stop
stop_server
echo "done: $file" >&2
