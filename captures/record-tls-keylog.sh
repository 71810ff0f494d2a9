#!/usr/bin/env bash
# Records layerscope's TLS-with-key-log loopback capture into the directory of this script
# (or $1):
#   tls-keylog.pcap   nginx with TLS on 127.0.0.1:8445 and curl, one connection per line:
#                     TLS 1.2 / HTTP/1.1 (two GETs and a POST on one connection),
#                     TLS 1.3 / HTTP/1.1 (the same), TLS 1.2 / HTTP/2, TLS 1.3 / HTTP/2,
#                     TLS 1.2 ChaCha20-Poly1305, TLS 1.2 AES128-SHA (CBC),
#                     TLS 1.3 ChaCha20-Poly1305 (one GET each, HTTP/1.1)
#   tls-keylog.keys   the key log curl wrote (SSLKEYLOGFILE, NSS format)
#   sudo captures/record-tls-keylog.sh [OUT_DIR]
# Needs root (tcpdump on lo), nginx, tcpdump, openssl, curl and ss. All traffic goes to
# 127.0.0.1 only. The certificate is a throwaway self-signed one (CN layerscope.test, 1 day)
# made in a temp dir and deleted on exit. tshark -o tls.keylog_file:tls-keylog.keys is the
# oracle for what is inside.
set -euo pipefail

me=record-tls-keylog.sh
tools="tcpdump curl openssl ss nginx"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"

PORT=8445
NAME=layerscope.test

openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=$NAME" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

cat >"$tmp/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $tmp;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA;
  server {
    listen 127.0.0.1:$PORT ssl http2;
    server_name $NAME;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    default_type text/plain;
    location = /post { return 201 "stored\n"; }
    location = /missing { return 404 "no such page\n"; }
    location / { return 200 "hello from \$uri\n"; }
  }
}
CONF

assert_free t "$PORT"
start_server nginx nginx -c "$tmp/nginx.conf" -e "$tmp/error.log"
wait_listen t "$PORT"

keys="$out/tls-keylog.keys"
rm -f "$keys"
export SSLKEYLOGFILE="$keys"
base="https://$NAME:$PORT"
c=(-sk --max-time 5 --connect-timeout 3 --resolve "$NAME:$PORT:127.0.0.1"
   -w '    %{http_version} %{http_code} %{url_effective}\n')

capture_start "$out/tls-keylog.pcap" lo "tcp port $PORT and host 127.0.0.1"
for v in "--tlsv1.2 --tls-max 1.2" "--tlsv1.3"; do
  for h in --http1.1 --http2; do
    # shellcheck disable=SC2086 # $v is two words on purpose
    curl "${c[@]}" $v $h -o /dev/null "$base/index.html" -o /dev/null "$base/missing" \
      --next "${c[@]}" $v $h -o /dev/null -d 'name=layerscope&x=1' "$base/post" >&2
  done
done
curl "${c[@]}" -o /dev/null --tlsv1.2 --tls-max 1.2 --http1.1 --ciphers ECDHE-RSA-CHACHA20-POLY1305 "$base/chacha12" >&2
curl "${c[@]}" -o /dev/null --tlsv1.2 --tls-max 1.2 --http1.1 --ciphers AES128-SHA "$base/cbc12" >&2
curl "${c[@]}" -o /dev/null --tlsv1.3 --http1.1 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 "$base/chacha13" >&2
capture_stop
stop_server
chown --reference="$out" "$keys"
echo "done: tls-keylog.pcap, tls-keylog.keys in $out" >&2
