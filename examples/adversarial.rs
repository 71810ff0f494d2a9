//! Writes adversarial captures (classic pcap, Ethernet) that attack layerscope's memory
//! caps, deterministically (fixed seed: the same bytes on every run).
//!
//! ```text
//! cargo run --example adversarial -- OUT_DIR            # small sizes (seconds)
//! cargo run --example adversarial -- OUT_DIR --full     # the issue's sizes (~600 MB)
//! ```
//!
//! Files written (see `tests/adversarial/README.md` for what each one attacks):
//! `syn-flood.pcap`, `ooo-gaps.pcap`, `frag-flood.pcap`, `endless-head.pcap`,
//! `chunked-2e63.pcap`.
//!
//! The integration test `hostile::adversarial_captures_stay_under_caps` includes this file
//! as a module and calls [`write_all`].

use etherparse::{IpFragOffset, IpNumber, Ipv4Header, PacketBuilder};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How big each adversarial capture is.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// SYNs, each from its own (address, port) pair.
    pub syn_flood: u32,
    /// Connections, each holding one out-of-order segment after a gap.
    pub ooo_conns: u32,
    /// First fragments of IPv4 datagrams whose other fragments never come.
    pub fragments: u32,
    /// Bytes of the HTTP request head that never ends.
    pub endless_head_bytes: u64,
    /// Body bytes sent after each chunk-size line of 2^63 and beyond.
    pub chunked_body_bytes: u64,
}

impl Sizes {
    /// The sizes the issue asks for.
    pub const FULL: Sizes = Sizes {
        syn_flood: 2_000_000,
        ooo_conns: 100_000,
        fragments: 100_000,
        endless_head_bytes: 64 << 20,
        chunked_body_bytes: 64 << 20,
    };
    /// Small versions for the default test run.
    pub const SMALL: Sizes = Sizes {
        syn_flood: 50_000,
        ooo_conns: 2_000,
        fragments: 5_000,
        endless_head_bytes: 2 << 20,
        chunked_body_bytes: 2 << 20,
    };
}

/// Fixed-seed xorshift64*: ISNs and IP ids.
struct Rng(u64);

impl Rng {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }
}

const SEED: u64 = 0x6c61_7965_7273_636f; // "layersco"
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 2];
const SERVER_IP: [u8; 4] = [192, 0, 2, 80];
/// Segment payload size of the generated streams.
const MSS: usize = 1400;

/// A pcap file being written, one record at a time (constant memory).
struct PcapWriter {
    out: BufWriter<File>,
    /// Capture clock in microseconds.
    now_us: u64,
    scratch: Vec<u8>,
}

