//! Application-layer parsers fed reassembled streams: HTTP/1.x and DNS.
//!
//! Parsers are stateless functions over bytes (returning "incomplete, need N more");
//! per-direction state lives in [`AppTracker`], which implements
//! [`crate::flow::StreamSink`] and queues [`AppEvent`]s for the renderer.

mod types;
pub use types::*;

mod dns;
mod http;
pub use http::HttpStats;

mod tracker;
pub use tracker::{AppConfig, AppStats, AppTracker};
