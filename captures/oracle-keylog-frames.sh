#!/bin/sh
# tshark's HTTP/2 frames of the recorded HTTP/2 captures, the oracle of `follow`'s frame
# view (tests/integration/follow_frames.rs): one row per packet that carries HTTP/2
# frames, its frames' fields comma-separated in wire order, as tshark reassembles them
# (a frame belongs to the packet that completes it).
#   oracle/tls-keylog.pcap.keylog-http2-frames.tsv  with -o tls.keylog_file:tls-keylog.keys
#   oracle/h2c.pcap.http2-frames.tsv                with -d tcp.port==8446,http (Upgrade: h2c)
# Run from captures/: sh oracle-keylog-frames.sh
set -eu
fields="-e frame.number -e tcp.stream -e tcp.srcport -e http2.type -e http2.streamid -e http2.flags -e http2.length -e http2.window_update.window_size_increment -e http2.rst_stream.error"
header="frame	tcp_stream	src_port	types	stream_ids	flags	lengths	window_increments	rst_errors"
{
    echo "$header"
    # shellcheck disable=SC2086
    tshark -r tls-keylog.pcap -o tls.keylog_file:tls-keylog.keys -Y http2 -T fields $fields
} >oracle/tls-keylog.pcap.keylog-http2-frames.tsv
{
    echo "$header"
    # shellcheck disable=SC2086
    tshark -r h2c.pcap -d tcp.port==8446,http -Y http2 -T fields $fields
} >oracle/h2c.pcap.http2-frames.tsv
# And the number of header fields in each HEADERS frame (the HPACK header-list cap's oracle,
# tests/integration/inner_caps.rs).
{
    printf 'frame\theader_count\n'
    tshark -r tls-keylog.pcap -o tls.keylog_file:tls-keylog.keys -Y http2.type==1 -T fields \
        -e frame.number -e http2.header.count
} >oracle/tls-keylog.pcap.keylog-http2-header-counts.tsv
# And tshark's QUIC packets of quic-h3.pcap opened with its key log (per frame: the long
# headers' packet types, every packet's number, every QUIC frame type, the short headers'
# key phase), the oracle of `explain --frame N` inside QUIC (tests/integration/explain_quic.rs).
{
    printf 'frame\tlong_packet_types\tpacket_numbers\tframe_types\tkey_phases\n'
    tshark -r quic-h3.pcap -o tls.keylog_file:quic-h3.keys -T fields -e frame.number \
        -e quic.long.packet_type -e quic.packet_number -e quic.frame_type -e quic.key_phase
} >oracle/quic-h3.pcap.keylog-quic-packets.tsv
# And every TLS record of tls-keylog.pcap without keys (per frame: tcp stream, sender port,
# content types of the plaintext records, opaque types of TLS 1.3's encrypted ones, and all
# record lengths in wire order): the oracle of the decryption buffer cap
# (`--max-tls-record`, tests/integration/tls_record_cap.rs).
{
    printf 'frame\ttcp_stream\tsrc_port\tcontent_types\topaque_types\tlengths\n'
    tshark -r tls-keylog.pcap -Y tls -T fields -E occurrence=a -e frame.number -e tcp.stream \
        -e tcp.srcport -e tls.record.content_type -e tls.record.opaque_type -e tls.record.length
} >oracle/tls-keylog.pcap.records.tsv
