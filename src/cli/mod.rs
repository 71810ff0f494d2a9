//! Command-line flags, parsed with clap; `commands` turns them into a pipeline and a
//! renderer.

pub mod commands;

use clap::{Args, Parser, Subcommand, ValueEnum};
use layerscope::app::keylog::KeyLog;
use layerscope::app::AppConfig;
use layerscope::decode::DecoderLimits;
use layerscope::flow::FlowConfig;
use layerscope::pipeline::PipelineConfig;
use layerscope::render::table::TimeFormat;
use layerscope::render::{ColorChoice, ExtraColumn, TableOptions, View};
use std::path::PathBuf;

/// `--version`: the crate version and the capture backends built in.
#[cfg(feature = "libpcap")]
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (files: built-in reader; live: AF_PACKET via pnet; libpcap backend: yes)"
);
#[cfg(not(feature = "libpcap"))]
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (files: built-in reader; live: AF_PACKET via pnet; libpcap backend: no, build with --features libpcap)"
);

const LIVE_EXAMPLES: &str = "\
Examples:
  sudo layerscope live eth0                                  every connection, live
  sudo layerscope live lo -f 'tcp port 8080' -c 100          100 packets to or from port 8080
  sudo layerscope live eth0 --duration 30 -w trace.pcap      30 s, also saved as pcap
  sudo layerscope live eth0 --format json | jq -c .          JSON Lines as packets arrive

When started as root, layerscope drops its privileges to `nobody` (or --user NAME) once the
capture is open, like tcpdump -Z; --no-drop-privileges keeps them.
Exit codes: 0 success, 1 usage or I/O error (unknown interface, not permitted, bad filter).";

const EXAMPLES: &str = "\
Examples:
  layerscope read captures/http11-keepalive.pcap            every connection, annotated
  layerscope read trace.pcap --view packets                 one row per packet
  layerscope read trace.pcap --conn 3                       only connection 3
  layerscope read trace.pcap --view http                    HTTP transactions only
  layerscope read trace.pcap --format json | jq -c 'select(.type==\"conn\")'
  tcpdump -w - -i lo | layerscope read -                    a capture from stdin
  sudo layerscope live eth0 -f 'tcp port 80'                live, HTTP on port 80 only
  layerscope explain trace.pcap --frame 2                   one packet, layer by layer

Exit codes: 0 success, 1 usage or I/O error, 2 input is not a readable capture.";

/// layerscope: a packet inspector that labels every layer with its OSI layer and follows
/// every TCP connection: handshake, data, teardown, endpoint states, HTTP and DNS.
#[derive(Parser, Debug)]
#[command(name = "layerscope", version = VERSION, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `read --help`: what it does, then the fixed bounds of tunnel decoding.
const READ_LONG_ABOUT: &str =
    "Read a pcap or pcapng file (`-` for stdin) and show its connections and layers.

