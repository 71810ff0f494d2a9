//! Several capture files read as one capture, merged in timestamp order as `mergecap`
//! does: each step hands on the earliest next frame over the files (the earlier-named
//! file first on a tie), numbered on from the frames before it, so a connection that
//! spans rotated files is followed whole.
//!
//! Memory is bounded by the files that overlap in time, not by how many are named: each
//! file's first timestamp is read once at the start (the file closed again), and a file is
//! opened only when the merge reaches its first timestamp. Rotated captures (each file
//! starting where the last ended) keep one or two files open. Each open file holds its
//! reader's buffer and one frame.

use super::file::FileSource;
use super::{CaptureError, FrameSource, LinkType, RawFrame, Timestamp, Truncation};
use std::path::PathBuf;

/// A file of the merge that is open: its next frame, copied out of the reader's buffer.
struct Head {
    /// Index in the names given.
    file: usize,
    source: FileSource,
    data: Vec<u8>,
    frame: Option<FrameMeta>,
    /// The next frame is still to be read (after the last one was handed on).
    needs_fill: bool,
    /// Global number of the last frame handed on from this file.
    last_number: u64,
}

#[derive(Clone, Copy)]
struct FrameMeta {
    ts: Timestamp,
    link: LinkType,
    interface: u32,
    orig_len: u32,
}

/// Frames of several files in timestamp order.
pub struct MergedSource {
    paths: Vec<PathBuf>,
    /// Files not opened yet, by (first timestamp, index), earliest last (popped).
    waiting: Vec<(Option<Timestamp>, usize)>,
    heads: Vec<Head>,
    number: u64,
    truncation: Option<Truncation>,
    /// What the files already read to their end counted (see [`super::SourceCounts`]).
    counts: super::SourceCounts,
    /// The file of the last frame handed on.
    last_file: usize,
}

impl MergedSource {
    /// Merges `paths` (each a pcap or pcapng file). Fails on the first that cannot be
    /// opened or is not a capture, naming it in the error's place (`Err((index, error))`).
    pub fn open(paths: Vec<PathBuf>) -> Result<MergedSource, (usize, CaptureError)> {
        let mut waiting = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            let mut source = FileSource::open(path).map_err(|e| (i, e))?;
            // A file whose first record is damaged or missing sorts first: it is opened
            // at once and reports what it reports.
            let first = match source.next_frame() {
                Ok(Some(f)) => Some(f.ts),
                _ => None,
            };
            waiting.push((first, i));
        }
        // Earliest last: popped first. Stable on ties by index (the earlier name first).
        waiting.sort_by(|a, b| b.cmp(a));
        Ok(MergedSource {
            paths,
            waiting,
            heads: Vec::new(),
            number: 0,
            truncation: None,
            counts: super::SourceCounts::default(),
            last_file: 0,
        })
    }

    /// Index (in the names given) of the file the last frame came from.
    pub fn last_file(&self) -> usize {
        self.last_file
    }

    /// Files held open now (for the memory bound).
    pub fn open_files(&self) -> usize {
        self.heads.len()
    }

    /// Reads the next frame of head `i` into it.
    fn fill(&mut self, i: usize) -> Result<(), CaptureError> {
        let Some(head) = self.heads.get_mut(i) else {
            return Ok(());
        };
        match head.source.next_frame() {
            Ok(Some(f)) => {
                head.data.clear();
                head.data.extend_from_slice(f.data);
                head.frame = Some(FrameMeta {
                    ts: f.ts,
                    link: f.link,
                    interface: f.interface,
                    orig_len: f.orig_len,
                });
                head.needs_fill = false;
                Ok(())
            }
            Ok(None) => {
                if self.truncation.is_none() {
                    if let Some(t) = head.source.truncation() {
                        self.truncation = Some(Truncation {
                            last_frame: head.last_number,
                            ..t.clone()
                        });
                    }
                }
                self.counts.add(head.source.counts());
                self.heads.swap_remove(i);
                Ok(())
            }
            Err(e) => {
                if e.is_fatal() {
                    self.heads.swap_remove(i);
                }
                Err(e)
            }
        }
    }

    /// Opens the waiting files whose first frame comes no later than every open file's
    /// next one.
    fn open_due(&mut self) -> Result<(), CaptureError> {
        loop {
            let Some(&(first, i)) = self.waiting.last() else {
                return Ok(());
            };
            let earliest_open = self
                .heads
                .iter()
                .filter_map(|h| h.frame.map(|f| f.ts))
                .min();
            let due = match (first, earliest_open) {
                (_, None) => true,
                (None, _) => true,
                (Some(f), Some(e)) => f <= e,
            };
            if !due {
                return Ok(());
            }
            self.waiting.pop();
            let path = self.paths.get(i).cloned().unwrap_or_default();
            let source = FileSource::open(&path)?;
            self.heads.push(Head {
                file: i,
                source,
                data: Vec::new(),
                frame: None,
                needs_fill: true,
                last_number: self.number,
            });
            let at = self.heads.len() - 1;
            self.fill(at)?;
        }
    }
}

