//! The `quic` record: one per long-header packet (not yet in the contract;
//! [`quic_fields`] lists its fields in output order).

use super::writer::{Name, Put, Value};
use crate::app::{QuicPacket, QuicPacketKind};

/// The `quic` record's fields, in output order.
pub(super) fn quic_fields(o: &mut Put<'_>, q: &QuicPacket) {
    o.lit(record_type!("quic"));
    o.field(key!("conn"), q.conn);
    o.field(key!("frame"), q.frame);
    o.field(key!("dir"), q.dir);
    o.field(key!("packet"), Name(packet_name(q.kind)));
    o.field(key!("version"), Version(q.version));
    o.field(key!("dcid"), Hex(&q.dcid));
    o.field(key!("scid"), Hex(&q.scid));
    o.field_if(key!("token_len"), q.token_len);
    o.field_if(key!("length"), q.length);
    if q.kind == QuicPacketKind::VersionNegotiation {
        let versions = &q.supported_versions;
        o.list_field(list_key!("supported_versions"), versions, |o, &v| {
            o.value(Version(v))
        });
    }
    o.end_record();
}

fn packet_name(kind: QuicPacketKind) -> &'static str {
    match kind {
        QuicPacketKind::Initial => "initial",
        QuicPacketKind::ZeroRtt => "0rtt",
        QuicPacketKind::Handshake => "handshake",
        QuicPacketKind::Retry => "retry",
        QuicPacketKind::VersionNegotiation => "version_negotiation",
    }
}

/// A QUIC version as `"0x…"` (eight hex digits).
struct Version(u32);

impl Value for Version {
    fn put(self, o: &mut Put<'_>) {
        o.display(format_args!("\"0x{:08x}\"", self.0));
    }
}

/// Bytes (a connection id) as lowercase hex in quotes.
struct Hex<'a>(&'a [u8]);

impl Value for Hex<'_> {
    fn put(self, o: &mut Put<'_>) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        o.lit(b"\"");
        for &b in self.0 {
            let hex = |n: u8| DIGITS.get(usize::from(n)).copied().unwrap_or(b'0');
            o.lit(&[hex(b >> 4), hex(b & 15)]);
        }
        o.lit(b"\"");
    }
}

/// Room for a `quic` record.
pub(super) fn room(q: &QuicPacket) -> usize {
    256 + 2 * (q.dcid.len() + q.scid.len()) + 13 * q.supported_versions.len()
}