Tunnels and encapsulations (VLAN tags, MPLS, PPPoE, GRE, ERSPAN, VXLAN, Geneve, GTP-U,
Teredo, AYIYA, IP in IP, 802.11, NFLOG, …) are decoded to the innermost layer, within fixed
bounds: at most 64 headers and 8 tunnels per frame, 16 MPLS labels per stack, 16 GTP-U
extension headers, 64 NFLOG TLVs, 8 IPv6 extension headers, 64 GRE source route entries. A
frame cut at a bound keeps
the layers read so far, gets an issue, and is counted (nesting_cut). A frame that ends with an
FCS the file announces (pcap's FCS bits, pcapng's if_fcslen) loses it before decoding
(fcs_stripped). The first fragment of a datagram not reassembled (yet) shows its transport
header read alone; datagrams given up after it are counted (first_fragments_given_up).";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read a pcap or pcapng file (`-` for stdin) and show its connections and layers.
    #[command(after_help = EXAMPLES, long_about = READ_LONG_ABOUT)]
    Read(ReadArgs),
    /// Capture live on an interface and show packets as they arrive, then each
    /// connection's table. Needs CAP_NET_RAW (root, or `setcap`, see `layerscope doctor`).
    #[command(after_help = LIVE_EXAMPLES)]
    Live(LiveArgs),
    /// List the network interfaces: state, addresses, and whether this process may capture.
    Interfaces,
    /// Check whether this user can capture, which backends are built in, and what to run to
    /// allow capturing (changes nothing).
    Doctor,
    /// Explain one packet: its layers against the OSI and TCP/IP models, every header field,
    /// a hex dump coloured by layer, and what the packet does in its connection.
    #[command(
        after_help = "Example:\n  layerscope explain captures/http11-keepalive.pcap --frame 2   # the SYN-ACK"
    )]
    Explain(ExplainArgs),
    /// Draw one connection as a sequence diagram (client and server columns, one arrow per
    /// packet, states as they change); `--format svg` writes SVG.
    #[command(
        after_help = "Example:\n  layerscope ladder captures/http11-keepalive.pcap --conn 0\n  layerscope ladder trace.pcap --conn 3 --format svg > conn3.svg"
    )]
    Ladder(LadderArgs),
    /// Print one connection's reassembled conversation, both directions in stream order,
    /// wire bytes escaped, gaps and FINs marked; an HTTP/2 or HTTP/3 connection as its
    /// frames (type, stream, flags, length, header lists, DATA bytes, fields), a TLS one
    /// read with --keylog as its decrypted plaintext.
    #[command(
        after_help = "Example:\n  layerscope follow captures/http11-keepalive.pcap --conn 0\n  layerscope follow trace.pcap --conn 3 --raw /tmp/conn3   # also write each direction's bytes\n  layerscope follow captures/tls-keylog.pcap --keylog captures/tls-keylog.keys --conn 1 --stream 3   # one HTTP/2 stream's frames"
    )]
    Follow(FollowArgs),
    /// Graph one TCP connection: Stevens time-sequence (seq), tcptrace (segments, ACK and
    /// window lines, SACKs), RTT samples with SRTT and RTO, goodput, or bytes in flight
    /// against the advertised window; braille cells in the terminal, or `--format svg`.
    #[command(
        after_help = "Example:\n  layerscope graph captures/http11-keepalive.pcap --conn 0 --kind tcptrace --teach\n  layerscope graph trace.pcap --conn 3 --kind rtt --format svg > conn3-rtt.svg"
    )]
    Graph(GraphArgs),
    /// Write the capture as one self-contained HTML page (inline CSS, JS and SVG; nothing
    /// fetched): summary, connections, ladders, graphs, packet tables, explain pane.
    #[command(
        after_help = "Example:\n  layerscope report captures/http11-keepalive.pcap -o report.html\n  layerscope report big.pcap --conn 3 -o conn3.html      # one connection of a large capture"
    )]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(
        after_help = "Install, e.g. for bash:\n  layerscope completions bash > ~/.local/share/bash-completion/completions/layerscope"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `layerscope man | man -l -`.
    Man,
}

/// Which view to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// One annotated table per connection, printed when the connection ends (default).
    Connections,
    /// One row per packet in capture order: layers, addresses, TCP details.
    Packets,
    /// One summary row per connection (Zeek conn_state, history, bytes, RTT, close).
    Conns,
    /// One row per HTTP request/response exchange.
    Http,
    /// One row per DNS message.
    Dns,
    /// One row per TLS connection: server name, version, cipher, ALPN, handshake time,
    /// certificate, alerts.
    Tls,
    /// One row per RTT sample of each TCP connection (use with --conn): SampleRTT, the
    /// textbook's EstimatedRTT/DevRTT/TimeoutInterval, RFC 6298's SRTT/RTTVAR/RTO, Karn.
    Rtt,
    /// Why each TCP connection was slow: handshake, request, server time, transfer, idle
    /// gaps, and what limited the transfer (receiver, loss, sender, network).
    Timing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Human tables.
    Table,
    /// JSON Lines as specified by the JSON contract (packet, http, dns, conn, summary).
    Json,
    /// Zeek's tab-separated logs (conn.log, http.log, dns.log, ssl.log, tunnel.log) into --out DIR.
    Zeek,
    /// Zeek's JSON logs (one object per line) into --out DIR.
    ZeekJson,
    /// Parquet tables (conn, http, dns, tls) into --out DIR, for DuckDB, Spark, ClickHouse.
    Parquet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour only on a terminal, and never when NO_COLOR is set.
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimeFormatArg {
    /// Seconds since the first packet (tshark's default).
    Relative,
    /// Time of day, UTC.
    Absolute,
    /// Seconds since the previous packet.
    Delta,
    /// Seconds since the Unix epoch.
    Epoch,
}

