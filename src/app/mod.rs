//! Application-layer parsers fed reassembled streams: HTTP/1.x, DNS, TLS (handshake in the
//! clear) and QUIC (long headers).
//!
//! Parsers are stateless functions over bytes (returning "incomplete, need N more");
//! per-direction state lives in [`AppTracker`], which is fed the flow stage's stream data
//! (returning the [`FrameLayers`] it recognised, and the [`AppEvent`]s it completed into the
//! caller's buffer).

mod types;
pub use types::*;

mod dns;
pub mod follow_watch;
mod http;
pub use http::HttpStats;
pub mod hpack_primitives;
pub mod http2;
pub mod http2_fields;
pub mod http2_frame;
pub mod http2_hpack;
pub mod http3;

pub mod keylog;
pub mod qpack;
pub mod quic;
mod tls;
#[cfg(test)]
pub(crate) use tls::new_message as new_tls_message;
mod tls_cert_names;
pub use tls_cert_names::{zeek_hostname_matches, CertHostNames};
pub mod tls_decrypt;
mod tls_session;
pub use tls::{
    describe_handshake, starts_like_client_hello, starts_like_tls, tls_alert_level_name,
    tls_alert_name, tls_cipher_name, tls_group_name, tls_handshake_name, tls_version_name,
    HandshakeFacts, TlsStats, MAX_HANDSHAKE, MAX_RECORD_BODY,
};
pub use tls_session::{Opened, RecordDetail, RecordWatch, WATCH_BYTES};

mod tls_summary;
pub use tls_summary::{TlsSummary, MAX_SUMMARY_ALERTS};

mod frame_layers;
pub use frame_layers::FrameLayers;
mod frame_names;
pub use frame_names::{AppFrame, FrameNames, FrameProtocol, MAX_NAMED};
mod slab;
mod tracker;
pub use tracker::{AppConfig, AppStats, AppTracker, ConnApp};
mod collector;
pub use collector::AppCollector;
