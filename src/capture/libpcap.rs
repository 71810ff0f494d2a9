//! The libpcap backend (feature `libpcap`): live capture with kernel BPF filters, kernel
//! timestamps at nanosecond precision and drop counters, and file reading through libpcap
//! (`read --backend libpcap`).
//!
//! libpcap drops the outgoing copy of each loopback packet itself, so `lo` shows every
//! packet once, as with the built-in backend.

use super::live::{StopReason, StopRule};
use super::{CaptureError, FrameSource, LinkType, LiveError, LiveOptions, LiveStats};
use super::{RawFrame, Timestamp};
use pcap::{Active, Capture, Offline, Precision};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

enum Handle {
    Live(Capture<Active>),
    File(Capture<Offline>),
}

/// A capture read through libpcap: a live interface or a capture file.
///
/// Frames are numbered from 1 and copied, as libpcap cut them (`snaplen`), into a reused
/// buffer. `link` is libpcap's data link type (DLT values equal LINKTYPE values for the
/// common types; raw IP shows as DLT_RAW 12). pcapng interface ids are not exposed by libpcap:
/// `interface` is 0.
pub struct PcapSource {
    what: String,
    handle: Handle,
    link: LinkType,
    precision: u8,
    /// How long a live read waits for the descriptor before the stop conditions are checked.
    poll_timeout: nix::poll::PollTimeout,
    buf: Vec<u8>,
    number: u64,
    stop: StopRule,
}

impl std::fmt::Debug for PcapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapSource")
            .field("what", &self.what)
            .field("link", &self.link)
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

fn libpcap_error(what: &str, err: pcap::Error) -> LiveError {
    LiveError::Libpcap {
        what: what.to_string(),
        message: err.to_string(),
    }
}