/// Flags shared by every command that shows packets.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// What to show (default: `connections` for read, `packets` for live).
    #[arg(long, value_enum)]
    pub view: Option<ViewArg>,
    /// Output format: human tables, JSON Lines, or Zeek logs (written into --out DIR).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Folder the file formats (zeek, zeek-json, parquet) write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the connections' Community IDs (the spec's default is 0; tools that join
    /// on the ID must use the same seed).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub community_id_seed: u16,
    /// With --format parquet: also packets.parquet, one row per packet (frame, time,
    /// addresses, ports, lengths, TCP flags and numbers, the packet's connection).
    #[arg(long)]
    pub parquet_packets: bool,
    /// Show only this connection (repeatable); ids are those of the `conn` column.
    #[arg(long = "conn", value_name = "ID")]
    pub conns: Vec<u64>,
    /// Rows kept per connection table; beyond it plain data rows are elided (handshake,
    /// teardown and flagged packets are always kept).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub rows_per_conn: usize,
    /// Show absolute TCP sequence numbers instead of relative ones.
    #[arg(long)]
    pub absolute_seq: bool,
    /// Teaching mode: a plain-language line under each handshake, teardown, RST, HTTP and
    /// DNS row saying what happened and which layer did it, and a closing "What this
    /// capture shows".
    #[arg(long)]
    pub teach: bool,
    /// Keep only packets matching this tcpdump-syntax expression (e.g. "tcp port 80",
    /// "host 10.0.0.1 and not arp", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"). Applied
    /// before connection tracking, like a capture filter.
    #[arg(short = 'f', long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Extra per-packet columns in the connection tables, comma-separated: ack_rtt_ms
    /// (tshark's tcp.analysis.ack_rtt), bytes_in_flight, srtt_ms and rto_ms (RFC 6298
    /// after each RTT sample).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "COLS")]
    pub columns: Vec<ColumnArg>,
    #[command(flatten)]
    pub display: DisplayArgs,
}

/// `--columns` values, named as the JSON fields with the same values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnArg {
    #[value(name = "ack_rtt_ms")]
    AckRtt,
    #[value(name = "bytes_in_flight")]
    BytesInFlight,
    #[value(name = "srtt_ms")]
    Srtt,
    #[value(name = "rto_ms")]
    Rto,
}

/// Display flags, the same for every command that prints for a person (read, live,
/// explain, ladder, follow): defined here once.
#[derive(Args, Debug, Clone)]
pub struct DisplayArgs {
    /// When to colour: `auto` colours only on a terminal, never when NO_COLOR is set, always
    /// when CLICOLOR_FORCE is set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Output width in columns (default: the terminal's; for hand-drawn views $COLUMNS,
    /// else 80).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<u16>,
    /// How packet times are shown (default: relative; `follow` shows times only when
    /// this is given).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub time_format: Option<TimeFormatArg>,
}

