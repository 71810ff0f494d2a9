//! The frames of a decrypted QUIC packet payload (RFC 9000 §19, RFC 9221 for DATAGRAM):
//! a walk that borrows the payload and hands each frame to the caller, stopping at the
//! first frame type it does not know or a frame that runs past the payload.

/// One frame, borrowing the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING bytes.
    Padding(usize),
    Ping,
    Ack,
    ResetStream {
        id: u64,
        code: u64,
    },
    StopSending {
        id: u64,
        code: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    NewToken,
    Stream {
        id: u64,
        offset: u64,
        data: &'a [u8],
        fin: bool,
    },
    /// MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS, DATA_BLOCKED, STREAM_DATA_BLOCKED,
    /// STREAMS_BLOCKED: flow control, by type.
    FlowControl(u8),
    NewConnectionId {
        cid_len: usize,
    },
    RetireConnectionId,
    PathChallenge,
    PathResponse,
    ConnectionClose {
        code: u64,
        /// 0x1d: closed by the application (an HTTP/3 error code).
        application: bool,
    },
    HandshakeDone,
    Datagram(&'a [u8]),
}

impl Frame<'_> {
    /// The frame's name as RFC 9000 spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Padding(_) => "PADDING",
            Frame::Ping => "PING",
            Frame::Ack => "ACK",
            Frame::ResetStream { .. } => "RESET_STREAM",
            Frame::StopSending { .. } => "STOP_SENDING",
            Frame::Crypto { .. } => "CRYPTO",
            Frame::NewToken => "NEW_TOKEN",
            Frame::Stream { .. } => "STREAM",
            Frame::FlowControl(t) => match t {
                0x10 => "MAX_DATA",
                0x11 => "MAX_STREAM_DATA",
                0x12 | 0x13 => "MAX_STREAMS",
                0x14 => "DATA_BLOCKED",
                0x15 => "STREAM_DATA_BLOCKED",
                _ => "STREAMS_BLOCKED",
            },
            Frame::NewConnectionId { .. } => "NEW_CONNECTION_ID",
            Frame::RetireConnectionId => "RETIRE_CONNECTION_ID",
            Frame::PathChallenge => "PATH_CHALLENGE",
            Frame::PathResponse => "PATH_RESPONSE",
            Frame::ConnectionClose { .. } => "CONNECTION_CLOSE",
            Frame::HandshakeDone => "HANDSHAKE_DONE",
            Frame::Datagram(_) => "DATAGRAM",
        }
    }
}

/// Where a walk stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A frame type this walk does not know (or, for [`walk`]'s caller, one it refused).
    UnknownType(u64),
    /// A frame that runs past the payload.
    Truncated,
}

/// RFC 9000 §16 variable-length integer at `*pos`.
pub fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    let n = 1usize << (first >> 6);
    let bytes = data.get(*pos..pos.checked_add(n)?)?;
    *pos += n;
    Some(bytes.iter().enumerate().fold(0u64, |acc, (i, &b)| {
        (acc << 8) | u64::from(if i == 0 { b & 0x3f } else { b })
    }))
}

/// `len` bytes at `*pos`.
fn bytes<'a>(data: &'a [u8], pos: &mut usize, len: u64) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    let out = data.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some(out)
}

