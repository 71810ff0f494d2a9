//! AYIYA, "Anything In Anything" (SixXS tunnels, UDP 5072).

use super::{be32, byte, check_len, Describe, Field, IpNumber, Next, Truncated};

mod field {
    use std::ops::Range;
    pub const ID: usize = 0;
    pub const SIG: usize = 1;
    pub const OPCODE: usize = 2;
    pub const NEXT_HEADER: usize = 3;
    pub const EPOCH: Range<usize> = 4..8;
}

pub const BASE_LEN: usize = 8;
/// Opcode 1: the payload is forwarded.
pub const OPCODE_FORWARD: u8 = 1;

#[derive(Clone, Copy, Debug)]
pub struct Ayiya<'a> {
    buf: &'a [u8],
}

impl<'a> Ayiya<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, BASE_LEN)?;
        let a = Ayiya { buf };
        check_len(buf, a.header_len())?;
        Ok(a)
    }
    /// 8 + identity (2^idlen bytes, idlen ≤ 15) + signature (siglen × 4 bytes).
    pub fn header_len(&self) -> usize {
        let id_len = 1usize << (byte(self.buf, field::ID) >> 4);
        let sig_len = usize::from(byte(self.buf, field::SIG) >> 4) * 4;
        BASE_LEN + id_len + sig_len
    }
    pub fn opcode(&self) -> u8 {
        byte(self.buf, field::OPCODE) & 0x0F
    }
    pub fn next_header(&self) -> IpNumber {
        IpNumber(byte(self.buf, field::NEXT_HEADER))
    }
    pub fn epoch(&self) -> u32 {
        be32(self.buf, field::EPOCH)
    }
    pub fn next(&self) -> Next {
        match self.next_header() {
            n @ (IpNumber::IPV4 | IpNumber::IPV6) if self.opcode() == OPCODE_FORWARD => Next::Ip(n),
            _ => Next::Opaque,
        }
    }
}

impl Describe for Ayiya<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "opcode",
            u64::from(self.opcode()),
            match self.opcode() {
                0 => "no operation / heartbeat",
                1 => "forward",
                _ => "",
            },
        )
        .at_byte(field::OPCODE));
        let n = self.next_header();
        f(Field::new("next header", u64::from(n.0), n.name()).at_byte(field::NEXT_HEADER));
        f(Field::new(
            "epoch",
            u64::from(self.epoch()),
            "sender's clock (UNIX time)",
        )
        .at(field::EPOCH));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_ipv6() {
        // idlen 4 (16-byte id), siglen 5 (20 bytes): 44-byte header
        let mut b = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 1];
        b.resize(44, 0);
        b.push(0x60);
        let a = Ayiya::new_checked(&b).unwrap();
        assert_eq!((a.header_len(), a.next()), (44, Next::Ip(IpNumber::IPV6)));
        assert!(Ayiya::new_checked(&b[..43]).is_err());
        b[3] = 59;
        assert_eq!(Ayiya::new_checked(&b).unwrap().next(), Next::Opaque);
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Identity length 2^0 = 1 byte, no signature: forward, next header IPv6, epoch 1,
        // then the identity byte.
        let b = [0x00, 0x00, 0x01, 41, 0, 0, 0, 1, 0xaa];
        let h = Ayiya::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("opcode", Some((2, 1))),
                ("next header", Some((3, 1))),
                ("epoch", Some((4, 4))),
            ]
        );
    }
}
