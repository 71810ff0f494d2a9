//! QUIC packet protection (RFC 9001 §5, RFC 9369 §3.3 for v2's labels) for every packet
//! number space: keys from a TLS 1.3 secret (an Initial secret, or a handshake or
//! application traffic secret from a key log), header protection removed (AES-ECB or the
//! raw ChaCha20 stream, §5.4.3-5.4.4), the payload opened with the suite's AEAD, and key
//! updates (§6: "quic ku").
//!
//! The cryptography is RustCrypto's (`hkdf`, `aes`, `aes-gcm`, `chacha20`,
//! `chacha20poly1305`, through [`crate::app::tls_decrypt`]); this file lays out the inputs
//! the RFCs prescribe (labels, sample, nonce, additional data).

use aes::cipher::{BlockEncrypt, KeyInit};
use chacha20::cipher::typenum::U10;
use chacha20::cipher::{KeyIvInit, StreamCipherCore, StreamCipherSeekCore};

use crate::app::tls_decrypt::{self, expand_label, AeadKind, Cipher, Suite};

/// AEAD tag and header-protection sample length.
pub const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;
/// The TLS 1.3 suite of Initial packets (AES-128-GCM with SHA-256).
pub const INITIAL_SUITE: u16 = 0x1301;

#[derive(Clone)]
enum HeaderCipher {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
    ChaCha20([u8; 32]),
}

/// One direction's packet protection keys in one packet number space.
#[derive(Clone)]
pub struct PacketKeys {
    pub key: Vec<u8>,
    pub iv: [u8; 12],
    pub hp: Vec<u8>,
    cipher: Cipher,
    hp_cipher: HeaderCipher,
    suite: Suite,
    v2: bool,
    /// The secret these keys came from (the next key phase is derived from it).
    secret: Vec<u8>,
}

impl std::fmt::Debug for PacketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketKeys")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// Why a packet was not opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnprotectError {
    #[error("packet too short for the header-protection sample")]
    TooShort,
    #[error("authentication tag does not match (wrong keys or damaged packet)")]
    BadTag,
}

/// A packet with its header protection removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmasked {
    /// The header up to the end of the packet number, unprotected (the AEAD's additional
    /// data).
    pub header: Vec<u8>,
    /// The unprotected first byte (short header: key phase bit 0x04).
    pub first: u8,
    /// The full packet number.
    pub pn: u64,
}

impl PacketKeys {
    /// Keys from a TLS 1.3 `secret` of cipher suite `suite_id` (TLS_AES_128_GCM_SHA256,
    /// TLS_AES_256_GCM_SHA384 or TLS_CHACHA20_POLY1305_SHA256); `v2`: QUIC v2's labels.
    /// `None` for another suite or a secret HKDF refuses.
    pub fn from_secret(suite_id: u16, secret: &[u8], v2: bool) -> Option<PacketKeys> {
        if !(0x1301..=0x1303).contains(&suite_id) {
            return None;
        }
        let suite = tls_decrypt::suite(suite_id)?;
        let (lk, li, lh) = if v2 {
            ("quicv2 key", "quicv2 iv", "quicv2 hp")
        } else {
            ("quic key", "quic iv", "quic hp")
        };
        let klen = suite.aead.key_len();
        let hp = expand_label(secret, lh, klen, suite.sha384)?;
        let hp_cipher = match suite.aead {
            AeadKind::Aes128Gcm => {
                HeaderCipher::Aes128(Box::new(aes::Aes128::new_from_slice(&hp).ok()?))
            }
            AeadKind::Aes256Gcm => {
                HeaderCipher::Aes256(Box::new(aes::Aes256::new_from_slice(&hp).ok()?))
            }
            _ => HeaderCipher::ChaCha20(hp.as_slice().try_into().ok()?),
        };
        let key = expand_label(secret, lk, klen, suite.sha384)?;
        let iv = expand_label(secret, li, 12, suite.sha384)?
            .try_into()
            .ok()?;
        Some(PacketKeys {
            cipher: Cipher::new(suite.aead, &key)?,
            key,
            iv,
            hp,
            hp_cipher,
            suite,
            v2,
            secret: secret.to_vec(),
        })
    }