impl PcapWriter {
    fn create(path: &Path) -> io::Result<PcapWriter> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        // Little-endian, microseconds, version 2.4, snaplen 262144, Ethernet.
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        Ok(PcapWriter {
            out,
            now_us: 1_700_000_000_000_000,
            scratch: Vec::with_capacity(2048),
        })
    }

    /// Writes the frame in `self.scratch`, `step_us` after the previous one.
    fn record(&mut self, step_us: u64) -> io::Result<()> {
        self.now_us += step_us;
        let len = self.scratch.len() as u32;
        self.out
            .write_all(&((self.now_us / 1_000_000) as u32).to_le_bytes())?;
        self.out
            .write_all(&((self.now_us % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&self.scratch)
    }

    /// One TCP segment; `to_server` picks the direction of the client/server pair.
    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        client: ([u8; 4], u16),
        to_server: bool,
        seq: u32,
        ack: Option<u32>,
        flags: &str,
        payload: &[u8],
        step_us: u64,
    ) -> io::Result<()> {
        let server = (SERVER_IP, 80u16);
        let (src, dst, smac, dmac) = if to_server {
            (client, server, CLIENT_MAC, SERVER_MAC)
        } else {
            (server, client, SERVER_MAC, CLIENT_MAC)
        };
        let mut b = PacketBuilder::ethernet2(smac, dmac)
            .ipv4(src.0, dst.0, 64)
            .tcp(src.1, dst.1, seq, 65535);
        if flags.contains('S') {
            b = b.syn();
        }
        if flags.contains('F') {
            b = b.fin();
        }
        if flags.contains('P') {
            b = b.psh();
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        self.scratch.clear();
        b.write(&mut self.scratch, payload)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.record(step_us)
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The i-th client address and port: 60,000 ports per address, addresses from 10.0.0.1.
fn client(i: u32) -> ([u8; 4], u16) {
    let host = 1 + i / 60_000;
    let port = 1024 + (i % 60_000) as u16;
    (
        [10, (host >> 16) as u8, (host >> 8) as u8, host as u8],
        port,
    )
}

/// A SYN flood: `n` SYNs to one server port, each from its own source address and port,
/// 1 µs apart (no idle timeout ever ends them: only `--max-flows` bounds the table).
fn syn_flood(path: &Path, n: u32, rng: &mut Rng) -> io::Result<()> {
    let mut w = PcapWriter::create(path)?;
    for i in 0..n {
        w.tcp(client(i), true, rng.next_u32(), None, "S", &[], 1)?;
    }
    w.finish()
}

/// `n` connections, each a completed handshake then one full segment sent 64 KiB past the
/// next expected byte (the gap is never filled, the connection never closes): every one
/// holds out-of-order bytes in the reassembler until the end.
fn ooo_gaps(path: &Path, n: u32, rng: &mut Rng) -> io::Result<()> {
    let mut w = PcapWriter::create(path)?;
    let payload = vec![b'o'; MSS];
    for i in 0..n {
        let c = client(i);
        let isn_c = rng.next_u32();
        let isn_s = rng.next_u32();
        w.tcp(c, true, isn_c, None, "S", &[], 5)?;
        w.tcp(c, false, isn_s, Some(isn_c.wrapping_add(1)), "S", &[], 5)?;
        w.tcp(
            c,
            true,
            isn_c.wrapping_add(1),
            Some(isn_s.wrapping_add(1)),
            "",
            &[],
            5,
        )?;
        let far = isn_c.wrapping_add(1).wrapping_add(65_536);
        w.tcp(c, true, far, Some(isn_s.wrapping_add(1)), "P", &payload, 5)?;
    }
    w.finish()
}

/// `n` first fragments (offset 0, more-fragments set, 1400 bytes of UDP) of distinct
/// datagrams whose remaining fragments never arrive, 100 µs apart.
fn frag_flood(path: &Path, n: u32, rng: &mut Rng) -> io::Result<()> {
    let mut w = PcapWriter::create(path)?;
    let mut payload = vec![b'f'; MSS];
    // A UDP header at the start of the first fragment: 10.0.0.1:5000 → 192.0.2.80:9999,
    // length 4000 (the datagram is longer than this fragment).
    payload[..8].copy_from_slice(&[0x13, 0x88, 0x27, 0x0f, 0x0f, 0xa0, 0, 0]);
    for i in 0..n {
        // Each datagram from its own source address: no two share an IP id.
        let src = [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let mut ip = Ipv4Header::new(MSS as u16, 64, IpNumber::UDP, src, SERVER_IP)
            .map_err(|e| io::Error::other(e.to_string()))?;
        ip.identification = rng.next_u32() as u16;
        ip.more_fragments = true;
        ip.fragment_offset = IpFragOffset::ZERO;
        w.scratch.clear();
        w.scratch.extend_from_slice(&SERVER_MAC);
        w.scratch.extend_from_slice(&CLIENT_MAC);
        w.scratch.extend_from_slice(&[0x08, 0x00]);
        ip.write(&mut w.scratch)?;
        w.scratch.extend_from_slice(&payload);
        w.record(100)?;
    }
    w.finish()
}

/// A handshake, then `bytes` of HTTP request head that never reaches its blank line.
fn endless_head(path: &Path, bytes: u64, rng: &mut Rng) -> io::Result<()> {
    let mut w = PcapWriter::create(path)?;
    let c = ([10, 9, 9, 9], 40_000);
    let isn_c = rng.next_u32();
    let isn_s = rng.next_u32();
    w.tcp(c, true, isn_c, None, "S", &[], 10)?;
    w.tcp(c, false, isn_s, Some(isn_c.wrapping_add(1)), "S", &[], 10)?;
    let mut seq = isn_c.wrapping_add(1);
    let ack = Some(isn_s.wrapping_add(1));
    w.tcp(c, true, seq, ack, "", &[], 10)?;
    let mut head = b"GET /endless HTTP/1.1\r\nHost: example.test\r\n".to_vec();
    let mut line = 0u64;
    let mut sent = 0u64;
    while sent < bytes {
        while head.len() < MSS {
            head.extend_from_slice(format!("X-Filler-{line}: {}\r\n", "a".repeat(40)).as_bytes());
            line += 1;
        }
        let seg: Vec<u8> = head.drain(..MSS).collect();
        w.tcp(c, true, seq, ack, "P", &seg, 10)?;
        seq = seq.wrapping_add(MSS as u32);
        sent += MSS as u64;
    }
    w.finish()
}

/// Three connections whose responses declare chunks of 2^63, 2^64 - 1 and 2^64 (overflow)
/// bytes, each followed by `bytes` of body and a FIN.
fn chunked_2e63(path: &Path, bytes: u64, rng: &mut Rng) -> io::Result<()> {
    let mut w = PcapWriter::create(path)?;
    let sizes = ["8000000000000000", "ffffffffffffffff", "10000000000000000"];
    for (i, size) in sizes.iter().enumerate() {
        let c = ([10, 8, 8, 8], 41_000 + i as u16);
        let isn_c = rng.next_u32();
        let isn_s = rng.next_u32();
        w.tcp(c, true, isn_c, None, "S", &[], 10)?;
        w.tcp(c, false, isn_s, Some(isn_c.wrapping_add(1)), "S", &[], 10)?;
        let mut cseq = isn_c.wrapping_add(1);
        let mut sseq = isn_s.wrapping_add(1);
        w.tcp(c, true, cseq, Some(sseq), "", &[], 10)?;
        let req = b"GET /huge HTTP/1.1\r\nHost: example.test\r\n\r\n";
        w.tcp(c, true, cseq, Some(sseq), "P", req, 10)?;
        cseq = cseq.wrapping_add(req.len() as u32);
        let head = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n{size}\r\n"
        );
        w.tcp(c, false, sseq, Some(cseq), "P", head.as_bytes(), 10)?;
        sseq = sseq.wrapping_add(head.len() as u32);
        let body = vec![b'b'; MSS];
        let mut sent = 0u64;
        while sent < bytes {
            w.tcp(c, false, sseq, Some(cseq), "P", &body, 10)?;
            sseq = sseq.wrapping_add(MSS as u32);
            sent += MSS as u64;
        }
        w.tcp(c, false, sseq, Some(cseq), "F", &[], 10)?;
        w.tcp(c, true, cseq, Some(sseq.wrapping_add(1)), "F", &[], 10)?;
    }
    w.finish()
}

/// The captures' file names, in the order [`write_all`] returns them.
pub const NAMES: [&str; 5] = [
    "syn-flood.pcap",
    "ooo-gaps.pcap",
    "frag-flood.pcap",
    "endless-head.pcap",
    "chunked-2e63.pcap",
];

/// Writes every adversarial capture into `dir` (created if needed); returns their paths.
pub fn write_all(dir: &Path, sizes: Sizes) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(SEED);
    let paths: Vec<PathBuf> = NAMES.iter().map(|n| dir.join(n)).collect();
    syn_flood(&paths[0], sizes.syn_flood, &mut rng)?;
    ooo_gaps(&paths[1], sizes.ooo_conns, &mut rng)?;
    frag_flood(&paths[2], sizes.fragments, &mut rng)?;
    endless_head(&paths[3], sizes.endless_head_bytes, &mut rng)?;
    chunked_2e63(&paths[4], sizes.chunked_body_bytes, &mut rng)?;
    Ok(paths)
}

#[allow(dead_code)]
fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: adversarial OUT_DIR [--full]");
        std::process::exit(1);
    };
    let full = args.any(|a| a == "--full");
    let sizes = if full { Sizes::FULL } else { Sizes::SMALL };
    match write_all(Path::new(&dir), sizes) {
        Ok(paths) => {
            for p in paths {
                let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                println!("{}\t{len} bytes", p.display());
            }
        }
        Err(e) => {
            eprintln!("adversarial: {e}");
            std::process::exit(1);
        }
    }
}
