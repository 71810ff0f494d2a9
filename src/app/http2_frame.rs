//! HTTP/2 frames (RFC 9113 §4, §6), stateless: the 9-byte frame header and one frame's
//! payload read into a [`Frame`] that borrows the payload. Padding is removed; lengths that
//! do not fit are errors, never panics.

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Size of a frame header.
pub const FRAME_HEADER_LEN: usize = 9;

pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const PRIORITY: u8 = 2;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PUSH_PROMISE: u8 = 5;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    /// Stream identifier (the reserved bit cleared).
    pub stream: u32,
}

/// Reads a frame header from the first 9 bytes of `b`.
pub fn frame_header(b: &[u8]) -> Option<FrameHeader> {
    let &[l0, l1, l2, kind, flags, s0, s1, s2, s3] = b.get(..FRAME_HEADER_LEN)? else {
        return None;
    };
    Some(FrameHeader {
        len: u32::from_be_bytes([0, l0, l1, l2]),
        kind,
        flags,
        stream: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
    })
}

/// The name of a frame type as RFC 9113 writes it ("HEADERS", …), else "UNKNOWN".
pub fn frame_name(kind: u8) -> &'static str {
    match kind {
        DATA => "DATA",
        HEADERS => "HEADERS",
        PRIORITY => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        PING => "PING",
        GOAWAY => "GOAWAY",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => "UNKNOWN",
    }
}

/// The name of an error code (RFC 9113 §7).
pub fn error_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "unknown error",
    }
}

/// One frame, its payload borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Data {
        /// Data without padding.
        data: &'a [u8],
        end_stream: bool,
    },
    Headers {
        /// Header block fragment (padding and priority removed).
        block: &'a [u8],
        end_stream: bool,
        end_headers: bool,
    },
    Priority,
    RstStream {
        code: u32,
    },
    Settings {
        ack: bool,
        /// SETTINGS_HEADER_TABLE_SIZE, if the frame sets it.
        header_table_size: Option<u32>,
        /// Parameters in the frame.
        count: usize,
    },
    PushPromise {
        promised: u32,
        block: &'a [u8],
        end_headers: bool,
    },
    Ping {
        ack: bool,
    },
    GoAway {
        last_stream: u32,
        code: u32,
    },
    WindowUpdate {
        increment: u32,
    },
    Continuation {
        block: &'a [u8],
        end_headers: bool,
    },
    /// A frame type this parser does not know (extensions are allowed: RFC 9113 §5.5).
    Unknown(u8),
}

/// Why a frame's payload does not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{0} frame of {1} bytes has the wrong size")]
    Size(&'static str, usize),
    #[error("{0} frame's padding is longer than its payload")]
    Padding(&'static str),
}

/// Removes PADDED padding: the first byte is the pad length.
fn unpad<'a>(h: &FrameHeader, p: &'a [u8]) -> Result<&'a [u8], FrameError> {
    if h.flags & PADDED == 0 {
        return Ok(p);
    }
    let name = frame_name(h.kind);
    let (&pad, rest) = p.split_first().ok_or(FrameError::Padding(name))?;
    rest.len()
        .checked_sub(usize::from(pad))
        .map(|n| &rest[..n])
        .ok_or(FrameError::Padding(name))
}

