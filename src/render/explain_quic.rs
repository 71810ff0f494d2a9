//! `explain --frame N` inside QUIC: each Handshake or 1-RTT packet of the frame, its
//! header fields, the key-log secret that opened it, its packet number and key phase, the
//! frames inside and the plaintext's first bytes; or what is missing to open it.

use crate::app::quic::session::{QuicPacketDetail, Space};
use crate::render::escape::escape_str;
use crate::render::explain_tls::text;
use std::io::{self, Write};

/// Bytes per plaintext row, and rows shown of one packet.
const ROW: usize = 16;
const MAX_ROWS: usize = 8;

/// Writes the "Inside QUIC" section. `keylog`: whether a key log was given at all;
/// `frame_has_quic`: the frame carries QUIC packets.
pub fn write_quic_packets<W: Write>(
    out: &mut W,
    packets: &[QuicPacketDetail],
    keylog: bool,
    frame_has_quic: bool,
) -> io::Result<()> {
    if packets.is_empty() {
        if frame_has_quic && !keylog {
            writeln!(out, "Inside QUIC")?;
            writeln!(
                out,
                "  • Initial packets are protected with keys anyone can derive from the\n    \
                 Destination Connection ID (their hellos are read above); Handshake and\n    \
                 1-RTT packets need the TLS secrets the client logged: give the key log\n    \
                 (--keylog FILE, or SSLKEYLOGFILE) to see inside."
            )?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "Inside QUIC (Handshake and 1-RTT packets of this frame)"
    )?;
    for (i, p) in packets.iter().enumerate() {
        let side = if p.side == 0 {
            "client → server"
        } else {
            "server → client"
        };
        let kind = match p.space {
            Space::Handshake => "Handshake (long header)",
            Space::ZeroRtt => "0-RTT (long header)",
            Space::OneRtt => "1-RTT (short header)",
        };
        writeln!(
            out,
            "  packet {} ({side}): {kind}, {} bytes, first byte 0x{:02x} as sent (its low bits and the packet number are masked by header protection)",
            i + 1,
            p.packet_len,
            p.first_byte
        )?;
        if p.space == Space::OneRtt {
            writeln!(
                out,
                "    spin bit {}, destination connection id and packet number in the {} header bytes after it",
                (p.first_byte >> 5) & 1,
                p.pn_offset.saturating_sub(1)
            )?;
        }
        match (p.secret, &p.not_opened) {
            (Some(secret), _) => {
                let mut how = format!("packet number {}", p.pn.unwrap_or(0));
                if let Some(phase) = p.key_phase {
                    how.push_str(&format!(", key phase {}", u8::from(phase)));
                }
                writeln!(
                    out,
                    "    opened with {secret} from the key log ({how}): {} bytes of plaintext",
                    p.plaintext_len
                )?;
                writeln!(out, "    frames: {}", p.frames.join("; "))?;
                let rows = p.plaintext.len().div_ceil(ROW).min(MAX_ROWS);
                for row in 0..rows {
                    let pt = p.plaintext.get(row * ROW..).unwrap_or_default();
                    let pt = &pt[..pt.len().min(ROW)];
                    let hex: Vec<String> = pt.iter().map(|b| format!("{b:02x}")).collect();
                    writeln!(out, "    {:<48}  {}", hex.join(" "), text(pt))?;
                }
                if p.plaintext_len > rows * ROW {
                    writeln!(out, "    … (first {} bytes shown)", rows * ROW)?;
                }
            }
            (None, Some(why)) => writeln!(out, "    not opened: {}", escape_str(why))?,
            (None, None) => writeln!(out, "    not opened")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_and_missing() {
        let mut p = QuicPacketDetail::new(7, 1, Space::OneRtt, &[0x41, 1, 2, 3], 9);
        p.secret = Some("SERVER_TRAFFIC_SECRET_0");
        p.pn = Some(5);
        p.key_phase = Some(false);
        p.frames = vec!["STREAM 0 offset 0, 2 bytes, FIN".into(), "ACK".into()];
        p.plaintext = b"\x0b\x00hi\x1b".to_vec();
        p.plaintext_len = 5;
        let mut out = Vec::new();
        write_quic_packets(&mut out, &[p], true, true).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains(
                "packet 1 (server → client): 1-RTT (short header), 4 bytes, first byte 0x41"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "spin bit 0, destination connection id and packet number in the 8 header bytes"
            ),
            "{s}"
        );
        assert!(s.contains("opened with SERVER_TRAFFIC_SECRET_0 from the key log (packet number 5, key phase 0): 5 bytes of plaintext"), "{s}");
        assert!(
            s.contains("frames: STREAM 0 offset 0, 2 bytes, FIN; ACK"),
            "{s}"
        );
        assert!(s.contains("0b 00 68 69 1b") && !s.contains('\x1b'), "{s}");
        let mut out = Vec::new();
        write_quic_packets(&mut out, &[], false, true).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("--keylog FILE"));
    }
}
