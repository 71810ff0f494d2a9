//! TLS record decryption with secrets from a key log ([`super::keylog`]): TLS 1.3 (traffic
//! keys from the handshake and application secrets, key updates) and TLS 1.2 AEAD suites
//! (keys from the master secret). Ciphers, HMAC and HKDF are RustCrypto's (`aes-gcm`,
//! `chacha20poly1305`, `hmac`, `hkdf`, `sha2`); this file lays out nonces, additional data
//! and labels as RFC 8446 §5.2-5.3 / §7, RFC 5246 §5-6 and RFC 5288 / RFC 7905 prescribe.
//! TLS 1.2's AES-CBC suites with HMAC-SHA1/SHA256/SHA384 (MAC-then-encrypt, explicit IV,
//! RFC 5246 §6.2.3.2) use RustCrypto's `aes` and `cbc`. The TLS 1.2 PRF (RFC 5246 §5) is
//! P_hash written out over `hmac` (no maintained pure-Rust crate exposes it: rustls keeps
//! its own private), checked against the published test vectors.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The record protection of a cipher suite: an AEAD, or AES-CBC with an HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AeadKind {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    /// AES-CBC (TLS 1.2 only), authenticated by [`Suite::mac`].
    Aes128Cbc,
    Aes256Cbc,
}

impl AeadKind {
    pub(crate) fn key_len(self) -> usize {
        match self {
            AeadKind::Aes128Gcm | AeadKind::Aes128Cbc => 16,
            _ => 32,
        }
    }
}

/// The HMAC hash of a CBC suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacHash {
    Sha1,
    Sha256,
    Sha384,
}

impl MacHash {
    fn len(self) -> usize {
        match self {
            MacHash::Sha1 => 20,
            MacHash::Sha256 => 32,
            MacHash::Sha384 => 48,
        }
    }
}

/// What a cipher suite needs for decryption: record protection, the PRF/HKDF hash (true =
/// SHA-384) and, for CBC suites, the MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub aead: AeadKind,
    pub sha384: bool,
    pub mac: Option<MacHash>,
}

/// The suites decrypted: TLS 1.3's three; TLS 1.2's AES-GCM and ChaCha20-Poly1305 ones and
/// the AES-CBC ones with SHA-1, SHA-256 or SHA-384 MACs, with RSA, DHE or ECDHE key
/// exchange. `None`: not decryptable here (CCM, 3DES, RC4, CAMELLIA, …).
pub fn suite(id: u16) -> Option<Suite> {
    use AeadKind::*;
    let (aead, sha384, mac) = match id {
        0x1301 => (Aes128Gcm, false, None),
        0x1302 => (Aes256Gcm, true, None),
        0x1303 => (ChaCha20Poly1305, false, None),
        0x009c | 0x009e | 0xc02b | 0xc02f => (Aes128Gcm, false, None),
        0x009d | 0x009f | 0xc02c | 0xc030 => (Aes256Gcm, true, None),
        0xcca8..=0xccaa => (ChaCha20Poly1305, false, None),
        // TLS_{RSA,DHE_RSA,ECDHE_ECDSA,ECDHE_RSA}_WITH_AES_128_CBC_SHA
        0x002f | 0x0033 | 0xc009 | 0xc013 => (Aes128Cbc, false, Some(MacHash::Sha1)),
        0x0035 | 0x0039 | 0xc00a | 0xc014 => (Aes256Cbc, false, Some(MacHash::Sha1)),
        // … _AES_128_CBC_SHA256, _AES_256_CBC_SHA256, ECDHE _AES_256_CBC_SHA384
        0x003c | 0x0067 | 0xc023 | 0xc027 => (Aes128Cbc, false, Some(MacHash::Sha256)),
        0x003d | 0x006b => (Aes256Cbc, false, Some(MacHash::Sha256)),
        0xc024 | 0xc028 => (Aes256Cbc, true, Some(MacHash::Sha384)),
        _ => return None,
    };
    Some(Suite { aead, sha384, mac })
}

/// HMAC of `parts` with `key`.
fn hmac(hash: MacHash, key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
        parts.iter().for_each(|p| m.update(p));
        Some(m.finalize().into_bytes().to_vec())
    }
    match hash {
        MacHash::Sha1 => run::<Hmac<Sha1>>(key, parts),
        MacHash::Sha256 => run::<Hmac<Sha256>>(key, parts),
        MacHash::Sha384 => run::<Hmac<Sha384>>(key, parts),
    }
}

