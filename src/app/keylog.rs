//! TLS key logs in the NSS format that curl, Firefox and Chrome write when `SSLKEYLOGFILE`
//! is set: one `LABEL <client random hex> <secret hex>` per line. TLS 1.2 uses
//! `CLIENT_RANDOM` (the 48-byte master secret); TLS 1.3 the handshake and first traffic
//! secrets. A log given as a file is read again when a client random is not found and the
//! file has grown (a browser writing it while `live` runs).

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most client randoms kept; lines past it are counted in [`KeyLogStats::dropped`].
pub const MAX_KEYLOG_ENTRIES: usize = 1 << 18;
/// Longest key log read (bytes); the rest is ignored and counted.
const MAX_KEYLOG_BYTES: u64 = 256 << 20;

/// The secrets logged for one client random.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 and earlier: the master secret.
    pub master: Option<Vec<u8>>,
    /// TLS 1.3 handshake traffic secrets.
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3 first application traffic secrets.
    pub client_traffic: Option<Vec<u8>>,
    pub server_traffic: Option<Vec<u8>>,
    /// TLS 1.3 early (0-RTT) traffic secret of a resuming client.
    pub client_early: Option<Vec<u8>>,
}

/// What reading the log found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyLogStats {
    pub lines: u64,
    /// Lines that are neither a known label with two hex fields nor a comment.
    pub unreadable: u64,
    /// Entries not kept because of [`MAX_KEYLOG_ENTRIES`].
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: FxHashMap<[u8; 32], Secrets>,
    /// Bytes of the file read so far (whole lines only).
    read_to: u64,
    stats: KeyLogStats,
}

/// A key log, from a file (re-read as it grows) or from text.
#[derive(Debug, Default)]
pub struct KeyLog {
    path: Option<PathBuf>,
    inner: Mutex<Inner>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || s.len() > 256 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Inner {
    fn add_text(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.stats.lines += 1;
            let mut f = line.split_ascii_whitespace();
            let (Some(label), Some(random), Some(secret)) = (f.next(), f.next(), f.next()) else {
                self.stats.unreadable += 1;
                continue;
            };
            let (Some(random), Some(secret)) = (unhex(random), unhex(secret)) else {
                self.stats.unreadable += 1;
                continue;
            };
            let Ok(random) = <[u8; 32]>::try_from(random.as_slice()) else {
                self.stats.unreadable += 1;
                continue;
            };
            if !self.entries.contains_key(&random) && self.entries.len() >= MAX_KEYLOG_ENTRIES {
                self.stats.dropped += 1;
                continue;
            }
            let e = self.entries.entry(random).or_default();
            let slot = match label {
                "CLIENT_RANDOM" => &mut e.master,
                // (The QUIC_ names: what QUIC stacks of the IETF drafts wrote, quicly and
                // ngtcp2 among them; tshark reads both.)
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" | "QUIC_CLIENT_HANDSHAKE_TRAFFIC_SECRET" => {
                    &mut e.client_handshake
                }
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" | "QUIC_SERVER_HANDSHAKE_TRAFFIC_SECRET" => {
                    &mut e.server_handshake
                }
                "CLIENT_TRAFFIC_SECRET_0" | "QUIC_CLIENT_TRAFFIC_SECRET_0" => &mut e.client_traffic,
                "SERVER_TRAFFIC_SECRET_0" | "QUIC_SERVER_TRAFFIC_SECRET_0" => &mut e.server_traffic,
                "CLIENT_EARLY_TRAFFIC_SECRET" | "QUIC_CLIENT_EARLY_TRAFFIC_SECRET" => {
                    &mut e.client_early
                }
                // EXPORTER_SECRET: not needed to read the records.
                _ => continue,
            };
            *slot = Some(secret);
        }
    }

    /// Reads what was appended to the file since the last read (whole lines).
    fn read_more(&mut self, path: &Path) {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len <= self.read_to || self.read_to >= MAX_KEYLOG_BYTES {
            return;
        }
        let want = (len.min(MAX_KEYLOG_BYTES) - self.read_to) as usize;
        let mut buf = vec![0u8; want];
        if f.seek(SeekFrom::Start(self.read_to)).is_err() || f.read_exact(&mut buf).is_err() {
            return;
        }
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        self.read_to += end as u64 + 1;
        self.add_text(&String::from_utf8_lossy(&buf[..=end]));
    }
}

