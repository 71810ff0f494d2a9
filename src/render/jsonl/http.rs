//! The `http` record: one per request/response exchange, in request order per connection
//! ([`http_fields`] lists its fields in output order).

use super::writer::{List, Ms, Put, Str};
use crate::app::HttpTransaction;

/// The `http` record's fields, in output order.
pub(super) fn http_fields(o: &mut Put<'_>, t: &HttpTransaction) {
    o.lit(record_type!("http"));
    o.field(key!("conn"), t.conn);
    o.field(key!("index"), t.index);
    o.field(key!("request_frame"), t.request_frame);
    o.field(key!("response_frame"), t.response_frame);
    o.field(key!("method"), t.method.as_deref().map(Str));
    o.field(key!("uri"), t.uri.as_deref().map(Str));
    o.field(key!("version"), t.version.as_deref().map(Str));
    o.field(key!("host"), t.host.as_deref().map(Str));
    o.field(key!("status"), t.status);
    o.field(key!("reason"), t.reason.as_deref().map(Str));
    o.field(key!("request_body_bytes"), t.request_body_bytes);
    o.field(key!("response_body_bytes"), t.response_body_bytes);
    o.field(key!("latency_ms"), t.latency_ms.map(Ms));
    o.field(key!("request_ms"), t.request_ms().map(Ms));
    o.field(key!("server_ms"), t.server_ms().map(Ms));
    o.field(key!("transfer_ms"), t.transfer_ms().map(Ms));
    o.field_if(key!("stream"), t.stream);
    o.field_if(key!("decrypted"), t.decrypted.then_some(true));
    if !t.notes.is_empty() {
        o.field(key!("notes"), List(t.notes.iter().map(|n| Str(n))));
    }
    o.end_record();
}

/// Room for an `http` record beyond its strings.
pub(super) fn room(t: &HttpTransaction) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    512 + text(&t.method)
        + text(&t.uri)
        + text(&t.version)
        + text(&t.host)
        + text(&t.reason)
        + t.notes.iter().map(|n| n.len() + 3).sum::<usize>()
}
