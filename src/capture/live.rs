//! Live capture from a network interface.
//!
//! The default backend, [`LiveSource`], is pure Rust: a Linux `AF_PACKET` socket read through
//! pnet_datalink. The optional `libpcap` feature adds [`super::PcapSource`] (kernel BPF
//! filters, kernel timestamps, drop counters).
//!
//! Both sources lend frames like [`super::FileSource`] does, and both can be told when to stop:
//! a shared flag ([`LiveSource::set_stop`], set from a Ctrl-C handler), a frame count, or a
//! duration ([`LiveOptions`]). Without traffic, a read wakes every `read_timeout` to look at
//! them, so a stop request is honoured within that time. `Ok(None)` from `next_frame` means
//! the capture is over, and [`StopReason`] says why.
//!
//! What the built-in backend cannot see (and the libpcap one can): kernel timestamps (pnet
//! reads with `recvfrom`, which returns no timestamp, so the system clock is read when the
//! frame reaches userspace; precision 6) and the kernel's drop counters.

use super::{CaptureError, LinkType, RawFrame, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Default snapshot length: libpcap's maximum (256 KiB), so nothing is ever cut.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// How a live capture is opened and when it stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveOptions {
    /// Bytes kept of each frame (`RawFrame::data` is cut to this; `orig_len` is not).
    pub snaplen: u32,
    /// Promiscuous mode: also frames addressed to other hosts.
    pub promisc: bool,
    /// Kernel receive buffer in bytes (`SO_RCVBUF` for the built-in backend, capped by
    /// `net.core.rmem_max`; libpcap's ring buffer size). `None`: the system default.
    pub buffer_size: Option<usize>,
    /// Longest wait for a frame before the stop conditions are checked again.
    pub read_timeout: Duration,
    /// Stop after this many frames.
    pub count: Option<u64>,
    /// Stop this long after the capture was opened.
    pub duration: Option<Duration>,
    /// tcpdump-syntax capture filter, compiled to kernel BPF (libpcap backend only: the
    /// built-in backend refuses it with [`LiveError::FilterNeedsLibpcap`]).
    pub filter: Option<String>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            snaplen: DEFAULT_SNAPLEN,
            promisc: true,
            buffer_size: None,
            read_timeout: Duration::from_millis(200),
            count: None,
            duration: None,
            filter: None,
        }
    }
}

/// Why a live capture ended (`next_frame` returned `Ok(None)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The stop flag was set (Ctrl-C).
    Requested,
    /// `count` frames were delivered.
    Count,
    /// `duration` passed.
    Duration,
    /// An error ended it (reported once by `next_frame`, e.g. the interface went down).
    Error,
    /// A file read by the libpcap backend ended.
    EndOfFile,
}

/// Counters for the capture summary. `None` where the backend cannot tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Frames delivered to the caller (built-in backend) or received by the filter (libpcap:
    /// `ps_recv`, which counts frames the filter accepted, delivered or not yet).
    pub received: u64,
    /// Frames the kernel dropped because the buffer was full (libpcap `ps_drop`).
    pub dropped_kernel: Option<u64>,
    /// Frames the interface or driver dropped (libpcap `ps_ifdrop`).
    pub dropped_interface: Option<u64>,
}

