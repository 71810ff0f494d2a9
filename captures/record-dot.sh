#!/usr/bin/env bash
# Records layerscope's DNS-over-TLS loopback capture into the directory of this script (or
# $1):
#   dot.pcap   dot.py beside this file: its TLS server on 127.0.0.1:853 and its client, one
#              TLS 1.3 connection with ALPN "dot", three queries one after another
#              (www.example.test A and AAAA, nosuch.example.test A → NXDOMAIN)
#   dot.keys   the key log the client wrote (Python ssl's keylog_filename, NSS format)
#   sudo captures/record-dot.sh [OUT_DIR]
# Needs root (tcpdump on lo, port 853), python3, tcpdump, openssl, ss and tshark (the
# oracle: the usual files, Community IDs, .keylog-dns.tsv: tshark's DNS view with the key
# log, and .client.tsv: each answer as the client read it).
set -euo pipefail

me=record-dot.sh
tools="tcpdump python3 openssl ss tshark"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

PORT=853
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=dns.layerscope.test" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"
assert_free t "$PORT"
start_server dot python3 "$here/dot.py" server "$PORT" "$tmp/cert.pem" "$tmp/key.pem"
wait_listen t "$PORT"

keys="$out/dot.keys"
rm -f "$keys"
mkdir -p "$out/oracle"
truth="$out/oracle/dot.pcap.client.tsv"
capture_start "$out/dot.pcap" lo "tcp port $PORT and host 127.0.0.1"
{
  printf 'id\tname\tqtype\trcode\tanswers\n'
  python3 "$here/dot.py" client "$PORT" "$keys"
} >"$truth"
capture_stop
stop_server
chown --reference="$out" "$keys" "$truth"

/work/shared/tools/make-oracle.sh "$out/oracle" "$out/dot.pcap" || true
{
  printf 'frame.number\tcommunityid\tcommunityid_seed1\n'
  paste <(tshark -r "$out/dot.pcap" --enable-protocol communityid -T fields -e frame.number -e communityid 2>/dev/null) \
    <(tshark -r "$out/dot.pcap" --enable-protocol communityid -o communityid.seed:1 -T fields -e communityid 2>/dev/null)
} >"$out/oracle/dot.pcap.communityid.tsv"
{
  printf 'frame\ttcp_stream\tid\tresponse\tqname\tqtype\trcode\tanswers\n'
  tshark -r "$out/dot.pcap" -o "tls.keylog_file:$keys" -Y dns -T fields -E occurrence=f \
    -e frame.number -e tcp.stream -e dns.id -e dns.flags.response -e dns.qry.name \
    -e dns.qry.type -e dns.flags.rcode -e dns.count.answers 2>/dev/null
} >"$out/oracle/dot.pcap.keylog-dns.tsv"
echo "done: dot.pcap, dot.keys in $out" >&2