impl KeyLog {
    /// A key log read from `path` now and again whenever a client random is missing.
    pub fn open(path: impl Into<PathBuf>) -> std::io::Result<KeyLog> {
        let path = path.into();
        std::fs::metadata(&path)?;
        let log = KeyLog {
            path: Some(path.clone()),
            inner: Mutex::default(),
        };
        if let Ok(mut i) = log.inner.lock() {
            i.read_more(&path);
        }
        Ok(log)
    }

    /// A key log read from `path` whether or not it exists yet: read when it appears
    /// and again as it grows.
    pub fn watch(path: impl Into<PathBuf>) -> KeyLog {
        let path = path.into();
        let log = KeyLog {
            path: Some(path.clone()),
            inner: Mutex::default(),
        };
        if let Ok(mut i) = log.inner.lock() {
            i.read_more(&path);
        }
        log
    }

    /// Where the log is read from, if from a file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A key log from text (tests, fuzzing).
    pub fn from_text(text: &str) -> KeyLog {
        let log = KeyLog::default();
        if let Ok(mut i) = log.inner.lock() {
            i.add_text(text);
        }
        log
    }

    /// The secrets for a client random, reading what the file gained when it is missing.
    pub fn lookup(&self, client_random: &[u8; 32]) -> Option<Secrets> {
        let mut i = self.inner.lock().ok()?;
        if let Some(s) = i.entries.get(client_random) {
            return Some(s.clone());
        }
        let path = self.path.as_deref()?;
        i.read_more(path);
        i.entries.get(client_random).cloned()
    }

    pub fn stats(&self) -> KeyLogStats {
        self.inner.lock().map(|i| i.stats).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_comments_and_bad_lines() {
        let r = "3a9f".repeat(16);
        let text = format!(
            "# comment\nCLIENT_RANDOM {r} {}\nSERVER_TRAFFIC_SECRET_0 {r} {}\nCLIENT_RANDOM zz {}\nEXPORTER_SECRET {r} 00\nshort line\n",
            "01".repeat(48),
            "02".repeat(32),
            "01".repeat(48)
        );
        let log = KeyLog::from_text(&text);
        let random: [u8; 32] = unhex(&r).unwrap().try_into().unwrap();
        let s = log.lookup(&random).unwrap();
        assert_eq!(s.master, Some(vec![1; 48]));
        assert_eq!(s.server_traffic, Some(vec![2; 32]));
        assert_eq!(s.client_handshake, None);
        assert_eq!(log.lookup(&[0; 32]), None);
        let st = log.stats();
        assert_eq!((st.lines, st.unreadable, st.dropped), (5, 2, 0));
    }

    #[test]
    fn quic_draft_labels() {
        let r = "5a".repeat(32);
        let text = format!(
            "QUIC_CLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {}\nQUIC_SERVER_TRAFFIC_SECRET_0 {r} {}\n",
            "03".repeat(32),
            "04".repeat(32)
        );
        let s = KeyLog::from_text(&text).lookup(&[0x5a; 32]).unwrap();
        assert_eq!(s.client_handshake, Some(vec![3; 32]));
        assert_eq!(s.server_traffic, Some(vec![4; 32]));
    }

    #[test]
    fn a_growing_file_is_read_again() {
        let dir = std::env::temp_dir().join(format!("layerscope-keylog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        let a = "11".repeat(32);
        let b = "22".repeat(32);
        std::fs::write(
            &path,
            format!("CLIENT_RANDOM {a} {}\nCLIENT_RAN", "aa".repeat(48)),
        )
        .unwrap();
        let log = KeyLog::open(&path).unwrap();
        assert!(log.lookup(&[0x11; 32]).is_some());
        assert!(log.lookup(&[0x22; 32]).is_none());
        std::fs::write(
            &path,
            format!(
                "CLIENT_RANDOM {a} {}\nCLIENT_RANDOM {b} {}\n",
                "aa".repeat(48),
                "bb".repeat(48)
            ),
        )
        .unwrap();
        assert_eq!(
            log.lookup(&[0x22; 32]).unwrap().master,
            Some(vec![0xbb; 48])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
