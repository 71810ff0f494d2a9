//! DNS messages completed on a connection (UDP, TCP, inside TLS): matched with their
//! queries for latency, counted in the connection's counters and service, emitted.

use super::conn_app::ConnApp;
use super::AppStats;
use crate::app::dns::{self, Decoded};
use crate::app::{AppEvent, ConnService, DnsMessage};
use crate::flow::{ConnId, SegmentCtx};
use std::collections::hash_map::Entry;

/// A DNS message completed on `conn`: match it with its query and queue the event.
#[allow(clippy::too_many_arguments)]
pub(super) fn emit_dns(
    events: &mut Vec<AppEvent>,
    stats: &mut AppStats,
    pending_total: &mut usize,
    max_pending: usize,
    state: &mut ConnApp,
    conn: ConnId,
    m: Decoded,
    ctx: SegmentCtx,
    tcp: bool,
) {
    let mut latency_ms = None;
    if !m.response {
        match state.dns_pending.entry(m.id) {
            Entry::Occupied(_) => {}
            Entry::Vacant(v) => {
                if *pending_total < max_pending {
                    v.insert(ctx.ts);
                    *pending_total += 1;
                } else {
                    stats.dns_pending_dropped += 1;
                }
            }
        }
    } else if let Some(q) = state.dns_pending.remove(&m.id) {
        *pending_total = pending_total.saturating_sub(1);
        latency_ms = Some(ctx.ts.nanos_since(&q) as f64 / 1e6);
    }
    state.dns_seen = true;
    state.stats.dns_messages += 1;
    let service = &mut state.stats.service;
    service.kinds |= ConnService::DNS;
    // Queries name the service; a response only where no query was seen (mDNS), by its
    // question, else by its first answer's owner.
    let name = if m.qname.is_empty() {
        &m.answer_owner
    } else {
        &m.qname
    };
    if !name.is_empty() && (!m.response || service.name.is_empty()) {
        service.dns_query(name);
    }
    events.push(AppEvent::Dns(DnsMessage {
        conn,
        frame: ctx.frame,
        ts: ctx.ts,
        id: m.id,
        response: m.response,
        qname: m.qname,
        qtype: m.qtype,
        rcode: dns::rcode_name(m.rcode),
        answers: m.answers,
        answer_owner: m.answer_owner,
        latency_ms,
        tcp,
        flags: m.flags,
        counts: [
            m.qdcount,
            m.record_counts[0],
            m.record_counts[1],
            m.record_counts[2],
        ],
        qclass: m.qclass,
        ttls: m.ttls,
        decrypted: false,
    }));
}