/// One frame at `*pos` (its type already read as `t`).
fn frame<'a>(t: u64, p: &'a [u8], pos: &mut usize) -> Option<Result<Frame<'a>, Stop>> {
    let f = match t {
        0x00 => {
            let run = p[*pos..].iter().take_while(|&&b| b == 0).count();
            *pos += run;
            Frame::Padding(run + 1)
        }
        0x01 => Frame::Ping,
        0x02 | 0x03 => {
            varint(p, pos)?; // largest acknowledged
            varint(p, pos)?; // delay
            let ranges = varint(p, pos)?;
            varint(p, pos)?; // first range
            for _ in 0..ranges {
                varint(p, pos)?; // gap
                varint(p, pos)?; // range length
            }
            if t == 0x03 {
                for _ in 0..3 {
                    varint(p, pos)?; // ECN counts
                }
            }
            Frame::Ack
        }
        0x04 => {
            let id = varint(p, pos)?;
            let code = varint(p, pos)?;
            varint(p, pos)?; // final size
            Frame::ResetStream { id, code }
        }
        0x05 => Frame::StopSending {
            id: varint(p, pos)?,
            code: varint(p, pos)?,
        },
        0x06 => {
            let offset = varint(p, pos)?;
            let len = varint(p, pos)?;
            Frame::Crypto {
                offset,
                data: bytes(p, pos, len)?,
            }
        }
        0x07 => {
            let len = varint(p, pos)?;
            bytes(p, pos, len)?;
            Frame::NewToken
        }
        0x08..=0x0f => {
            let id = varint(p, pos)?;
            let offset = if t & 0x04 != 0 { varint(p, pos)? } else { 0 };
            let len = if t & 0x02 != 0 {
                varint(p, pos)?
            } else {
                (p.len() - *pos) as u64
            };
            Frame::Stream {
                id,
                offset,
                data: bytes(p, pos, len)?,
                fin: t & 0x01 != 0,
            }
        }
        0x10 | 0x12..=0x14 | 0x16 | 0x17 => {
            varint(p, pos)?;
            Frame::FlowControl(t as u8)
        }
        0x11 | 0x15 => {
            varint(p, pos)?;
            varint(p, pos)?;
            Frame::FlowControl(t as u8)
        }
        0x18 => {
            varint(p, pos)?; // sequence number
            varint(p, pos)?; // retire prior to
            let cid_len = *p.get(*pos)? as usize;
            *pos += 1;
            bytes(p, pos, cid_len as u64 + 16)?; // id and stateless reset token
            Frame::NewConnectionId { cid_len }
        }
        0x19 => {
            varint(p, pos)?;
            Frame::RetireConnectionId
        }
        0x1a | 0x1b => {
            bytes(p, pos, 8)?;
            if t == 0x1a {
                Frame::PathChallenge
            } else {
                Frame::PathResponse
            }
        }
        0x1c | 0x1d => {
            let code = varint(p, pos)?;
            if t == 0x1c {
                varint(p, pos)?; // frame type
            }
            let len = varint(p, pos)?;
            bytes(p, pos, len)?;
            Frame::ConnectionClose {
                code,
                application: t == 0x1d,
            }
        }
        0x1e => Frame::HandshakeDone,
        0x30 => {
            let rest = &p[*pos..];
            *pos = p.len();
            Frame::Datagram(rest)
        }
        0x31 => {
            let len = varint(p, pos)?;
            Frame::Datagram(bytes(p, pos, len)?)
        }
        _ => return Some(Err(Stop::UnknownType(t))),
    };
    Some(Ok(f))
}

/// Walks the frames of `payload`, handing each to `each` (which may refuse one by
/// returning false: the walk stops there with [`Stop::UnknownType`]). `None` when every
/// byte was read.
pub fn walk<'a>(payload: &'a [u8], mut each: impl FnMut(Frame<'a>) -> bool) -> Option<Stop> {
    let mut pos = 0;
    while pos < payload.len() {
        let Some(t) = varint(payload, &mut pos) else {
            return Some(Stop::Truncated);
        };
        match frame(t, payload, &mut pos) {
            None => return Some(Stop::Truncated),
            Some(Err(stop)) => return Some(stop),
            Some(Ok(f)) => {
                if !each(f) {
                    return Some(Stop::UnknownType(t));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_kind_and_stops_cleanly() {
        let mut p = vec![0x00, 0x00, 0x00, 0x01]; // 3 PADDING, PING
        p.extend_from_slice(&[0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x00]); // ACK, 1 range
        p.extend_from_slice(&[0x0e, 0x04, 0x40, 0x10, 0x03, b'a', b'b', b'c']); // STREAM off+len
        p.extend_from_slice(&[0x18, 0x01, 0x00, 0x02, 0xaa, 0xbb]);
        p.extend_from_slice(&[0u8; 16]);
        p.extend_from_slice(&[0x1d, 0x41, 0x00, 0x00, 0x1e]); // CONNECTION_CLOSE app, HANDSHAKE_DONE
        p.extend_from_slice(&[0x09, 0x08, b'x', b'y']); // STREAM id 8, FIN, to the end
        let mut seen = Vec::new();
        assert_eq!(
            walk(&p, |f| {
                seen.push(f);
                true
            }),
            None
        );
        assert_eq!(seen[0], Frame::Padding(3));
        assert_eq!(seen[1], Frame::Ping);
        assert_eq!(seen[2], Frame::Ack);
        assert_eq!(
            seen[3],
            Frame::Stream {
                id: 4,
                offset: 16,
                data: b"abc",
                fin: false
            }
        );
        assert_eq!(seen[4], Frame::NewConnectionId { cid_len: 2 });
        assert_eq!(
            seen[5],
            Frame::ConnectionClose {
                code: 0x100,
                application: true
            }
        );
        assert_eq!(seen[6].name(), "HANDSHAKE_DONE");
        assert_eq!(
            seen[7],
            Frame::Stream {
                id: 8,
                offset: 0,
                data: b"xy",
                fin: true
            }
        );
        assert_eq!(walk(&[0x40], |_| true), Some(Stop::Truncated));
        assert_eq!(
            walk(&[0x06, 0x00, 0x05, 1], |_| true),
            Some(Stop::Truncated)
        );
        assert_eq!(walk(&[0x21], |_| true), Some(Stop::UnknownType(0x21)));
        assert_eq!(walk(&[0x01], |_| false), Some(Stop::UnknownType(1)));
        for cut in 0..p.len() {
            let _ = walk(&p[..cut], |_| true);
        }
    }
}