/// Names of the devices libpcap can open (for "unknown interface").
fn device_names() -> Vec<String> {
    pcap::Device::list()
        .map(|list| list.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

fn apply_filter<T: pcap::Activated + ?Sized>(
    cap: &mut Capture<T>,
    filter: Option<&str>,
) -> Result<(), LiveError> {
    if let Some(expr) = filter {
        cap.filter(expr, true).map_err(|e| LiveError::Filter {
            expr: expr.to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

impl PcapSource {
    /// Opens a live capture on `interface` with libpcap, and compiles `options.filter` (if
    /// any) to a kernel BPF program. Needs CAP_NET_RAW.
    pub fn open_live(interface: &str, options: &LiveOptions) -> Result<PcapSource, LiveError> {
        let devices = device_names();
        if !devices.iter().any(|d| d == interface) {
            return Err(LiveError::UnknownInterface {
                name: interface.to_string(),
                available: devices
                    .into_iter()
                    .filter(|d| {
                        !matches!(
                            d.as_str(),
                            "any"
                                | "bluetooth-monitor"
                                | "nflog"
                                | "nfqueue"
                                | "dbus-system"
                                | "dbus-session"
                        )
                    })
                    .collect(),
            });
        }
        let timeout_ms = i32::try_from(options.read_timeout.as_millis())
            .unwrap_or(i32::MAX)
            .max(1);
        let mut inactive = Capture::from_device(interface)
            .map_err(|e| libpcap_error(interface, e))?
            .snaplen(i32::try_from(options.snaplen.max(1)).unwrap_or(i32::MAX))
            .promisc(options.promisc)
            .timeout(timeout_ms)
            .immediate_mode(true)
            .precision(Precision::Nano);
        if let Some(size) = options.buffer_size {
            inactive = inactive.buffer_size(i32::try_from(size).unwrap_or(i32::MAX));
        }
        let cap = inactive.open().map_err(|e| {
            let message = e.to_string();
            let lower = message.to_ascii_lowercase();
            if lower.contains("permission") || lower.contains("not permitted") {
                LiveError::not_permitted(interface)
            } else if lower.contains("not up") {
                LiveError::InterfaceNotUp {
                    interface: interface.to_string(),
                }
            } else {
                LiveError::Libpcap {
                    what: interface.to_string(),
                    message,
                }
            }
        })?;
        // libpcap's read timeout does not make a read return when no packet comes (TPACKET_V3
        // waits for a packet), so reads are non-blocking and we poll the descriptor ourselves.
        let mut cap = cap.setnonblock().map_err(|e| libpcap_error(interface, e))?;
        apply_filter(&mut cap, options.filter.as_deref())?;
        let link = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        Ok(PcapSource {
            what: interface.to_string(),
            handle: Handle::Live(cap),
            link,
            precision: 9,
            poll_timeout: nix::poll::PollTimeout::try_from(timeout_ms)
                .unwrap_or(nix::poll::PollTimeout::MAX),
            buf: Vec::new(),
            number: 0,
            stop: StopRule::new(options),
        })
    }

    /// Opens a pcap or pcapng file with libpcap, with an optional tcpdump-syntax filter.
    /// Timestamps keep the file's precision for pcap (6 or 9); pcapng is read at 9.
    pub fn open_file(path: &Path, filter: Option<&str>) -> Result<PcapSource, CaptureError> {
        let what = path.display().to_string();
        let mut magic = [0u8; 4];
        {
            use std::io::Read;
            let mut file = std::fs::File::open(path)?;
            // A file shorter than 4 bytes is left for libpcap to reject.
            let _ = file.read_exact(&mut magic);
        }
        let (precision, digits) = match magic {
            // pcap with microsecond timestamps, either byte order.
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1] => (Precision::Micro, 6),
            _ => (Precision::Nano, 9),
        };
        let mut cap = Capture::from_file_with_precision(path, precision)
            .map_err(|e| CaptureError::from(libpcap_error(&what, e)))?;
        apply_filter(&mut cap, filter)?;
        let link = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        Ok(PcapSource {
            what,
            handle: Handle::File(cap),
            link,
            precision: digits,
            poll_timeout: nix::poll::PollTimeout::ZERO,
            buf: Vec::new(),
            number: 0,
            stop: StopRule::new(&LiveOptions::default()),
        })
    }

    /// Stop (next call returns `Ok(None)`, within the read timeout) once `flag` is set.
    pub fn set_stop(&mut self, flag: Arc<AtomicBool>) {
        self.stop.set_flag(flag);
    }

    /// Why the capture ended, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop.reason()
    }

    /// The link type of every frame.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// libpcap's counters (live captures); for files, only the frames delivered.
    pub fn stats(&mut self) -> LiveStats {
        match &mut self.handle {
            Handle::Live(cap) => match cap.stats() {
                Ok(s) => LiveStats {
                    received: u64::from(s.received),
                    dropped_kernel: Some(u64::from(s.dropped)),
                    dropped_interface: Some(u64::from(s.if_dropped)),
                },
                Err(_) => LiveStats {
                    received: self.number,
                    dropped_kernel: None,
                    dropped_interface: None,
                },
            },
            Handle::File(_) => LiveStats {
                received: self.number,
                dropped_kernel: None,
                dropped_interface: None,
            },
        }
    }

    /// The next frame, `Ok(None)` at the end of a file or once a stop condition holds. An
    /// error ends the capture: it is returned once, then `Ok(None)`.
    pub fn next_live(&mut self) -> Result<Option<RawFrame<'_>>, LiveError> {
        let (ts, orig_len) = loop {
            if self.stop.should_stop(self.number) {
                return Ok(None);
            }
            let next = match &mut self.handle {
                Handle::Live(cap) => cap.next_packet(),
                Handle::File(cap) => cap.next_packet(),
            };
            match next {
                Ok(packet) => {
                    let header = *packet.header;
                    self.buf.clear();
                    self.buf.extend_from_slice(packet.data);
                    // With nanosecond precision libpcap puts nanoseconds in tv_usec.
                    let frac = u32::try_from(header.ts.tv_usec).unwrap_or(0);
                    let nanos = if self.precision == 9 {
                        frac
                    } else {
                        frac.saturating_mul(1000)
                    };
                    let ts = Timestamp {
                        secs: header.ts.tv_sec,
                        nanos: nanos.min(999_999_999),
                        precision: self.precision,
                    };
                    break (ts, header.len);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    if let Handle::Live(cap) = &self.handle {
                        use std::os::fd::AsFd;
                        let mut fds = [nix::poll::PollFd::new(
                            cap.as_fd(),
                            nix::poll::PollFlags::POLLIN,
                        )];
                        match nix::poll::poll(&mut fds, self.poll_timeout) {
                            Ok(ready) => {
                                let trouble = nix::poll::PollFlags::POLLERR
                                    | nix::poll::PollFlags::POLLHUP
                                    | nix::poll::PollFlags::POLLNVAL;
                                let revents = fds[0].revents().unwrap_or(trouble);
                                // libpcap keeps waiting on an interface that is merely down
                                // (it ends only when it is removed): look for ourselves when
                                // idle or when the socket reports an error.
                                if (ready == 0 || revents.intersects(trouble))
                                    && self.interface_gone()
                                {
                                    self.stop.finish(StopReason::Error);
                                    return Err(LiveError::InterfaceWentDown {
                                        interface: self.what.clone(),
                                    });
                                }
                            }
                            Err(nix::errno::Errno::EINTR) => {}
                            Err(errno) => {
                                self.stop.finish(StopReason::Error);
                                return Err(LiveError::Read {
                                    interface: self.what.clone(),
                                    source: errno.into(),
                                });
                            }
                        }
                    }
                }
                Err(pcap::Error::NoMorePackets) => {
                    self.stop.finish(StopReason::EndOfFile);
                    return Ok(None);
                }
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
            orig_len,
            data: &self.buf,
        }))
    }

    /// Whether the live interface is down or removed (Linux: sysfs; elsewhere unknown: no).
    fn interface_gone(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            !super::interfaces::is_up(&self.what)
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// libpcap reports a vanished or downed interface as "The interface went down" (ENETDOWN).
    fn read_error(&self, err: pcap::Error) -> LiveError {
        let message = err.to_string();
        if matches!(self.handle, Handle::Live(_))
            && message.to_ascii_lowercase().contains("went down")
        {
            LiveError::InterfaceWentDown {
                interface: self.what.clone(),
            }
        } else {
            LiveError::Libpcap {
                what: self.what.clone(),
                message,
            }
        }
    }
}

impl FrameSource for PcapSource {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        self.next_live().map_err(CaptureError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::live::e2e::*;
    use crate::capture::FileSource;
    use std::time::Duration;

    #[test]
    fn unknown_device_lists_lo() {
        let err = PcapSource::open_live("nosuchif0", &LiveOptions::default()).unwrap_err();
        match &err {
            LiveError::UnknownInterface { available, .. } => {
                assert!(available.iter().any(|n| n == "lo"), "{available:?}");
                assert!(!available.iter().any(|n| n == "any"), "{available:?}");
            }
            other => panic!("expected UnknownInterface, got {other:?}"),
        }
    }

    /// The same frames as the built-in reader, through libpcap, with and without a filter.
    #[test]
    fn file_reading_matches_the_builtin_reader() {
        let path =
            std::env::temp_dir().join(format!("layerscope-libpcap-{}.pcap", std::process::id()));
        // pcap, microseconds: two Ethernet/IPv4/UDP frames, ports 53 and 123.
        let mut bytes = vec![
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ];
        for (i, port) in [53u16, 123].iter().enumerate() {
            let mut frame = vec![0u8; 12];
            frame.extend_from_slice(&[0x08, 0x00]);
            frame.extend_from_slice(&[
                0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
            ]);
            frame.extend_from_slice(&[0x30, 0x39]);
            frame.extend_from_slice(&port.to_be_bytes());
            frame.extend_from_slice(&[0, 8, 0, 0]);
            let len = frame.len() as u32;
            bytes.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
            bytes.extend_from_slice(&123_456u32.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&frame);
        }
        std::fs::write(&path, &bytes).unwrap();

        let mut ours = FileSource::open(&path).unwrap();
        let mut theirs = PcapSource::open_file(&path, None).unwrap();
        assert_eq!(theirs.link_type(), LinkType::ETHERNET);
        for _ in 0..2 {
            let a = ours.next_frame().unwrap().unwrap();
            let (number, ts, link, orig_len, data) =
                (a.number, a.ts, a.link, a.orig_len, a.data.to_vec());
            let b = theirs.next_frame().unwrap().unwrap();
            assert_eq!(
                (b.number, b.ts, b.link, b.orig_len, b.data),
                (number, ts, link, orig_len, &data[..])
            );
            assert_eq!(b.ts.nanos, 123_456_000);
            assert_eq!(b.ts.precision, 6);
        }
        assert!(theirs.next_frame().unwrap().is_none());
        assert_eq!(theirs.stop_reason(), Some(StopReason::EndOfFile));

        let mut filtered = PcapSource::open_file(&path, Some("udp dst port 123")).unwrap();
        let only = filtered.next_frame().unwrap().unwrap();
        assert_eq!(only.number, 1, "numbers count delivered frames");
        assert_eq!(only.ts.secs, 1_700_000_001);
        assert!(filtered.next_frame().unwrap().is_none());

        let bad = PcapSource::open_file(&path, Some("udp port banana")).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("capture filter \"udp port banana\" is not valid: "),
            "{bad}"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn libpcap_live_http_exchange_on_loopback() {
        if !can_run_live() {
            return;
        }
        // The filter names the port, so the listener is bound before the capture opens
        // and the client starts after it.
        let listener = listen();
        let port = listener.local_addr().unwrap().port();
        let options = LiveOptions {
            read_timeout: Duration::from_millis(50),
            duration: Some(Duration::from_secs(5)),
            filter: Some(format!("tcp port {port}")),
            ..LiveOptions::default()
        };
        let mut source = PcapSource::open_live("lo", &options).expect("open lo with libpcap");
        assert_eq!(source.link_type(), LinkType::ETHERNET);
        let client = exchange(listener);
        let response = client.join().expect("client thread");
        assert_eq!(response, RESPONSE);

        let mut segments = Vec::new();
        let mut numbers = Vec::new();
        while let Some(frame) = source.next_frame().expect("live read") {
            numbers.push(frame.number);
            assert_eq!(frame.ts.precision, 9);
            assert_eq!(frame.orig_len as usize, frame.data.len());
            // The kernel filter lets only this connection through.
            let seg = segment(frame.data, port).expect("only tcp port PORT passes the filter");
            segments.push(seg);
            if finished(&segments) {
                break;
            }
        }
        assert!(
            finished(&segments),
            "FIN exchange within 5 s: {segments:#?}"
        );
        check_exchange(&segments);
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(numbers, expected);
        let stats = source.stats();
        assert!(stats.received >= numbers.len() as u64, "{stats:?}");
        assert_eq!(stats.dropped_kernel, Some(0));
        assert!(stats.dropped_interface.is_some());
    }
}

#[cfg(test)]
mod netns_tests {
    use super::*;
    use std::time::Duration;

    /// Only inside a private network namespace (`unshare -n`, with LAYERSCOPE_NETNS_TEST=1):
    /// takes that namespace's `lo` down mid-capture. Never touches the host's interfaces.
    #[test]
    #[ignore = "needs a private network namespace: see the doc comment"]
    fn libpcap_interface_going_down_ends_the_capture() {
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
        let mut source = PcapSource::open_live(
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
        assert!(source.next_live().unwrap().is_none());
        assert_eq!(source.stop_reason(), Some(StopReason::Error));
    }
}

#[cfg(test)]
mod idle_tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn libpcap_stops_on_duration_without_traffic() {
        if !crate::capture::live::e2e::can_run_live() {
            return;
        }
        // A filter nothing on lo matches: the reads only time out.
        let options = LiveOptions {
            read_timeout: Duration::from_millis(50),
            duration: Some(Duration::from_millis(300)),
            filter: Some("udp port 9 and udp port 10".into()),
            ..LiveOptions::default()
        };
        let mut source = PcapSource::open_live("lo", &options).expect("open lo");
        let start = Instant::now();
        assert!(source.next_frame().expect("read").is_none());
        let took = start.elapsed();
        assert_eq!(source.stop_reason(), Some(StopReason::Duration));
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
            "{took:?}"
        );
    }
}
