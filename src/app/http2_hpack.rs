//! HPACK header blocks (RFC 7541) with `loona-hpack`'s decoder (the maintained fork of the
//! `hpack` crate, the one whose decoder bounds the dynamic table a peer may ask for), with
//! layerscope's caps: the dynamic table at [`MAX_TABLE`] bytes, the decoded header list at
//! [`MAX_HEADER_LIST`] (RFC 7541 §4.1 sizes: name + value + 32), fields past it counted.
//! Once a block fails to decode the direction's table is lost and later blocks are not
//! decoded (every later index could point at the wrong field).

/// Largest dynamic table a peer may size (SETTINGS_HEADER_TABLE_SIZE is 4096 by default).
pub const MAX_TABLE: usize = 64 << 10;
/// Largest decoded header list kept per block.
pub const MAX_HEADER_LIST: usize = 64 << 10;

/// One decoded header block: its fields (lossy UTF-8; bytes from the wire, escape before
/// showing) and how many did not fit [`MAX_HEADER_LIST`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderList {
    pub fields: Vec<(String, String)>,
    pub cut: usize,
}

impl HeaderList {
    /// The first field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a header block was not decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    #[error("HPACK: {0}")]
    Decode(String),
    #[error("HPACK: an earlier header block of this direction did not decode, its table is lost")]
    TableLost,
}

/// One direction's HPACK decoding state.
pub struct HeaderDecoder {
    dec: loona_hpack::Decoder<'static>,
    lost: bool,
}

impl std::fmt::Debug for HeaderDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderDecoder")
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

impl Default for HeaderDecoder {
    fn default() -> Self {
        let mut dec = loona_hpack::Decoder::new();
        dec.set_max_allowed_table_size(MAX_TABLE);
        HeaderDecoder { dec, lost: false }
    }
}

impl HeaderDecoder {
    /// Decodes one whole header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs).
    pub fn decode(&mut self, block: &[u8]) -> Result<HeaderList, HpackError> {
        if self.lost {
            return Err(HpackError::TableLost);
        }
        let mut list = HeaderList::default();
        let mut size = 0usize;
        let r = self.dec.decode_with_cb(block, |name, value| {
            let s = name.len() + value.len() + 32;
            if size + s > MAX_HEADER_LIST {
                list.cut += 1;
                return;
            }
            size += s;
            list.fields.push((
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            ));
        });
        match r {
            Ok(()) => Ok(list),
            Err(e) => {
                self.lost = true;
                Err(HpackError::Decode(e.to_string()))
            }
        }
    }

    /// The table is lost (a block was cut or skipped): later blocks are not decoded.
    pub fn lose(&mut self) {
        self.lost = true;
    }

    pub fn is_lost(&self) -> bool {
        self.lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn fields(l: &HeaderList) -> Vec<(&str, &str)> {
        l.fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// RFC 7541 Appendix C.3 (requests without Huffman coding) and C.4 (the same with
    /// Huffman coding): three requests on one connection, the dynamic table carried over.
    #[test]
    fn rfc7541_appendix_c3_and_c4() {
        let first = vec![
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ];
        let mut second = first.clone();
        second.push(("cache-control", "no-cache"));
        let third = vec![
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ];
        for blocks in [
            [
                "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "8286 84be 5808 6e6f 2d63 6163 6865",
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            ],
            [
                "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                "8286 84be 5886 a8eb 1064 9cbf",
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            ],
        ] {
            let mut d = HeaderDecoder::default();
            for (block, want) in blocks.iter().zip([&first, &second, &third]) {
                let l = d.decode(&hex(block)).unwrap();
                assert_eq!(&fields(&l), want);
                assert_eq!(l.cut, 0);
            }
        }
    }

    #[test]
    fn hostile_blocks_lose_the_table_and_never_panic() {
        let mut d = HeaderDecoder::default();
        // Index 70: past the static table, the dynamic one is empty.
        assert!(matches!(d.decode(&[0x80 | 70]), Err(HpackError::Decode(_))));
        assert_eq!(d.decode(&[0x82]), Err(HpackError::TableLost));
        // A size update over the cap (2^20).
        let mut d = HeaderDecoder::default();
        assert!(d.decode(&[0x3f, 0xe1, 0xff, 0x3f, 0x82]).is_err());
        // A list over the cap: fields past it are counted, not kept.
        let mut d = HeaderDecoder::default();
        let mut block = Vec::new();
        for _ in 0..40 {
            // Literal without indexing, new name "x", value of 2000 bytes (7-bit length 2000).
            block.extend_from_slice(&[0x00, 0x01, b'x', 0x7f, 0xd1, 0x0e]);
            block.extend(std::iter::repeat_n(b'v', 2000));
        }
        let l = d.decode(&block).unwrap();
        assert_eq!(l.fields.len(), MAX_HEADER_LIST / 2033);
        assert_eq!(l.cut, 40 - MAX_HEADER_LIST / 2033);
    }
}
