//! What a connection's TLS messages (TLS over TCP, or QUIC's hellos) say, gathered by the
//! app stage while it parses them and handed on with the connection's counters
//! ([`AppConnStats::tls`](super::AppConnStats::tls)): the renderers show it, they do not
//! gather it. (Tested on a real handshake against tshark's view in
//! `tests/integration/own_captures.rs`.)

use super::{TlsKind, TlsMessage};
use crate::capture::Timestamp;
use arrayvec::ArrayVec;

/// Alerts kept per connection (later ones are counted in `AppConnStats::tls_alerts`).
pub const MAX_SUMMARY_ALERTS: usize = 4;

/// One connection's TLS facts, from its messages in the order they completed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSummary {
    /// The first ClientHello: its frame and time.
    pub client_hello: Option<(u64, Timestamp)>,
    /// The earliest application-data record (either direction).
    pub first_app_data: Option<Timestamp>,
    /// The first ClientHello's server name.
    pub sni: Option<String>,
    /// The first ClientHello's ALPN list.
    pub offered_alpn: Vec<String>,
    /// The protocol the last ServerHello chose.
    pub alpn: Option<String>,
    /// Negotiated version and cipher suite (the ServerHello's, else the first message's
    /// that said one).
    pub version: Option<u16>,
    pub cipher: Option<u16>,
    /// The first Certificate message's first subject.
    pub certificate: Option<String>,
    /// The first alerts: (level, description), None for an encrypted alert.
    pub alerts: ArrayVec<Option<(u8, u8)>, MAX_SUMMARY_ALERTS>,
}

impl TlsSummary {
    /// Adds what message `t` says.
    pub fn add(&mut self, t: &TlsMessage) {
        match t.kind {
            TlsKind::Handshake(1) => {
                self.client_hello.get_or_insert((t.frame, t.ts));
                if self.sni.is_none() {
                    self.sni.clone_from(&t.sni);
                }
                if self.offered_alpn.is_empty() {
                    self.offered_alpn.clone_from(&t.alpn);
                }
            }
            TlsKind::Handshake(2) => {
                self.version = t.version.or(self.version);
                self.cipher = t.cipher.or(self.cipher);
                if let Some(a) = t.alpn.first() {
                    self.alpn = Some(a.clone());
                }
            }
            TlsKind::Handshake(11) if self.certificate.is_none() => {
                self.certificate = t.certificates.first().and_then(|c| c.subject.clone());
            }
            TlsKind::Alert | TlsKind::EncryptedAlert => {
                let _ = self.alerts.try_push(t.alert);
            }
            TlsKind::ApplicationData => {
                self.first_app_data = Some(match self.first_app_data {
                    Some(ts) if ts < t.ts => ts,
                    _ => t.ts,
                });
            }
            _ => {}
        }
        if self.version.is_none() {
            self.version = t.version;
        }
        if self.cipher.is_none() {
            self.cipher = t.cipher;
        }
    }

    /// ClientHello → first application data, in ms.
    pub fn handshake_ms(&self) -> Option<f64> {
        let (_, ch) = self.client_hello?;
        Some(self.first_app_data?.nanos_since(&ch).max(0) as f64 / 1e6)
    }
}
