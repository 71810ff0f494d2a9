//! How an HTTP/1.x message body is delimited (RFC 9112 §6): a Content-Length, the chunked
//! transfer coding (§7.1) or the connection's close. The chunked coding is decoded
//! incrementally: a chunk-size line split anywhere, extensions and trailers counted and
//! bounded, the body counted (never buffered).

/// Longest chunk-extension part of a chunk-size line.
const MAX_CHUNK_EXT: u32 = 4096;
/// Largest trailer section.
const MAX_TRAILER: u32 = 64 << 10;

/// Chunked transfer coding state (RFC 9112 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chunk {
    Size {
        value: u64,
        digits: u32,
    },
    /// Rest of the chunk-size line (extensions, CR) up to LF.
    Ext {
        value: u64,
        len: u32,
    },
    Data(u64),
    /// CRLF after chunk data; `cr` = CR seen.
    DataEnd {
        cr: bool,
    },
    /// Trailer section; `line` = bytes on the current line.
    Trailer {
        line: u32,
        total: u32,
    },
}

impl Chunk {
    pub(super) fn start() -> Chunk {
        Chunk::Size {
            value: 0,
            digits: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    Length(u64),
    Chunked(Chunk),
    /// Response body delimited by the connection close.
    Close,
}

/// The body being counted in one direction.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct BodyTrack {
    /// Transaction it belongs to.
    pub(super) index: u32,
    pub(super) bytes: u64,
    pub(super) gap: u64,
    pub(super) chunks: u64,
    pub(super) trailers: u32,
    pub(super) extensions: bool,
}

/// Runs the chunked decoder over `data`: (bytes consumed, Ok(message complete) or the
/// framing error).
pub(super) fn run_chunked(
    st: &mut Chunk,
    data: &[u8],
    body: &mut BodyTrack,
) -> (usize, Result<bool, String>) {
    let mut i = 0;
    while i < data.len() {
        match *st {
            Chunk::Size { value, digits } => {
                let b = data[i];
                i += 1;
                if let Some(h) = (b as char).to_digit(16) {
                    let next = value
                        .checked_mul(16)
                        .and_then(|v| v.checked_add(h as u64))
                        .filter(|v| *v <= i64::MAX as u64);
                    let Some(next) = next else {
                        return (
                            i,
                            Err(format!(
                                "chunk size overflows 2^63-1 at hex digit {} (chunk {}, after {} body bytes)",
                                digits + 1,
                                body.chunks + 1,
                                body.bytes
                            )),
                        );
                    };
                    *st = Chunk::Size {
                        value: next,
                        digits: digits + 1,
                    };
                } else if digits == 0 {
                    return (
                        i,
                        Err(format!(
                            "chunk size expected, found byte 0x{b:02x} (chunk {})",
                            body.chunks + 1
                        )),
                    );
                } else if b == b'\n' {
                    *st = end_size_line(value, body);
                } else if matches!(b, b';' | b' ' | b'\t' | b'\r') {
                    if b == b';' {
                        body.extensions = true;
                    }
                    *st = Chunk::Ext { value, len: 1 };
                } else {
                    return (
                        i,
                        Err(format!(
                            "invalid byte 0x{b:02x} in chunk size (chunk {})",
                            body.chunks + 1
                        )),
                    );
                }
            }
            Chunk::Ext { value, len } => match data[i..].iter().position(|b| *b == b'\n') {
                Some(j) => {
                    if data[i..i + j].contains(&b';') {
                        body.extensions = true;
                    }
                    i += j + 1;
                    *st = end_size_line(value, body);
                }
                None => {
                    let rest = &data[i..];
                    if rest.contains(&b';') {
                        body.extensions = true;
                    }
                    let len = len.saturating_add(rest.len() as u32);
                    if len > MAX_CHUNK_EXT {
                        return (
                            data.len(),
                            Err(format!("chunk-size line longer than {MAX_CHUNK_EXT} bytes")),
                        );
                    }
                    *st = Chunk::Ext { value, len };
                    i = data.len();
                }
            },
            Chunk::Data(rem) => {
                let take = rem.min((data.len() - i) as u64);
                body.bytes += take;
                i += take as usize;
                *st = if take == rem {
                    Chunk::DataEnd { cr: false }
                } else {
                    Chunk::Data(rem - take)
                };
            }
            Chunk::DataEnd { cr } => {
                let b = data[i];
                i += 1;
                match b {
                    b'\r' if !cr => *st = Chunk::DataEnd { cr: true },
                    b'\n' => *st = Chunk::start(),
                    _ => {
                        return (
                            i,
                            Err(format!(
                                "missing CRLF after chunk {} data (found byte 0x{b:02x})",
                                body.chunks
                            )),
                        )
                    }
                }
            }
            Chunk::Trailer { line, total } => {
                let b = data[i];
                i += 1;
                match b {
                    b'\n' if line == 0 => return (i, Ok(true)),
                    b'\n' => {
                        body.trailers += 1;
                        *st = Chunk::Trailer { line: 0, total };
                    }
                    b'\r' => {}
                    _ => {
                        if total >= MAX_TRAILER {
                            return (i, Err(format!("trailer section over {MAX_TRAILER} bytes")));
                        }
                        *st = Chunk::Trailer {
                            line: line + 1,
                            total: total + 1,
                        };
                    }
                }
            }
        }
    }
    (i, Ok(false))
}

fn end_size_line(value: u64, body: &mut BodyTrack) -> Chunk {
    if value == 0 {
        Chunk::Trailer { line: 0, total: 0 }
    } else {
        body.chunks += 1;
        Chunk::Data(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `input` through a fresh chunked decoder, `step` bytes at a time: (bytes
    /// consumed, the last result, the body counted).
    fn decode(input: &[u8], step: usize) -> (usize, Result<bool, String>, BodyTrack) {
        let (mut st, mut body) = (Chunk::start(), BodyTrack::default());
        let mut used = 0;
        let mut last = Ok(false);
        for part in input.chunks(step) {
            let (n, r) = run_chunked(&mut st, part, &mut body);
            used += n;
            last = r;
            if !matches!(last, Ok(false)) {
                break;
            }
        }
        (used, last, body)
    }

    #[test]
    fn chunked_body_counted_whole_or_split_anywhere() {
        // RFC 9112 §7.1's shape: two chunks (4 + 5 bytes), an extension, one trailer.
        let input = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        for step in [input.len(), 1, 3, 7] {
            let (used, last, body) = decode(input, step);
            assert_eq!((used, last), (input.len(), Ok(true)), "step {step}");
            assert_eq!((body.bytes, body.chunks, body.trailers), (9, 2, 1));
            assert!(body.extensions);
        }
        // Bytes after the message are not consumed.
        let (used, last, _) = decode(b"0\r\n\r\nGET / HTTP/1.1\r\n", 64);
        assert_eq!((used, last), (5, Ok(true)));
    }

    #[test]
    fn chunked_framing_errors_are_errors_not_panics() {
        // 16 hex digits: 0x8000_0000_0000_0000 is past 2^63 - 1.
        let (used, last, _) = decode(b"8000000000000000\r\n", 64);
        assert_eq!(used, 16);
        assert!(last.unwrap_err().contains("overflows"));
        let (_, last, _) = decode(b"4\r\nWikiX\r\n", 64);
        assert!(last.unwrap_err().contains("missing CRLF"));
        let (_, last, _) = decode(b"\r\n", 64);
        assert!(last.unwrap_err().contains("chunk size expected"));
        let long_ext = [&b"1;"[..], &[b'a'; 5000][..]].concat();
        let (used, last, _) = decode(&long_ext, 64);
        // The line passes 4096 bytes in the 65th part of 64 (1 + 62 + 64 × 64 > 4096).
        assert_eq!(used, 65 * 64);
        assert!(last.unwrap_err().contains("longer than 4096"));
    }
}