/// What can go wrong opening or reading a live capture.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The process lacks CAP_NET_RAW.
    #[error(
        "capturing on {interface} needs CAP_NET_RAW: run as root, or grant it once with \
         sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
    )]
    NotPermitted {
        interface: String,
        /// Path of the running executable (for the setcap command).
        exe: String,
    },
    /// No interface has that name.
    #[error("no interface named {name:?}; the interfaces here are: {}", list_or_none(.available))]
    UnknownInterface {
        name: String,
        available: Vec<String>,
    },
    /// The interface exists but is administratively down.
    #[error("interface {interface} is down (bring it up with: ip link set {interface} up)")]
    InterfaceNotUp { interface: String },
    /// The interface went down or disappeared while capturing; the capture is over.
    #[error("interface {interface} went down during the capture")]
    InterfaceWentDown { interface: String },
    /// The built-in backend does not know how this interface frames packets.
    #[error(
        "interface {interface} has hardware type {arphrd} (ARPHRD), which the built-in \
         capture backend does not frame; use the libpcap backend"
    )]
    UnsupportedLinkType { interface: String, arphrd: u16 },
    /// A capture filter was given to the built-in backend.
    #[error(
        "capture filters need the libpcap backend (build with --features libpcap and use \
         --backend libpcap)"
    )]
    FilterNeedsLibpcap,
    /// The capture socket could not be opened or configured.
    #[error("cannot open {interface} for capture: {source}")]
    Open {
        interface: String,
        source: std::io::Error,
    },
    /// Reading from the capture failed.
    #[error("reading from {interface}: {source}")]
    Read {
        interface: String,
        source: std::io::Error,
    },
    /// The capture filter did not compile.
    #[error("capture filter {expr:?} is not valid: {message}")]
    Filter { expr: String, message: String },
    /// libpcap reported an error (`what` is the interface or file).
    #[error("libpcap on {what}: {message}")]
    Libpcap { what: String, message: String },
    /// `drop_privileges` was given a user that does not exist.
    #[error("no user named {user:?} to drop privileges to")]
    UnknownUser { user: String },
    /// A step of `drop_privileges` failed (`step` names the call).
    #[error("dropping privileges to {user}: {step} failed: {source}")]
    PrivilegeDrop {
        user: String,
        step: &'static str,
        source: std::io::Error,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl LiveError {
    /// The "needs CAP_NET_RAW" error for `interface`, naming the running executable.
    pub fn not_permitted(interface: &str) -> LiveError {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "layerscope".to_string());
        LiveError::NotPermitted {
            interface: interface.to_string(),
            exe,
        }
    }
}

impl From<LiveError> for CaptureError {
    /// Wrapped as an I/O error; [`live_error`] gets the [`LiveError`] back.
    fn from(err: LiveError) -> CaptureError {
        let kind = match err {
            LiveError::NotPermitted { .. } => std::io::ErrorKind::PermissionDenied,
            LiveError::UnknownInterface { .. } => std::io::ErrorKind::NotFound,
            _ => std::io::ErrorKind::Other,
        };
        CaptureError::Io(std::io::Error::new(kind, err))
    }
}

/// The [`LiveError`] inside a [`CaptureError`] returned by a live source's `next_frame`.
pub fn live_error(err: &CaptureError) -> Option<&LiveError> {
    match err {
        CaptureError::Io(io) => io.get_ref()?.downcast_ref::<LiveError>(),
        _ => None,
    }
}

/// Stop conditions shared by the live backends.
#[derive(Debug)]
pub(crate) struct StopRule {
    flag: Option<Arc<AtomicBool>>,
    count: Option<u64>,
    deadline: Option<Instant>,
    reason: Option<StopReason>,
}

impl StopRule {
    pub(crate) fn new(options: &LiveOptions) -> StopRule {
        StopRule {
            flag: None,
            count: options.count,
            // A duration too long to add is no limit.
            deadline: options.duration.and_then(|d| Instant::now().checked_add(d)),
            reason: None,
        }
    }

    pub(crate) fn set_flag(&mut self, flag: Arc<AtomicBool>) {
        self.flag = Some(flag);
    }

    /// Whether the capture is over, given the frames delivered so far (records why).
    pub(crate) fn should_stop(&mut self, delivered: u64) -> bool {
        if self.reason.is_some() {
            return true;
        }
        let reason = if self
            .flag
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            Some(StopReason::Requested)
        } else if self.count.is_some_and(|c| delivered >= c) {
            Some(StopReason::Count)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopReason::Duration)
        } else {
            None
        };
        self.reason = reason;
        reason.is_some()
    }

    pub(crate) fn finish(&mut self, reason: StopReason) {
        self.reason.get_or_insert(reason);
    }

    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.reason
    }
}