    /// The keys of the next key phase (RFC 9001 §6.1): a new secret from "quic ku" ("quicv2
    /// ku"), new packet keys, the same header-protection key.
    pub fn next_phase(&self) -> Option<PacketKeys> {
        let label = if self.v2 { "quicv2 ku" } else { "quic ku" };
        let len = if self.suite.sha384 { 48 } else { 32 };
        let secret = expand_label(&self.secret, label, len, self.suite.sha384)?;
        let (lk, li) = if self.v2 {
            ("quicv2 key", "quicv2 iv")
        } else {
            ("quic key", "quic iv")
        };
        let key = expand_label(&secret, lk, self.suite.aead.key_len(), self.suite.sha384)?;
        let iv = expand_label(&secret, li, 12, self.suite.sha384)?
            .try_into()
            .ok()?;
        Some(PacketKeys {
            cipher: Cipher::new(self.suite.aead, &key)?,
            key,
            iv,
            secret,
            ..self.clone()
        })
    }

    /// The 5-byte header-protection mask for a 16-byte sample.
    fn mask(&self, sample: &[u8; SAMPLE_LEN]) -> [u8; 5] {
        match &self.hp_cipher {
            HeaderCipher::Aes128(c) => {
                let mut block = (*sample).into();
                c.encrypt_block(&mut block);
                [block[0], block[1], block[2], block[3], block[4]]
            }
            HeaderCipher::Aes256(c) => {
                let mut block = (*sample).into();
                c.encrypt_block(&mut block);
                [block[0], block[1], block[2], block[3], block[4]]
            }
            HeaderCipher::ChaCha20(key) => {
                // Counter: the sample's first 4 bytes (little-endian), nonce: the rest.
                // (The core, not the stream wrapper: chacha20 0.9's wrapper refuses the
                // block at counter 2^32-1, which a sample may pick.)
                let counter = u32::from_le_bytes([sample[0], sample[1], sample[2], sample[3]]);
                let mut core = chacha20::ChaChaCore::<U10>::new(key.into(), sample[4..].into());
                core.set_block_pos(counter);
                let mut block = Default::default();
                core.write_keystream_block(&mut block);
                [block[0], block[1], block[2], block[3], block[4]]
            }
        }
    }

    /// The AEAD nonce of packet number `pn` (RFC 9001 §5.3).
    fn nonce(&self, pn: u64) -> [u8; 12] {
        let mut n = self.iv;
        for (b, p) in n[4..].iter_mut().zip(pn.to_be_bytes()) {
            *b ^= p;
        }
        n
    }

    /// Removes header protection from `packet` (exactly the packet's bytes; `pn_offset`:
    /// where its packet number starts; `largest`: the largest packet number opened in its
    /// space, to expand the truncated one).
    pub fn unmask(
        &self,
        packet: &[u8],
        pn_offset: usize,
        largest: Option<u64>,
    ) -> Result<Unmasked, UnprotectError> {
        let sample_at = pn_offset.saturating_add(4);
        let sample: &[u8; SAMPLE_LEN] = packet
            .get(sample_at..sample_at.saturating_add(SAMPLE_LEN))
            .and_then(|s| s.try_into().ok())
            .ok_or(UnprotectError::TooShort)?;
        let mask = self.mask(sample);
        let long = packet[0] & 0x80 != 0;
        let first = packet[0] ^ (mask[0] & if long { 0x0f } else { 0x1f });
        let pn_len = usize::from(first & 3) + 1;
        let payload_at = pn_offset + pn_len;
        if packet.len() < payload_at + TAG_LEN {
            return Err(UnprotectError::TooShort);
        }
        let mut header = packet[..payload_at].to_vec();
        header[0] = first;
        let mut truncated = 0u64;
        for (i, m) in mask[1..=pn_len].iter().enumerate() {
            header[pn_offset + i] ^= m;
            truncated = (truncated << 8) | u64::from(header[pn_offset + i]);
        }
        Ok(Unmasked {
            pn: decode_packet_number(largest, truncated, pn_len),
            first,
            header,
        })
    }

    /// Opens the payload of a packet `unmask` gave `u` for into `plain` (cleared first).
    pub fn open(
        &self,
        u: &Unmasked,
        packet: &[u8],
        plain: &mut Vec<u8>,
    ) -> Result<(), UnprotectError> {
        plain.clear();
        let body = packet
            .get(u.header.len()..packet.len().saturating_sub(TAG_LEN))
            .ok_or(UnprotectError::TooShort)?;
        let tag = &packet[packet.len() - TAG_LEN..];
        plain.extend_from_slice(body);
        if self.cipher.open(&self.nonce(u.pn), &u.header, plain, tag) {
            Ok(())
        } else {
            plain.clear();
            Err(UnprotectError::BadTag)
        }
    }
}