fn be32(b: &[u8]) -> u32 {
    match b {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// Reads one frame's `payload` (exactly `h.len` bytes) as frame type `h.kind` says.
pub fn parse_frame<'a>(h: &FrameHeader, payload: &'a [u8]) -> Result<Frame<'a>, FrameError> {
    let name = frame_name(h.kind);
    let n = payload.len();
    let size = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(FrameError::Size(name, n))
        }
    };
    Ok(match h.kind {
        DATA => Frame::Data {
            data: unpad(h, payload)?,
            end_stream: h.flags & END_STREAM != 0,
        },
        HEADERS => {
            let mut block = unpad(h, payload)?;
            if h.flags & PRIORITY_FLAG != 0 {
                block = block.get(5..).ok_or(FrameError::Size(name, n))?;
            }
            Frame::Headers {
                block,
                end_stream: h.flags & END_STREAM != 0,
                end_headers: h.flags & END_HEADERS != 0,
            }
        }
        PRIORITY => {
            size(n == 5)?;
            Frame::Priority
        }
        RST_STREAM => {
            size(n == 4)?;
            Frame::RstStream {
                code: be32(payload),
            }
        }
        SETTINGS => {
            size(n % 6 == 0 && (h.flags & ACK == 0 || n == 0))?;
            let header_table_size = payload
                .chunks_exact(6)
                .rfind(|p| u16::from_be_bytes([p[0], p[1]]) == 1)
                .map(|p| be32(&p[2..]));
            Frame::Settings {
                ack: h.flags & ACK != 0,
                header_table_size,
                count: n / 6,
            }
        }
        PUSH_PROMISE => {
            let p = unpad(h, payload)?;
            size(p.len() >= 4)?;
            Frame::PushPromise {
                promised: be32(p) & 0x7fff_ffff,
                block: &p[4..],
                end_headers: h.flags & END_HEADERS != 0,
            }
        }
        PING => {
            size(n == 8)?;
            Frame::Ping {
                ack: h.flags & ACK != 0,
            }
        }
        GOAWAY => {
            size(n >= 8)?;
            Frame::GoAway {
                last_stream: be32(payload) & 0x7fff_ffff,
                code: be32(&payload[4..]),
            }
        }
        WINDOW_UPDATE => {
            size(n == 4)?;
            Frame::WindowUpdate {
                increment: be32(payload) & 0x7fff_ffff,
            }
        }
        CONTINUATION => Frame::Continuation {
            block: payload,
            end_headers: h.flags & END_HEADERS != 0,
        },
        other => Frame::Unknown(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn parsed(f: &[u8]) -> Result<Frame<'_>, FrameError> {
        let h = frame_header(f).unwrap();
        parse_frame(&h, &f[FRAME_HEADER_LEN..])
    }

    #[test]
    fn headers_with_padding_and_priority() {
        // Pad length 2, priority (5 bytes), block "ab", 2 padding bytes.
        let f = frame(HEADERS, 0x2d, 3, &[2, 0, 0, 0, 1, 16, b'a', b'b', 0, 0]);
        let h = frame_header(&f).unwrap();
        assert_eq!((h.len, h.kind, h.stream), (10, HEADERS, 3));
        assert_eq!(
            parsed(&f),
            Ok(Frame::Headers {
                block: b"ab",
                end_stream: true,
                end_headers: true
            })
        );
        // Padding longer than the payload.
        let f = frame(DATA, PADDED, 1, &[9, 1, 2]);
        assert_eq!(parsed(&f), Err(FrameError::Padding("DATA")));
    }

    #[test]
    fn control_frames_and_their_sizes() {
        let settings = frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x10, 0, 0, 3, 0, 0, 0, 100]);
        assert_eq!(
            parsed(&settings),
            Ok(Frame::Settings {
                ack: false,
                header_table_size: Some(4096),
                count: 2
            })
        );
        assert_eq!(
            parsed(&frame(SETTINGS, ACK, 0, &[0; 6])),
            Err(FrameError::Size("SETTINGS", 6))
        );
        assert_eq!(
            parsed(&frame(GOAWAY, 0, 0, &[0x80, 0, 0, 5, 0, 0, 0, 2, b'x'])),
            Ok(Frame::GoAway {
                last_stream: 5,
                code: 2
            })
        );
        assert_eq!(
            parsed(&frame(RST_STREAM, 0, 1, &[0, 0, 0, 8])),
            Ok(Frame::RstStream { code: 8 })
        );
        assert_eq!(
            parsed(&frame(WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0])),
            Ok(Frame::WindowUpdate { increment: 65536 })
        );
        assert_eq!(
            parsed(&frame(PING, 1, 0, &[0; 8])),
            Ok(Frame::Ping { ack: true })
        );
        assert_eq!(
            parsed(&frame(PING, 0, 0, &[0; 7])),
            Err(FrameError::Size("PING", 7))
        );
        assert_eq!(
            parsed(&frame(PUSH_PROMISE, END_HEADERS, 1, &[0, 0, 0, 2, b'h'])),
            Ok(Frame::PushPromise {
                promised: 2,
                block: b"h",
                end_headers: true
            })
        );
        assert_eq!(parsed(&frame(0xfa, 0, 0, b"ext")), Ok(Frame::Unknown(0xfa)));
        assert_eq!(frame_header(&[0; 8]), None);
        assert_eq!(error_name(8), "CANCEL");
    }
}