impl DisplayArgs {
    pub fn color_choice(&self) -> ColorChoice {
        match self.color {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }

    /// Whether to colour output going to standard output.
    pub fn color_on_stdout(&self) -> bool {
        use std::io::IsTerminal;
        self.color_choice().enabled(std::io::stdout().is_terminal())
    }

    /// Width for the hand-drawn views (explain, ladder, follow): `--width`, else `$COLUMNS`,
    /// else 80.
    pub fn view_width(&self) -> usize {
        self.width
            .map(usize::from)
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
            .unwrap_or(80)
            .clamp(40, 1000)
    }

    pub fn time_format(&self) -> TimeFormat {
        match self.time_format.unwrap_or(TimeFormatArg::Relative) {
            TimeFormatArg::Relative => TimeFormat::Relative,
            TimeFormatArg::Absolute => TimeFormat::Absolute,
            TimeFormatArg::Delta => TimeFormat::Delta,
            TimeFormatArg::Epoch => TimeFormat::Epoch,
        }
    }
}

/// Caps that bound memory; what they cut is always reported.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Most connections tracked at once; the oldest idle one is evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_flows: usize,
    /// Most closed connections kept whole for late packets (2 s of capture time each);
    /// beyond it the one closed longest ends at once and a tombstone tells its late
    /// packets (counted as lingers cut).
    #[arg(long, value_name = "N", default_value_t = 1_024)]
    pub max_lingering: usize,
    /// Out-of-order bytes buffered per direction of one connection.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_reassembly_per_flow: usize,
    /// Out-of-order bytes buffered over all connections.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_reassembly_total: usize,
    /// Largest HTTP head (request line and headers) parsed.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    pub max_http_head: usize,
    /// Bytes buffered for IP fragment reassembly.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_fragment_bytes: usize,
    /// Seconds of capture time after which an incomplete IP datagram is dropped.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub fragment_timeout: u64,
    /// Seconds of capture time after which an idle UDP flow ends (tshark never splits a
    /// UDP 5-tuple; Zeek uses 60).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub udp_timeout: u64,
    /// Largest HTTP/2 frame other than DATA buffered to be read (DATA is counted, never
    /// kept); a larger one is skipped (a header block's HPACK table with it) and counted
    /// (http2_frames_cut).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::http2::MAX_FRAME)]
    pub max_h2_frame: usize,
    /// Largest HTTP/2 header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs)
    /// assembled for HPACK; a larger one is not decoded and counted (http2_frames_cut).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::http2::MAX_BLOCK)]
    pub max_h2_header_block: usize,
    /// Most HTTP/2 streams followed at once per connection; more are counted
    /// (http2_streams_cut).
    #[arg(long, value_name = "N", default_value_t = layerscope::app::http2::MAX_STREAMS)]
    pub max_h2_streams: usize,
    /// Largest HPACK dynamic table an HTTP/2 peer may size (SETTINGS_HEADER_TABLE_SIZE);
    /// a larger size update loses that direction's table: its later header blocks are not
    /// decoded and counted (http2_header_blocks_lost). At least 4096, the size every peer
    /// starts with.
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::http2_hpack::MAX_TABLE as u64,
          value_parser = clap::value_parser!(u64).range(4096..(1 << 32)))]
    pub max_hpack_table: u64,
    /// Largest decoded HTTP/2 header list kept per header block (RFC 7541 sizes: name +
    /// value + 32 per field); fields past it are counted (http2_header_fields_cut).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::http2_hpack::MAX_HEADER_LIST)]
    pub max_h2_header_list: usize,
    /// Bytes of each side's QUIC CRYPTO stream reassembled from Initial packets (the
    /// ClientHello and ServerHello); beyond them counted (quic_crypto_cut_bytes).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::quic::hello::MAX_CRYPTO)]
    pub max_quic_crypto: usize,
    /// With a key log: most QUIC stream directions reassembled at once per connection;
    /// more are counted (http3_streams_cut, quic_stream_bytes_cut).
    #[arg(long, value_name = "N", default_value_t = layerscope::app::quic::streams::MAX_STREAMS)]
    pub max_quic_streams: usize,
    /// With a key log: bytes of a QUIC stream held out of order (ahead of a hole) per
    /// stream and sender; more are counted (quic_stream_bytes_cut).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::quic::streams::MAX_HELD)]
    pub max_quic_stream_buffer: usize,
    /// With a key log: bytes of HTTP/3 field sections held per connection while they wait
    /// for the QPACK encoder-stream entries they refer to (RFC 9204 §2.1.2; at most as many
    /// streams as the decoder's SETTINGS_QPACK_BLOCKED_STREAMS); more are decoded at once,
    /// their missing fields noted, and counted (qpack_blocked_cut).
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::http3::MAX_BLOCKED_BYTES)]
    pub max_qpack_blocked: usize,
    /// With a key log: largest TLS record body buffered to be opened (one record per
    /// direction at a time; the default is the protocol's maximum, 2^14 + 2048). A longer
    /// record is not opened and ends its direction's decryption (its sequence number is
    /// lost with it), counted (records_cut) and noted on the connection.
    #[arg(long, value_name = "BYTES", default_value_t = layerscope::app::MAX_RECORD_BODY)]
    pub max_tls_record: usize,
    /// TLS key log (NSS format, as curl, Firefox and Chrome write it with SSLKEYLOGFILE):
    /// TLS 1.2 and 1.3 connections whose secrets it holds are decrypted and the HTTP inside
    /// read. Default: the SSLKEYLOGFILE environment variable. Read again when a client
    /// random is missing and the file has grown (a browser writing it during `live`).
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

/// Which reader opens a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileBackendArg {
    /// layerscope's own pcap/pcapng reader (no library needed); filters run in userspace.
    Builtin,
    /// libpcap (build with --features libpcap): the filter is compiled to BPF and applied
    /// by libpcap, as `tcpdump -r FILE EXPR` does; frames are numbered as libpcap delivers
    /// them (only the matching ones).
    Libpcap,
}