/// Now, from the system clock, at microsecond precision.
fn now_timestamp() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_micros() * 1000,
            precision: 6,
        },
        Err(_) => Timestamp {
            secs: 0,
            nanos: 0,
            precision: 6,
        },
    }
}

#[cfg(target_os = "linux")]
pub use linux::LiveSource;

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use crate::capture::interfaces::{arphrd_type, interface_names};
    use crate::capture::FrameSource;
    use std::io;
    use std::os::fd::IntoRawFd;

    /// The read buffer handed to pnet: frames longer than this are cut by the kernel before
    /// we can measure them, so it is libpcap's largest snapshot length (GRO/TSO frames on
    /// loopback and Ethernet stay below it).
    const READ_BUFFER: usize = 262_144;

    /// Classic BPF, attached on loopback interfaces only: drop `PACKET_OUTGOING` copies.
    /// On `lo` every packet passes the packet taps twice, once leaving (outgoing) and once
    /// arriving (host); libpcap drops the outgoing copy the same way.
    fn loopback_filter() -> [socket2::SockFilter; 4] {
        const BPF_LD_W_ABS: u16 = 0x20;
        const BPF_JMP_JEQ_K: u16 = 0x15;
        const BPF_RET_K: u16 = 0x06;
        const SKF_AD_OFF: i32 = -0x1000;
        const SKF_AD_PKTTYPE: i32 = 4;
        const PACKET_OUTGOING: u32 = 4;
        [
            socket2::SockFilter::new(BPF_LD_W_ABS, 0, 0, (SKF_AD_OFF + SKF_AD_PKTTYPE) as u32),
            socket2::SockFilter::new(BPF_JMP_JEQ_K, 0, 1, PACKET_OUTGOING),
            socket2::SockFilter::new(BPF_RET_K, 0, 0, 0),
            socket2::SockFilter::new(BPF_RET_K, 0, 0, u32::MAX),
        ]
    }

    /// A live capture on one interface through a Linux `AF_PACKET` socket (pnet_datalink).
    ///
    /// Frames are numbered from 1, stamped with the system clock when they reach userspace
    /// (precision 6: pnet exposes no kernel timestamp), and copied, cut to `snaplen`, into a
    /// reused buffer. `link` is Ethernet on Ethernet and loopback interfaces, raw IP on
    /// interfaces without a link header (tun).
    pub struct LiveSource {
        interface: String,
        rx: Box<dyn pnet_datalink::DataLinkReceiver>,
        link: LinkType,
        snaplen: usize,
        buf: Vec<u8>,
        number: u64,
        stop: StopRule,
    }

    impl std::fmt::Debug for LiveSource {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("LiveSource")
                .field("interface", &self.interface)
                .field("link", &self.link)
                .field("number", &self.number)
                .finish_non_exhaustive()
        }
    }

    fn is_permission(err: &io::Error) -> bool {
        err.kind() == io::ErrorKind::PermissionDenied || matches!(err.raw_os_error(), Some(1))
    }

    impl LiveSource {
        /// Opens a capture on `interface`. Needs CAP_NET_RAW; call
        /// [`crate::capture::drop_privileges`] afterwards to give up root.
        pub fn open(interface: &str, options: &LiveOptions) -> Result<LiveSource, LiveError> {
            if options.filter.is_some() {
                return Err(LiveError::FilterNeedsLibpcap);
            }
            let Some(ni) = pnet_datalink::interfaces()
                .into_iter()
                .find(|ni| ni.name == interface)
            else {
                return Err(LiveError::UnknownInterface {
                    name: interface.to_string(),
                    available: interface_names(),
                });
            };
            if !ni.is_up() {
                return Err(LiveError::InterfaceNotUp {
                    interface: interface.to_string(),
                });
            }
            let link = match arphrd_type(interface) {
                // ARPHRD_ETHER, ARPHRD_LOOPBACK (a zeroed Ethernet header), unknown.
                Some(1) | Some(772) | None => LinkType::ETHERNET,
                // ARPHRD_NONE (tun): the frame is the IP packet.
                Some(65534) => LinkType::RAW,
                Some(arphrd) => {
                    return Err(LiveError::UnsupportedLinkType {
                        interface: interface.to_string(),
                        arphrd,
                    })
                }
            };
            let open_err = |source: io::Error| LiveError::Open {
                interface: interface.to_string(),
                source,
            };
            // Protocol 0: the socket receives nothing until pnet binds it to the interface
            // with ETH_P_ALL, so no frame of another interface slips in before the bind.
            let socket = socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, None)
                .map_err(|e| {
                    if is_permission(&e) {
                        LiveError::not_permitted(interface)
                    } else {
                        open_err(e)
                    }
                })?;
            if let Some(size) = options.buffer_size {
                socket.set_recv_buffer_size(size).map_err(open_err)?;
            }
            if ni.is_loopback() {
                socket.attach_filter(&loopback_filter()).map_err(open_err)?;
            }
            let config = pnet_datalink::Config {
                write_buffer_size: 0,
                read_buffer_size: READ_BUFFER,
                read_timeout: Some(options.read_timeout.max(Duration::from_millis(1))),
                promiscuous: options.promisc,
                // pnet binds, sets promiscuous mode and owns (closes) the descriptor.
                socket_fd: Some(socket.into_raw_fd()),
                ..pnet_datalink::Config::default()
            };
            let rx = match pnet_datalink::channel(&ni, config) {
                Ok(pnet_datalink::Channel::Ethernet(_tx, rx)) => rx,
                Ok(_) => {
                    return Err(open_err(io::Error::other(
                        "pnet_datalink returned a channel of an unknown kind",
                    )))
                }
                Err(e) if is_permission(&e) => return Err(LiveError::not_permitted(interface)),
                Err(e) => return Err(open_err(e)),
            };
            let snaplen = usize::try_from(options.snaplen.max(1)).unwrap_or(READ_BUFFER);
            Ok(LiveSource {
                interface: interface.to_string(),
                rx,
                link,
                snaplen,
                buf: Vec::with_capacity(snaplen.min(READ_BUFFER)),
                number: 0,
                stop: StopRule::new(options),
            })
        }

        /// Stop (next call returns `Ok(None)`, within `read_timeout`) once `flag` is set.
        pub fn set_stop(&mut self, flag: Arc<AtomicBool>) {
            self.stop.set_flag(flag);
        }

        /// Why the capture ended, once it has.
        pub fn stop_reason(&self) -> Option<StopReason> {
            self.stop.reason()
        }

        /// The interface being captured.
        pub fn interface(&self) -> &str {
            &self.interface
        }

        /// The link type of every frame.
        pub fn link_type(&self) -> LinkType {
            self.link
        }

        /// Frames delivered; this backend cannot see the kernel's drop counters.
        pub fn stats(&self) -> LiveStats {
            LiveStats {
                received: self.number,
                dropped_kernel: None,
                dropped_interface: None,
            }
        }

        /// The next frame, `Ok(None)` once a stop condition holds. An error ends the
        /// capture: it is returned once, then `Ok(None)` with [`StopReason::Error`].
        pub fn next_live(&mut self) -> Result<Option<RawFrame<'_>>, LiveError> {
            let (ts, orig_len) = loop {
                if self.stop.should_stop(self.number) {
                    return Ok(None);
                }
                match self.rx.next() {
                    Ok(data) => {
                        let ts = now_timestamp();
                        let kept = data.get(..self.snaplen).unwrap_or(data);
                        self.buf.clear();
                        self.buf.extend_from_slice(kept);
                        break (ts, data.len());
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                                | io::ErrorKind::WouldBlock
                        ) => {}
                    Err(e) => {
                        self.stop.finish(StopReason::Error);
                        return Err(self.read_error(e));
                    }
                }
            };
            self.number += 1;
            Ok(Some(RawFrame {
                number: self.number,
                ts,
                link: self.link,
                interface: 0,
                file: 0,
                orig_len: u32::try_from(orig_len).unwrap_or(u32::MAX),
                data: &self.buf,
            }))
        }

        /// A read error, as "the interface went down" when it is down or gone now (the
        /// kernel reports that as `ENETDOWN`, which pnet shows as an unexpected poll event).
        fn read_error(&self, source: io::Error) -> LiveError {
            if !crate::capture::interfaces::is_up(&self.interface)
                || source.raw_os_error() == Some(100)
            {
                LiveError::InterfaceWentDown {
                    interface: self.interface.clone(),
                }
            } else {
                LiveError::Read {
                    interface: self.interface.clone(),
                    source,
                }
            }
        }
    }

    impl FrameSource for LiveSource {
        fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
            self.next_live().map_err(CaptureError::from)
        }
    }
}

