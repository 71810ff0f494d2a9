//! The `dns` record: one per DNS message, UDP or TCP ([`dns_fields`] lists its fields in
//! output order).

use super::writer::{List, Ms, Put, Str};
use crate::app::DnsMessage;

/// The `dns` record's fields, in output order.
pub(super) fn dns_fields(o: &mut Put<'_>, d: &DnsMessage) {
    o.lit(record_type!("dns"));
    o.field(key!("conn"), d.conn);
    o.field(key!("frame"), d.frame);
    o.field(key!("id"), d.id);
    o.field(key!("response"), d.response);
    o.field(key!("qname"), Str(&d.qname));
    o.field(key!("qtype"), Str(&d.qtype));
    o.field(key!("rcode"), Str(&d.rcode));
    o.field(key!("answers"), List(d.answers.iter().map(|a| Str(a))));
    o.field(key!("latency_ms"), d.latency_ms.map(Ms));
    o.field(key!("tcp"), d.tcp);
    // (Added field: DNS over TLS read with a key log.)
    o.field_if(key!("decrypted"), d.decrypted.then_some(true));
    o.end_record();
}

/// Room for a `dns` record beyond its strings.
pub(super) fn room(d: &DnsMessage) -> usize {
    256 + d.qname.len()
        + d.qtype.len()
        + d.rcode.len()
        + d.answers.iter().map(|a| a.len() + 3).sum::<usize>()
}
