//! TLS record decryption with fixed keys (`app::tls_decrypt::RecordKeys`): the input's
//! first byte picks the suite (TLS 1.3 AES-128-GCM / AES-256-GCM / ChaCha20-Poly1305, TLS
//! 1.2 AES-GCM / ChaCha20-Poly1305 / AES-CBC-SHA and -SHA384, MAC-then-encrypt or
//! encrypt-then-MAC); the rest is `[op][len][bytes…]…`: op bit 0 set opens
//! `bytes` as a record body as received (tag checks fail, lengths are hostile), clear seals
//! `bytes` as plaintext with the sender's keys and opens it (must round-trip); bit 1 does a
//! TLS 1.3 key update on both sides.
#![no_main]

use layerscope::app::tls_decrypt::{suite, RecordKeys};
use libfuzzer_sys::fuzz_target;

const SUITES: [u16; 9] = [
    0x1301, 0x1302, 0x1303, 0xc030, 0xcca8, 0x002f, 0xc028, 0x002f, 0xc028,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let pick = usize::from(pick) % SUITES.len();
    let id = SUITES[pick];
    let s = suite(id).unwrap();
    let (mut tx, mut rx) = if id >> 8 == 0x13 {
        let k = RecordKeys::tls13(s, &[0x5a; 48][..if s.sha384 { 48 } else { 32 }]).unwrap();
        (k.clone(), k)
    } else {
        let (mut c, _) = RecordKeys::tls12(s, &[7; 48], &[1; 32], &[2; 32]).unwrap();
        c.encrypt_then_mac = pick >= 7;
        (c.clone(), c)
    };
    let mut plain = Vec::new();
    while let [op, len, tail @ ..] = rest {
        let n = (usize::from(*len) * 16).min(tail.len());
        let (bytes, next) = tail.split_at(n);
        rest = next;
        if op & 2 != 0 && id >> 8 == 0x13 {
            tx = tx.updated().unwrap();
            rx = rx.updated().unwrap();
        }
        if op & 1 != 0 {
            let header = [23, 3, 3, (bytes.len() >> 8) as u8, bytes.len() as u8];
            let _ = rx.open(&header, bytes, &mut plain);
            // Keep the two sides in step after a record that did not open.
            tx.seq = rx.seq;
        } else {
            let rec = tx.seal(23, 23, bytes);
            let header: [u8; 5] = rec[..5].try_into().unwrap();
            assert_eq!(rx.open(&header, &rec[5..], &mut plain), Ok(23));
            assert_eq!(&plain[..], bytes);
        }
    }
});
