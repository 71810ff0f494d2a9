//! The primitive representations HPACK (RFC 7541 §5) and QPACK (RFC 9204 §4.1) share:
//! prefixed integers and string literals, Huffman-coded or not. Huffman strings are decoded
//! by `loona-hpack`'s decoder (RFC 7541 Appendix B's code), its table built once per
//! thread — its own `Decoder` builds that table again for every string, which made HTTP/2
//! header decoding 17 times slower (`cargo bench --bench stages -- hpack`).

use loona_hpack::huffman::HuffmanDecoder;

/// Why a primitive did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrimitiveError {
    #[error("truncated")]
    Truncated,
    #[error("integer too large")]
    Overflow,
    #[error("bad Huffman string")]
    Huffman,
}

thread_local! {
    /// loona-hpack's decoder table, built once per thread (it is a `HashMap` of the 257
    /// codes: building it costs more than decoding a whole header block).
    static HUFFMAN: std::cell::RefCell<HuffmanDecoder> = std::cell::RefCell::new(HuffmanDecoder::new());
}

/// Huffman decoding (RFC 7541 §5.2, Appendix B) with the thread's one decoder table.
pub fn huffman(raw: &[u8]) -> Result<Vec<u8>, PrimitiveError> {
    HUFFMAN
        .with(|h| h.borrow_mut().decode(raw))
        .map_err(|_| PrimitiveError::Huffman)
}

/// A prefixed integer (RFC 7541 §5.1) whose prefix is the low `bits` bits of `data[*pos]`.
pub fn prefixed(data: &[u8], pos: &mut usize, bits: u32) -> Result<u64, PrimitiveError> {
    let first = *data.get(*pos).ok_or(PrimitiveError::Truncated)?;
    *pos += 1;
    let max = (1u64 << bits) - 1;
    let mut v = u64::from(first) & max;
    if v < max {
        return Ok(v);
    }
    let mut shift = 0u32;
    loop {
        let b = *data.get(*pos).ok_or(PrimitiveError::Truncated)?;
        *pos += 1;
        if shift > 56 {
            return Err(PrimitiveError::Overflow);
        }
        v = v
            .checked_add(u64::from(b & 0x7f) << shift)
            .ok_or(PrimitiveError::Overflow)?;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// A string literal (RFC 7541 §5.2) whose Huffman flag is bit `bits` of `data[*pos]` and
/// whose length has a `bits`-bit prefix.
pub fn string(data: &[u8], pos: &mut usize, bits: u32) -> Result<Vec<u8>, PrimitiveError> {
    let h = data.get(*pos).ok_or(PrimitiveError::Truncated)? & (1 << bits) != 0;
    let len = prefixed(data, pos, bits)?;
    let len = usize::try_from(len).map_err(|_| PrimitiveError::Overflow)?;
    let raw = data
        .get(*pos..pos.checked_add(len).ok_or(PrimitiveError::Overflow)?)
        .ok_or(PrimitiveError::Truncated)?;
    *pos += len;
    if h {
        huffman(raw)
    } else {
        Ok(raw.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7541 C.1.1–C.1.3: 10 with a 5-bit prefix, 1337 with a 5-bit prefix, 42 at an
    /// octet boundary.
    #[test]
    fn rfc7541_integer_examples() {
        let mut pos = 0;
        assert_eq!(prefixed(&[0b0000_1010], &mut pos, 5), Ok(10));
        assert_eq!(pos, 1);
        let mut pos = 0;
        assert_eq!(
            prefixed(&[0b0001_1111, 0b1001_1010, 0b0000_1010], &mut pos, 5),
            Ok(1337)
        );
        assert_eq!(pos, 3);
        let mut pos = 0;
        assert_eq!(prefixed(&[42], &mut pos, 8), Ok(42));
        let mut pos = 0;
        assert_eq!(
            prefixed(&[0x1f, 0x80], &mut pos, 5),
            Err(PrimitiveError::Truncated)
        );
        let mut pos = 0;
        let long = [
            0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert_eq!(prefixed(&long, &mut pos, 5), Err(PrimitiveError::Overflow));
    }

    /// RFC 7541 C.4.1: "www.example.com" Huffman-coded, the same decoder used twice.
    #[test]
    fn huffman_string_and_reuse() {
        let block = [
            0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        for _ in 0..2 {
            let mut pos = 0;
            assert_eq!(string(&block, &mut pos, 7).unwrap(), b"www.example.com");
            assert_eq!(pos, block.len());
        }
        let mut pos = 0;
        assert_eq!(
            string(&[0x83, 0xff, 0xff, 0xff], &mut pos, 7),
            Err(PrimitiveError::Huffman)
        );
        let mut pos = 0;
        assert_eq!(
            string(&[0x05, b'a'], &mut pos, 7),
            Err(PrimitiveError::Truncated)
        );
    }
}
