//! `conn` records held until they can be written in id order (the contract puts them after
//! the packets, in id order): in memory, spilled to a temporary file in sorted runs past a
//! limit, merged back at the end.

use std::io::{self, Write};

/// `conn` records held in memory: their bytes back to back in one buffer (no allocation
/// per record), and (id, start, length) in arrival order, sorted by id when written.
#[derive(Default)]
pub(super) struct HeldConns {
    text: Vec<u8>,
    index: Vec<(u64, usize, usize)>,
}

impl HeldConns {
    /// Appends the record of connection `id` that `write` puts in the buffer.
    pub(super) fn push(
        &mut self,
        id: u64,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<usize> {
        let start = self.text.len();
        if let Err(e) = write(&mut self.text) {
            self.text.truncate(start);
            return Err(e);
        }
        let len = self.text.len() - start;
        self.index.push((id, start, len));
        Ok(len)
    }

    /// Orders the records by id; of records with the same id the last one stays (as a map
    /// keyed by id would keep it).
    pub(super) fn sort(&mut self) {
        // Stable: records of one id stay in arrival order, the last is kept.
        self.index.sort_by_key(|r| r.0);
        let mut kept: Vec<(u64, usize, usize)> = Vec::with_capacity(self.index.len());
        for r in self.index.drain(..) {
            match kept.last_mut() {
                Some(last) if last.0 == r.0 => *last = r,
                _ => kept.push(r),
            }
        }
        self.index = kept;
    }

    /// (id, record) in index order.
    fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.index
            .iter()
            .map(|&(id, start, len)| (id, self.text.get(start..start + len).unwrap_or(&[])))
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.index.clear();
    }
}

/// `conn` records written in id order as they end (see `JsonSink::in_order`).
#[derive(Default)]
pub(super) struct InOrder {
    /// The next id to write.
    pub(super) next: u64,
    /// Records of higher ids that ended first.
    pub(super) waiting: std::collections::BTreeMap<u64, Vec<u8>>,
    pub(super) waiting_bytes: usize,
}

/// Held `conn` records beyond this many bytes go to the spill file.
pub(super) const HELD_CONN_BYTES: usize = 8 << 20;

/// Sorted runs of `conn` records in an unlinked temporary file: per record the id (u64),
/// the length (u32), the bytes.
pub(super) struct Spill {
    file: std::fs::File,
    runs: Vec<(u64, u64)>,
    end: u64,
}

impl Spill {
    pub(super) fn create() -> io::Result<Spill> {
        let path = std::env::temp_dir().join(format!(
            "layerscope-conns-{}-{:x}.tmp",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unlinked at once: the space goes back to the system when the file is closed.
        let _ = std::fs::remove_file(&path);
        Ok(Spill {
            file,
            runs: Vec::new(),
            end: 0,
        })
    }

    /// Appends one run (`records` sorted by id).
    pub(super) fn write_run(&mut self, records: &HeldConns) -> io::Result<()> {
        let mut w = io::BufWriter::with_capacity(1 << 16, &self.file);
        let start = self.end;
        for (id, r) in records.iter() {
            w.write_all(&id.to_le_bytes())?;
            w.write_all(&(r.len() as u32).to_le_bytes())?;
            w.write_all(r)?;
            self.end += 12 + r.len() as u64;
        }
        w.flush()?;
        self.runs.push((start, self.end));
        Ok(())
    }
}

/// Reads the record at `pos` of a run: (id, bytes, next position).
fn read_spilled(file: &std::fs::File, pos: u64) -> io::Result<(u64, Vec<u8>, u64)> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 12];
    file.read_exact_at(&mut head, pos)?;
    let id = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
    let len = u32::from_le_bytes(head[8..].try_into().unwrap_or([0; 4])) as usize;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, pos + 12)?;
    Ok((id, bytes, pos + 12 + len as u64))
}

/// Writes every held `conn` record in id order: the spilled runs and those in memory,
/// merged.
pub(super) fn write_in_id_order<W: Write>(
    out: &mut W,
    mut memory: HeldConns,
    spill: Option<Spill>,
) -> io::Result<()> {
    memory.sort();
    let Some(spill) = spill else {
        for (_, record) in memory.iter() {
            out.write_all(record)?;
            out.write_all(b"\n")?;
        }
        return Ok(());
    };
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // Heap of (id, run index); run heads kept beside it.
    let mut heads: Vec<Option<(Vec<u8>, u64, u64)>> = Vec::with_capacity(spill.runs.len());
    let mut heap = BinaryHeap::new();
    for (i, &(start, end)) in spill.runs.iter().enumerate() {
        if start < end {
            let (id, bytes, next) = read_spilled(&spill.file, start)?;
            heap.push(Reverse((id, i)));
            heads.push(Some((bytes, next, end)));
        } else {
            heads.push(None);
        }
    }
    let mut mem = memory.iter().peekable();
    loop {
        let next_spilled = heap.peek().map(|Reverse((id, _))| *id);
        let next_mem = mem.peek().map(|(id, _)| *id);
        match (next_spilled, next_mem) {
            (None, None) => break,
            (Some(s), m) if m.is_none_or(|m| s <= m) => {
                let Some(Reverse((_, i))) = heap.pop() else {
                    break;
                };
                if let Some((bytes, next, end)) = heads[i].take() {
                    out.write_all(&bytes)?;
                    out.write_all(b"\n")?;
                    if next < end {
                        let (id, bytes, after) = read_spilled(&spill.file, next)?;
                        heap.push(Reverse((id, i)));
                        heads[i] = Some((bytes, after, end));
                    }
                }
            }
            _ => {
                if let Some((_, record)) = mem.next() {
                    out.write_all(record)?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod spill_tests {
    use super::super::JsonSink;
    use super::*;

    #[test]
    fn spilled_runs_merge_back_in_id_order() {
        let mut sink = JsonSink::new(Vec::new());
        // Three runs and a remainder in memory, ids interleaved across runs.
        let mut spill = Spill::create().unwrap();
        let run = |ids: &[u64]| -> HeldConns {
            let mut held = HeldConns::default();
            for &i in ids {
                held.push(i, |w| {
                    w.extend_from_slice(format!("{{\"id\":{i}}}").as_bytes());
                    Ok(())
                })
                .unwrap();
            }
            held.sort();
            held
        };
        spill.write_run(&run(&[1, 4, 7])).unwrap();
        spill.write_run(&run(&[2, 3, 9])).unwrap();
        spill.write_run(&run(&[])).unwrap();
        sink.spill = Some(spill);
        // Held out of order, with a repeated id whose last record wins.
        sink.conns = run(&[]);
        for (n, i) in [6u64, 8, 0, 6, 5].into_iter().enumerate() {
            let text = if n == 0 { "x" } else { "" };
            sink.conns
                .push(i, |w| {
                    w.extend_from_slice(format!("{{\"id\":{i}}}{text}").as_bytes());
                    Ok(())
                })
                .unwrap();
        }
        sink.write_conns().unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let ids: Vec<u64> = text
            .lines()
            .map(|l| {
                l.trim_start_matches("{\"id\":")
                    .trim_end_matches('}')
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
    }
}
