//! QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3 for v2, and the drafts still
//! seen): keys derived from the client's Destination Connection ID with HKDF-SHA256,
//! header protection removed with AES-128-ECB on a sample of the ciphertext, the payload
//! opened with AES-128-GCM, and the frames of an Initial packet walked for CRYPTO data.
//!
//! The cryptography is RustCrypto's (`hkdf`, `sha2`, `aes`, `aes-gcm`); this file only
//! lays out the inputs the RFCs prescribe (salts, HKDF labels); header protection and the
//! AEAD are [`super::protection`]'s, shared with the Handshake and 1-RTT packets.

use hkdf::Hkdf;
use sha2::Sha256;

use super::frames::{walk, Frame, Stop};
use super::protection::INITIAL_SUITE;
pub use super::protection::{
    decode_packet_number, protect, unprotect, PacketKeys as DirKeys, UnprotectError,
};
use super::QUIC_V2;
use crate::app::tls_decrypt::expand_label;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// draft-ietf-quic-tls-29 … -32.
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
/// draft-ietf-quic-tls-23 … -28.
const SALT_DRAFT_23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
/// draft-ietf-quic-tls-22 (and Facebook's mvfst 0xfaceb001, built on it).
const SALT_DRAFT_22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];

/// The IETF draft a version follows, for choosing the salt: 0xff0000xx is draft xx;
/// Facebook's mvfst versions name their draft (0xfaceb001 = 22, 0xfaceb002/0xfaceb00e = 27);
/// v1 counts as 34, v2 as 100. `None`: no Initial protection known for the version.
pub fn draft_of(version: u32) -> Option<u32> {
    match version {
        1 => Some(34),
        QUIC_V2 => Some(100),
        0xfaceb001 => Some(22),
        0xfaceb002 | 0xfaceb00e => Some(27),
        v if v & 0xffff_ff00 == 0xff00_0000 => Some(v & 0xff),
        _ => None,
    }
}

/// Initial salt and whether the v2 labels ("quicv2 key", …) apply.
fn salt_of(version: u32) -> Option<(&'static [u8; 20], bool)> {
    match draft_of(version)? {
        100 => Some((&SALT_V2, true)),
        22 => Some((&SALT_DRAFT_22, false)),
        23..=28 => Some((&SALT_DRAFT_23, false)),
        29..=32 => Some((&SALT_DRAFT_29, false)),
        33 | 34 => Some((&SALT_V1, false)),
        _ => None,
    }
}

/// Both directions' Initial keys for one (version, client Destination Connection ID).
#[derive(Clone, Debug)]
pub struct InitialKeys {
    pub client: DirKeys,
    pub server: DirKeys,
}

impl InitialKeys {
    /// RFC 9001 §5.2 (RFC 9369 §3.3.1 for v2): `None` for a version without known Initial
    /// protection.
    pub fn derive(version: u32, dcid: &[u8]) -> Option<InitialKeys> {
        let (salt, v2) = salt_of(version)?;
        let (initial, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
        let c = expand_label(&initial, "client in", 32, false)?;
        let s = expand_label(&initial, "server in", 32, false)?;
        Some(InitialKeys {
            client: DirKeys::from_secret(INITIAL_SUITE, &c, v2)?,
            server: DirKeys::from_secret(INITIAL_SUITE, &s, v2)?,
        })
    }
}

/// One CRYPTO frame of a decrypted Initial payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoFrame<'a> {
    pub offset: u64,
    pub data: &'a [u8],
}

/// What the frames of an Initial payload held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitialFrames<'a> {
    pub crypto: Vec<CryptoFrame<'a>>,
    pub acks: u32,
    pub pings: u32,
    pub padding_bytes: usize,
    /// CONNECTION_CLOSE error code, when one was sent.
    pub close: Option<u64>,
    /// A frame that is not allowed in an Initial packet or does not parse: the walk
    /// stopped there (its type, or `None` when cut short).
    pub stopped_at: Option<Option<u64>>,
}

