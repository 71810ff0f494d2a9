//! SCTP (RFC 9260): the common header and the chunk list.

use super::{be16, be32, byte, check_len, Describe, Field, Next, Truncated};

pub const HEADER_LEN: usize = 12;
/// Most chunks listed.
pub const MAX_CHUNKS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct Sctp<'a> {
    buf: &'a [u8],
}

impl<'a> Sctp<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Sctp { buf })
    }
    pub fn src_port(&self) -> u16 {
        be16(self.buf, 0..2)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, 2..4)
    }
    pub fn verification_tag(&self) -> u32 {
        be32(self.buf, 4..8)
    }
    /// Chunk types, at most [`MAX_CHUNKS`], as far as their lengths hold.
    pub fn chunk_types(&self) -> impl Iterator<Item = u8> + 'a {
        self.chunks().map(|(_, kind)| kind)
    }
    /// The chunks as (offset in the packet, type), at most [`MAX_CHUNKS`].
    pub fn chunks(&self) -> impl Iterator<Item = (usize, u8)> + 'a {
        let buf = self.buf;
        let mut at = HEADER_LEN;
        let mut n = 0;
        std::iter::from_fn(move || {
            if n == MAX_CHUNKS {
                return None;
            }
            let kind = *buf.get(at)?;
            let start = at;
            let len = usize::from(be16(buf, at + 2..at + 4));
            n += 1;
            at = if len < 4 {
                buf.len()
            } else {
                at + ((len + 3) & !3)
            };
            Some((start, kind))
        })
    }
    pub fn next(&self) -> Next {
        Next::Opaque
    }
}

/// A chunk type's name (tshark's).
pub fn chunk_name(kind: u8) -> &'static str {
    match kind {
        0 => "DATA",
        1 => "INIT",
        2 => "INIT_ACK",
        3 => "SACK",
        4 => "HEARTBEAT",
        5 => "HEARTBEAT_ACK",
        6 => "ABORT",
        7 => "SHUTDOWN",
        8 => "SHUTDOWN_ACK",
        9 => "ERROR",
        10 => "COOKIE_ECHO",
        11 => "COOKIE_ACK",
        14 => "SHUTDOWN_COMPLETE",
        15 => "AUTH",
        64 => "I_DATA",
        0x80 => "ASCONF_ACK",
        0xC0 => "FORWARD_TSN",
        0xC1 => "ASCONF",
        _ => "unknown",
    }
}

impl Describe for Sctp<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("source port", u64::from(self.src_port()), "").at(0..2));
        f(Field::new("destination port", u64::from(self.dst_port()), "").at(2..4));
        f(Field::new("verification tag", u64::from(self.verification_tag()), "").at(4..8));
        for (at, kind) in self.chunks() {
            // The chunk's type, flags and length (its value is the next layer's concern).
            f(Field::new("chunk", u64::from(kind), chunk_name(kind)).at(at..at + 4));
        }
        let _ = byte(self.buf, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_chunks() {
        let mut b = vec![0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 1, 0, 0, 0, 0];
        b.extend_from_slice(&[1, 0, 0, 20]);
        b.resize(32, 0);
        b.extend_from_slice(&[3, 0, 0, 4]);
        let s = Sctp::new_checked(&b).unwrap();
        assert_eq!((s.src_port(), s.dst_port()), (2905, 2905));
        let names: Vec<_> = s.chunk_types().map(chunk_name).collect();
        assert_eq!(names, ["INIT", "SACK"]);
        assert!(Sctp::new_checked(&b[..11]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_and_each_chunk_header_are_placed_at_their_bytes() {
        // Ports 1 → 2, tag 3, checksum; a DATA chunk of length 17 (padded to 20: 12..32),
        // then a SACK chunk header at 32.
        let mut b = vec![0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0];
        b.extend_from_slice(&[0, 3, 0, 17]);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&[3, 0, 0, 16]);
        b.extend_from_slice(&[0; 12]);
        let h = Sctp::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("source port", Some((0, 2))),
                ("destination port", Some((2, 2))),
                ("verification tag", Some((4, 4))),
                ("chunk", Some((12, 4))),
                ("chunk", Some((32, 4))),
            ]
        );
    }
}