#[derive(Args, Debug)]
pub struct ReadArgs {
    /// Capture files (pcap or pcapng) or folders of them; `-` reads standard input.
    /// Several are read as one capture, merged in timestamp order (like mergecap), frames
    /// numbered on across files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Which reader opens the file.
    #[arg(long, value_enum, default_value = "builtin")]
    pub backend: FileBackendArg,
    /// Threads: 2 decodes, tracks connections and parses HTTP/DNS/TLS on a second thread
    /// while the first writes the output, and reads the file (read(2)) on a third that
    /// mostly waits for the kernel (same output as 1); 1 does everything on one.
    /// Default: 2 when the machine has more than one core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub threads: Option<u8>,
    /// Each file is its own capture, with its own outputs in --out DIR/NAME/ (zeek,
    /// zeek-json and parquet formats), instead of one capture merged from all.
    #[arg(long)]
    pub per_file: bool,
    /// With --per-file: how many files are analysed at once (each on one thread).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Which live capture backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Linux AF_PACKET through pnet: no system library needed; the filter runs in userspace.
    Pnet,
    /// libpcap (build with --features libpcap): the filter is compiled to kernel BPF.
    Libpcap,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture on (see `layerscope interfaces`).
    pub interface: String,
    /// Stop after this many packets (that passed the filter).
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Bytes kept of each packet (default 262144: whole packets).
    #[arg(long, value_name = "BYTES")]
    pub snaplen: Option<u32>,
    /// Promiscuous mode: also frames addressed to other hosts (the default).
    #[arg(long, overrides_with = "no_promisc")]
    pub promisc: bool,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Also save every captured packet to this pcap file.
    #[arg(short = 'w', long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Kernel capture buffer size in bytes.
    #[arg(long, value_name = "BYTES")]
    pub buffer_size: Option<usize>,
    /// Capture backend.
    #[arg(long, value_enum, default_value = "pnet")]
    pub backend: BackendArg,
    /// User to switch to once the capture is open (when started as root).
    #[arg(long, value_name = "NAME", default_value = "nobody")]
    pub user: String,
    /// Keep root privileges for the whole capture.
    #[arg(long)]
    pub no_drop_privileges: bool,
    /// Also write the capture as an HTML report to this file when it ends.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// The frame to explain (1-based, as in the No. column).
    #[arg(long, value_name = "N")]
    pub frame: u64,
    // Colour: each layer its colour; without colour a layer-letter row marks the bytes.
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Ladder output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LadderFormatArg {
    Text,
    Svg,
}

#[derive(Args, Debug)]
pub struct LadderArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// The connection to draw (its id in `layerscope read`).
    #[arg(long = "conn", value_name = "ID")]
    pub conn: u64,
    /// Draw every packet (by default runs of plain data and ACK packets fold into one arrow).
    #[arg(long)]
    pub full: bool,
    /// Text for the terminal, or SVG.
    #[arg(long, value_enum, default_value = "text")]
    pub format: LadderFormatArg,
    // Colour: arrows by direction (client red, server blue) and handshake/teardown/RST.
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct FollowArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// The connection to follow (its id in `layerscope read`).
    #[arg(long = "conn", value_name = "ID")]
    pub conn: u64,
    /// Also write each direction's raw bytes to DIR/conn-ID-client-to-server.bin and
    /// DIR/conn-ID-server-to-client.bin.
    #[arg(long, value_name = "DIR")]
    pub raw: Option<PathBuf>,
    /// Only the frames of this HTTP/2 or HTTP/3 stream id (as tshark's
    /// `-z follow,http2,ascii,TCP_STREAM,STREAM_ID` selects); without it an HTTP/2 or
    /// HTTP/3 connection shows all its frames.
    #[arg(long, value_name = "ID")]
    pub stream: Option<u64>,
    // Colour: the two directions (client red, server blue, like Wireshark); width: long
    // lines fold at it (marked `↩`).
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Capture files (pcap or pcapng) or folders of them; `-` reads standard input.
    /// Several are read as one capture, merged in timestamp order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Only this connection (repeatable).
    #[arg(long = "conn", value_name = "ID")]
    pub conns: Vec<u64>,
    /// Keep only packets matching this tcpdump-syntax expression.
    #[arg(short = 'f', long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Most connections on the page (the rest are counted and named as left out).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_conns: usize,
    /// Most packet rows on the page.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_rows: usize,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Graph kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphKindArg {
    /// Stevens time-sequence: each data segment's sequence number against time.
    Seq,
    /// Segments as bars, the ACK line, the receive-window line, SACKed ranges.
    Tcptrace,
    /// RTT samples with the SRTT and RTO lines.
    Rtt,
    /// Goodput per interval with the average; without --conn, the bit rate of every frame
    /// of the capture per interval.
    Throughput,
    /// Bytes in flight against the advertised window.
    Window,
    /// The whole capture (no --conn): connections open and started per interval.
    Conns,
}