/// Walks the frames of a decrypted Initial (or Handshake) payload (RFC 9000 §19: PADDING,
/// PING, ACK, CRYPTO, CONNECTION_CLOSE are the frames allowed there).
pub fn initial_frames(payload: &[u8]) -> InitialFrames<'_> {
    let mut out = InitialFrames::default();
    let stop = walk(payload, |f| {
        match f {
            Frame::Padding(n) => out.padding_bytes += n,
            Frame::Ping => out.pings += 1,
            Frame::Ack => out.acks += 1,
            Frame::Crypto { offset, data } => out.crypto.push(CryptoFrame { offset, data }),
            Frame::ConnectionClose { code, .. } => out.close = Some(code),
            _ => return false,
        }
        true
    });
    out.stopped_at = stop.map(|s| match s {
        Stop::UnknownType(t) => Some(t),
        Stop::Truncated => None,
    });
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const DCID: &str = "8394c8f03e515708";

    /// RFC 9001 Appendix A.2: the client Initial's CRYPTO frame (a ClientHello for
    /// example.com offering ALPN "alpn"), before PADDING.
    pub const RFC9001_CLIENT_CRYPTO: &str =
        "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868\
        04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578\
        616d706c652e636f6dff01000100000a00080006001d00170018001000070005\
        04616c706e000500050100000000003300260024001d00209370b2c9caa47fba\
        baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400\
        0d0010000e0403050306030203080408050806002d00020101001c0002400100\
        3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000\
        75300901100f088394c8f03e51570806048000ffff";

    /// RFC 9001 Appendix A.3: the server Initial, protected.
    pub const RFC9001_SERVER_INITIAL: &str =
        "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a\
        5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3\
        dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84\
        022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4\
        2158407dd074ee";

    #[test]
    fn rfc9001_a1_keys() {
        let k = InitialKeys::derive(1, &hex(DCID)).unwrap();
        assert_eq!(
            k.client.key.to_vec(),
            hex("1f369613dd76d5467730efcbe3b1a22d")
        );
        assert_eq!(k.client.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(
            k.client.hp.to_vec(),
            hex("9f50449e04a0e810283a1e9933adedd2")
        );
        assert_eq!(
            k.server.key.to_vec(),
            hex("cf3a5331653c364c88f0f379b6067e37")
        );
        assert_eq!(k.server.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(
            k.server.hp.to_vec(),
            hex("c206b8d9b9f0f37644430b490eeaa314")
        );
    }

    #[test]
    fn rfc9369_a1_keys() {
        let k = InitialKeys::derive(QUIC_V2, &hex(DCID)).unwrap();
        assert_eq!(
            k.client.key.to_vec(),
            hex("8b1a0bc121284290a29e0971b5cd045d")
        );
        assert_eq!(k.client.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(
            k.client.hp.to_vec(),
            hex("45b95e15235d6f45a6b19cbcb0294ba9")
        );
        assert_eq!(
            k.server.key.to_vec(),
            hex("82db637861d55e1d011f19ea71d5d2a7")
        );
        assert_eq!(k.server.iv.to_vec(), hex("dd13c276499c0249d3310652"));
        assert_eq!(
            k.server.hp.to_vec(),
            hex("edf6d05c83121201b436e16877593c3a")
        );
    }

    /// The RFC 9001 A.2 client Initial, protected here with the A.1 keys the way the RFC
    /// does (header c300000001…0000449e, packet number 2, 1162 payload bytes): the sample
    /// and the protected first byte and packet number the RFC prints must come out, and
    /// `unprotect` must give the payload back.
    pub fn rfc9001_client_initial() -> Vec<u8> {
        let k = InitialKeys::derive(1, &hex(DCID)).unwrap().client;
        let header = hex("c300000001088394c8f03e5157080000449e00000002");
        let mut payload = hex(RFC9001_CLIENT_CRYPTO);
        payload.resize(1162, 0);
        protect(&k, &header, 18, &payload)
    }

    #[test]
    fn rfc9001_a2_client_initial() {
        let packet = rfc9001_client_initial();
        assert_eq!(packet.len(), 1200);
        assert_eq!(
            packet[18 + 4..18 + 20].to_vec(),
            hex("d1b1c98dd7689fb8ec11d242b123dc9b")
        );
        assert_eq!(
            packet[..22].to_vec(),
            hex("c000000001088394c8f03e5157080000449e7b9aec34")
        );
        let k = InitialKeys::derive(1, &hex(DCID)).unwrap();
        let mut plain = Vec::new();
        assert_eq!(unprotect(&k.client, &packet, 18, None, &mut plain), Ok(2));
        assert_eq!(plain.len(), 1162);
        let f = initial_frames(&plain);
        assert_eq!(f.crypto.len(), 1);
        assert_eq!(f.crypto[0].offset, 0);
        assert_eq!(f.crypto[0].data.len(), 241);
        assert_eq!(f.padding_bytes, 1162 - 245);
        assert_eq!(f.stopped_at, None);
        // The server's keys do not open it: a tag mismatch, not a panic.
        assert_eq!(
            unprotect(&k.server, &packet, 18, None, &mut plain),
            Err(UnprotectError::BadTag)
        );
    }

    #[test]
    fn rfc9001_a3_server_initial() {
        let packet = hex(RFC9001_SERVER_INITIAL);
        let k = InitialKeys::derive(1, &hex(DCID)).unwrap();
        let mut plain = Vec::new();
        // pn offset: 1 + 4 + 1 + 0 + 1 + 8 + 1 (token length) + 2 (length).
        assert_eq!(unprotect(&k.server, &packet, 18, None, &mut plain), Ok(1));
        assert_eq!(
            plain,
            hex(
                "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739\
                 88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d\
                 89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304"
            )
        );
        let f = initial_frames(&plain);
        assert_eq!((f.acks, f.crypto.len()), (1, 1));
        assert_eq!(f.crypto[0].data.len(), 90);
        assert_eq!(f.crypto[0].data[0], 2); // ServerHello
    }

    #[test]
    fn rfc9369_a3_server_initial() {
        let packet = hex(
            "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698\
             baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17\
             f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2\
             c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8\
             4bed8521e2e140",
        );
        let k = InitialKeys::derive(QUIC_V2, &hex(DCID)).unwrap();
        let mut plain = Vec::new();
        assert_eq!(unprotect(&k.server, &packet, 18, None, &mut plain), Ok(1));
        let f = initial_frames(&plain);
        assert_eq!((f.acks, f.crypto.len()), (1, 1));
        assert_eq!(f.crypto[0].data[..4], [2, 0, 0, 0x56]);
    }

    #[test]
    fn versions_and_packet_numbers() {
        assert_eq!(draft_of(0xff00_001d), Some(29));
        assert_eq!(draft_of(0xfaceb001), Some(22));
        assert!(InitialKeys::derive(0xff00_0010, b"x").is_none());
        assert!(InitialKeys::derive(0x0a0a_0a0a, b"x").is_none());
        // RFC 9000 A.3: largest 0xa82f30ea, 2-byte 0x9b32 -> 0xa82f9b32.
        assert_eq!(
            decode_packet_number(Some(0xa82f30ea), 0x9b32, 2),
            0xa82f9b32
        );
        assert_eq!(decode_packet_number(None, 7, 1), 7);
        assert_eq!(
            decode_packet_number(Some(u64::MAX >> 2), 0xff, 1) >> 8,
            (u64::MAX >> 2) >> 8
        );
    }

    #[test]
    fn hostile_packets_never_panic() {
        let k = InitialKeys::derive(1, &hex(DCID)).unwrap();
        let packet = rfc9001_client_initial();
        let mut plain = Vec::new();
        for cut in 0..60 {
            let _ = unprotect(&k.client, &packet[..cut], 18, None, &mut plain);
        }
        let _ = unprotect(&k.client, &packet, 5000, None, &mut plain);
        let mut x: u32 = 0x9e37_79b9;
        let mut frames = hex(RFC9001_CLIENT_CRYPTO);
        frames.extend_from_slice(&[0x02, 0x40, 0x05, 0x00, 0x01, 0x00, 0x1c, 0x01]);
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut m = frames.clone();
            let i = (x as usize) % m.len();
            m[i] = (x >> 8) as u8;
            let _ = initial_frames(&m[..(x as usize >> 3) % m.len()]);
        }
    }
}
