//! The `tls` record (one per TLS handshake message seen in a reassembled stream, QUIC's
//! too) and the `tls_record` record (alerts, ChangeCipherSpec, a direction's
//! application-data total), with the same fields ([`tls_fields`] lists them in output
//! order).

use super::writer::{List, Name, Put, Str, Value};
use crate::app::{
    tls_alert_level_name, tls_alert_name, tls_cipher_name, tls_group_name, tls_handshake_name,
    tls_version_name, TlsKind, TlsMessage,
};
use std::borrow::Cow;

/// The `tls` / `tls_record` record's fields, in output order: the contract's (`handshake`
/// is null for records that are not handshake messages), plus `dir`, `record` (content
/// type), `length` and the kind-specific details.
pub(super) fn tls_fields(o: &mut Put<'_>, t: &TlsMessage) {
    let (record, handshake) = tls_record_and_handshake(t.kind);
    match handshake {
        Some(_) => o.lit(record_type!("tls")),
        None => o.lit(record_type!("tls_record")),
    }
    o.field(key!("conn"), t.conn);
    o.field(key!("frame"), t.frame);
    o.field(key!("dir"), Name(t.dir.as_str()));
    o.field(key!("record"), Name(record));
    o.field(key!("handshake"), handshake.map(Name));
    o.field(key!("sni"), t.sni.as_deref().map(Str));
    o.field(key!("alpn"), List(t.alpn.iter().map(|a| Str(a))));
    o.field(key!("version"), t.version.map(VersionName));
    o.field(key!("cipher"), t.cipher.map(|c| Code(c, tls_cipher_name)));
    o.field(key!("curve"), t.curve.map(|c| Code(c, tls_group_name)));
    o.field(key!("resumed"), t.resumed);
    // (Added fields: ssl.log's `sni_matches_cert`, once the server's certificate was read
    // and the client named a server; a ServerHello that is a HelloRetryRequest.)
    o.field_if(key!("sni_matches_cert"), t.sni_matches_cert);
    o.field_if(key!("hello_retry"), t.hello_retry.then_some(true));
    o.field(key!("record_version"), VersionName(t.record_version));
    o.field(key!("length"), t.length);
    let encrypted = matches!(
        t.kind,
        TlsKind::EncryptedHandshake | TlsKind::EncryptedAlert
    );
    o.field_if(key!("encrypted"), encrypted.then_some(true));
    if !t.offered_versions.is_empty() {
        o.field(
            key!("offered_versions"),
            List(t.offered_versions.iter().map(|&v| VersionName(v))),
        );
    }
    if !t.offered_ciphers.is_empty() {
        o.field(
            key!("offered_ciphers"),
            List(t.offered_ciphers.iter().map(|&c| Code(c, tls_cipher_name))),
        );
    }
    if !t.certificates.is_empty() {
        o.list_field(list_key!("certificates"), &t.certificates, |o, c| {
            o.field(first_key!("len"), c.len);
            o.field(key!("sha256"), Name(&c.sha256_hex()));
            o.field(key!("subject"), c.subject.as_deref().map(Str));
            o.field(key!("issuer"), c.issuer.as_deref().map(Str));
            o.field(key!("not_before"), c.not_before.as_deref().map(Str));
            o.field(key!("not_after"), c.not_after.as_deref().map(Str));
            o.end_object();
        });
    }
    if let Some((level, desc)) = t.alert {
        o.field_with(key!("alert"), |o| {
            o.field(first_key!("level"), Name(tls_alert_level_name(level)));
            o.field(key!("description"), Name(tls_alert_name(desc)));
            o.end_object();
        });
    }
    if t.kind == TlsKind::ApplicationData {
        o.field(key!("records"), t.records);
        o.field_if(
            key!("decrypted_records"),
            (t.decrypted_records > 0).then_some(t.decrypted_records),
        );
    }
    if !t.notes.is_empty() {
        o.field(key!("notes"), List(t.notes.iter().map(|n| Str(n))));
    }
    o.end_record();
}

/// A TLS record's content type (`record`) and handshake message name (`handshake`: null
/// for records that are not handshake messages), as the JSON and Parquet records name them.
pub(crate) fn tls_record_and_handshake(kind: TlsKind) -> (&'static str, Option<&'static str>) {
    match kind {
        TlsKind::Handshake(h) => ("handshake", Some(tls_handshake_name(h))),
        TlsKind::EncryptedHandshake => ("handshake", Some("encrypted")),
        TlsKind::Alert | TlsKind::EncryptedAlert => ("alert", None),
        TlsKind::ChangeCipherSpec => ("change_cipher_spec", None),
        TlsKind::ApplicationData => ("application_data", None),
    }
}

/// A TLS code point (cipher suite, group) by `name`, else `0x….`, as the JSON and Parquet
/// records name it.
pub(crate) fn tls_code_name(code: u16, name: fn(u16) -> Option<&'static str>) -> Cow<'static, str> {
    match name(code) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(format!("0x{code:04x}")),
    }
}

/// A TLS version's name ("TLS 1.3", "GREASE 0x…", "0x…").
struct VersionName(u16);

impl Value for VersionName {
    fn put(self, o: &mut Put<'_>) {
        o.json_str(&tls_version_name(self.0));
    }
}

/// A TLS code point: its name, else `"0x…."`.
struct Code(u16, fn(u16) -> Option<&'static str>);

impl Value for Code {
    fn put(self, o: &mut Put<'_>) {
        o.json_str(&tls_code_name(self.0, self.1));
    }
}

/// Room for a `tls` record beyond its strings and lists.
pub(super) fn room(t: &TlsMessage) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    768 + text(&t.sni)
        + t.alpn.iter().map(|a| a.len() + 3).sum::<usize>()
        + 24 * t.offered_versions.len()
        + 48 * t.offered_ciphers.len()
        + t.certificates
            .iter()
            .map(|c| {
                200 + text(&c.subject) + text(&c.issuer) + text(&c.not_before) + text(&c.not_after)
            })
            .sum::<usize>()
        + t.notes.iter().map(|n| n.len() + 3).sum::<usize>()
}