/// Graph output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormatArg {
    Text,
    Svg,
}

/// Which direction's segments a graph follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphDirArg {
    /// Segments the client sends.
    Client,
    /// Segments the server sends.
    Server,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: PathBuf,
    /// The TCP connection to graph (its id in `layerscope read`); without it, the whole
    /// capture (kinds throughput and conns).
    #[arg(long = "conn", value_name = "ID")]
    pub conn: Option<u64>,
    /// What to draw.
    #[arg(long, value_enum, default_value = "seq")]
    pub kind: GraphKindArg,
    /// Braille cells for the terminal, or SVG.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormatArg,
    /// Whose segments (default: the side that sent more payload).
    #[arg(long, value_enum)]
    pub dir: Option<GraphDirArg>,
    /// Under the graph, what to look for in it, with this capture's frames.
    #[arg(long)]
    pub teach: bool,
    // Colour: data blue, ACKs green, retransmissions red, duplicate ACKs yellow, zero
    // window magenta.
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl OutputArgs {
    pub fn table_options(&self, is_terminal: bool) -> TableOptions {
        TableOptions {
            view: match self.view.unwrap_or(ViewArg::Connections) {
                ViewArg::Connections => View::Connections,
                ViewArg::Packets => View::Packets,
                ViewArg::Conns => View::Conns,
                ViewArg::Http => View::Http,
                ViewArg::Dns => View::Dns,
                ViewArg::Tls => View::Tls,
                // Drawn by their own sinks (render::graph), never by the tables.
                ViewArg::Rtt | ViewArg::Timing => View::Connections,
            },
            color: self.display.color_choice().enabled(is_terminal),
            rows_per_conn: self.rows_per_conn.max(4),
            absolute_seq: self.absolute_seq,
            width: self.display.width,
            is_terminal,
            teach: self.teach,
            flush_each: false,
            blocks_at_end: false,
            time_format: self.display.time_format(),
            columns: self
                .columns
                .iter()
                .map(|c| match c {
                    ColumnArg::AckRtt => ExtraColumn::AckRtt,
                    ColumnArg::BytesInFlight => ExtraColumn::BytesInFlight,
                    ColumnArg::Srtt => ExtraColumn::Srtt,
                    ColumnArg::Rto => ExtraColumn::Rto,
                })
                .collect(),
        }
    }
}

impl LimitArgs {
    /// The key log of `--keylog`, else of SSLKEYLOGFILE (a file that does not exist yet is
    /// watched: it is read once it appears).
    pub fn keylog(&self) -> Option<std::sync::Arc<KeyLog>> {
        let path = self
            .keylog
            .clone()
            .or_else(|| std::env::var_os("SSLKEYLOGFILE").map(PathBuf::from))?;
        if !path.exists() {
            eprintln!(
                "layerscope: key log {} does not exist (yet): it is read once it does",
                path.display()
            );
        }
        Some(std::sync::Arc::new(KeyLog::watch(path)))
    }

    pub fn pipeline_config(&self) -> PipelineConfig {
        PipelineConfig {
            decoder: DecoderLimits {
                max_fragment_bytes: self.max_fragment_bytes,
                fragment_timeout_ns: self.fragment_timeout.saturating_mul(1_000_000_000),
                ..DecoderLimits::default()
            },
            flow: FlowConfig {
                max_flows: self.max_flows.max(1),
                max_lingering: self.max_lingering,
                max_reassembly_per_flow: self.max_reassembly_per_flow,
                max_reassembly_total: self.max_reassembly_total,
                udp_idle_ns: self.udp_timeout.saturating_mul(1_000_000_000),
                ..FlowConfig::default()
            },
            app: AppConfig {
                max_http_head: self.max_http_head,
                keylog: self.keylog(),
                h2_caps: layerscope::app::http2::H2Caps {
                    frame: self.max_h2_frame,
                    header_block: self.max_h2_header_block,
                    streams: self.max_h2_streams,
                    hpack_table: usize::try_from(self.max_hpack_table).unwrap_or(usize::MAX),
                    header_list: self.max_h2_header_list,
                },
                quic_crypto: self.max_quic_crypto,
                quic_streams: layerscope::app::quic::streams::StreamCaps {
                    streams: self.max_quic_streams,
                    held: self.max_quic_stream_buffer,
                },
                qpack_blocked: self.max_qpack_blocked,
                tls_record_buffer: self.max_tls_record,
                ..AppConfig::default()
            },
            threads: 1,
        }
    }
}
