#!/usr/bin/env bash
# Records layerscope's cleartext HTTP/2 (h2c) loopback capture into the directory of this
# script (or $1):
#   h2c.pcap   hypercorn (PyPI) serving h2c_app.py beside this file on 127.0.0.1:8446, curl
#              7.88 as client, two connections: `curl --http2` (HTTP/1.1 GET with
#              `Upgrade: h2c` and `HTTP2-Settings`, 101 Switching Protocols, then HTTP/2 on
#              the same connection: the upgrade request is stream 1, then GET /missing and
#              a POST as streams 3 and 5), and `curl --http2-prior-knowledge` (the client
#              preface first: GET /prior, stream 1)
#   sudo captures/record-h2c.sh [OUT_DIR]
# Needs root (tcpdump on lo), python3 with hypercorn (pip install hypercorn), tcpdump, curl,
# ss and tshark (the oracle: the usual files, Community IDs, and .h2c-http.tsv, tshark's
# HTTP/1.1 and HTTP/2 requests and responses with `-d tcp.port==8446,http`).
set -euo pipefail

me=record-h2c.sh
tools="tcpdump python3 curl ss tshark"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

PORT=8446
python3 -c 'import hypercorn' || { echo "$me: needs hypercorn (pip install hypercorn)" >&2; exit 1; }
assert_free t "$PORT"
start_server hypercorn env PYTHONPATH="$here" python3 -m hypercorn --bind "127.0.0.1:$PORT" h2c_app:app
wait_listen t "$PORT"

base="http://127.0.0.1:$PORT"
c=(-s --max-time 5 --connect-timeout 3 -w '    %{http_version} %{http_code} %{url_effective}\n')
capture_start "$out/h2c.pcap" lo "tcp port $PORT and host 127.0.0.1"
curl "${c[@]}" --http2 -o /dev/null "$base/upgrade" -o /dev/null "$base/missing" \
  --next "${c[@]}" --http2 -o /dev/null -d 'name=layerscope&x=1' "$base/post" >&2
curl "${c[@]}" --http2-prior-knowledge -o /dev/null "$base/prior" >&2
capture_stop
stop_server

mkdir -p "$out/oracle"
/work/shared/tools/make-oracle.sh "$out/oracle" "$out/h2c.pcap" || true
{
  printf 'frame.number\tcommunityid\tcommunityid_seed1\n'
  paste <(tshark -r "$out/h2c.pcap" --enable-protocol communityid -T fields -e frame.number -e communityid 2>/dev/null) \
    <(tshark -r "$out/h2c.pcap" --enable-protocol communityid -o communityid.seed:1 -T fields -e communityid 2>/dev/null)
} >"$out/oracle/h2c.pcap.communityid.tsv"
{
  printf 'frame\ttcp_stream\tmethod\turi\tversion\tstatus\th2_header_names\th2_header_values\th2_stream_ids\n'
  tshark -r "$out/h2c.pcap" -d "tcp.port==$PORT,http" -Y 'http.request or http.response or http2.type == 1' \
    -T fields -E occurrence=a -E 'aggregator=|' -e frame.number -e tcp.stream -e http.request.method \
    -e http.request.uri -e http.request.version -e http.response.code -e http2.header.name \
    -e http2.header.value -e http2.streamid 2>/dev/null
} >"$out/oracle/h2c.pcap.h2c-http.tsv"
echo "done: h2c.pcap in $out" >&2