impl FrameSource for MergedSource {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        // The head whose frame went out last reads its next one (again after a non-fatal
        // error, which skipped the damaged record).
        while let Some(i) = self.heads.iter().position(|h| h.needs_fill) {
            self.fill(i)?;
        }
        self.open_due()?;
        // Earliest frame; on equal times the earlier-named file.
        let Some(best) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.frame.map(|f| ((f.ts, h.file), i)))
            .min()
            .map(|(_, i)| i)
        else {
            return Ok(None);
        };
        self.number += 1;
        let number = self.number;
        let head = &mut self.heads[best];
        let Some(meta) = head.frame.take() else {
            return Ok(None);
        };
        head.needs_fill = true;
        head.last_number = number;
        self.last_file = head.file;
        Ok(Some(RawFrame {
            number,
            ts: meta.ts,
            link: meta.link,
            interface: meta.interface,
            file: u32::try_from(head.file).unwrap_or(u32::MAX),
            orig_len: meta.orig_len,
            data: &head.data,
        }))
    }

    fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }
    fn counts(&self) -> super::SourceCounts {
        let mut counts = self.counts;
        for head in &self.heads {
            counts.add(head.source.counts());
        }
        counts
    }
}

/// The capture files a path names: the file itself, or a folder's `.pcap`, `.pcapng`,
/// `.cap` and `.pcap<N>` files (rotated captures such as `trace.pcap0`), sorted by name.
pub fn capture_files_in(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            name.ends_with(".pcap")
                || name.ends_with(".pcapng")
                || name.ends_with(".cap")
                || name
                    .rsplit_once(".pcap")
                    .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap file (µs, Ethernet) with one frame per (seconds, first byte).
    fn pcap(frames: &[(u32, u8)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        for &(secs, byte) in frames {
            b.extend_from_slice(&secs.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&4u32.to_le_bytes());
            b.extend_from_slice(&4u32.to_le_bytes());
            b.extend_from_slice(&[byte; 4]);
        }
        b
    }

    fn write(dir: &std::path::Path, name: &str, frames: &[(u32, u8)]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, pcap(frames)).unwrap();
        p
    }

    fn read_all(src: &mut MergedSource) -> Vec<(u64, i64, u8, usize)> {
        let mut out = Vec::new();
        while let Some(f) = src.next_frame().unwrap() {
            let (n, s, b) = (f.number, f.ts.secs, f.data[0]);
            out.push((n, s, b, src.last_file()));
        }
        out
    }

    #[test]
    fn interleaved_files_merge_in_time_order_numbered_on() {
        let dir = std::env::temp_dir().join(format!("layerscope-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = write(&dir, "a.pcap", &[(1, 0xa1), (3, 0xa3), (5, 0xa5)]);
        let b = write(&dir, "b.pcap", &[(2, 0xb2), (3, 0xb3), (6, 0xb6)]);
        let c = write(&dir, "c.pcap", &[]);
        let mut m = MergedSource::open(vec![b.clone(), a.clone(), c]).unwrap();
        let got = read_all(&mut m);
        // Times in order; the tie at 3 s goes to the earlier-named file (b, index 0).
        assert_eq!(
            got,
            vec![
                (1, 1, 0xa1, 1),
                (2, 2, 0xb2, 0),
                (3, 3, 0xb3, 0),
                (4, 3, 0xa3, 1),
                (5, 5, 0xa5, 1),
                (6, 6, 0xb6, 0),
            ]
        );
        assert!(m.truncation().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotated_files_are_opened_one_after_the_other() {
        let dir = std::env::temp_dir().join(format!("layerscope-rot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<PathBuf> = (0..20u32)
            .map(|i| {
                write(
                    &dir,
                    &format!("t.pcap{i:02}"),
                    &[(i * 10, i as u8), (i * 10 + 5, i as u8)],
                )
            })
            .collect();
        let mut m = MergedSource::open(paths).unwrap();
        let mut most_open = 0;
        let mut n = 0;
        while let Some(f) = m.next_frame().unwrap() {
            n += 1;
            assert_eq!(f.number, n);
            most_open = most_open.max(m.open_files());
        }
        assert_eq!(n, 40);
        assert!(most_open <= 2, "{most_open} files open at once");
        let listed = capture_files_in(&dir).unwrap();
        assert_eq!(listed.len(), 20);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_cut_short_reports_its_truncation_with_the_merged_number() {
        let dir = std::env::temp_dir().join(format!("layerscope-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = write(&dir, "a.pcap", &[(1, 1), (4, 4)]);
        let mut bytes = pcap(&[(2, 2), (3, 3)]);
        bytes.truncate(bytes.len() - 2);
        let b = dir.join("b.pcap");
        std::fs::write(&b, bytes).unwrap();
        let mut m = MergedSource::open(vec![a, b]).unwrap();
        let got = read_all(&mut m);
        assert_eq!(got.iter().map(|g| g.2).collect::<Vec<_>>(), vec![1, 2, 4]);
        let t = m.truncation().expect("b is cut short");
        assert_eq!(t.last_frame, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
