//! The public corpus in `../shared/captures` and our own `captures/`, checked frame by frame against tshark's view
//! (`oracle/NAME.frames.tsv`, made by tshark 4.0.17), and `../shared/captures-encap` (tunnels,
//! encapsulations, other link types) the same way. Where we disagree with tshark and are
//! right, or differ by design, the frame and the reason are listed in `KNOWN`.

use super::support::*;
use layerscope::capture::FileSource;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// (capture, frame, check, why we differ from tshark and are right).
const KNOWN: &[(&str, u64, &str, &str)] = &[
    (
        "pcapplusplus__tcp-reassembly.pcap",
        66,
        "layers",
        "an sFlow datagram (UDP 6343): tshark decodes the sampled packet headers inside it \
         as if they were this frame's own TCP layers; the frame's own stack is eth/ipv4/udp",
    ),
    (
        "pcapplusplus__tcp-reassembly.pcap",
        66,
        "tcp",
        "the same sFlow datagram: its TCP fields are those of a sampled packet, not this frame's",
    ),
    (
        "zeek__Teredo.pcap",
        50,
        "tcp",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
    (
        "zeek__Teredo.pcap",
        51,
        "tcp",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
    (
        "zeek__Teredo.pcap",
        78,
        "tcp",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
    (
        "zeek__Teredo.pcap",
        2,
        "tcp_stream",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
    (
        "zeek__Teredo.pcap",
        4,
        "tcp_stream",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
    (
        "zeek__Teredo.pcap",
        9,
        "tcp_stream",
        "a RST from the server 16-18 s after the connection closed (FIN/RST seen both ways): layerscope ends a closed connection after closed_linger (2 s) and the late RST opens a new one; tshark keeps one stream forever. Connection lifetime, not the Teredo decoding (these frames are plain Ethernet/IPv4/TCP)",
    ),
];

/// zeek__Teredo.pcap's Teredo tunnel between 192.168.2.16:3797 and 83.170.1.38:32900
/// (frames 29, 32-49, 52-57): not on Teredo's port 3544, so tshark shows UDP data, while
/// layerscope finds it by content as Zeek does (IPv6 from a Teredo address 2001:0::/32, its
/// payload length right) and decodes the bubbles, the ping reply and the HTTP connection
/// inside, as Zeek's core.tunnels.teredo baselines have them (tests/integration/zeek_logs.rs).
fn teredo_off_port(capture: &str, frame: u64, check: &str) -> bool {
    capture == "zeek__Teredo.pcap"
        && check == "layers"
        && (frame == 29 || (32..=49).contains(&frame) || (52..=57).contains(&frame))
}

fn known(capture: &str, frame: u64, check: &str) -> bool {
    teredo_off_port(capture, frame, check)
        || KNOWN
            .iter()
            .any(|(c, f, k, _)| *c == capture && *f == frame && *k == check)
}

fn int(s: &str) -> Option<i64> {
    if let Some(h) = s.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

struct Checked {
    capture: String,
    rows: Vec<HashMap<String, String>>,
    ours: Collected,
}

/// Every capture with an oracle, run through the pipeline once for all the tests here.
fn each_shared(test: &str) -> &'static [Checked] {
    static RUNS: std::sync::OnceLock<Vec<Checked>> = std::sync::OnceLock::new();
    RUNS.get_or_init(|| {
        let mut all = Vec::new();
        for dir in oracle_corpora(test) {
            all.extend(captures_in(&dir).into_iter().map(|path| {
                let capture = path.file_name().unwrap().to_string_lossy().into_owned();
                let rows = read_tsv(&oracle_file(&dir, &path, "frames.tsv"));
                let ours = match FileSource::open(&path) {
                    Ok(_) => run_file(&path),
                    // Not a capture at all (tshark reads nothing either): no frames.
                    Err(_) => Collected::default(),
                };
                Checked {
                    capture,
                    rows,
                    ours,
                }
            }));
        }
        all
    })
}

/// Fails with every disagreement listed.
fn assert_agree(failures: &[String], total: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} disagreements over {total} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn frames_match_tshark() {
    let mut failures = Vec::new();
    let mut total = 0;
    for c in each_shared("frames_match_tshark") {
        if c.rows.len() != c.ours.frames.len() {
            failures.push(format!(
                "{}: tshark {} frames, ours {}",
                c.capture,
                c.rows.len(),
                c.ours.frames.len()
            ));
        }
        for (row, ours) in c.rows.iter().zip(&c.ours.frames) {
            total += 1;
            let frame = int(&row["frame"]).unwrap_or(-1) as u64;
            // tshark leaves the time empty for Simple Packet Blocks (no timestamp): 0 for us.
            let ts: f64 = row["time_epoch"].parse().unwrap_or(0.0);
            let ok = frame == ours.number
                && (ts - ours.ts).abs() < 2e-6
                && int(&row["len"]) == Some(ours.len as i64)
                && int(&row["caplen"]) == Some(ours.caplen as i64);
            if !ok && !known(&c.capture, frame, "frame") {
                failures.push(format!(
                    "{} frame {frame}: tshark ts {} len {} caplen {}; ours #{} ts {:.6} len {} caplen {}",
                    c.capture, row["time_epoch"], row["len"], row["caplen"], ours.number, ours.ts, ours.len, ours.caplen
                ));
            }
        }
    }
    assert_agree(&failures, total, "frames");
}

#[test]
fn layer_stacks_match_tshark() {
    let mut failures = Vec::new();
    let mut total = 0;
    for c in each_shared("layer_stacks_match_tshark") {
        for (row, ours) in c.rows.iter().zip(&c.ours.frames) {
            let want = tshark_layers(&row["protocols"]);
            if want.is_empty() {
                continue;
            }
            total += 1;
            let got = our_layers(&ours.layers);
            if got != want && !known(&c.capture, ours.number, "layers") {
                failures.push(format!(
                    "{} frame {}: tshark {:?} ({}), ours {:?}",
                    c.capture, ours.number, want, row["protocols"], ours.layers
                ));
            }
        }
    }
    assert_agree(&failures, total, "frames");
}

/// Flags, relative seq, relative ack and payload length of every TCP frame.
#[test]
fn tcp_fields_match_tshark() {
    let mut failures = Vec::new();
    let mut total = 0;
    for c in each_shared("tcp_fields_match_tshark") {
        for (row, ours) in c.rows.iter().zip(&c.ours.frames) {
            if row["tcp_flags"].is_empty() {
                continue;
            }
            total += 1;
            let want = (
                int(&row["tcp_flags"]).map(|f| f & 0xff),
                int(&row["tcp_seq"]),
                int(&row["tcp_ack"]),
                int(&row["tcp_len"]),
            );
            let got = (
                ours.tcp_flags.map(|f| (f & 0xff) as i64),
                ours.flow.rel_seq.map(i64::from),
                ours.flow.rel_ack.map(i64::from),
                ours.tcp_len.map(i64::from),
            );
            if want != got && !known(&c.capture, ours.number, "tcp") {
                failures.push(format!(
                    "{} frame {}: tshark (flags, seq, ack, len) {:?}, ours {:?}",
                    c.capture, ours.number, want, got
                ));
            }
        }
    }
    assert_agree(&failures, total, "TCP frames");
}

/// Every tshark TCP/UDP stream is exactly one of our connections.
#[test]
fn streams_match_tshark() {
    let mut failures = Vec::new();
    let mut total = 0;
    for c in each_shared("streams_match_tshark") {
        // A tunnelled frame belongs to its innermost connection and to every tunnel flow
        // that carried it (`outer_conns`); tshark's UDP stream of such a frame is the
        // outermost one.
        let frame_conns: HashMap<u64, Vec<u64>> = c
            .ours
            .frames
            .iter()
            .map(|f| {
                let mut v: Vec<u64> = f.flow.conn.into_iter().collect();
                v.extend(f.flow.outer_conns.iter().copied());
                (f.number, v)
            })
            .collect();
        let mut conn_frames: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for (f, conns) in &frame_conns {
            for id in conns {
                conn_frames.entry(*id).or_default().insert(*f);
            }
        }
        for key in ["tcp_stream", "udp_stream"] {
            let mut streams: BTreeMap<i64, BTreeSet<u64>> = BTreeMap::new();
            for row in &c.rows {
                if let Some(s) = int(&row[key]) {
                    if !row["protocols"].contains("icmp") {
                        streams
                            .entry(s)
                            .or_default()
                            .insert(int(&row["frame"]).unwrap_or(0) as u64);
                    }
                }
            }
            for (sid, frames) in streams {
                total += 1;
                // The connections every frame of the stream belongs to; one of them must
                // hold all of its frames.
                let mut common: Option<BTreeSet<u64>> = None;
                for f in &frames {
                    let these: BTreeSet<u64> = frame_conns
                        .get(f)
                        .map(|v| v.iter().copied().collect())
                        .unwrap_or_default();
                    common = Some(match common {
                        None => these,
                        Some(c) => c.intersection(&these).copied().collect(),
                    });
                }
                let conns = common.unwrap_or_default();
                let first = *frames.iter().next().unwrap();
                let ok = conns.iter().any(|id| {
                    conn_frames
                        .get(id)
                        .is_some_and(|ours| ours.is_superset(&frames))
                });
                if !ok && !known(&c.capture, first, key) {
                    failures.push(format!(
                        "{} {key} {sid} (frames from {first}, {} frames): our conns {:?}",
                        c.capture,
                        frames.len(),
                        conns
                    ));
                }
            }
        }
    }
    assert_agree(&failures, total, "streams");
}

/// tshark's TCP analysis flags (`oracle/NAME.analysis.tsv`): recall and precision over
/// every capture, per (frame, flag).
#[test]
fn analysis_flags_match_tshark() {
    let (mut want_total, mut hit, mut extra) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    let corpora = oracle_corpora("analysis_flags_match_tshark");
    for (dir, path) in corpora
        .iter()
        .flat_map(|d| captures_in(d).into_iter().map(move |p| (d.clone(), p)))
    {
        if FileSource::open(&path).is_err() {
            continue;
        }
        let rows = read_tsv(&oracle_file(&dir, &path, "analysis.tsv"));
        let want: BTreeSet<(u64, String)> = rows
            .iter()
            .map(|r| (int(&r["frame"]).unwrap_or(0) as u64, r["flag"].clone()))
            .collect();
        let ours = run_file(&path);
        let got: BTreeSet<(u64, String)> = ours
            .frames
            .iter()
            .flat_map(|f| {
                f.flow
                    .analysis
                    .names()
                    .map(move |n| (f.number, n.to_string()))
            })
            .collect();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        want_total += want.len();
        hit += want.intersection(&got).count();
        extra += got.difference(&want).count();
        for (f, flag) in want.difference(&got).take(5) {
            misses.push(format!("{name} frame {f}: tshark {flag}, ours missing"));
        }
        for (f, flag) in got.difference(&want).take(5) {
            misses.push(format!("{name} frame {f}: ours {flag}, tshark has not"));
        }
    }
    // Shares of nothing are whole: captures/ alone has no flags for tshark or for us, and
    // then what is checked is that we flag nothing tshark does not.
    let share = |part: usize, whole: usize| {
        if whole == 0 {
            100.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    let recall = share(hit, want_total);
    let precision = share(hit, hit + extra);
    eprintln!("analysis recall {recall:.1}% ({hit}/{want_total}), precision {precision:.1}%");
    assert!(
        recall >= 99.0 && precision >= 99.0,
        "recall {recall:.1}%, precision {precision:.1}%:\n{}",
        misses.join("\n")
    );
}

/// A TCP connection inside VXLAN (tshark: every frame is TCP stream 0 inside UDP stream 0,
/// the VXLAN flow to port 4789): each frame names the tunnel flow in `outer_conns`, the
/// tunnel flow holds every frame, and the TCP connection has it as its tunnel parent.
#[test]
fn tunnelled_connection_names_its_tunnel_flow() {
    let Some(dir) = shared_encap_captures("tunnelled_connection_names_its_tunnel_flow") else {
        return;
    };
    let path = dir.join("zeek__vxlan-encapsulated-http.pcap");
    let rows = read_tsv(&oracle_file(&dir, &path, "frames.tsv"));
    assert!(rows
        .iter()
        .all(|r| r["tcp_stream"] == "0" && r["udp_stream"] == "0"));
    let ours = run_file(&path);
    assert_eq!(ours.frames.len(), rows.len());
    let outer = ours.frames[0].flow.outer_conns.clone();
    assert_eq!(outer.len(), 1, "one tunnel flow");
    let inner = ours.frames[0].flow.conn.expect("an inner connection");
    for f in &ours.frames {
        assert_eq!(f.flow.outer_conns, outer, "frame {}", f.number);
        assert_eq!(f.flow.conn, Some(inner), "frame {}", f.number);
    }
    let tunnel = ours.conn(outer[0]);
    assert_eq!(tunnel.server.port(), 4789);
    assert_eq!(
        tunnel.packets.to_server + tunnel.packets.to_client,
        rows.len() as u64
    );
    let tcp = ours.conn(inner);
    assert_eq!(tcp.tunnel_parents.as_slice(), outer.as_slice());
    assert!(tcp.handshake.complete);
}

/// tshark's `tcp.analysis.ack_rtt` (within 1 µs, as ns) and `tcp.analysis.bytes_in_flight`
/// (exactly), frame by frame (`oracle/NAME.rtt.tsv`), and no value where tshark has none.
/// Over the project's captures and `../shared/captures` every row counts; over
/// `../shared/captures-encap` the rows of frames whose TCP layer we decode (the tunnels
/// we do not decode yet are counted and printed, not failed).
#[test]
fn ack_rtt_and_bytes_in_flight_match_tshark() {
    let shared = shared_captures("ack_rtt_and_bytes_in_flight_match_tshark");
    let mut corpora: Vec<(std::path::PathBuf, bool)> = vec![(project_dir().join("captures"), true)];
    if let Some(shared) = &shared {
        corpora.push((shared.clone(), true));
        let encap = shared.with_file_name("captures-encap");
        if encap.join("oracle").is_dir() {
            corpora.push((encap, false));
        }
    }
    let (mut total, mut hit, mut extra, mut undecoded) = (0usize, 0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    for (dir, every_row) in &corpora {
        for path in captures_in(dir) {
            if FileSource::open(&path).is_err() {
                continue;
            }
            let rows = read_tsv(&oracle_file(dir, &path, "rtt.tsv"));
            let ours = run_file(&path);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut with_values = BTreeSet::new();
            for r in &rows {
                let Some(frame) = int(&r["frame"]).map(|f| f as u64) else {
                    continue;
                };
                with_values.insert(frame);
                let Some(f) = ours.frames.get((frame as usize).wrapping_sub(1)) else {
                    continue;
                };
                if !every_row && f.tcp_flags.is_none() {
                    undecoded += 1;
                    continue;
                }
                if let Ok(secs) = r["ack_rtt"].parse::<f64>() {
                    total += 1;
                    let want_ns = (secs * 1e9).round() as i64;
                    let got = f.flow.rtt.ack_rtt_ns;
                    if got != 0 && (got - want_ns).abs() <= 1000 {
                        hit += 1;
                    } else {
                        misses.push(format!(
                            "{name} frame {frame}: ack_rtt tshark {want_ns} ns, ours {got}"
                        ));
                    }
                }
                if let Some(want) = int(&r["bytes_in_flight"]) {
                    total += 1;
                    let got = i64::from(f.flow.rtt.bytes_in_flight);
                    if got == want {
                        hit += 1;
                    } else {
                        misses.push(format!(
                            "{name} frame {frame}: bytes_in_flight tshark {want}, ours {got}"
                        ));
                    }
                }
            }
            // Values tshark does not show.
            for f in &ours.frames {
                let ours_any = f.flow.rtt.ack_rtt_ns != 0 || f.flow.rtt.bytes_in_flight != 0;
                if ours_any && !with_values.contains(&f.number) {
                    extra += 1;
                    misses.push(format!(
                        "{name} frame {}: ours {:?}, tshark none",
                        f.number, f.flow.rtt
                    ));
                }
            }
        }
    }
    let agree = 100.0 * hit as f64 / total.max(1) as f64;
    eprintln!(
        "rtt: {hit}/{total} values agree ({agree:.2}%), {extra} of ours tshark has not, \
         {undecoded} encap rows on frames whose TCP we do not decode"
    );
    assert!(
        shared.is_none() || total > 5000,
        "only {total} oracle values: the corpus is missing"
    );
    assert!(
        agree >= 99.0 && extra * 100 <= total,
        "{agree:.2}% agree, {extra} extra:\n{}",
        misses
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
