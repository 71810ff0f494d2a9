#!/usr/bin/env bash
# Records layerscope's HTTP/3 (QUIC with a key log) loopback capture into the directory of
# this script (or $1):
#   quic-h3.pcap   aioquic's HTTP/3 server on 127.0.0.1:4433 and its client (quic-h3.py
#                  beside this file), one QUIC v1 connection: GET /index.html, GET /missing,
#                  POST /post, GET /big (6000-byte body), then GET /a and GET /b at once
#   quic-h3.keys   the key log the client wrote (aioquic's secrets_log_file, NSS format)
#   oracle/quic-h3.pcap.*  tshark's view (the usual files, Community IDs, and
#                  .keylog-http3.tsv: the HTTP/3 frames it reads with the key log) and
#                  .client.tsv: each request's stream id, method, path and status as the
#                  client sent and got them
#   sudo captures/record-quic-h3.sh [OUT_DIR]
# Needs root (tcpdump on lo), python3 with aioquic (pip install aioquic), tcpdump, openssl
# and ss. All traffic goes to 127.0.0.1 only. The certificate is a throwaway self-signed one
# (CN layerscope.test, 1 day) made in a temp dir and deleted on exit. The oracle is
# tshark -o tls.keylog_file:quic-h3.keys (its QUIC heuristic finds port 4433).
set -euo pipefail

me=record-quic-h3.sh
tools="tcpdump python3 openssl ss tshark"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

PORT=4433
python3 -c 'import aioquic' || { echo "$me: needs aioquic (pip install aioquic)" >&2; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=layerscope.test" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

assert_free u "$PORT"
start_server h3 python3 "$here/quic-h3.py" server "$PORT" "$tmp/cert.pem" "$tmp/key.pem"
wait_listen u "$PORT"

keys="$out/quic-h3.keys"
rm -f "$keys"
capture_start "$out/quic-h3.pcap" lo "udp port $PORT and host 127.0.0.1"
mkdir -p "$out/oracle"
truth="$out/oracle/quic-h3.pcap.client.tsv"
{
  printf 'stream_id\tmethod\turi\tstatus\n'
  python3 "$here/quic-h3.py" client "$PORT" "$keys"
} >"$truth"
capture_stop
stop_server
chown --reference="$out" "$keys"
chown --reference="$out" "$truth"
# tshark's view: the usual oracle files (no keys), Community IDs, and the HTTP/3 frames it
# names with the key log (tshark 4.0 names frame and stream types but decodes no QPACK
# field: the requests' method, path and status are the client's own record above).
/work/shared/tools/make-oracle.sh "$out/oracle" "$out/quic-h3.pcap" || true
{
  printf 'frame.number\tcommunityid\tcommunityid_seed1\n'
  paste <(tshark -r "$out/quic-h3.pcap" --enable-protocol communityid -T fields -e frame.number -e communityid 2>/dev/null) \
    <(tshark -r "$out/quic-h3.pcap" --enable-protocol communityid -o communityid.seed:1 -T fields -e communityid 2>/dev/null)
} >"$out/oracle/quic-h3.pcap.communityid.tsv"
{
  printf 'frame\tstream_ids\tframe_types\tframe_lengths\tstream_types\n'
  tshark -r "$out/quic-h3.pcap" -o "tls.keylog_file:$keys" -Y http3 -T fields -e frame.number \
    -e quic.stream.stream_id -e http3.frame_type -e http3.frame_length -e http3.stream_type 2>/dev/null
} >"$out/oracle/quic-h3.pcap.keylog-http3.tsv"
echo "done: quic-h3.pcap, quic-h3.keys in $out" >&2
