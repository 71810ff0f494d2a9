//! TLS record decryption with secrets from a key log ([`super::keylog`]): TLS 1.3 (traffic
//! keys from the handshake and application secrets, key updates) and TLS 1.2 AEAD suites
//! (keys from the master secret). Ciphers, HMAC and HKDF are RustCrypto's (`aes-gcm`,
//! `chacha20poly1305`, `hmac`, `hkdf`, `sha2`); this file lays out nonces, additional data
//! and labels as RFC 8446 §5.2-5.3 / §7, RFC 5246 §5-6 and RFC 5288 / RFC 7905 prescribe.
//! CBC suites are not decrypted (reported as such).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

/// The AEAD of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AeadKind {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl AeadKind {
    fn key_len(self) -> usize {
        match self {
            AeadKind::Aes128Gcm => 16,
            _ => 32,
        }
    }
}

/// What a cipher suite needs for decryption: AEAD and the PRF/HKDF hash (true = SHA-384).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub aead: AeadKind,
    pub sha384: bool,
}

/// The AEAD suites decrypted (TLS 1.3's three; TLS 1.2's AES-GCM and ChaCha20-Poly1305 ones
/// with RSA, DHE, ECDHE key exchange). `None`: not decryptable here (CBC, CCM, …).
pub fn suite(id: u16) -> Option<Suite> {
    use AeadKind::*;
    let (aead, sha384) = match id {
        0x1301 => (Aes128Gcm, false),
        0x1302 => (Aes256Gcm, true),
        0x1303 => (ChaCha20Poly1305, false),
        0x009c | 0x009e | 0xc02b | 0xc02f => (Aes128Gcm, false),
        0x009d | 0x009f | 0xc02c | 0xc030 => (Aes256Gcm, true),
        0xcca8..=0xccaa => (ChaCha20Poly1305, false),
        _ => return None,
    };
    Some(Suite { aead, sha384 })
}