#[derive(Clone)]
pub(crate) enum Cipher {
    A128(Box<Aes128Gcm>),
    A256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
    /// AES-CBC: the key (a decryptor is made per record with the record's IV) and the MAC key.
    Cbc {
        key: Vec<u8>,
        mac_key: Vec<u8>,
    },
}

impl Cipher {
    pub(crate) fn new(kind: AeadKind, key: &[u8]) -> Option<Cipher> {
        Some(match kind {
            AeadKind::Aes128Gcm => Cipher::A128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            AeadKind::Aes256Gcm => Cipher::A256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            AeadKind::ChaCha20Poly1305 => {
                Cipher::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
            AeadKind::Aes128Cbc | AeadKind::Aes256Cbc => Cipher::Cbc {
                key: key.to_vec(),
                mac_key: Vec::new(),
            },
        })
    }

    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let n = aes_gcm::Nonce::from_slice(nonce);
        let t = aes_gcm::Tag::from_slice(tag);
        match self {
            Cipher::A128(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
            Cipher::A256(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
            Cipher::ChaCha(c) => c.decrypt_in_place_detached(n, aad, buf, t).is_ok(),
            Cipher::Cbc { .. } => false,
        }
    }

    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let n = aes_gcm::Nonce::from_slice(nonce);
        let t = match self {
            Cipher::A128(c) => c.encrypt_in_place_detached(n, aad, buf),
            Cipher::A256(c) => c.encrypt_in_place_detached(n, aad, buf),
            Cipher::ChaCha(c) => c.encrypt_in_place_detached(n, aad, buf),
            Cipher::Cbc { .. } => return [0; 16],
        };
        t.map(|t| t.into()).unwrap_or([0; 16])
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
pub(crate) fn expand_label(
    secret: &[u8],
    label: &str,
    len: usize,
    sha384: bool,
) -> Option<Vec<u8>> {
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
    let h = if sha384 {
        MacHash::Sha384
    } else {
        MacHash::Sha256
    };
    let mut out = Vec::with_capacity(len + 48);
    let mut a = hmac(h, secret, &[label, seed])?; // A(1)
    while out.len() < len {
        out.extend_from_slice(&hmac(h, secret, &[&a, label, seed])?);
        a = hmac(h, secret, &[&a])?;
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
    #[error("padding or MAC does not match (wrong key, or the record is damaged)")]
    BadMac,
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
    /// CBC suites: encrypt_then_mac (RFC 7366) was negotiated.
    pub encrypt_then_mac: bool,
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
            encrypt_then_mac: false,
            secret: secret.to_vec(),
            suite,
        })
    }

    /// The cipher suite these keys are for.
    pub fn suite(&self) -> Suite {
        self.suite
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
        let maclen = suite.mac.map_or(0, MacHash::len);
        // (CBC suites' IVs from the key block serve TLS 1.0 only; TLS 1.2 sends each.)
        let ivlen = match suite.aead {
            AeadKind::ChaCha20Poly1305 => 12,
            AeadKind::Aes128Cbc | AeadKind::Aes256Cbc => 0,
            _ => 4,
        };
        let mut seed = Vec::with_capacity(64);
        seed.extend_from_slice(server_random);
        seed.extend_from_slice(client_random);
        let block = prf12(
            master,
            b"key expansion",
            &seed,
            2 * (maclen + klen + ivlen),
            suite.sha384,
        )?;
        let (cmac, rest) = block.split_at(maclen);
        let (smac, rest) = rest.split_at(maclen);
        let (ck, rest) = rest.split_at(klen);
        let (sk, rest) = rest.split_at(klen);
        let (civ, siv) = rest.split_at(ivlen);
        let make = |key: &[u8], iv: &[u8], mac_key: &[u8]| -> Option<RecordKeys> {
            let mut full = [0u8; 12];
            full[..iv.len()].copy_from_slice(iv);
            let mut cipher = Cipher::new(suite.aead, key)?;
            if let Cipher::Cbc { mac_key: m, .. } = &mut cipher {
                *m = mac_key.to_vec();
            }
            Some(RecordKeys {
                cipher,
                iv: full,
                tls13: false,
                explicit_nonce: ivlen == 4,
                seq: 0,
                encrypt_then_mac: false,
                secret: Vec::new(),
                suite,
            })
        };
        Some((make(ck, civ, cmac)?, make(sk, siv, smac)?))
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
        if let (Cipher::Cbc { key, mac_key }, Some(mac)) = (&self.cipher, self.suite.mac) {
            let ty = if self.encrypt_then_mac {
                open_cbc_etm(key, mac_key, mac, self.seq, header, body, plain)?
            } else {
                open_cbc(key, mac_key, mac, self.seq, header, body, plain)?
            };
            self.seq += 1;
            return Ok(ty);
        }
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
        if let (Cipher::Cbc { key, mac_key }, Some(mac)) = (&self.cipher, self.suite.mac) {
            let rec = seal_cbc(
                key,
                mac_key,
                mac,
                self.seq,
                outer_type,
                plain,
                self.encrypt_then_mac,
            );
            self.seq += 1;
            return rec;
        }
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

/// The MAC input of TLS 1.2 (RFC 5246 §6.2.3.1): sequence number, type, version, length.
fn mac_header(seq: u64, header: &[u8; 5], len: usize) -> [u8; 13] {
    let mut h = [0u8; 13];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8..11].copy_from_slice(&header[..3]);
    h[11..].copy_from_slice(&(len as u16).to_be_bytes());
    h
}

/// Decrypts `ct` in place with AES-CBC (no padding removed) under `key` and `iv`.
fn cbc_decrypt(key: &[u8], iv: &[u8], buf: &mut [u8]) -> bool {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
    match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .ok()
            .and_then(|d| d.decrypt_padded_mut::<NoPadding>(buf).ok())
            .is_some(),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .ok()
            .and_then(|d| d.decrypt_padded_mut::<NoPadding>(buf).ok())
            .is_some(),
        _ => false,
    }
}

/// Opens a TLS 1.2 CBC record (RFC 5246 §6.2.3.2): IV, then AES-CBC over content, MAC,
/// padding and padding length; the padding and the MAC are checked.
fn open_cbc(
    key: &[u8],
    mac_key: &[u8],
    mac: MacHash,
    seq: u64,
    header: &[u8; 5],
    body: &[u8],
    plain: &mut Vec<u8>,
) -> Result<u8, OpenError> {
    let maclen = mac.len();
    if body.len() < 32 || body.len() % 16 != 0 || body.len() - 16 < maclen + 1 {
        return Err(OpenError::TooShort);
    }
    let (iv, ct) = body.split_at(16);
    plain.extend_from_slice(ct);
    if !cbc_decrypt(key, iv, plain) {
        plain.clear();
        return Err(OpenError::BadMac);
    }
    let pad = usize::from(plain.last().copied().unwrap_or(0));
    let padded_ok = pad + 1 + maclen <= plain.len()
        && plain[plain.len() - 1 - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad);
    if !padded_ok {
        plain.clear();
        return Err(OpenError::BadMac);
    }
    let content_len = plain.len() - 1 - pad - maclen;
    let (content, rest) = plain.split_at(content_len);
    let want = hmac(
        mac,
        mac_key,
        &[&mac_header(seq, header, content_len), content],
    );
    if want.as_deref() != Some(&rest[..maclen]) {
        plain.clear();
        return Err(OpenError::BadMac);
    }
    plain.truncate(content_len);
    Ok(header[0])
}

/// Opens a TLS 1.2 CBC record with encrypt_then_mac (RFC 7366 §3): IV and AES-CBC over
/// content, padding and padding length, then the MAC over all of that.
fn open_cbc_etm(
    key: &[u8],
    mac_key: &[u8],
    mac: MacHash,
    seq: u64,
    header: &[u8; 5],
    body: &[u8],
    plain: &mut Vec<u8>,
) -> Result<u8, OpenError> {
    let maclen = mac.len();
    let Some(enc_len) = body.len().checked_sub(maclen) else {
        return Err(OpenError::TooShort);
    };
    if enc_len < 32 || enc_len % 16 != 0 {
        return Err(OpenError::TooShort);
    }
    let (enc, tag) = body.split_at(enc_len);
    let want = hmac(mac, mac_key, &[&mac_header(seq, header, enc_len), enc]);
    if want.as_deref() != Some(tag) {
        return Err(OpenError::BadMac);
    }
    let (iv, ct) = enc.split_at(16);
    plain.extend_from_slice(ct);
    let pad = if cbc_decrypt(key, iv, plain) {
        usize::from(plain.last().copied().unwrap_or(0))
    } else {
        usize::MAX
    };
    let padded_ok = pad < plain.len()
        && plain[plain.len() - 1 - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad);
    if !padded_ok {
        plain.clear();
        return Err(OpenError::BadMac);
    }
    plain.truncate(plain.len() - 1 - pad);
    Ok(header[0])
}

/// Seals a TLS 1.2 CBC record (tests and fuzzing): the IV is made from the sequence number.
fn seal_cbc(
    key: &[u8],
    mac_key: &[u8],
    mac: MacHash,
    seq: u64,
    ty: u8,
    plain: &[u8],
    etm: bool,
) -> Vec<u8> {
    use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
    let maclen = mac.len();
    let inside = if etm { 0 } else { maclen };
    let pad = 15 - (plain.len() + inside) % 16;
    let enc_len = 16 + plain.len() + inside + pad + 1;
    let len = enc_len + maclen - inside;
    let header = [ty, 3, 3, (len >> 8) as u8, len as u8];
    let mut buf = plain.to_vec();
    if !etm {
        let m = hmac(
            mac,
            mac_key,
            &[&mac_header(seq, &header, plain.len()), plain],
        )
        .unwrap_or_default();
        buf.extend_from_slice(&m);
    }
    buf.extend(std::iter::repeat_n(pad as u8, pad + 1));
    let mut iv = [0u8; 16];
    iv[8..].copy_from_slice(&seq.to_be_bytes());
    let n = buf.len();
    let ok = match key.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .ok()
            .and_then(|e| e.encrypt_padded_mut::<NoPadding>(&mut buf, n).ok())
            .is_some(),
        _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .ok()
            .and_then(|e| e.encrypt_padded_mut::<NoPadding>(&mut buf, n).ok())
            .is_some(),
    };
    let mut rec = header.to_vec();
    rec.extend_from_slice(&iv);
    if ok {
        rec.extend_from_slice(&buf);
    }
    if etm {
        let m = hmac(
            mac,
            mac_key,
            &[&mac_header(seq, &header, enc_len), &rec[5..]],
        );
        rec.extend_from_slice(&m.unwrap_or_default());
    }
    rec
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
        assert!(suite(0x000a).is_none()); // DES-CBC3-SHA
    }

    /// TLS 1.2 AES-CBC with HMAC-SHA1 (AES128-SHA) and HMAC-SHA384: round trip, and a
    /// damaged byte or a wrong key fails on the padding or the MAC.
    #[test]
    fn cbc_records_round_trip_and_damage_fails() {
        for (id, etm) in [
            (0x002f, false),
            (0xc028, false),
            (0x002f, true),
            (0xc028, true),
        ] {
            let s = suite(id).unwrap();
            let (mut tx, _) = RecordKeys::tls12(s, &[1; 48], &[2; 32], &[3; 32]).unwrap();
            let (mut rx, mut wrong) = RecordKeys::tls12(s, &[1; 48], &[2; 32], &[3; 32]).unwrap();
            for k in [&mut tx, &mut rx, &mut wrong] {
                k.encrypt_then_mac = etm;
            }
            let mut plain = Vec::new();
            for msg in [&b"GET /cbc12 HTTP/1.1\r\n\r\n"[..], b"", &[7u8; 1000]] {
                let rec = tx.seal(23, 23, msg);
                let header: [u8; 5] = rec[..5].try_into().unwrap();
                let mac_after = if etm { s.mac.unwrap().len() } else { 0 };
                assert_eq!((rec.len() - 5 - mac_after) % 16, 0);
                let mut bad = rec.clone();
                let last = bad.len() - 20;
                bad[last] ^= 1;
                let mut rx2 = rx.clone();
                assert_eq!(
                    rx2.open(&header, &bad[5..], &mut plain),
                    Err(OpenError::BadMac)
                );
                assert!(plain.is_empty());
                assert_eq!(
                    wrong.clone().open(&header, &rec[5..], &mut plain),
                    Err(OpenError::BadMac)
                );
                assert_eq!(rx.open(&header, &rec[5..], &mut plain), Ok(23));
                assert_eq!(plain, msg);
            }
            assert_eq!(rx.seq, 3);
            assert_eq!(
                rx.open(&[23, 3, 3, 0, 20], &[0; 20], &mut plain),
                Err(OpenError::TooShort)
            );
            wrong.seq = 0;
        }
    }

    /// The TLS 1.2 PRF's published test vectors (IETF TLS WG list, msg03416): P_SHA256,
    /// secret 9bbe…, seed a0ba…, "test label", 100 bytes; P_SHA384 with b80b…/cd66…, 148.
    #[test]
    fn prf12_published_vectors() {
        let out = prf12(
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
            false,
        )
        .unwrap();
        assert_eq!(
            out,
            hex(concat!(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
                "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
                "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
                "87347b66"
            ))
        );
        let out = prf12(
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &hex("cd665cf6a8447dd6ff8b27555edb7465"),
            148,
            true,
        )
        .unwrap();
        assert_eq!(
            out,
            hex(concat!(
                "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd",
                "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd",
                "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425",
                "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6",
                "91c8f3a26854308d5eaa3be85e0990703d73e56f"
            ))
        );
    }
}
