//! Renderers: they receive the pipeline's results through [`crate::pipeline::Sink`] and
//! write them to any `io::Write`. They never see pcap-parser, pnet, libpcap or etherparse.

mod app_frames;
pub mod escape;
pub mod explain;
pub mod explain_quic;
pub mod explain_tls;
pub mod filter;
pub mod fit;
pub mod follow;
pub mod follow_frames;
pub mod graph;
pub mod jsonl;
pub mod ladder;
pub mod parquet;
pub mod report;
pub mod row_marks;
pub mod style;
pub mod table;
pub mod teach;
mod text;
pub mod time;
pub mod zeek;

pub use filter::ConnFilter;
pub use jsonl::{JsonRecords, JsonSink};
pub use style::ColorChoice;
pub use table::{ExtraColumn, TableOptions, TableSink, View};
