//! `explain --frame N` inside TLS: each record the frame completed, its ciphertext and
//! plaintext side by side and the key-log secret that opened it, or what is missing.

use crate::app::{tls_handshake_name, RecordDetail};
use crate::flow::Direction;
use std::io::{self, Write};

/// Bytes per side-by-side row.
const ROW: usize = 16;
/// Rows shown of one record.
const MAX_ROWS: usize = 16;

fn content_name(t: u8) -> &'static str {
    match t {
        20 => "change_cipher_spec",
        21 => "alert",
        22 => "handshake",
        23 => "application_data",
        24 => "heartbeat",
        _ => "unknown",
    }
}

/// One row's plaintext as text: printable ASCII as is, every other byte '.' (bytes from
/// the wire never reach the terminal raw).
pub(crate) fn text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// Writes the "Inside TLS" section. `keylog`: whether a key log was given at all.
pub fn write_tls_records<W: Write>(
    out: &mut W,
    records: &[RecordDetail],
    keylog: bool,
    frame_has_tls: bool,
) -> io::Result<()> {
    if records.is_empty() {
        if frame_has_tls && !keylog {
            writeln!(out, "Inside TLS")?;
            writeln!(
                out,
                "  • The records are encrypted. Give the key log the client wrote\n    \
                 (--keylog FILE, or SSLKEYLOGFILE) to see inside: layerscope needs\n    \
                 the secrets logged for this connection's ClientHello random."
            )?;
        }
        if frame_has_tls && keylog {
            writeln!(out, "Inside TLS")?;
            writeln!(
                out,
                "  • No encrypted record ends in this frame, or its connection's version\n    \
                 or cipher suite is not one decrypted here (the ServerHello's notes say\n    \
                 which)."
            )?;
        }
        return Ok(());
    }
    writeln!(out, "Inside TLS (records this frame completed)")?;
    for (i, r) in records.iter().enumerate() {
        let side = match r.dir {
            Direction::ToServer => "client → server",
            Direction::ToClient => "server → client",
        };
        writeln!(
            out,
            "  record {} ({side}): outer type {} ({}), {} bytes of ciphertext",
            i + 1,
            r.header[0],
            content_name(r.header[0]),
            r.ciphertext_len
        )?;
        match (&r.opened, &r.not_opened) {
            (Some(o), _) => {
                let updates = if o.key_updates > 0 {
                    format!(", after {} key update(s)", o.key_updates)
                } else {
                    String::new()
                };
                let how = if o.secret == "CLIENT_RANDOM" {
                    "the CLIENT_RANDOM master secret (TLS 1.2 key block)".to_string()
                } else {
                    format!("{} (TLS 1.3){updates}", o.secret)
                };
                let mut inner = content_name(o.content_type).to_string();
                if o.content_type == 22 {
                    if let Some(&t) = r.plaintext.first() {
                        inner = format!("handshake: {}", tls_handshake_name(t));
                    }
                }
                writeln!(
                    out,
                    "    opened with {how} from the key log: {} bytes of plaintext, {inner}",
                    r.plaintext_len
                )?;
            }
            (None, Some(why)) => {
                writeln!(
                    out,
                    "    not opened: {}",
                    crate::render::escape::escape_str(why)
                )?;
            }
            (None, None) => writeln!(out, "    not opened")?,
        }
        writeln!(out, "    {:<48}  plaintext", "ciphertext (hex)")?;
        let rows = r
            .ciphertext
            .len()
            .max(r.plaintext.len())
            .div_ceil(ROW)
            .min(MAX_ROWS);
        for row in 0..rows {
            let ct = r.ciphertext.get(row * ROW..).unwrap_or_default();
            let ct = &ct[..ct.len().min(ROW)];
            let hex: Vec<String> = ct.iter().map(|b| format!("{b:02x}")).collect();
            let pt = r.plaintext.get(row * ROW..).unwrap_or_default();
            let pt = &pt[..pt.len().min(ROW)];
            writeln!(out, "    {:<48}  {}", hex.join(" "), text(pt))?;
        }
        let shown = rows * ROW;
        if r.ciphertext_len > shown || r.plaintext_len > shown {
            writeln!(out, "    … (first {shown} bytes shown)")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Opened;

    #[test]
    fn opened_and_not_opened_records() {
        let r = RecordDetail {
            frame: 10,
            dir: Direction::ToServer,
            header: [23, 3, 3, 0, 20],
            ciphertext: vec![0xab; 20],
            ciphertext_len: 20,
            opened: Some(Opened {
                secret: "CLIENT_TRAFFIC_SECRET_0",
                key_updates: 0,
                content_type: 23,
            }),
            plaintext: b"GET / HTTP/1.1\r\n\x1b[".to_vec(),
            plaintext_len: 18,
            not_opened: None,
        };
        let mut out = Vec::new();
        write_tls_records(&mut out, std::slice::from_ref(&r), true, true).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("opened with CLIENT_TRAFFIC_SECRET_0 (TLS 1.3) from the key log: 18 bytes of plaintext, application_data"));
        assert!(s.contains("ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab   GET / HTTP/1.1.."));
        assert!(!s.contains('\x1b'));
        let no = RecordDetail {
            opened: None,
            plaintext: Vec::new(),
            plaintext_len: 0,
            not_opened: Some("no key for client random 3a9f1c2d…".into()),
            ..r
        };
        let mut out = Vec::new();
        write_tls_records(&mut out, &[no], true, true).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("not opened: no key for client random 3a9f1c2d…"));
        let mut out = Vec::new();
        write_tls_records(&mut out, &[], false, true).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("--keylog FILE"));
    }
}
