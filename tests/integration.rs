//! The one integration test binary: layerscope over the captures in `captures/` and the
//! public corpus in `../shared/captures` (checked against tshark's view in its `oracle/`).

mod integration {
    pub mod app_frame_names;
    pub mod cli;
    pub mod community_id;
    pub mod dot;
    pub mod encapsulation;
    pub mod explain_quic;
    pub mod follow_frames;
    pub mod graphs;
    pub mod h2c;
    pub mod hostile;
    pub mod icmp_errors;
    pub mod inner_caps;
    pub mod live;
    pub mod merged_files;
    pub mod own_captures;
    pub mod parquet_duckdb;
    pub mod quic_hellos;
    pub mod quic_keylog;
    pub mod quic_zero_rtt;
    pub mod report;
    pub mod report_browser;
    pub mod shared_oracle;
    pub mod snapshots;
    pub mod support;
    pub mod synthetic;
    pub mod threads;
    pub mod timing;
    pub mod tls_keylog;
    pub mod tls_record_cap;
    pub mod writer_memory;
    pub mod zeek_baselines;
    pub mod zeek_logs;
}