/// Expands a truncated packet number of `len` bytes next to `largest` (RFC 9000 §A.3).
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, len: usize) -> u64 {
    let Some(largest) = largest else {
        return truncated;
    };
    let bits = 8 * len as u32;
    let win = 1u64 << bits;
    let half = win / 2;
    let mask = win - 1;
    let expected = largest.saturating_add(1);
    let candidate = (expected & !mask) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(half) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// Removes header protection and opens the payload into `plain` in one step; the packet
/// number.
pub fn unprotect(
    keys: &PacketKeys,
    packet: &[u8],
    pn_offset: usize,
    largest: Option<u64>,
    plain: &mut Vec<u8>,
) -> Result<u64, UnprotectError> {
    let u = keys.unmask(packet, pn_offset, largest)?;
    keys.open(&u, packet, plain)?;
    Ok(u.pn)
}

/// Protects a packet the way a sender does (the inverse of [`unprotect`]): `header` runs to
/// the end of its unprotected packet number (whose length the first byte's low bits give),
/// `payload` is the plaintext frames, which need at least `4 - pn_len` bytes for the
/// header-protection sample. For tests and fuzzing: layerscope itself never sends.
pub fn protect(keys: &PacketKeys, header: &[u8], pn_offset: usize, payload: &[u8]) -> Vec<u8> {
    let first = header.first().copied().unwrap_or(0);
    let pn_len = usize::from(first & 3) + 1;
    let pn = header
        .get(pn_offset..pn_offset + pn_len)
        .unwrap_or_default()
        .iter()
        .fold(0u64, |a, &b| (a << 8) | u64::from(b));
    let mut body = payload.to_vec();
    let tag = keys.cipher.seal(&keys.nonce(pn), header, &mut body);
    let mut packet = header.to_vec();
    packet.extend_from_slice(&body);
    packet.extend_from_slice(&tag);
    let sample_at = pn_offset + 4;
    if let Some(sample) = packet
        .get(sample_at..sample_at + SAMPLE_LEN)
        .and_then(|s| <[u8; SAMPLE_LEN]>::try_from(s).ok())
    {
        let mask = keys.mask(&sample);
        packet[0] ^= mask[0] & if first & 0x80 != 0 { 0x0f } else { 0x1f };
        for i in 0..pn_len {
            packet[pn_offset + i] ^= mask[1 + i];
        }
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::quic::initial::tests::hex;

    /// RFC 9001 Appendix A.5: a ChaCha20-Poly1305 short-header packet (packet number
    /// 654360564, one PING frame).
    #[test]
    fn rfc9001_a5_chacha20_short_header() {
        let secret = hex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
        let k = PacketKeys::from_secret(0x1303, &secret, false).unwrap();
        assert_eq!(
            k.key,
            hex("c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8")
        );
        assert_eq!(k.iv.to_vec(), hex("e0459b3474bdd0e44a41c144"));
        assert_eq!(
            k.hp,
            hex("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4")
        );
        let next = k.next_phase().unwrap();
        assert_eq!(
            next.secret,
            hex("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9")
        );
        let packet = hex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
        let mut plain = Vec::new();
        let u = k.unmask(&packet, 1, Some(654360563)).unwrap();
        assert_eq!(u.header, hex("4200bff4"));
        assert_eq!(u.pn, 654360564);
        k.open(&u, &packet, &mut plain).unwrap();
        assert_eq!(plain, [0x01]);
        // The next phase's keys do not open it.
        assert_eq!(
            next.open(&u, &packet, &mut plain),
            Err(UnprotectError::BadTag)
        );
    }

    #[test]
    fn aes256_round_trip_and_hostile_input() {
        let secret = [7u8; 48];
        let k = PacketKeys::from_secret(0x1302, &secret, true).unwrap();
        assert_eq!((k.key.len(), k.hp.len()), (32, 32));
        let header = [0x41, 0xaa, 0xbb, 0x00, 0x05];
        let packet = protect(&k, &header, 3, b"hello world");
        let mut plain = Vec::new();
        assert_eq!(unprotect(&k, &packet, 3, Some(4), &mut plain), Ok(5));
        assert_eq!(plain, b"hello world");
        for cut in 0..packet.len() {
            let _ = unprotect(&k, &packet[..cut], 3, None, &mut plain);
        }
        let _ = unprotect(&k, &packet, usize::MAX - 2, None, &mut plain);
        // ChaCha20 header protection with the sample's counter at 2^32-1 (found by the
        // quic_onertt fuzz target: chacha20's stream wrapper refused that block).
        let c = PacketKeys::from_secret(0x1303, &secret[..32], false).unwrap();
        let mut sample = [0u8; 16];
        sample[..4].copy_from_slice(&[0xff; 4]);
        let _ = c.mask(&sample);
        // CBC and TLS 1.2 suites have no QUIC protection.
        assert!(PacketKeys::from_secret(0x002f, &secret, false).is_none());
        assert!(PacketKeys::from_secret(0xc02f, &secret, false).is_none());
    }
}
