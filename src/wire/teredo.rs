//! Teredo (RFC 4380): optional authentication and origin indication, then IPv6.

use super::{byte, check_len, Describe, Field, Next, Truncated};

/// Origin indication: 0x0000, port (2, obfuscated), address (4, obfuscated).
pub const ORIGIN_LEN: usize = 8;
/// Authentication: 0x0001, id length, auth length, id, auth, nonce (8), confirmation (1).
pub const AUTH_FIXED_LEN: usize = 13;

#[derive(Clone, Copy, Debug)]
pub struct Teredo<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> Teredo<'a> {
    /// Walks the indicators; fails when what follows them is not an IPv6 header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        let mut len = 0;
        if buf.get(..2) == Some(&[0, 1]) {
            check_len(buf, 4)?;
            len = AUTH_FIXED_LEN + usize::from(byte(buf, 2)) + usize::from(byte(buf, 3));
            check_len(buf, len)?;
        }
        if buf.get(len..len + 2) == Some(&[0, 0]) {
            len += ORIGIN_LEN;
            check_len(buf, len)?;
        }
        check_len(buf, len + 1)?;
        Ok(Teredo { buf, len })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    /// An IPv6 packet (a bubble is an IPv6 header with no payload).
    pub fn carries_ipv6(&self) -> bool {
        byte(self.buf, self.len) >> 4 == 6
    }
    pub fn next(&self) -> Next {
        if self.carries_ipv6() {
            Next::IpByVersion
        } else {
            Next::Opaque
        }
    }
}

impl Describe for Teredo<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "indicators",
            self.len as u64,
            "bytes of authentication / origin indication before the IPv6 packet",
        )
        .at(0..self.len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_origin_and_auth() {
        let t = Teredo::new_checked(&[0x60, 0, 0, 0]).unwrap();
        assert_eq!((t.header_len(), t.next()), (0, Next::IpByVersion));
        let t = Teredo::new_checked(&[0, 0, 1, 2, 3, 4, 5, 6, 0x60]).unwrap();
        assert_eq!(t.header_len(), 8);
        let mut b = vec![0, 1, 0, 0];
        b.extend_from_slice(&[0; 9]);
        b.push(0x60);
        let t = Teredo::new_checked(&b).unwrap();
        assert_eq!(t.header_len(), 13);
        assert!(Teredo::new_checked(&[0, 1, 200, 200, 0]).is_err());
        assert_eq!(Teredo::new_checked(&[0x45]).unwrap().next(), Next::Opaque);
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn the_indicators_are_placed_at_their_bytes() {
        // An origin indication (8 bytes: 0x0000, port, address), then an IPv6 header.
        let mut b = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
        b.push(0x60);
        assert_eq!(
            super::super::placed(&Teredo::new_checked(&b).unwrap()),
            [("indicators", Some((0, 8)))]
        );
    }
}
