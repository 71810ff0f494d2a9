//! The Zeek and Parquet writers in bounded memory (issue #24, "Memory"): peak RSS of
//! `--format zeek` and `--format parquet` over generated DNS captures of N and 4N
//! connections (each a query and its answer, one second apart, so that with
//! `--udp-timeout 2` connections end as the capture goes) stays flat: the 4N run within
//! 8 MiB of the N run, both under 128 MiB. Parquet's row group (32,768 rows) is filled in
//! both runs (N = 40,000). Skipped visibly without `/usr/bin/time`.

use super::hostile::{max_rss_kib, pcap};
use super::support::{bin, skipped};
use etherparse::PacketBuilder;
use std::path::Path;

/// A DNS query for `a.example` A from port `port` of 10.(i>>16).(i>>8).i, and its answer.
fn dns_pair(i: u32) -> [Vec<u8>; 2] {
    let client = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let server = [192, 0, 2, 53];
    let port = 1024 + (i % 60_000) as u16;
    let id = (i as u16).to_be_bytes();
    let question: &[u8] = b"\x01a\x07example\x00\x00\x01\x00\x01";
    let mut query = vec![id[0], id[1], 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(question);
    let mut answer = vec![id[0], id[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    answer.extend_from_slice(question);
    answer.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01");
    let frame = |src, dst, sp, dp, payload: &[u8]| {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .udp(sp, dp)
            .write(&mut out, payload)
            .unwrap();
        out
    };
    [
        frame(client, server, port, 53, &query),
        frame(server, client, 53, port, &answer),
    ]
}

fn peak_rss_kib(capture: &Path, format: &str, out: &Path) -> u64 {
    let _ = std::fs::remove_dir_all(out);
    let run = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", format, "--out"])
        .arg(out)
        .args(["--threads", "1", "--udp-timeout", "2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{format}: {err}");
    max_rss_kib(&err).unwrap_or_else(|| panic!("no RSS in {err}"))
}

#[test]
fn zeek_and_parquet_writers_stay_flat_as_the_capture_grows() {
    if !Path::new("/usr/bin/time").exists() {
        skipped("zeek_and_parquet_writers_stay_flat: /usr/bin/time not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("writer-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut report = Vec::new();
    for format in ["zeek", "parquet"] {
        let mut peaks = Vec::new();
        for conns in [40_000u32, 160_000] {
            let capture = dir.join(format!("dns-{conns}.pcap"));
            if !capture.exists() {
                let frames: Vec<Vec<u8>> = (0..conns).flat_map(dns_pair).collect();
                std::fs::write(&capture, pcap(1, &frames)).unwrap();
            }
            let out = dir.join(format!("{format}-{conns}"));
            let rss = peak_rss_kib(&capture, format, &out);
            // Every connection was written: conn.log's rows, conn.parquet's row count.
            let written = match format {
                "zeek" => std::fs::read_to_string(out.join("conn.log"))
                    .unwrap()
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .count() as u64,
                _ => {
                    use parquet::file::reader::{FileReader, SerializedFileReader};
                    let file = std::fs::File::open(out.join("conn.parquet")).unwrap();
                    let reader = SerializedFileReader::new(file).unwrap();
                    reader.metadata().file_metadata().num_rows() as u64
                }
            };
            assert_eq!(written, u64::from(conns), "{format} {conns}");
            report.push(format!(
                "{format} {conns} connections: peak RSS {} KiB",
                rss
            ));
            peaks.push(rss);
            let _ = std::fs::remove_dir_all(&out);
        }
        assert!(peaks[1] <= peaks[0] + 8 * 1024, "{format}: {report:?}");
        assert!(peaks[1] <= 128 * 1024, "{format}: {report:?}");
    }
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
