#!/usr/bin/env bash
# Records layerscope's QUIC 0-RTT loopback capture into the directory of this script (or $1):
#   quic-0rtt.pcap   aioquic's HTTP/3 server on 127.0.0.1:4439 and its client
#                    (quic-0rtt.py beside this file): a first connection (GET /first) that
#                    gets a session ticket, a second that resumes with it and sends
#                    GET /early in 0-RTT packets (long header type 1)
#   quic-0rtt.keys   the key log the client wrote (aioquic's secrets_log_file, NSS format;
#                    the second connection's CLIENT_EARLY_TRAFFIC_SECRET among them)
#   oracle/quic-0rtt.pcap.*  tshark's view (the usual files, Community IDs) and .keylog-quic.tsv: per frame
#                    the long headers' packet types, packet numbers, QUIC frame types and
#                    HTTP/3 frame types tshark reads with the key log; .client.tsv: each
#                    request as the client sent and got it (and whether early data was
#                    accepted)
#   sudo captures/record-quic-0rtt.sh [OUT_DIR]
# Needs root (tcpdump on lo), python3 with aioquic (pip install aioquic), tcpdump, openssl
# and ss. All traffic goes to 127.0.0.1 only; the certificate is a throwaway self-signed one.
set -euo pipefail

me=record-quic-0rtt.sh
tools="tcpdump python3 openssl ss tshark"
# shellcheck source=captures/lib.sh
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

PORT=4439
python3 -c 'import aioquic' || { echo "$me: needs aioquic (pip install aioquic)" >&2; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=layerscope.test" -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/req.log"

assert_free u "$PORT"
start_server h3 python3 "$here/quic-0rtt.py" server "$PORT" "$tmp/cert.pem" "$tmp/key.pem"
wait_listen u "$PORT"

keys="$out/quic-0rtt.keys"
rm -f "$keys"
capture_start "$out/quic-0rtt.pcap" lo "udp port $PORT and host 127.0.0.1"
mkdir -p "$out/oracle"
truth="$out/oracle/quic-0rtt.pcap.client.tsv"
{
  printf 'conn\tstream_id\tmethod\turi\tstatus\tearly_data_accepted\n'
  python3 "$here/quic-0rtt.py" client "$PORT" "$keys"
} >"$truth"
capture_stop
stop_server
chown --reference="$out" "$keys"
chown --reference="$out" "$truth"
/work/shared/tools/make-oracle.sh "$out/oracle" "$out/quic-0rtt.pcap" || true
{
  printf 'frame.number\tcommunityid\tcommunityid_seed1\n'
  paste <(tshark -r "$out/quic-0rtt.pcap" --enable-protocol communityid -T fields -e frame.number -e communityid 2>/dev/null) \
    <(tshark -r "$out/quic-0rtt.pcap" --enable-protocol communityid -o communityid.seed:1 -T fields -e communityid 2>/dev/null)
} >"$out/oracle/quic-0rtt.pcap.communityid.tsv"
# tshark decodes port 4439 as QUIC by its heuristic.
{
  printf 'frame\tlong_packet_types\tpacket_numbers\tframe_types\tstream_ids\thttp3_frame_types\n'
  tshark -r "$out/quic-0rtt.pcap" -o "tls.keylog_file:$keys" -T fields -e frame.number \
    -e quic.long.packet_type -e quic.packet_number -e quic.frame_type -e quic.stream.stream_id \
    -e http3.frame_type 2>/dev/null
} >"$out/oracle/quic-0rtt.pcap.keylog-quic.tsv"
echo "done: quic-0rtt.pcap, quic-0rtt.keys in $out" >&2