/// Shared by the live tests of both backends: a real HTTP exchange on 127.0.0.1 and a
/// by-hand reading of the frames it produced.
#[cfg(all(test, target_os = "linux"))]
pub(crate) mod e2e {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread::JoinHandle;

    pub const REQUEST: &[u8] = b"GET /live-test HTTP/1.1\r\nHost: x\r\n\r\n";
    pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    pub const SYN: u8 = 0x02;
    pub const FIN: u8 = 0x01;
    pub const ACK: u8 = 0x10;

    /// Whether live tests can run; prints the skip line otherwise (fails instead when
    /// LAYERSCOPE_REQUIRE_LIVE=1).
    pub fn can_run_live() -> bool {
        if crate::capture::interfaces::capture_permitted() {
            return true;
        }
        if std::env::var("LAYERSCOPE_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("LAYERSCOPE_REQUIRE_LIVE=1 but this process cannot capture (no CAP_NET_RAW)");
        }
        skipped!("live test: needs root (CAP_NET_RAW)");
        false
    }

    /// A listener on 127.0.0.1 with a port from the kernel.
    pub fn listen() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
    }

    /// Serves one request on `listener` ([`RESPONSE`], then close) and runs a client thread
    /// that sends [`REQUEST`] and reads to the end; the thread yields the response bytes.
    pub fn exchange(listener: TcpListener) -> JoinHandle<Vec<u8>> {
        let port = listener.local_addr().expect("local addr").port();
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let mut got = Vec::new();
                let mut chunk = [0u8; 512];
                while !got.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = conn.write_all(RESPONSE);
            }
        });
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream.write_all(REQUEST).expect("send request");
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response);
            response
        })
    }

    /// One TCP segment of the exchange, read through the wire views (Ethernet, IPv4, TCP).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Segment {
        pub to_server: bool,
        pub flags: u8,
        pub seq: u32,
        pub ack: u32,
        pub payload: Vec<u8>,
    }

    /// The TCP segment in an Ethernet frame if it is IPv4/TCP to or from `port`.
    pub fn segment(frame: &[u8], port: u16) -> Option<Segment> {
        use crate::wire::{ethernet::Ethernet, ipv4::Ipv4, tcp::Tcp, EtherType, IpNumber};
        let eth = Ethernet::new_checked(frame).ok()?;
        if eth.ether_type() != EtherType::IPV4 {
            return None;
        }
        let ip = Ipv4::new_checked(frame.get(eth.header_len()..)?).ok()?;
        if ip.protocol() != IpNumber::TCP {
            return None;
        }
        // Cut frames (snaplen) keep what was captured: the options may be cut.
        let tcp_bytes = ip.payload();
        let tcp = Tcp::new_fixed(tcp_bytes).ok()?;
        let (src, dst) = (tcp.src_port(), tcp.dst_port());
        if src != port && dst != port {
            return None;
        }
        Some(Segment {
            to_server: dst == port,
            flags: tcp.flags() as u8,
            seq: tcp.seq(),
            ack: tcp.ack(),
            payload: tcp_bytes
                .get(tcp.header_len()..)
                .unwrap_or_default()
                .to_vec(),
        })
    }

    /// Both FINs seen and the later one acknowledged.
    pub fn finished(segments: &[Segment]) -> bool {
        let fin_at = |to_server: bool| {
            segments
                .iter()
                .position(|s| s.to_server == to_server && s.flags & FIN != 0)
        };
        match (fin_at(true), fin_at(false)) {
            (Some(a), Some(b)) => {
                let last = a.max(b);
                segments[last + 1..]
                    .iter()
                    .any(|s| s.to_server != segments[last].to_server && s.flags & ACK != 0)
            }
            _ => false,
        }
    }

    /// Asserts the handshake, both payloads (exactly once: no duplicate copies) and both FINs.
    pub fn check_exchange(segments: &[Segment]) {
        let syns: Vec<&Segment> = segments
            .iter()
            .filter(|s| s.flags & (SYN | ACK) == SYN)
            .collect();
        assert_eq!(syns.len(), 1, "one SYN (duplicates?): {segments:#?}");
        let syn = syns[0];
        assert!(syn.to_server);
        let syn_acks: Vec<&Segment> = segments
            .iter()
            .filter(|s| s.flags & (SYN | ACK) == SYN | ACK)
            .collect();
        assert_eq!(syn_acks.len(), 1, "one SYN-ACK: {segments:#?}");
        let syn_ack = syn_acks[0];
        assert!(!syn_ack.to_server);
        assert_eq!(syn_ack.ack, syn.seq.wrapping_add(1));
        assert!(
            segments.iter().any(|s| s.to_server
                && s.flags & (SYN | ACK) == ACK
                && s.seq == syn.seq.wrapping_add(1)
                && s.ack == syn_ack.seq.wrapping_add(1)),
            "the handshake's final ACK: {segments:#?}"
        );
        let sent: Vec<u8> = segments
            .iter()
            .filter(|s| s.to_server)
            .flat_map(|s| s.payload.iter().copied())
            .collect();
        assert_eq!(sent, super::e2e::REQUEST, "request bytes, once");
        let answered: Vec<u8> = segments
            .iter()
            .filter(|s| !s.to_server)
            .flat_map(|s| s.payload.iter().copied())
            .collect();
        assert_eq!(answered, RESPONSE, "response bytes, once");
        let request_seg = segments
            .iter()
            .find(|s| !s.payload.is_empty() && s.to_server)
            .expect("request segment");
        assert_eq!(request_seg.seq, syn.seq.wrapping_add(1));
        assert!(segments.iter().any(|s| s.to_server && s.flags & FIN != 0));
        assert!(segments.iter().any(|s| !s.to_server && s.flags & FIN != 0));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::e2e::*;
    use super::*;
    use crate::capture::FrameSource;

    #[test]
    fn not_permitted_message_names_interface_and_executable() {
        let err = LiveError::not_permitted("eth0");
        let exe = std::env::current_exe().unwrap().display().to_string();
        assert_eq!(
            err.to_string(),
            format!(
                "capturing on eth0 needs CAP_NET_RAW: run as root, or grant it once with \
                 sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
            )
        );
        let wrapped = CaptureError::from(err);
        assert!(matches!(
            live_error(&wrapped),
            Some(LiveError::NotPermitted { interface, .. }) if interface == "eth0"
        ));
        assert!(wrapped
            .to_string()
            .starts_with("capturing on eth0 needs CAP_NET_RAW"));
    }

    #[test]
    fn unknown_interface_lists_the_real_ones() {
        let err = LiveSource::open("nosuchif0", &LiveOptions::default()).unwrap_err();
        match &err {
            LiveError::UnknownInterface { name, available } => {
                assert_eq!(name, "nosuchif0");
                assert!(available.iter().any(|n| n == "lo"), "{available:?}");
            }
            other => panic!("expected UnknownInterface, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with("no interface named \"nosuchif0\"; the interfaces here are: lo"),
            "{text}"
        );
    }

    #[test]
    fn filter_needs_libpcap() {
        let options = LiveOptions {
            filter: Some("tcp port 80".into()),
            ..LiveOptions::default()
        };
        assert!(matches!(
            LiveSource::open("lo", &options),
            Err(LiveError::FilterNeedsLibpcap)
        ));
    }

    #[test]
    fn stop_rule_count_flag_and_duration() {
        let mut rule = StopRule::new(&LiveOptions {
            count: Some(2),
            ..LiveOptions::default()
        });
        assert!(!rule.should_stop(1));
        assert!(rule.should_stop(2));
        assert_eq!(rule.reason(), Some(StopReason::Count));

        let flag = Arc::new(AtomicBool::new(false));
        let mut rule = StopRule::new(&LiveOptions::default());
        rule.set_flag(flag.clone());
        assert!(!rule.should_stop(1_000_000));
        flag.store(true, Ordering::Relaxed);
        assert!(rule.should_stop(0));
        assert_eq!(rule.reason(), Some(StopReason::Requested));

        let mut rule = StopRule::new(&LiveOptions {
            duration: Some(Duration::ZERO),
            ..LiveOptions::default()
        });
        assert!(rule.should_stop(0));
        assert_eq!(rule.reason(), Some(StopReason::Duration));
        // An absurd duration is no limit rather than an overflow.
        let mut rule = StopRule::new(&LiveOptions {
            duration: Some(Duration::MAX),
            ..LiveOptions::default()
        });
        assert!(!rule.should_stop(0));
    }

    /// Frames captured by a source, copied out (test only).
    pub(crate) struct Captured {
        pub numbers: Vec<u64>,
        pub frames: Vec<(u32, Vec<u8>, Timestamp, LinkType)>,
    }

    /// Reads `source` while the exchange on `port` runs, until it finished or 5 s passed.
    pub(crate) fn collect(source: &mut dyn FrameSource, port: u16) -> (Captured, Vec<Segment>) {
        let mut captured = Captured {
            numbers: Vec::new(),
            frames: Vec::new(),
        };
        let mut segments = Vec::new();
        while let Some(frame) = source.next_frame().expect("live read") {
            captured.numbers.push(frame.number);
            if let Some(seg) = segment(frame.data, port) {
                captured
                    .frames
                    .push((frame.orig_len, frame.data.to_vec(), frame.ts, frame.link));
                segments.push(seg);
                if finished(&segments) {
                    break;
                }
            }
        }
        (captured, segments)
    }

    #[test]
    fn live_http_exchange_on_loopback() {
        if !can_run_live() {
            return;
        }
        let options = LiveOptions {
            read_timeout: Duration::from_millis(50),
            duration: Some(Duration::from_secs(5)),
            ..LiveOptions::default()
        };
        let mut full = LiveSource::open("lo", &options).expect("open lo");
        let mut cut = LiveSource::open(
            "lo",
            &LiveOptions {
                snaplen: 60,
                ..options.clone()
            },
        )
        .expect("open lo with snaplen 60");
        let started = now_timestamp();
        let listener = listen();
        let port = listener.local_addr().unwrap().port();
        let client = exchange(listener);
        let response = client.join().expect("client thread");
        assert_eq!(response, RESPONSE);

        let (captured, segments) = collect(&mut full, port);
        assert!(
            finished(&segments),
            "FIN exchange within 5 s: {segments:#?}"
        );
        check_exchange(&segments);
        assert_eq!(full.stop_reason(), None);
        // Numbers count every frame on lo from 1, without gaps.
        let expected: Vec<u64> = (1..=captured.numbers.len() as u64).collect();
        assert_eq!(captured.numbers, expected);
        let ended = now_timestamp();
        let mut last = started;
        for (orig_len, data, ts, link) in &captured.frames {
            assert_eq!(*link, LinkType::ETHERNET);
            assert_eq!(*orig_len as usize, data.len());
            assert_eq!(&data[..12], &[0u8; 12], "lo has zeroed MAC addresses");
            assert_eq!(ts.precision, 6);
            assert_eq!(ts.nanos % 1000, 0);
            assert!(
                *ts >= last && *ts <= ended,
                "timestamps in order, in the test window"
            );
            last = *ts;
        }
        assert_eq!(full.stats().received, captured.numbers.len() as u64);
        assert_eq!(full.stats().dropped_kernel, None);

        // The same frames through a 60-byte snapshot: data cut, orig_len kept.
        let mut long_frames = 0;
        let mut seen_cut = Vec::new();
        while let Some(frame) = cut.next_frame().expect("live read") {
            if segment(frame.data, port).is_some() || frame.data.len() == 60 {
                assert_eq!(frame.data.len(), (frame.orig_len as usize).min(60));
            }
            if let Some(seg) = segment(frame.data, port) {
                if frame.orig_len > 60 {
                    long_frames += 1;
                }
                seen_cut.push(seg);
                if seen_cut.len() == segments.len() {
                    break;
                }
            }
        }
        assert_eq!(
            seen_cut.len(),
            segments.len(),
            "same frames with snaplen 60"
        );
        // SYN with options (74 bytes on Linux), and the request and response frames.
        assert!(
            long_frames >= 3,
            "{long_frames} frames longer than 60 bytes"
        );
    }

    #[test]
    fn live_stops_on_flag_and_duration_without_traffic() {
        if !can_run_live() {
            return;
        }
        let options = LiveOptions {
            read_timeout: Duration::from_millis(50),
            ..LiveOptions::default()
        };
        let mut source = LiveSource::open("lo", &options).expect("open lo");
        let flag = Arc::new(AtomicBool::new(true));
        source.set_stop(flag);
        assert!(source.next_frame().expect("read").is_none());
        assert_eq!(source.stop_reason(), Some(StopReason::Requested));

        let options = LiveOptions {
            duration: Some(Duration::from_millis(300)),
            ..options
        };
        let mut source = LiveSource::open("lo", &options).expect("open lo");
        let start = Instant::now();
        // Other processes may talk on lo: read until the capture ends.
        while source.next_frame().expect("read").is_some() {
            assert!(start.elapsed() < Duration::from_secs(5));
        }
        let took = start.elapsed();
        assert_eq!(source.stop_reason(), Some(StopReason::Duration));
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
            "{took:?}"
        );
    }

    /// Only inside a private network namespace (`unshare -n`, with LAYERSCOPE_NETNS_TEST=1):
    /// takes that namespace's `lo` down mid-capture. Never touches the host's interfaces.
    #[test]
    #[ignore = "needs a private network namespace: see the doc comment"]
    fn interface_going_down_ends_the_capture() {
        if std::env::var("LAYERSCOPE_NETNS_TEST").as_deref() != Ok("1") {
            skipped!("set LAYERSCOPE_NETNS_TEST=1 and run inside unshare -n");
            return;
        }
        let run = |args: &[&str]| {
            let status = std::process::Command::new("ip")
                .args(args)
                .status()
                .expect("ip");
            assert!(status.success(), "ip {args:?}");
        };
        run(&["link", "set", "lo", "up"]);
        let mut source = LiveSource::open(
            "lo",
            &LiveOptions {
                read_timeout: Duration::from_millis(50),
                duration: Some(Duration::from_secs(5)),
                ..LiveOptions::default()
            },
        )
        .expect("open lo");
        let downer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            run(&["link", "set", "lo", "down"]);
        });
        let err = loop {
            match source.next_live() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("ended without an error: {:?}", source.stop_reason()),
                Err(e) => break e,
            }
        };
        downer.join().unwrap();
        assert!(
            matches!(err, LiveError::InterfaceWentDown { ref interface } if interface == "lo"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "interface lo went down during the capture");
        assert!(source.next_live().unwrap().is_none());
        assert_eq!(source.stop_reason(), Some(StopReason::Error));
    }
}