#[derive(Clone)]
enum Cipher {
    A128(Box<Aes128Gcm>),
    A256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

impl Cipher {
    fn new(kind: AeadKind, key: &[u8]) -> Option<Cipher> {
        Some(match kind {
            AeadKind::Aes128Gcm => Cipher::A128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            AeadKind::Aes256Gcm => Cipher::A256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            AeadKind::ChaCha20Poly1305 => {
                Cipher::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        })
    }

    fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let n = aes_gcm::Nonce::from_slice(nonce);
        let t = aes_gcm::Tag::from_slice(tag);
        match self {
            Cipher::A128(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
            Cipher::A256(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
            Cipher::ChaCha(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
        }
    }

    fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let n = aes_gcm::Nonce::from_slice(nonce);
        let t = match self {
            Cipher::A128(c) => c.encrypt_in_place_detached(n, aad, buf),
            Cipher::A256(c) => c.encrypt_in_place_detached(n, aad, buf),
            Cipher::ChaCha(c) => c.encrypt_in_place_detached(n, aad, buf),
        };
        t.map(|t| t.into()).unwrap_or([0; 16])
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
fn expand_label(secret: &[u8], label: &str, len: usize, sha384: bool) -> Option<Vec<u8>> {
    let mut info = Vec::with_capacity(10 + label.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    if sha384 {
        Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?;
    } else {
        Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?;
    }
    Some(out)
}

/// The TLS 1.2 PRF (RFC 5246 §5): P_hash with HMAC-SHA256 or HMAC-SHA384, `len` bytes.
fn prf12(secret: &[u8], label: &[u8], seed: &[u8], len: usize, sha384: bool) -> Option<Vec<u8>> {
    fn hmac_parts(secret: &[u8], parts: &[&[u8]], sha384: bool) -> Option<Vec<u8>> {
        if sha384 {
            let mut m = <Hmac<Sha384> as Mac>::new_from_slice(secret).ok()?;
            parts.iter().for_each(|p| m.update(p));
            Some(m.finalize().into_bytes().to_vec())
        } else {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).ok()?;
            parts.iter().for_each(|p| m.update(p));
            Some(m.finalize().into_bytes().to_vec())
        }
    }
    let mut out = Vec::with_capacity(len + 48);
    let mut a = hmac_parts(secret, &[label, seed], sha384)?; // A(1)
    while out.len() < len {
        out.extend_from_slice(&hmac_parts(secret, &[&a, label, seed], sha384)?);
        a = hmac_parts(secret, &[&a], sha384)?;
    }
    out.truncate(len);
    Some(out)
}

/// Why a record was not opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("record too short for its nonce and tag")]
    TooShort,
    #[error("authentication tag does not match (wrong key, or the record is damaged)")]
    BadTag,
}

/// One direction's record protection: cipher, IV (TLS 1.3, ChaCha: 12 bytes; TLS 1.2 GCM:
/// the 4-byte salt), and the record sequence number.
#[derive(Clone)]
pub struct RecordKeys {
    cipher: Cipher,
    iv: [u8; 12],
    tls13: bool,
    /// TLS 1.2 AES-GCM: 8 explicit nonce bytes lead each record.
    explicit_nonce: bool,
    pub seq: u64,
    /// TLS 1.3: the traffic secret (for a key update) and its hash.
    secret: Vec<u8>,
    suite: Suite,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordKeys")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl RecordKeys {
    /// TLS 1.3 keys from a traffic secret (RFC 8446 §7.3).
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<RecordKeys> {
        let key = expand_label(secret, "key", suite.aead.key_len(), suite.sha384)?;
        let iv: [u8; 12] = expand_label(secret, "iv", 12, suite.sha384)?
            .try_into()
            .ok()?;
        Some(RecordKeys {
            cipher: Cipher::new(suite.aead, &key)?,
            iv,
            tls13: true,
            explicit_nonce: false,
            seq: 0,
            secret: secret.to_vec(),
            suite,
        })
    }

    /// The keys after a KeyUpdate (RFC 8446 §7.2): the next traffic secret's.
    pub fn updated(&self) -> Option<RecordKeys> {
        let len = if self.suite.sha384 { 48 } else { 32 };
        let next = expand_label(&self.secret, "traffic upd", len, self.suite.sha384)?;
        RecordKeys::tls13(self.suite, &next)
    }

    /// TLS 1.2 keys of both directions (client, server) from the master secret (RFC 5246
    /// §6.3; AEAD suites have no MAC keys; GCM takes a 4-byte implicit IV, ChaCha a 12-byte one).
    pub fn tls12(
        suite: Suite,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Option<(RecordKeys, RecordKeys)> {
        let klen = suite.aead.key_len();
        let ivlen = if suite.aead == AeadKind::ChaCha20Poly1305 {
            12
        } else {
            4
        };
        let mut seed = Vec::with_capacity(64);
        seed.extend_from_slice(server_random);
        seed.extend_from_slice(client_random);
        let block = prf12(
            master,
            b"key expansion",
            &seed,
            2 * (klen + ivlen),
            suite.sha384,
        )?;
        let (ck, rest) = block.split_at(klen);
        let (sk, rest) = rest.split_at(klen);
        let (civ, siv) = rest.split_at(ivlen);
        let make = |key: &[u8], iv: &[u8]| -> Option<RecordKeys> {
            let mut full = [0u8; 12];
            full[..iv.len()].copy_from_slice(iv);
            Some(RecordKeys {
                cipher: Cipher::new(suite.aead, key)?,
                iv: full,
                tls13: false,
                explicit_nonce: ivlen == 4,
                seq: 0,
                secret: Vec::new(),
                suite,
            })
        };
        Some((make(ck, civ)?, make(sk, siv)?))
    }

    fn xor_nonce(&self) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Opens one record (`header`: its 5 bytes, `body`: the rest) into `plain` (cleared
    /// first). Returns the content type of the plaintext (TLS 1.3: the inner type, padding
    /// removed). The sequence number advances only on success.
    pub fn open(
        &mut self,
        header: &[u8; 5],
        body: &[u8],
        plain: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        plain.clear();
        let explicit = if self.explicit_nonce { 8 } else { 0 };
        if body.len() < explicit + 16 {
            return Err(OpenError::TooShort);
        }
        let (nonce_part, rest) = body.split_at(explicit);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        let nonce = if self.explicit_nonce {
            let mut n = [0u8; 12];
            n[..4].copy_from_slice(&self.iv[..4]);
            n[4..].copy_from_slice(nonce_part);
            n
        } else {
            self.xor_nonce()
        };
        plain.extend_from_slice(ct);
        let ok = if self.tls13 {
            self.cipher.open(&nonce, header, plain, tag)
        } else {
            let mut aad = [0u8; 13];
            aad[..8].copy_from_slice(&self.seq.to_be_bytes());
            aad[8..11].copy_from_slice(&header[..3]);
            aad[11..].copy_from_slice(&(ct.len() as u16).to_be_bytes());
            self.cipher.open(&nonce, &aad, plain, tag)
        };
        if !ok {
            plain.clear();
            return Err(OpenError::BadTag);
        }
        self.seq += 1;
        if !self.tls13 {
            return Ok(header[0]);
        }
        // TLSInnerPlaintext: content, the real type, then zero padding.
        let Some(end) = plain.iter().rposition(|&b| b != 0) else {
            plain.clear();
            return Err(OpenError::BadTag);
        };
        let ty = plain[end];
        plain.truncate(end);
        Ok(ty)
    }

    /// Seals a record the way a sender does (tests and fuzzing: layerscope never sends).
    /// Returns the whole record, header included.
    pub fn seal(&mut self, outer_type: u8, inner_type: u8, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        if self.tls13 {
            buf.push(inner_type);
        }
        let explicit = if self.explicit_nonce { 8 } else { 0 };
        let len = explicit + buf.len() + 16;
        let header = [outer_type, 3, 3, (len >> 8) as u8, len as u8];
        let (nonce, explicit_bytes) = if self.explicit_nonce {
            let mut n = [0u8; 12];
            n[..4].copy_from_slice(&self.iv[..4]);
            n[4..].copy_from_slice(&self.seq.to_be_bytes());
            (n, self.seq.to_be_bytes().to_vec())
        } else {
            (self.xor_nonce(), Vec::new())
        };
        let tag = if self.tls13 {
            self.cipher.seal(&nonce, &header, &mut buf)
        } else {
            let mut aad = [0u8; 13];
            aad[..8].copy_from_slice(&self.seq.to_be_bytes());
            aad[8..11].copy_from_slice(&header[..3]);
            aad[11..].copy_from_slice(&(plain.len() as u16).to_be_bytes());
            self.cipher.seal(&nonce, &aad, &mut buf)
        };
        self.seq += 1;
        let mut rec = header.to_vec();
        rec.extend_from_slice(&explicit_bytes);
        rec.extend_from_slice(&buf);
        rec.extend_from_slice(&tag);
        rec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 §3 (simple 1-RTT handshake): the server handshake traffic secret gives
    /// the key and IV the RFC lists.
    #[test]
    fn rfc8448_server_handshake_keys() {
        let secret = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let s = suite(0x1301).unwrap();
        let key = expand_label(&secret, "key", 16, false).unwrap();
        let iv = expand_label(&secret, "iv", 12, false).unwrap();
        assert_eq!(key, hex("3fce516009c21727d0f2e4e86ee403bc"));
        assert_eq!(iv, hex("5d313eb2671276ee13000b30"));
        assert!(RecordKeys::tls13(s, &secret).is_some());
    }

    #[test]
    fn seal_open_round_trips_and_wrong_keys_fail() {
        let s13 = suite(0x1303).unwrap();
        let mut tx = RecordKeys::tls13(s13, &[7; 32]).unwrap();
        let mut rx = tx.clone();
        let rec = tx.seal(23, 23, b"GET / HTTP/1.1\r\n\r\n");
        let header: [u8; 5] = rec[..5].try_into().unwrap();
        let mut plain = Vec::new();
        assert_eq!(rx.open(&header, &rec[5..], &mut plain), Ok(23));
        assert_eq!(plain, b"GET / HTTP/1.1\r\n\r\n");
        // Replayed: the sequence number moved on, the nonce differs.
        assert_eq!(
            rx.open(&header, &rec[5..], &mut plain),
            Err(OpenError::BadTag)
        );
        // Key update on both sides.
        let mut tx2 = tx.updated().unwrap();
        let mut rx2 = rx.updated().unwrap();
        let rec = tx2.seal(23, 23, b"x");
        assert_eq!(
            rx2.open(&rec[..5].try_into().unwrap(), &rec[5..], &mut plain),
            Ok(23)
        );
        // TLS 1.2 GCM with an explicit nonce.
        let s12 = suite(0xc030).unwrap();
        let (mut c, _) = RecordKeys::tls12(s12, &[1; 48], &[2; 32], &[3; 32]).unwrap();
        let (mut c_rx, mut s_rx) = RecordKeys::tls12(s12, &[1; 48], &[2; 32], &[3; 32]).unwrap();
        let rec = c.seal(23, 23, b"hello");
        let header: [u8; 5] = rec[..5].try_into().unwrap();
        assert_eq!(
            s_rx.open(&header, &rec[5..], &mut plain),
            Err(OpenError::BadTag)
        );
        assert_eq!(c_rx.open(&header, &rec[5..], &mut plain), Ok(23));
        assert_eq!(plain, b"hello");
        assert_eq!(
            c_rx.open(&header, &rec[5..10], &mut plain),
            Err(OpenError::TooShort)
        );
        assert!(suite(0x002f).is_none()); // AES128-SHA (CBC)
    }
}
